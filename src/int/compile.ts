/**
 * Compile fake-quant layer parameters (float scales, integer zero points, float bias) into the
 * integer form of the datapath (docs/integer-datapath.md), and run the compiled layers with the
 * `src/int` kernels. Everything here is computed once, offline, in float64; the integers it returns
 * are what the golden vectors store and what every hardware implementation consumes.
 *
 * Legend: X [M, K] activation codes, W [N, K] weight codes (zero point zw[n], scale s_w[n]),
 * W̃ = W − zw[n], b [N] float bias, s_x / z_x activation scale / zero point, acc accumulator,
 * "wide" accumulator = the int64-range (|·| ≤ 2^36) value a requantiser multiplies,
 * unit[n] = the real value of one wide-accumulator step of output row n, F fraction bits of a
 * group multiplier, s_o / z_o / b_o output quantizer.
 *
 * Bias (all layers): b[n] becomes an integer in wide-accumulator units, bInt[n] = ⌊b[n]/unit[n]⌉
 * (half-even); constant activation offsets (CAG Z_g, HLUQ m) are folded into it exactly.
 * Output stage: either a per-row requantiser to an output code,
 *   y[m,n] = clamp(applyScale(wide[m,n], quantizeMultiplier(unit[n]/s_o)) + z_o, 0, 2^b_o − 1),
 * or, when the output stays float, a per-row float32 dequant scale: y = f32(f32(wide)·f32(unit[n])).
 *
 * @hardware hw-model PE array + PPU; fpga/tb/golden_reader.cpp mirrors `forward*`
 */
import { specRequire, roundHalfEven, f32, type Tensor } from '../tensor';
import { quantizeMultiplier, applyScale, saturate, ACC_MAX, type FixedScale } from './fixed-point';
import { gemmUniform, gemmCag, gemmHluq, weightRowSums } from './gemm';
import { thresholdsFromMonotone, encodeByThresholds } from './threshold-encoder';
import { lnqDecodeFixed } from './gemm';
import { quantizeUniform } from '../quant/uniform';
import { quantizeHluq, hluqLevelSplit, type HluqParams } from '../quant/hluq';
import { quantizeLnq, lnqSteps, lnqDecodeTable, type LnqParams } from '../quant/lnq';
import { cagGroupPermutation } from '../quant/cag';

// TYPES

/** Output quantizer of a layer (uniform, asymmetric, codes 0 … 2^bits − 1). */
export interface OutputQuant {
  readonly scale: number;
  readonly zero: number;
  readonly bits: number;
}

/** The last stage of a compiled layer: requantise to codes, or dequantise to float32. */
export type OutputStage =
  | { readonly kind: 'requant'; readonly scales: readonly FixedScale[]; readonly zero: number; readonly bits: number }
  | { readonly kind: 'dequant'; readonly scales: Float32Array };

/** Fake-quant parameters of a linear layer y = x̂·Ŵᵀ + b (PyTorch Linear layout). */
export interface LinearQuantSpec {
  /** Weight codes [N, K] in [0, 2^bits − 1]. */
  readonly wCodes: Tensor<'int32'>;
  readonly wScales: ArrayLike<number>;
  readonly wZeros: ArrayLike<number>;
  readonly bias: ArrayLike<number> | undefined;
  /** Weight bit width (codes in [0, 2^bits − 1]). */
  readonly bits: number;
  readonly out?: OutputQuant;
}

export interface CompiledLinearUniform {
  readonly kind: 'uniform';
  readonly w: Tensor<'int32'>;
  readonly zw: Int32Array;
  readonly zx: number;
  /** Integer bias in accumulator units s_x·s_w[n]. */
  readonly bias: Float64Array;
  readonly output: OutputStage;
}

export interface CompiledLinearCag {
  readonly kind: 'cag';
  /** perm[j] = original input channel feeding compiled column j (groups contiguous). */
  readonly perm: Int32Array;
  /** Group g covers compiled columns [starts[g], starts[g+1]). */
  readonly starts: readonly number[];
  /** Weights with columns permuted, [N, K]. */
  readonly w: Tensor<'int32'>;
  readonly zw: Int32Array;
  /** M_g = ⌊S_g/s_ref·2^F⌉, s_ref = max_g S_g. */
  readonly groupMults: Int32Array;
  readonly fracBits: number;
  /** Z_g (already folded into `bias`; kept for documentation and checks). */
  readonly groupZeros: Int32Array;
  /** Integer bias in wide units s_w[n]·s_ref·2^−F, including −Σ_g M_g·Z_g·Σ_{k∈g} W̃[n,k]. */
  readonly bias: Float64Array;
  readonly output: OutputStage;
}

export interface CompiledLinearHluq {
  readonly kind: 'hluq';
  readonly w: Tensor<'int32'>;
  readonly zw: Int32Array;
  /** HLUQ code geometry of the input codes. */
  readonly actBits: number;
  readonly lLog: number;
  readonly guardBits: number;
  /** Multipliers of accLog (unit s_log·2^−gb) and accUni (unit s_uni) relative to their max, F fraction bits. */
  readonly multLog: number;
  readonly multUni: number;
  readonly fracBits: number;
  /** Integer bias in wide units s_w[n]·s_ref·2^−F, including the folded m·Σ_k W̃[n,k]. */
  readonly bias: Float64Array;
  readonly output: OutputStage;
}

/** Result of a compiled layer: the raw kernel accumulators, the wide accumulator and the output. */
export interface LinearForward {
  readonly wide: Float64Array;
  readonly y: Tensor<'int32'> | Tensor<'float32'>;
}

// CONSTANTS

/** Default fraction width of group / path multipliers (M ≤ 2^15 fits a 16-bit unsigned port). */
export const GROUP_FRAC_BITS = 15;
const FLT_MAX = 3.4028234663852886e38;

// HELPERS

function checkLinear(fn: string, s: LinearQuantSpec): { N: number; K: number } {
  specRequire(s.wCodes.shape.length === 2, { fn, what: 'wCodes.shape', rule: 'be [N, K]', got: s.wCodes.shape });
  const [N, K] = s.wCodes.shape as [number, number];
  specRequire(N >= 1 && K >= 1, { fn, what: 'wCodes.shape', rule: 'have N ≥ 1 and K ≥ 1', got: s.wCodes.shape });
  specRequire(Number.isInteger(s.bits) && s.bits >= 2 && s.bits <= 8, { fn, what: 'bits', rule: 'be an integer in [2, 8]', got: s.bits });
  const qmax = 2 ** s.bits - 1;
  for (let i = 0; i < s.wCodes.data.length; i++) {
    const q = s.wCodes.data[i]!;
    if (q < 0 || q > qmax) specRequire(false, { fn, what: `wCodes[${i}]`, rule: `be a code in [0, ${qmax}]`, got: q });
  }
  specRequire(s.wScales.length === N, { fn, what: 'wScales.length', rule: `equal N = ${N}`, got: s.wScales.length });
  specRequire(s.wZeros.length === N, { fn, what: 'wZeros.length', rule: `equal N = ${N}`, got: s.wZeros.length });
  for (let n = 0; n < N; n++) {
    specRequire(Number.isFinite(s.wScales[n]!) && s.wScales[n]! > 0, { fn, what: `wScales[${n}]`, rule: 'be finite and > 0', got: s.wScales[n] });
    specRequire(Number.isInteger(s.wZeros[n]!) && s.wZeros[n]! >= 0 && s.wZeros[n]! <= qmax, { fn, what: `wZeros[${n}]`, rule: `be an integer in [0, ${qmax}]`, got: s.wZeros[n] });
  }
  if (s.bias !== undefined) {
    specRequire(s.bias.length === N, { fn, what: 'bias.length', rule: `equal N = ${N}`, got: s.bias.length });
    for (let n = 0; n < N; n++) specRequire(Number.isFinite(s.bias[n]!), { fn, what: `bias[${n}]`, rule: 'be finite', got: s.bias[n] });
  }
  if (s.out !== undefined) {
    const o = s.out;
    specRequire(Number.isInteger(o.bits) && o.bits >= 2 && o.bits <= 8, { fn, what: 'out.bits', rule: 'be an integer in [2, 8]', got: o.bits });
    specRequire(Number.isFinite(o.scale) && o.scale > 0, { fn, what: 'out.scale', rule: 'be finite and > 0', got: o.scale });
    specRequire(Number.isInteger(o.zero) && o.zero >= 0 && o.zero < 2 ** o.bits, { fn, what: 'out.zero', rule: `be an integer in [0, 2^out.bits − 1]`, got: o.zero });
  }
  return { N, K };
}

/** Per-row output stage for wide units unit[n]. */
function outputStage(unit: Float64Array, out: OutputQuant | undefined): OutputStage {
  if (out === undefined) return { kind: 'dequant', scales: Float32Array.from(unit) };
  return { kind: 'requant', scales: Array.from(unit, (u) => quantizeMultiplier(u / out.scale)), zero: out.zero, bits: out.bits };
}

/** bInt[n] = ⌊(b[n] + extra[n]) / unit[n]⌉ − fold[n], checked to stay within ±2^36. */
function integerBias(fn: string, bias: ArrayLike<number> | undefined, unit: Float64Array, extra?: (n: number) => number, fold?: (n: number) => number): Float64Array {
  const out = new Float64Array(unit.length);
  for (let n = 0; n < unit.length; n++) {
    const real = (bias === undefined ? 0 : bias[n]!) + (extra ? extra(n) : 0);
    const v = roundHalfEven(real / unit[n]!) - (fold ? fold(n) : 0);
    specRequire(Math.abs(v) <= ACC_MAX, { fn, what: `bias[${n}]`, rule: 'be within ±2^36 accumulator units (scale the layer or drop the bias)', got: real });
    out[n] = v + 0; // + 0 turns −0 into +0
  }
  return out;
}

/** Fixed-point multiplier of a ratio r ∈ (0, 1]: ⌊r·2^F⌉. */
function ratioMult(fn: string, what: string, r: number, fracBits: number): number {
  const m = roundHalfEven(r * 2 ** fracBits);
  specRequire(m >= 1, { fn, what, rule: `be at least 2^−${fracBits} of the largest scale (it rounds to a zero multiplier)`, got: r });
  return m;
}

function applyOutput(fn: string, stage: OutputStage, wide: Float64Array, M: number, N: number): Tensor<'int32'> | Tensor<'float32'> {
  if (stage.kind === 'dequant') {
    const y = new Float32Array(M * N); // [M, N]
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) y[m * N + n] = f32(f32(wide[m * N + n]!) * stage.scales[n]!);
    return { dtype: 'float32', shape: [M, N], data: y };
  }
  const y = new Int32Array(M * N); // [M, N]
  const qmax = 2 ** stage.bits - 1;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const v = wide[m * N + n]!;
      specRequire(Math.abs(v) <= ACC_MAX, { fn, what: `wide[${m}, ${n}]`, rule: 'stay within ±2^36 (the requantiser input range)', got: v });
      y[m * N + n] = saturate(applyScale(v, stage.scales[n]!) + stage.zero, 0, qmax);
    }
  }
  return { dtype: 'int32', shape: [M, N], data: y };
}

function requireCodes(fn: string, what: string, x: Tensor<'int32'>, K: number, bits: number): number {
  specRequire(x.shape.length === 2 && x.shape[1] === K, { fn, what: `${what}.shape`, rule: `be [M, ${K}]`, got: x.shape });
  const qmax = 2 ** bits - 1;
  for (let i = 0; i < x.data.length; i++) {
    const q = x.data[i]!;
    if (q < 0 || q > qmax) specRequire(false, { fn, what: `${what}[${i}]`, rule: `be a code in [0, ${qmax}]`, got: q });
  }
  return x.shape[0]!;
}

// MAIN — uniform

/**
 * Compile a uniform linear layer (per-tensor activation quantizer, per-row weight quantizer).
 * @paper AHCQ-SAM:v4 §FPGA (INT4×INT4 MAC, INT32 accumulator); METHOD.md §2.2
 * @equation acc = Σ_k W̃[n,k]·(X[m,k] − z_x);  unit[n] = s_x·s_w[n];  bInt[n] = ⌊b[n]/unit[n]⌉;  wide = acc + bInt
 * @deviation bias rounded to accumulator units (error ≤ ½·unit[n]); requant multiplier 16-bit (relative error ≤ 2^−16)
 * @precision exact integers; scales computed in float64
 */
export function compileLinearUniform(spec: LinearQuantSpec & { readonly inScale: number; readonly inZero: number }): CompiledLinearUniform {
  const fn = 'compileLinearUniform';
  const { N } = checkLinear(fn, spec);
  specRequire(Number.isFinite(spec.inScale) && spec.inScale > 0, { fn, what: 'inScale', rule: 'be finite and > 0', got: spec.inScale });
  specRequire(Number.isInteger(spec.inZero) && spec.inZero >= 0 && spec.inZero < 2 ** spec.bits, { fn, what: 'inZero', rule: `be an integer in [0, 2^bits − 1]`, got: spec.inZero });
  const unit = new Float64Array(N);
  for (let n = 0; n < N; n++) unit[n] = spec.inScale * spec.wScales[n]!;
  return {
    kind: 'uniform', w: spec.wCodes, zw: Int32Array.from(spec.wZeros), zx: spec.inZero,
    bias: integerBias(fn, spec.bias, unit), output: outputStage(unit, spec.out),
  };
}

/**
 * Run a compiled uniform layer on activation codes X [M, K].
 * @equation wide[m,n] = Σ_k W̃[n,k]·(X[m,k] − z_x) + bInt[n];  y = output stage
 * @precision exact (integers); dequant output: two float32 roundings
 */
export function forwardLinearUniform(c: CompiledLinearUniform, x: Tensor<'int32'>, xBits: number): LinearForward & { readonly acc: Tensor<'int32'> } {
  const fn = 'forwardLinearUniform';
  const [N, K] = c.w.shape as [number, number];
  const M = requireCodes(fn, 'x', x, K, xBits);
  const acc = gemmUniform({ x, w: c.w, zw: c.zw }, c.zx); // [M, N]
  const wide = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) wide[m * N + n] = acc.data[m * N + n]! + c.bias[n]!;
  return { acc, wide, y: applyOutput(fn, c.output, wide, M, N) };
}

// MAIN — CAG

/**
 * Compile a CAG linear layer: permute input channels so groups are contiguous, give each group a
 * fixed-point multiplier relative to the largest group scale, fold the group zero points into the bias.
 * @paper AHCQ-SAM:v4 §3.3 (G partial sums per output); HARDWARE.md §4.2 CAG
 * @equation perm = stable sort by label;  s_ref = max_g S_g;  M_g = ⌊S_g/s_ref·2^F⌉;  unit[n] = s_w[n]·s_ref·2^−F;
 *           bInt[n] = ⌊b[n]/unit[n]⌉ − Σ_g M_g·Z_g·Σ_{k∈g} W̃[n,k]
 * @deviation group scales represented by M_g (relative error ≤ 2^−(F+1)/(S_g/s_ref)); bias rounding ≤ ½ unit
 * @precision exact integers; scales computed in float64
 */
export function compileLinearCag(spec: LinearQuantSpec & { readonly labels: ArrayLike<number>; readonly groupScales: ArrayLike<number>; readonly groupZeros: ArrayLike<number>; readonly fracBits?: number }): CompiledLinearCag {
  const fn = 'compileLinearCag';
  const { N, K } = checkLinear(fn, spec);
  const F = spec.fracBits ?? GROUP_FRAC_BITS;
  specRequire(Number.isInteger(F) && F >= 1 && F <= 20, { fn, what: 'fracBits', rule: 'be an integer in [1, 20]', got: F });
  specRequire(spec.labels.length === K, { fn, what: 'labels.length', rule: `equal K = ${K}`, got: spec.labels.length });
  const G = spec.groupScales.length;
  specRequire(G >= 1 && spec.groupZeros.length === G, { fn, what: 'groupZeros.length', rule: `equal groupScales.length = ${G} (≥ 1)`, got: spec.groupZeros.length });
  let sRef = 0;
  for (let g = 0; g < G; g++) {
    const s = spec.groupScales[g]!, z = spec.groupZeros[g]!;
    specRequire(Number.isFinite(s) && s > 0, { fn, what: `groupScales[${g}]`, rule: 'be finite and > 0', got: s });
    specRequire(Number.isInteger(z) && z >= 0 && z < 2 ** spec.bits, { fn, what: `groupZeros[${g}]`, rule: 'be an integer in [0, 2^bits − 1]', got: z });
    sRef = Math.max(sRef, s);
  }
  for (let k = 0; k < K; k++) specRequire(Number.isInteger(spec.labels[k]!) && spec.labels[k]! >= 0 && spec.labels[k]! < G, { fn, what: `labels[${k}]`, rule: `be an integer in [0, ${G})`, got: spec.labels[k] });
  const pm = cagGroupPermutation(spec.labels);
  const starts = Array.from({ length: G + 1 }, (_, g) => (g < pm.offsets.length ? pm.offsets[g]! : K)); // empty trailing groups → K
  const w = new Int32Array(N * K); // [N, K] columns permuted
  for (let n = 0; n < N; n++) for (let j = 0; j < K; j++) w[n * K + j] = spec.wCodes.data[n * K + pm.perm[j]!]!;
  const zw = Int32Array.from(spec.wZeros);
  const groupMults = Int32Array.from({ length: G }, (_, g) => ratioMult(fn, `groupScales[${g}]`, spec.groupScales[g]! / sRef, F));
  const unit = new Float64Array(N);
  for (let n = 0; n < N; n++) unit[n] = spec.wScales[n]! * sRef * 2 ** -F;
  const fold = (n: number): number => {
    let s = 0;
    for (let g = 0; g < G; g++) {
      let r = 0;
      for (let j = starts[g]!; j < starts[g + 1]!; j++) r += w[n * K + j]! - zw[n]!;
      s += groupMults[g]! * spec.groupZeros[g]! * r;
    }
    return s;
  };
  return {
    kind: 'cag', perm: pm.perm, starts, w: { dtype: 'int32', shape: [N, K], data: w }, zw, groupMults, fracBits: F,
    groupZeros: Int32Array.from(spec.groupZeros), bias: integerBias(fn, spec.bias, unit, undefined, fold), output: outputStage(unit, spec.out),
  };
}

/**
 * Run a compiled CAG layer on activation codes X [M, K] in the ORIGINAL channel order.
 * @equation acc[g,m,n] = Σ_{j∈g} W̃[n,j]·X[m,perm[j]];  wide[m,n] = Σ_g M_g·acc[g,m,n] + bInt[n]
 * @precision exact (wide accumulator ≤ 2^36, checked at requant)
 */
export function forwardLinearCag(c: CompiledLinearCag, x: Tensor<'int32'>, xBits: number): LinearForward & { readonly acc: Tensor<'int32'> } {
  const fn = 'forwardLinearCag';
  const [N, K] = c.w.shape as [number, number];
  const M = requireCodes(fn, 'x', x, K, xBits);
  const G = c.groupMults.length;
  const xp = new Int32Array(M * K); // [M, K] permuted
  for (let m = 0; m < M; m++) for (let j = 0; j < K; j++) xp[m * K + j] = x.data[m * K + c.perm[j]!]!;
  const acc = gemmCag({ x: { dtype: 'int32', shape: [M, K], data: xp }, w: c.w, zw: c.zw }, { starts: c.starts, zeroPoints: new Array<number>(G).fill(0) }); // [G, M, N]
  const wide = new Float64Array(M * N);
  for (let i = 0; i < M * N; i++) {
    let s = c.bias[i % N]!;
    for (let g = 0; g < G; g++) s += c.groupMults[g]! * acc.data[g * M * N + i]!;
    wide[i] = s;
  }
  return { acc, wide, y: applyOutput(fn, c.output, wide, M, N) };
}

// MAIN — HLUQ

/**
 * Compile a linear layer whose input is HLUQ-coded (MLP fc2): two accumulators (log path by shifts,
 * uniform path by MACs), two fixed-point multipliers relative to the larger unit, m·ΣW̃ folded into the bias.
 * @paper AHCQ-SAM:v4 §HLUQ; HARDWARE.md §1.3 (dual accumulators), §4.2
 * @equation u_log = s_log·2^−gb, u_uni = s_uni, s_ref = max(u_log, u_uni);  M_log = ⌊u_log/s_ref·2^F⌉, M_uni = ⌊u_uni/s_ref·2^F⌉;
 *           unit[n] = s_w[n]·s_ref·2^−F;  bInt[n] = ⌊(b[n] + s_w[n]·m·Σ_k W̃[n,k]) / unit[n]⌉
 * @deviation path multipliers round to F bits; bias rounding ≤ ½ unit
 * @precision exact integers; scales computed in float64
 */
export function compileLinearHluq(spec: LinearQuantSpec & { readonly hluq: HluqParams; readonly guardBits?: number; readonly fracBits?: number }): CompiledLinearHluq {
  const fn = 'compileLinearHluq';
  const { N } = checkLinear(fn, spec);
  const { lLog } = hluqLevelSplit(spec.hluq, fn);
  const gb = spec.guardBits ?? lLog - 1;
  const F = spec.fracBits ?? GROUP_FRAC_BITS;
  specRequire(Number.isInteger(gb) && gb >= 0 && gb <= 16, { fn, what: 'guardBits', rule: 'be an integer in [0, 16]', got: gb });
  specRequire(Number.isInteger(F) && F >= 1 && F <= 20, { fn, what: 'fracBits', rule: 'be an integer in [1, 20]', got: F });
  const uLog = spec.hluq.sLog * 2 ** -gb, uUni = spec.hluq.sUni;
  const sRef = Math.max(uLog, uUni);
  const zw = Int32Array.from(spec.wZeros);
  const rows = weightRowSums(spec.wCodes, zw);
  const unit = new Float64Array(N);
  for (let n = 0; n < N; n++) unit[n] = spec.wScales[n]! * sRef * 2 ** -F;
  return {
    kind: 'hluq', w: spec.wCodes, zw, actBits: spec.hluq.bits, lLog, guardBits: gb,
    multLog: ratioMult(fn, 's_log·2^−gb', uLog / sRef, F), multUni: ratioMult(fn, 's_uni', uUni / sRef, F), fracBits: F,
    bias: integerBias(fn, spec.bias, unit, (n) => spec.wScales[n]! * spec.hluq.m * rows[n]!), output: outputStage(unit, spec.out),
  };
}

/**
 * Run a compiled HLUQ layer on HLUQ codes X [M, K].
 * @equation wide[m,n] = M_log·accLog[m,n] + M_uni·accUni[m,n] + bInt[n]
 * @precision exact
 */
export function forwardLinearHluq(c: CompiledLinearHluq, x: Tensor<'int32'>): LinearForward & { readonly accLog: Tensor<'int32'>; readonly accUni: Tensor<'int32'> } {
  const fn = 'forwardLinearHluq';
  const [N, K] = c.w.shape as [number, number];
  const M = requireCodes(fn, 'x', x, K, c.actBits);
  const { accLog, accUni } = gemmHluq({ x, w: c.w, zw: c.zw }, { bits: c.actBits, lLog: c.lLog }, c.guardBits); // [M, N] each
  const wide = new Float64Array(M * N);
  for (let i = 0; i < M * N; i++) wide[i] = c.multLog * accLog.data[i]! + c.multUni * accUni.data[i]! + c.bias[i % N]!;
  return { accLog, accUni, wide, y: applyOutput(fn, c.output, wide, M, N) };
}

// MAIN — encoders and decoders

/**
 * Threshold table of the uniform quantizer (2^b − 1 float32 thresholds).
 * @paper AHCQ-SAM:v4 §Uniform; docs/integer-datapath.md Encoders
 * @equation θ_k = min{x ∈ F32 : clamp(⌊f32(x/s)⌉ + z, 0, 2^b − 1) ≥ k}
 * @deviation none (agrees with quantizeUniform on every finite float32)
 * @precision exact
 */
export function uniformEncoderThresholds(p: OutputQuant): Float32Array {
  const qmax = 2 ** p.bits - 1;
  quantizeUniform(0, p.scale, p.zero, 0, qmax); // validates the parameters once
  return thresholdsFromMonotone((x) => quantizeUniform(x, p.scale, p.zero, 0, qmax), qmax + 1, -FLT_MAX, FLT_MAX);
}

/**
 * Threshold table of the HLUQ encoder (2^b − 1 float32 thresholds).
 * @paper AHCQ-SAM:v4 §HLUQ; HARDWARE.md §1.3
 * @equation θ_k = min{x ∈ F32 : quantizeHluq(x) ≥ k}
 * @deviation none (agrees with quantizeHluq, referenceCompat off, on every finite float32)
 * @precision exact
 */
export function hluqEncoderThresholds(p: HluqParams): Float32Array {
  const { L } = hluqLevelSplit(p, 'hluqEncoderThresholds');
  return thresholdsFromMonotone((x) => quantizeHluq(x, p), L, -FLT_MAX, FLT_MAX);
}

/**
 * LNQ encoder thresholds (N_q float32 thresholds) and fixed-point decoder table D[q] = ⌊p̂_q·2^F⌉.
 * @paper AHCQ-SAM:v4 §LNQ, §FPGA (BRAM look-up tables); METHOD.md §3.4
 * @equation θ_k = min{p ∈ F32 : quantizeLnq(p) ≥ k};  D[q] = roundHalfEven(p̂_q·2^F)
 * @deviation none for the encoder; the decoder's fixed point differs from p̂ by ≤ 2^−(F+1). With s = 1 the
 *   float32 p̂(N_q) can exceed 1 by one ulp (exp rounding); it is clamped to 1 before fixing, which leaves
 *   D unchanged for F ≤ 21 (2^F·2^−23 < ½)
 * @precision exact
 */
export function compileLnq(p: LnqParams, fracBits = 15): { thresholds: Float32Array; table: Int32Array; fracBits: number } {
  const nq = lnqSteps(p, {}, 'compileLnq');
  const thresholds = thresholdsFromMonotone((x) => quantizeLnq(x, p), nq + 1, -FLT_MAX, FLT_MAX);
  return { thresholds, table: lnqDecodeFixed(lnqDecodeTable(p).map((v) => Math.min(v, 1)), fracBits), fracBits };
}

/**
 * Encode a float32 tensor with a threshold table.
 * @equation q_i = #{k : x_i ≥ θ_k}
 * @precision exact
 */
export function encodeTensor(x: Tensor<'float32'>, thresholds: Float32Array): Tensor<'int32'> {
  const q = new Int32Array(x.data.length);
  for (let i = 0; i < q.length; i++) {
    specRequire(!Number.isNaN(x.data[i]!), { fn: 'encodeTensor', what: `x[${i}]`, rule: 'not be NaN', got: x.data[i] });
    q[i] = encodeByThresholds(x.data[i]!, thresholds);
  }
  return { dtype: 'int32', shape: x.shape, data: q };
}

/**
 * Requantise int32 accumulators [M, N] with per-column fixed scales to b-bit output codes.
 * @equation y[m,n] = clamp(applyScale(acc[m,n], s[n]) + z_o, 0, 2^b − 1)
 * @precision exact
 */
export function requantize(acc: Tensor<'int32'>, scales: readonly FixedScale[], zero: number, bits: number): Tensor<'int32'> {
  const fn = 'requantize';
  specRequire(acc.shape.length === 2 && acc.shape[1] === scales.length, { fn, what: 'acc.shape', rule: `be [M, ${scales.length}] (one scale per column)`, got: acc.shape });
  const [M, N] = acc.shape as [number, number];
  specRequire(Number.isInteger(bits) && bits >= 2 && bits <= 16 && Number.isInteger(zero) && zero >= 0 && zero < 2 ** bits, { fn, what: 'zero, bits', rule: 'be a zero point in [0, 2^bits − 1] with bits in [2, 16]', got: [zero, bits] });
  return applyOutput(fn, { kind: 'requant', scales, zero, bits }, Float64Array.from(acc.data), M, N) as Tensor<'int32'>;
}
