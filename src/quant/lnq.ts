/**
 * LNQ — Logarithmic Nonlinear Quantization of attention probabilities (METHOD.md §3.4).
 * A log transform `ln(1 + α·p)` normalised by `ln(1 + α·s)` is quantized uniformly with N_q steps.
 *
 * Legend: `p` probability (input), `s ∈ (0, 1]` clip / scale, `α > 0` curvature, `N_q` steps,
 * `q ∈ [0, N_q]` code, `θ_k` encoder thresholds, `p̂` dequantized value.
 *
 * N_q: the project default is `2^b − 1` (a proper b-bit code; the reference's calibration search);
 * `referenceCompat: true` uses the reference runtime's `2^b` (codes 0..2^b, i.e. 2^b + 1 levels).
 *
 * Float32 emulation: natural log and exp (not log1p/expm1), every operation rounded to float32;
 * `α` enters as float32. log/exp are evaluated in double and rounded, so values can differ from
 * PyTorch's vectorised logf/expf by about 1 ulp; codes match the reference vectors exactly.
 *
 * @hardware hw-model/src/lnq-unit.ts (planned); tables via lnqThresholds / lnqDecodeTable
 */
import { type Tensor, specRequire, requireFinite, roundHalfEven, clamp, f32, numel, tensor } from '../tensor';
import { requireBits, type CompatOptions } from './qparams';

// TYPES

/** LNQ parameters: bits, clip `s` and curvature `alpha` (float32 values). */
export interface LnqParams {
  readonly bits: number;
  readonly s: number;
  readonly alpha: number;
}

// CONSTANTS

const LNQ_FLOOR = f32(1e-20);

// MAIN

/**
 * Number of quantization steps N_q; validates the parameters.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4, §11 item 3)
 * @equation N_q = 2^b − 1 (default) or 2^b (referenceCompat: the reference runtime quantizer)
 * @deviation the default deviates from the reference runtime on purpose (Project decision 1)
 * @precision exact
 */
export function lnqSteps(p: LnqParams, opts: CompatOptions = {}, fn = 'lnqSteps'): number {
  requireBits(fn, p.bits);
  specRequire(Number.isFinite(p.s) && p.s > 0, { fn, what: 'p.s', rule: 'be finite and > 0', got: p.s, ref: 'AHCQ-SAM:v4 §LNQ' });
  specRequire(Number.isFinite(p.alpha) && p.alpha > 0, { fn, what: 'p.alpha', rule: 'be finite and > 0', got: p.alpha, ref: 'AHCQ-SAM:v4 §LNQ' });
  return opts.referenceCompat ? 2 ** p.bits : 2 ** p.bits - 1;
}

/**
 * Unchecked: float32 `ln(1 + α·s)` (the normaliser shared by encoder and decoder).
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
function lnqDenominator(s: number, a: number): number {
  return f32(Math.log(f32(1 + f32(a * s))));
}

/**
 * Unchecked kernel: code of one value.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function lnqCodeKernel(x: number, s: number, a: number, nq: number, den: number): number {
  const xc = clamp(x, LNQ_FLOOR, s);
  const t = f32(f32(Math.log(f32(1 + f32(a * xc)))) / den);
  return clamp(roundHalfEven(f32(t * nq)), 0, nq);
}

/**
 * Unchecked kernel: value of one code.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function lnqValueKernel(q: number, a: number, nq: number, den: number): number {
  if (q === 0) return 0;
  return f32(f32(f32(Math.exp(f32(f32(q / nq) * den))) - 1) / a);
}

function requireX(fn: string, x: number): void {
  specRequire(Number.isFinite(x), { fn, what: 'x', rule: 'be finite', got: x });
}

/**
 * The LNQ code of one probability.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/util_quant.py#fake_log_transform_quantize
 * @equation p_c = clamp(p, 10⁻²⁰, s);  q = clamp(⌊N_q·ln(1 + α·p_c)/ln(1 + α·s)⌉, 0, N_q)
 * @deviation ⌊·⌉ is round-half-to-even; N_q per lnqSteps
 * @precision float32 ops emulated; exact codes on the reference vectors
 */
export function quantizeLnq(x: number, p: LnqParams, opts: CompatOptions = {}): number {
  const nq = lnqSteps(p, opts, 'quantizeLnq');
  requireX('quantizeLnq', x);
  const s = f32(p.s);
  const a = f32(p.alpha);
  return lnqCodeKernel(x, s, a, nq, lnqDenominator(s, a));
}

/**
 * The value of one LNQ code.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/util_quant.py#fake_log_transform_quantize
 * @equation p̂ = (exp((q/N_q)·ln(1 + α·s)) − 1)/α,  p̂ = 0 for q = 0
 * @deviation none (natural exp, not expm1, as the reference)
 * @precision float32 ops emulated; ≈1 ulp from exp
 */
export function dequantizeLnq(q: number, p: LnqParams, opts: CompatOptions = {}): number {
  const nq = lnqSteps(p, opts, 'dequantizeLnq');
  specRequire(Number.isInteger(q) && q >= 0 && q <= nq, { fn: 'dequantizeLnq', what: 'q', rule: `be an integer in [0, ${nq}]`, got: q });
  const s = f32(p.s);
  const a = f32(p.alpha);
  return lnqValueKernel(q, a, nq, lnqDenominator(s, a));
}

/**
 * LNQ fake quantization of one value.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#LogTransformQuantize.quantize
 * @equation p̂ = dequantizeLnq(quantizeLnq(p))
 * @deviation as quantizeLnq
 * @precision float32 ops emulated; ≈1 ulp from exp/log
 */
export function fakeQuantLnq(x: number, p: LnqParams, opts: CompatOptions = {}): number {
  const nq = lnqSteps(p, opts, 'fakeQuantLnq');
  requireX('fakeQuantLnq', x);
  const s = f32(p.s);
  const a = f32(p.alpha);
  const den = lnqDenominator(s, a);
  return lnqValueKernel(lnqCodeKernel(x, s, a, nq, den), a, nq, den);
}

/**
 * LNQ codes of a tensor (Int32Array-backed).
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @equation qᵢ = quantizeLnq(pᵢ)
 * @deviation as quantizeLnq
 * @precision exact codes
 */
export function quantizeLnqTensor(x: Tensor, p: LnqParams, opts: CompatOptions = {}): Tensor<'int32'> {
  const fn = 'quantizeLnqTensor';
  const nq = lnqSteps(p, opts, fn);
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  const s = f32(p.s);
  const a = f32(p.alpha);
  const den = lnqDenominator(s, a);
  const q = new Int32Array(x.data.length);
  for (let i = 0; i < q.length; i++) q[i] = lnqCodeKernel(x.data[i]!, s, a, nq, den);
  return tensor(x.shape, q, 'int32');
}

/**
 * LNQ fake quantization of a tensor.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#LogTransformQuantize.quantize
 * @equation p̂ᵢ = fakeQuantLnq(pᵢ)
 * @deviation as quantizeLnq
 * @precision float32 ops emulated; ≈1 ulp from exp/log
 */
export function fakeQuantLnqTensor(x: Tensor, p: LnqParams, opts: CompatOptions = {}): Tensor {
  const fn = 'fakeQuantLnqTensor';
  const nq = lnqSteps(p, opts, fn);
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  const s = f32(p.s);
  const a = f32(p.alpha);
  const den = lnqDenominator(s, a);
  const table = lnqTableKernel(a, nq, den);
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = table[lnqCodeKernel(x.data[i]!, s, a, nq, den)]!;
  return tensor(x.shape, y);
}

function lnqTableKernel(a: number, nq: number, den: number): Float32Array {
  const t = new Float32Array(nq + 1);
  for (let q = 0; q <= nq; q++) t[q] = lnqValueKernel(q, a, nq, den);
  return t;
}

/**
 * The (N_q + 1)-entry decode table p̂(q) (the BRAM LUT of the paper's FPGA design).
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4, hardware mapping)
 * @equation T[q] = (exp((q/N_q)·ln(1 + α·s)) − 1)/α, T[0] = 0
 * @deviation none
 * @precision float32 ops emulated
 */
export function lnqDecodeTable(p: LnqParams, opts: CompatOptions = {}): Float32Array {
  const nq = lnqSteps(p, opts, 'lnqDecodeTable');
  const s = f32(p.s);
  const a = f32(p.alpha);
  return lnqTableKernel(a, nq, lnqDenominator(s, a));
}

/**
 * Encoder thresholds θ_1..θ_N_q in float64: the code is q = #{k : p ≥ θ_k}.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4, hardware mapping)
 * @equation θ_k = ((1 + α·s)^((k − ½)/N_q) − 1)/α,  k = 1..N_q
 * @deviation Ties: at p = θ_k exactly the count gives q = k, while ⌊·⌉ half-to-even gives the even
 *            neighbour; away from the thresholds (beyond float32 rounding of the direct formula) both agree.
 * @precision float64
 */
export function lnqThresholds(p: LnqParams, opts: CompatOptions = {}): Float64Array {
  const nq = lnqSteps(p, opts, 'lnqThresholds');
  const s = f32(p.s);
  const a = f32(p.alpha);
  const th = new Float64Array(nq);
  for (let k = 1; k <= nq; k++) th[k - 1] = Math.expm1(((k - 0.5) / nq) * Math.log1p(a * s)) / a;
  return th;
}
