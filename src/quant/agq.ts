/**
 * AGQ — Adaptive Granularity Quantization of softmax outputs (PTQ4SAM baseline, METHOD.md §4.2):
 * levels s·2^(−e/τ) with a per-layer granularity τ ∈ {1, 2, 4}.
 *
 * Legend: `p` probability, `s` scale (largest level), `τ` granularity, `L = 2^b`, `e` exponent code.
 *
 * Code: `quantizeAgq` returns e ∈ [0, L]: e ∈ [0, L − 1] is the level s·2^(−e/τ) and e = L means
 * "underflow to zero". (The reference therefore has L + 1 distinct values; that is its behaviour.)
 *
 * Float32 emulation: `−log2(p/s)·τ` with every step rounded to float32; `2^(−e/τ)` evaluated in double and
 * rounded to float32.
 */
import { type Tensor, specRequire, requireFinite, roundHalfEven, clamp, f32, numel, tensor } from '../tensor';
import { requireBits } from './qparams';

// TYPES

/** AGQ parameters. */
export interface AgqParams {
  readonly bits: number;
  /** Scale s > 0 (float32 value). */
  readonly s: number;
  /** Granularity τ (1, 2 or 4 in PTQ4SAM; any positive integer accepted). */
  readonly tau: number;
}

// CONSTANTS

const AGQ_FLOOR = f32(1e-20);

// MAIN

function agqLevelsCount(p: AgqParams, fn: string): number {
  requireBits(fn, p.bits);
  specRequire(Number.isFinite(p.s) && p.s > 0, { fn, what: 'p.s', rule: 'be finite and > 0', got: p.s, ref: 'AHCQ-SAM:v4 §AGQ' });
  specRequire(Number.isInteger(p.tau) && p.tau >= 1, { fn, what: 'p.tau', rule: 'be a positive integer', got: p.tau, ref: 'AHCQ-SAM:v4 §AGQ' });
  return 2 ** p.bits;
}

/**
 * Unchecked kernel: exponent code of one value.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function agqCodeKernel(x: number, s: number, tau: number, L: number): number {
  const xc = Math.max(x, AGQ_FLOOR);
  const e = roundHalfEven(f32(-f32(Math.log2(f32(xc / s))) * tau));
  return e >= L ? L : clamp(e, 0, L - 1) + 0;
}

/**
 * Unchecked kernel: value of one exponent code.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function agqValueKernel(e: number, s: number, tau: number, L: number): number {
  if (e >= L) return 0;
  return f32(s * f32(2 ** f32(-e / tau)));
}

/**
 * The AGQ exponent code of one probability (L = underflow).
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @source PTQ4SAM-code ptq4sam/quantization/util_quant.py#fake_logquantize_per_tensor_affine
 * @equation e = ⌊−τ·log2(max(p, 10⁻²⁰)/s)⌉;  code = L if e ≥ L else clamp(e, 0, L − 1)
 * @deviation none; ⌊·⌉ is round-half-to-even
 * @precision exact codes (float32 ops emulated)
 */
export function quantizeAgq(x: number, p: AgqParams): number {
  const L = agqLevelsCount(p, 'quantizeAgq');
  specRequire(Number.isFinite(x), { fn: 'quantizeAgq', what: 'x', rule: 'be finite', got: x });
  return agqCodeKernel(x, f32(p.s), p.tau, L);
}

/**
 * The value of an AGQ exponent code.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @equation p̂ = s·2^(−e/τ) for e < L;  0 for e = L
 * @deviation none
 * @precision float32 ops emulated; bit-exact on the reference vectors
 */
export function dequantizeAgq(e: number, p: AgqParams): number {
  const L = agqLevelsCount(p, 'dequantizeAgq');
  specRequire(Number.isInteger(e) && e >= 0 && e <= L, { fn: 'dequantizeAgq', what: 'e', rule: `be an integer in [0, ${L}]`, got: e });
  return agqValueKernel(e, f32(p.s), p.tau, L);
}

/**
 * AGQ fake quantization of one value.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @source PTQ4SAM-code ptq4sam/quantization/util_quant.py#fake_logquantize_per_tensor_affine
 * @equation p̂ = dequantizeAgq(quantizeAgq(p))
 * @deviation none
 * @precision bit-exact on the reference vectors
 */
export function fakeQuantAgq(x: number, p: AgqParams): number {
  const L = agqLevelsCount(p, 'fakeQuantAgq');
  specRequire(Number.isFinite(x), { fn: 'fakeQuantAgq', what: 'x', rule: 'be finite', got: x });
  const s = f32(p.s);
  return agqValueKernel(agqCodeKernel(x, s, p.tau, L), s, p.tau, L);
}

/**
 * AGQ fake quantization of a tensor.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @source PTQ4SAM-code ptq4sam/quantization/fake_quant.py#AdaptiveGranularityQuantize.quantize
 * @equation p̂ᵢ = fakeQuantAgq(pᵢ)
 * @deviation none
 * @precision bit-exact on the reference vectors
 */
export function fakeQuantAgqTensor(x: Tensor, p: AgqParams): Tensor {
  const fn = 'fakeQuantAgqTensor';
  const L = agqLevelsCount(p, fn);
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  const s = f32(p.s);
  const table = new Float32Array(L + 1);
  for (let e = 0; e <= L; e++) table[e] = agqValueKernel(e, s, p.tau, L);
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = table[agqCodeKernel(x.data[i]!, s, p.tau, L)]!;
  return tensor(x.shape, y);
}

/**
 * AGQ exponent codes of a tensor (Int32Array-backed; L = underflow).
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @equation eᵢ = quantizeAgq(pᵢ)
 * @deviation none
 * @precision exact
 */
export function quantizeAgqTensor(x: Tensor, p: AgqParams): Tensor<'int32'> {
  const fn = 'quantizeAgqTensor';
  const L = agqLevelsCount(p, fn);
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  const s = f32(p.s);
  const q = new Int32Array(x.data.length);
  for (let i = 0; i < q.length; i++) q[i] = agqCodeKernel(x.data[i]!, s, p.tau, L);
  return tensor(x.shape, q, 'int32');
}
