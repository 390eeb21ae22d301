/**
 * The golden ops: how each op's integer parameters are written to desc.json (`*Params`) and how the
 * op is computed from exactly those parameters (`runGoldenOp`) with the `src/int` kernels. A SUT
 * (the C++ reader, the hw-model) implements the same computation from the same JSON.
 *
 * Param accessors throw `FormatError(source, "params.<field> …")`, so a malformed desc.json names the
 * file and the field.
 */
import { FormatError, type Tensor } from '../tensor';
import type { FixedScale } from '../int/fixed-point';
import { gemmUniform, gemmLnqPv } from '../int/gemm';
import { softmaxRowF32, geluF32 } from '../int/vector-f32';
import { encodeByThresholds } from '../int/threshold-encoder';
import {
  forwardLinearUniform, forwardLinearCag, forwardLinearHluq, requantize,
  type OutputStage, type CompiledLinearUniform, type CompiledLinearCag, type CompiledLinearHluq,
} from '../int/compile';
import type { Json, JsonObject } from './json';
import { f32Hex, hexF32, type GoldenOp, type GoldenTensor } from './format';
import { runTinyVitBlockOp } from './cases/block-tinyvit';

// PARAMS → JSON

/** desc.json form of an output stage. */
export function outputStageParams(s: OutputStage): JsonObject {
  if (s.kind === 'dequant') return { mode: 'dequant', scale_f32: Array.from(s.scales, f32Hex) };
  return { mode: 'requant', mult: s.scales.map((x) => x.mult), shift: s.scales.map((x) => x.shift), zero: s.zero, bits: s.bits };
}

/** desc.json params of a compiled uniform layer (weight/activation bits `bits`). */
export function uniformParams(c: CompiledLinearUniform, bits: number): JsonObject {
  return { bits, zx: c.zx, zw: Array.from(c.zw), bias: Array.from(c.bias), out: outputStageParams(c.output) };
}

/** desc.json params of a compiled CAG layer. */
export function cagParams(c: CompiledLinearCag, bits: number): JsonObject {
  return {
    bits, perm: Array.from(c.perm), starts: [...c.starts], group_mult: Array.from(c.groupMults), frac_bits: c.fracBits,
    group_zero_folded: Array.from(c.groupZeros), zw: Array.from(c.zw), bias: Array.from(c.bias), out: outputStageParams(c.output),
  };
}

/** desc.json params of a compiled HLUQ layer. */
export function hluqParams(c: CompiledLinearHluq, bits: number): JsonObject {
  return {
    bits, act_bits: c.actBits, l_log: c.lLog, guard_bits: c.guardBits, mult_log: c.multLog, mult_uni: c.multUni, frac_bits: c.fracBits,
    zw: Array.from(c.zw), bias: Array.from(c.bias), out: outputStageParams(c.output),
  };
}

// JSON ACCESSORS

type Get = {
  int(k: string, lo?: number, hi?: number): number;
  ints(k: string, len?: number): number[];
  f32s(k: string, len?: number): Float32Array;
  obj(k: string): Get;
  str(k: string): string;
};

/** Typed accessors over a params object; `path` prefixes field names in errors. */
export function paramsReader(p: JsonObject, source: string, path = 'params'): Get {
  const field = (k: string): Json => {
    if (!(k in p)) throw new FormatError(source, `${path}.${k} is missing`);
    return p[k]!;
  };
  const isInt = (v: Json): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  return {
    int(k, lo = -(2 ** 53), hi = 2 ** 53) {
      const v = field(k);
      if (!isInt(v) || v < lo || v > hi) throw new FormatError(source, `${path}.${k} must be an integer in [${lo}, ${hi}] (got ${JSON.stringify(v)})`);
      return v;
    },
    ints(k, len) {
      const v = field(k);
      if (!Array.isArray(v) || !v.every(isInt)) throw new FormatError(source, `${path}.${k} must be an array of integers`);
      if (len !== undefined && v.length !== len) throw new FormatError(source, `${path}.${k} must have ${len} entries (got ${v.length})`);
      return v as number[];
    },
    f32s(k, len) {
      const v = field(k);
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && /^0x[0-9a-f]{8}$/.test(s))) throw new FormatError(source, `${path}.${k} must be an array of float32 bit patterns "0x…" (8 hex digits)`);
      if (len !== undefined && v.length !== len) throw new FormatError(source, `${path}.${k} must have ${len} entries (got ${v.length})`);
      return Float32Array.from(v as string[], hexF32);
    },
    obj(k) {
      const v = field(k);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(source, `${path}.${k} must be an object`);
      return paramsReader(v as JsonObject, source, `${path}.${k}`);
    },
    str(k) {
      const v = field(k);
      if (typeof v !== 'string') throw new FormatError(source, `${path}.${k} must be a string`);
      return v;
    },
  };
}

function readOutputStage(g: Get, N: number): OutputStage {
  const o = g.obj('out');
  const mode = o.str('mode');
  if (mode === 'dequant') return { kind: 'dequant', scales: o.f32s('scale_f32', N) };
  const mult = o.ints('mult', N), shift = o.ints('shift', N);
  const scales: FixedScale[] = mult.map((m, n) => ({ mult: m, shift: shift[n]! }));
  return { kind: 'requant', scales, zero: o.int('zero', 0, 255), bits: o.int('bits', 2, 8) };
}

// RUN

function need(inputs: ReadonlyMap<string, GoldenTensor>, name: string, source: string): GoldenTensor {
  const t = inputs.get(name);
  if (!t) throw new FormatError(source, `input '${name}' is missing`);
  return t;
}
const asInt = (t: GoldenTensor, source: string): Tensor<'int32'> => {
  if (t.tensor.dtype !== 'int32') throw new FormatError(source, `input '${t.name}' must be an integer tensor`);
  return t.tensor;
};
const asF32 = (t: GoldenTensor, source: string): Tensor<'float32'> => {
  if (t.tensor.dtype !== 'float32') throw new FormatError(source, `input '${t.name}' must be a float32 tensor`);
  return t.tensor;
};
const acc = (name: string, tensor: Tensor<'int32'>): GoldenTensor => ({ name, tensor, bits: 32, signed: true });
const yOut = (tensor: Tensor<'int32'> | Tensor<'float32'>, stage: OutputStage): GoldenTensor =>
  stage.kind === 'requant' ? { name: 'y', tensor, bits: stage.bits, signed: false } : { name: 'y', tensor, bits: 32, signed: true };

/**
 * Compute a golden op from its inputs and desc.json params (the reference every SUT must match bit for bit).
 * @paper AHCQ-SAM:v4 §FPGA; docs/integer-datapath.md; docs/formats/golden-vectors.md (per-op semantics)
 * @equation per op, see docs/formats/golden-vectors.md §Ops
 * @precision exact integers; float32 vector-unit ops with one rounding per IEEE operation
 */
export function runGoldenOp(op: GoldenOp, inputs: ReadonlyMap<string, GoldenTensor>, params: JsonObject, source = 'params'): GoldenTensor[] {
  const g = paramsReader(params, source);
  switch (op) {
    case 'gemm_uniform': {
      const x = asInt(need(inputs, 'x', source), source), w = asInt(need(inputs, 'w', source), source);
      const N = w.shape[0]!, bits = g.int('bits', 2, 8);
      const c: CompiledLinearUniform = { kind: 'uniform', w, zw: Int32Array.from(g.ints('zw', N)), zx: g.int('zx', 0, 2 ** bits - 1), bias: Float64Array.from(g.ints('bias', N)), output: readOutputStage(g, N) };
      const r = forwardLinearUniform(c, x, bits);
      return [acc('acc', r.acc), yOut(r.y, c.output)];
    }
    case 'gemm_cag': {
      const x = asInt(need(inputs, 'x', source), source), w = asInt(need(inputs, 'w', source), source);
      const [N, K] = w.shape as [number, number];
      const mults = g.ints('group_mult');
      const c: CompiledLinearCag = {
        kind: 'cag', perm: Int32Array.from(g.ints('perm', K)), starts: g.ints('starts', mults.length + 1), w, zw: Int32Array.from(g.ints('zw', N)),
        groupMults: Int32Array.from(mults), fracBits: g.int('frac_bits', 1, 20), groupZeros: Int32Array.from(g.ints('group_zero_folded', mults.length)),
        bias: Float64Array.from(g.ints('bias', N)), output: readOutputStage(g, N),
      };
      const r = forwardLinearCag(c, x, g.int('bits', 2, 8));
      return [acc('acc', r.acc), yOut(r.y, c.output)];
    }
    case 'gemm_hluq': {
      const x = asInt(need(inputs, 'x', source), source), w = asInt(need(inputs, 'w', source), source);
      const N = w.shape[0]!;
      const c: CompiledLinearHluq = {
        kind: 'hluq', w, zw: Int32Array.from(g.ints('zw', N)), actBits: g.int('act_bits', 2, 8), lLog: g.int('l_log', 1, 255), guardBits: g.int('guard_bits', 0, 16),
        multLog: g.int('mult_log', 0, 2 ** 20), multUni: g.int('mult_uni', 0, 2 ** 20), fracBits: g.int('frac_bits', 1, 20),
        bias: Float64Array.from(g.ints('bias', N)), output: readOutputStage(g, N),
      };
      const r = forwardLinearHluq(c, x);
      return [acc('acc_log', r.accLog), acc('acc_uni', r.accUni), yOut(r.y, c.output)];
    }
    case 'requant': {
      const a = asInt(need(inputs, 'acc', source), source);
      const N = a.shape[1]!, mult = g.ints('mult', N), shift = g.ints('shift', N), bits = g.int('bits', 2, 8);
      const y = requantize(a, mult.map((m, n) => ({ mult: m, shift: shift[n]! })), g.int('zero', 0, 2 ** bits - 1), bits);
      return [{ name: 'y', tensor: y, bits, signed: false }];
    }
    case 'encode': {
      const x = asF32(need(inputs, 'x', source), source);
      const th = g.f32s('thresholds_f32');
      const q = Int32Array.from(x.data, (v) => encodeByThresholds(v, th));
      return [{ name: 'q', tensor: { dtype: 'int32', shape: x.shape, data: q }, bits: g.int('bits', 1, 8), signed: false }];
    }
    case 'gelu_hluq': {
      const x = asF32(need(inputs, 'x', source), source);
      const th = g.f32s('thresholds_f32');
      const gl = Float32Array.from(x.data, geluF32);
      const q = Int32Array.from(gl, (v) => encodeByThresholds(v, th));
      return [{ name: 'gelu', tensor: { dtype: 'float32', shape: x.shape, data: gl }, bits: 32, signed: true }, { name: 'q', tensor: { dtype: 'int32', shape: x.shape, data: q }, bits: g.int('bits', 2, 8), signed: false }];
    }
    case 'lnq_attention':
      return runLnqAttention(inputs, g, source);
    case 'tinyvit_block':
      return runTinyVitBlockOp(inputs, params, source);
  }
}

/** QKᵀ (uniform GEMM) → float32 scale → softmax (vector unit) → LNQ encode → D[p]·(V − z_v) → requant. */
function runLnqAttention(inputs: ReadonlyMap<string, GoldenTensor>, g: Get, source: string): GoldenTensor[] {
  const q = asInt(need(inputs, 'q', source), source), k = asInt(need(inputs, 'k', source), source), v = asInt(need(inputs, 'v', source), source);
  const [M] = q.shape as [number, number];
  const [T] = k.shape as [number, number];
  const Dv = v.shape[1]!;
  const scale = g.f32s('score_scale_f32', 1)[0]!;
  const lnq = g.obj('lnq');
  const th = lnq.f32s('thresholds_f32'), table = Int32Array.from(lnq.ints('table', th.length + 1));
  const sAcc = gemmUniform({ x: q, w: k, zw: new Int32Array(T).fill(g.int('zk', 0, 255)) }, g.int('zq', 0, 255)); // [M, T]
  const p = new Float32Array(M * T); // [M, T]
  const row = new Float32Array(T);
  for (let m = 0; m < M; m++) {
    for (let t = 0; t < T; t++) row[t] = Math.fround(Math.fround(sAcc.data[m * T + t]!) * scale);
    p.set(softmaxRowF32(row), m * T);
  }
  const pc = Int32Array.from(p, (x) => encodeByThresholds(x, th)); // [M, T]
  const pcT: Tensor<'int32'> = { dtype: 'int32', shape: [M, T], data: pc };
  const pv = gemmLnqPv(pcT, table, v, g.int('zv', 0, 255)); // [M, Dv]
  const o = g.obj('out');
  const mult = o.ints('mult', Dv), shift = o.ints('shift', Dv), bits = o.int('bits', 2, 8);
  const y = requantize(pv, mult.map((mm, n) => ({ mult: mm, shift: shift[n]! })), o.int('zero', 0, 2 ** bits - 1), bits);
  return [
    acc('s_acc', sAcc),
    { name: 'p', tensor: { dtype: 'float32', shape: [M, T], data: p }, bits: 32, signed: true },
    { name: 'p_codes', tensor: pcT, bits: lnq.int('bits', 2, 8), signed: false },
    acc('pv_acc', pv),
    { name: 'y', tensor: y, bits, signed: false },
  ];
}
