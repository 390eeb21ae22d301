/**
 * HLUQ — Hybrid Log-Uniform Quantization of post-GELU / post-ReLU activations (METHOD.md §3.2).
 * Power-of-two levels below `s_log`, a uniform grid above it, one b-bit code for both.
 *
 * Legend: `x` input, `m` shift (fp_min), `x' = x − m`, `s_log` split point and largest log level,
 * `s_uni` uniform step, `g` grid rate, `L = 2^b`, `L_log = L·g` log levels, `L_uni = L − L_log`,
 * `e` log exponent, `u` uniform index, `c` code.
 *
 * Code map (METHOD.md §3.2, suggested encoding):
 *   c = 0                 → 0 ("underflow", x̂ = m)
 *   c = 1 … L_log − 1     → log level, e = L_log − c,  x̂ = s_log·2^(−e) + m
 *   c = L_log … 2^b − 1   → uniform level, u = c − L_log,  x̂ = u·s_uni + s_log + m
 * The log level e = 0 equals the uniform level u = 0 (both s_log), so it is encoded as c = L_log.
 *
 * Float32 emulation: every `f32(...)` is one float32 operation of the reference
 * (`fake_hybrid_quantize_per_tensor_affine`); log2 is evaluated in double and rounded to float32
 * (PyTorch's vectorised log2f may differ by 1 ulp; codes are unaffected unless −log2 lands within
 * 1 ulp of a half-integer).
 *
 * @hardware hw-model/src/hluq-unit.ts (planned), fpga/include/hluq.hpp (planned)
 */
import { type Tensor, specRequire, requireFinite, roundHalfEven, clamp, f32, numel, tensor } from '../tensor';
import { requireBits, type CompatOptions } from './qparams';

// TYPES

/** HLUQ parameters (paper v4). `m`, `sLog`, `sUni` are float32 values. */
export interface HluqParams {
  readonly version: 'v4';
  readonly bits: number;
  /** Shift `m` (fp_min): the calibrated minimum of the activation. */
  readonly m: number;
  /** Log/uniform split point and largest log level `s_log > 0`. */
  readonly sLog: number;
  /** Uniform step `s_uni > 0`. */
  readonly sUni: number;
  /** Grid rate `g`: fraction of the 2^b levels given to the log branch (1/8, 1/4 or 1/2). */
  readonly g: number;
}

/** An HLUQ code in [0, 2^b − 1]. */
export type HluqCode = number;

// CONSTANTS

/** Floor applied to x' before log2 (reference: `clamp(x', min=1e-20)`). */
const LOG_FLOOR = f32(1e-20);

// MAIN

/**
 * Level split of an HLUQ configuration; validates the parameters.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @equation L = 2^b, L_log = L·g, L_uni = L − L_log
 * @deviation none
 * @precision exact
 */
export function hluqLevelSplit(p: HluqParams, fn = 'hluqLevelSplit'): { L: number; lLog: number; lUni: number } {
  specRequire(p.version === 'v4', { fn, what: 'p.version', rule: "be 'v4'", got: p.version });
  requireBits(fn, p.bits);
  const L = 2 ** p.bits;
  const lLog = L * p.g;
  specRequire(Number.isInteger(lLog) && lLog >= 1 && lLog < L, { fn, what: 'p.g', rule: `make 2^b·g an integer in [1, 2^b − 1] (b = ${p.bits})`, got: p.g, ref: 'AHCQ-SAM:v4 §HLUQ' });
  specRequire(Number.isFinite(p.m), { fn, what: 'p.m', rule: 'be finite', got: p.m });
  specRequire(Number.isFinite(p.sLog) && p.sLog > 0, { fn, what: 'p.sLog', rule: 'be finite and > 0', got: p.sLog });
  specRequire(Number.isFinite(p.sUni) && p.sUni > 0, { fn, what: 'p.sUni', rule: 'be finite and > 0', got: p.sUni });
  return { L, lLog, lUni: L - lLog };
}

/**
 * Unchecked kernel of quantizeHluq (parameters already validated).
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function hluqCodeKernel(x: number, p: HluqParams, lLog: number, lUni: number, referenceCompat: boolean): HluqCode {
  const xs = f32(x - p.m); // x' = x − m
  if (xs <= p.sLog) {
    // log region: e = ⌊−log2(max(x', 1e-20)/s_log)⌉; e ≥ L_log underflows to zero
    const ratio = f32(Math.max(xs, LOG_FLOOR) / p.sLog);
    const e = roundHalfEven(-f32(Math.log2(ratio)));
    if (e >= lLog) return 0;
    const ec = clamp(e, 0, lLog - 1);
    return ec === 0 ? lLog : lLog - ec;
  }
  // uniform region. referenceCompat: the reference's underflow mask also zeroes uniform elements
  // whose raw x' is ≥ L_log; the zero then re-quantizes to u = 0 (value s_log), i.e. code L_log.
  if (referenceCompat && xs >= lLog) return lLog;
  const u = clamp(roundHalfEven(f32(f32(xs - p.sLog) / p.sUni)), 0, lUni - 1);
  return lLog + u;
}

/**
 * Unchecked kernel of dequantizeHluq.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function hluqValueKernel(c: HluqCode, p: HluqParams, lLog: number): number {
  if (c === 0) return f32(0 + p.m);
  if (c < lLog) return f32(f32(p.sLog * 2 ** -(lLog - c)) + p.m);
  return f32(f32(f32((c - lLog) * p.sUni) + p.sLog) + p.m);
}

/**
 * The HLUQ code of one value.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/util_quant.py#fake_hybrid_quantize_per_tensor_affine
 * @equation x' = x − m;  x' ≤ s_log: e = ⌊−log2(max(x', 10⁻²⁰)/s_log)⌉, c = 0 if e ≥ L_log else L_log − clamp(e, 0, L_log−1) (e = 0 ↦ L_log);
 *           x' > s_log: c = L_log + clamp(⌊(x' − s_log)/s_uni⌉, 0, L_uni − 1)
 * @deviation ⌊·⌉ is round-half-to-even; x' = s_log exactly is in the log region (e = 0); log levels below the
 *            reference's 1e-20 floor (only reachable when L_log = 64, i.e. b ≥ 7) cannot be produced. Default is the
 *            intended semantics; `referenceCompat: true` reproduces the reference's underflow mask, which
 *            sends uniform-region values with x' ≥ L_log to code L_log (x̂ = m + s_log).
 * @precision exact codes (float32 ops emulated; log2 rounded to float32)
 */
export function quantizeHluq(x: number, p: HluqParams, opts: CompatOptions = {}): HluqCode {
  const { lLog, lUni } = hluqLevelSplit(p, 'quantizeHluq');
  specRequire(Number.isFinite(x), { fn: 'quantizeHluq', what: 'x', rule: 'be finite', got: x });
  return hluqCodeKernel(x, p, lLog, lUni, opts.referenceCompat ?? false);
}

/**
 * The real value of an HLUQ code.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @equation x̂ = m (c = 0);  s_log·2^(c − L_log) + m (0 < c < L_log);  (c − L_log)·s_uni + s_log + m (c ≥ L_log)
 * @deviation none; note that with m ≠ 0 the float32 sum s_log·2^(−e) + m can round onto m for deep log
 *            levels (e.g. b = 6, g = 1/2), so two codes may share a value (as in the reference)
 * @precision float32 ops in the reference's order; bit-exact
 */
export function dequantizeHluq(c: HluqCode, p: HluqParams): number {
  const { L, lLog } = hluqLevelSplit(p, 'dequantizeHluq');
  specRequire(Number.isInteger(c) && c >= 0 && c < L, { fn: 'dequantizeHluq', what: 'c', rule: `be an integer in [0, ${L - 1}]`, got: c });
  return hluqValueKernel(c, p, lLog);
}

/**
 * HLUQ fake quantization of one value: dequantizeHluq(quantizeHluq(x)).
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/util_quant.py#fake_hybrid_quantize_per_tensor_affine
 * @equation x̂ = dequantizeHluq(quantizeHluq(x))
 * @deviation as quantizeHluq
 * @precision bit-exact against the reference
 */
export function fakeQuantHluq(x: number, p: HluqParams, opts: CompatOptions = {}): number {
  const { lLog, lUni } = hluqLevelSplit(p, 'fakeQuantHluq');
  specRequire(Number.isFinite(x), { fn: 'fakeQuantHluq', what: 'x', rule: 'be finite', got: x });
  return hluqValueKernel(hluqCodeKernel(x, p, lLog, lUni, opts.referenceCompat ?? false), p, lLog);
}

/**
 * HLUQ codes of a tensor (Int32Array-backed).
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @equation cᵢ = quantizeHluq(xᵢ)
 * @deviation as quantizeHluq
 * @precision exact
 */
export function quantizeHluqTensor(x: Tensor, p: HluqParams, opts: CompatOptions = {}): Tensor<'int32'> {
  const fn = 'quantizeHluqTensor';
  const { lLog, lUni } = hluqLevelSplit(p, fn);
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  const q = new Int32Array(x.data.length);
  for (let i = 0; i < q.length; i++) q[i] = hluqCodeKernel(x.data[i]!, p, lLog, lUni, opts.referenceCompat ?? false);
  return tensor(x.shape, q, 'int32');
}

/**
 * Values of an HLUQ code tensor.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @equation x̂ᵢ = dequantizeHluq(cᵢ)
 * @deviation none
 * @precision bit-exact
 */
export function dequantizeHluqTensor(c: Tensor<'int32'>, p: HluqParams): Tensor {
  const { L, lLog } = hluqLevelSplit(p, 'dequantizeHluqTensor');
  const y = new Float32Array(c.data.length);
  for (let i = 0; i < y.length; i++) {
    const ci = c.data[i]!;
    specRequire(ci >= 0 && ci < L, { fn: 'dequantizeHluqTensor', what: `c[${i}]`, rule: `be in [0, ${L - 1}]`, got: ci });
    y[i] = hluqValueKernel(ci, p, lLog);
  }
  return tensor(c.shape, y);
}

/**
 * HLUQ fake quantization of a tensor (the reference's `HybridQuantize` forward).
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/util_quant.py#fake_hybrid_quantize_per_tensor_affine
 * @equation x̂ᵢ = fakeQuantHluq(xᵢ)
 * @deviation as quantizeHluq
 * @precision bit-exact against the reference
 */
export function fakeQuantHluqTensor(x: Tensor, p: HluqParams, opts: CompatOptions = {}): Tensor {
  const fn = 'fakeQuantHluqTensor';
  const { lLog, lUni } = hluqLevelSplit(p, fn);
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  const compat = opts.referenceCompat ?? false;
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = hluqValueKernel(hluqCodeKernel(x.data[i]!, p, lLog, lUni, compat), p, lLog);
  return tensor(x.shape, y);
}

/**
 * All 2^b representable values, indexed by code.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @equation {0} ∪ {s_log·2^(−e) : e = 1..L_log−1} ∪ {s_log + u·s_uni : u = 0..L_uni−1}, each + m
 * @deviation none
 * @precision bit-exact
 */
export function hluqLevels(p: HluqParams): Float32Array {
  const { L, lLog } = hluqLevelSplit(p, 'hluqLevels');
  const v = new Float32Array(L);
  for (let c = 0; c < L; c++) v[c] = hluqValueKernel(c, p, lLog);
  return v;
}
