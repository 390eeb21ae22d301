/**
 * The vector unit of the integer datapath: LayerNorm, softmax and GELU in float32 restricted to
 * IEEE-754 + − × ÷ √ (each correctly rounded), so that TypeScript (Math.fround after every
 * operation) and C++ (`float`, compiled with -ffp-contract=off so no FMA is fused) agree bit for
 * bit. No exp/log/erf from a math library: exp is range reduction + a fixed polynomial; GELU uses
 * the tanh form with tanh built from that exp. Summation order is sequential (index 0 upward).
 *
 * Error against exact float64 math (measured in spec/int/vector-f32.spec.ts): see docs/integer-datapath.md.
 *
 * @hardware hw-model vector unit; fpga/hls vector ops
 */
import { specRequire } from '../tensor';

const F = Math.fround;

// CONSTANTS (float32 values, written as the decimal of the float32)

const LOG2E = F(1.4426950408889634);
const LN2_HI = F(0.693145751953125); // 0x3f317200: few bits so n·LN2_HI is exact for |n| < 2^9
const LN2_LO = F(1.428606765330187e-6);
/** Minimax-style Taylor coefficients of e^r on |r| ≤ ln2/2 (degree 6), float32. */
const EXP_C = [1, 1, 0.5, 1 / 6, 1 / 24, 1 / 120, 1 / 720].map(F);
const SQRT_2_OVER_PI = F(0.7978845608028654);
const GELU_C = F(0.044715);

// MAIN

/**
 * exp(x) in float32 with + − × only: n = ⌊x·log2e + ½⌋, r = (x − n·ln2_hi) − n·ln2_lo, e^r by a
 * degree-6 polynomial (Horner), result·2^n. Inputs below −87 give 0; above 88 give +∞.
 * @equation eˣ = 2ⁿ · P₆(r),  |r| ≤ ln2/2
 * @precision ≤ 2 ulp vs correctly rounded exp on [−87, 88] (measured)
 */
export function expF32(x: number): number {
  x = F(x);
  if (x < -87) return 0;
  if (x > 88) return Infinity;
  const n = Math.floor(F(F(x * LOG2E) + 0.5));
  const r = F(F(x - F(n * LN2_HI)) - F(n * LN2_LO));
  let p = EXP_C[6]!;
  for (let i = 5; i >= 0; i--) p = F(F(p * r) + EXP_C[i]!);
  // 2^n is exact in float32 for n ∈ [−126, 127]; split to stay normal.
  if (n < -126) return F(F(p * 2 ** -126) * 2 ** (n + 126));
  return F(p * 2 ** n);
}

/**
 * Row softmax in float32: max-subtracted, exp by `expF32`, sequential sum, one division per element.
 * @equation p_j = e^(x_j − max x) / Σ_i e^(x_i − max x)
 * @precision float32 restricted ops; sum order 0..n−1
 */
export function softmaxRowF32(x: Float32Array, out: Float32Array = new Float32Array(x.length)): Float32Array {
  specRequire(x.length > 0, { fn: 'softmaxRowF32', what: 'x.length', rule: 'be ≥ 1', got: x.length });
  let mx = x[0]!;
  for (let i = 1; i < x.length; i++) if (x[i]! > mx) mx = x[i]!;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const e = expF32(F(x[i]! - mx));
    out[i] = e;
    sum = F(sum + e);
  }
  for (let i = 0; i < x.length; i++) out[i] = F(out[i]! / sum);
  return out;
}

/**
 * LayerNorm of one row in float32: sequential mean, biased variance of the centred values, √, ÷.
 * @equation y = (x − μ) / √(σ² + ε) · γ + β
 * @precision float32 restricted ops
 */
export function layerNormRowF32(x: Float32Array, gamma: Float32Array, beta: Float32Array, epsilon: number, out: Float32Array = new Float32Array(x.length)): Float32Array {
  const n = x.length;
  specRequire(n > 0 && gamma.length === n && beta.length === n, { fn: 'layerNormRowF32', what: 'gamma/beta length', rule: `equal x.length = ${n} (≥ 1)`, got: [gamma.length, beta.length] });
  let s = 0;
  for (let i = 0; i < n; i++) s = F(s + x[i]!);
  const mean = F(s / n);
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = F(x[i]! - mean);
    v = F(v + F(d * d));
  }
  const varr = F(v / n);
  const denom = F(Math.sqrt(F(varr + F(epsilon))));
  for (let i = 0; i < n; i++) out[i] = F(F(F(F(x[i]! - mean) / denom) * gamma[i]!) + beta[i]!);
  return out;
}

/**
 * GELU (tanh form) in float32: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), tanh z = 1 − 2/(e^(2z) + 1).
 * @source ONNX:Gelu-20 approximate="tanh"
 * @deviation tanh approximation of the exact-erf GELU used by SAM; error ≤ 1e-3 absolute (measured; docs/integer-datapath.md)
 * @precision float32 restricted ops
 */
export function geluF32(x: number): number {
  x = F(x);
  const inner = F(SQRT_2_OVER_PI * F(x + F(GELU_C * F(F(x * x) * x))));
  const e = expF32(F(2 * inner));
  const t = e === Infinity ? 1 : F(1 - F(2 / F(e + 1)));
  return F(F(F(0.5 * x)) * F(1 + t));
}
