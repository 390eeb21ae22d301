/**
 * Per-output-channel weight quantization of the PTQ pipeline: ranges (min-max for RTN, a pruned
 * version of the MSE grid of METHOD.md §2.5 otherwise), integer codes and their dequantized values.
 *
 * Legend: C output channels (axis 0), n = weights per channel, L = qmax − qmin, R = channel range
 * (with 0 included), M = R·i/num candidate range, Δ = M/L, zp candidate zero point.
 */
import { f32, numel, specRequire, requireFinite, type Tensor } from '../tensor';
import { calcQParams, calcQParamsKernel, qRange, quantizeKernel } from '../quant/uniform';

// TYPES

/** A quantized weight: codes plus per-channel parameters (asymmetric, axis 0). */
export interface QuantizedWeight {
  readonly shape: readonly number[];
  readonly bits: number;
  /** Codes in [0, 2^b − 1], row-major like the float weight. */
  readonly codes: Uint8Array;
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
}

export type WeightRangeMode = 'minmax' | 'mse';

// HELPERS

/** Round half to even (same values as roundHalfEven, inlined for the scoring loop). */
function rhe(v: number): number {
  const r = Math.floor(v);
  const d = v - r;
  return d > 0.5 ? r + 1 : d < 0.5 ? r : r + (r % 2 === 0 ? 0 : 1);
}

/**
 * mean |Q(w) − w|^p over one channel for (s, z) (float32 quantization, float64 accumulation), or, once the
 * running sum already gives a mean ≥ `bound`, that partial mean; a stopped candidate could not have scored
 * below `bound`, so the caller's `score < best` decisions are exactly those of the full sums.
 */
function channelScore(w: ArrayLike<number>, off: number, n: number, s: number, z: number, qmin: number, qmax: number, p: number, bound = Infinity): number {
  let acc = 0;
  for (let k0 = 0; k0 < n; k0 += 64) {
    const k1 = Math.min(n, k0 + 64);
    for (let k = k0; k < k1; k++) {
      const x = w[off + k]!;
      let q = rhe(f32(x / s)) + z;
      q = q < qmin ? qmin : q > qmax ? qmax : q;
      const e = Math.abs(f32((q - z) * s) - x);
      acc += e === 0 ? 0 : Math.exp(p * Math.log(e));
    }
    // stopped early: the partial mean is already ≥ bound (terms are ≥ 0 and float64 sums of them never decrease)
    if (k1 < n && acc / n >= bound) return acc / n;
  }
  return acc / n;
}

// MAIN

/**
 * Per-channel clipping ranges [mn_c, mx_c]: min-max, or the MSE grid of METHOD.md §2.5 with pruned candidates.
 * @paper AHCQ-SAM:v4 §Weights (METHOD.md §2.5 "Range initialisation")
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#MSEObserver.perform_2D_search
 * @equation mse: (mn_c, mx_c) = argmin_{i, zp} mean_c |Q(W_c; −zp·Δ, M − zp·Δ) − W_c|^2.4, M = R_c·i/100, Δ = M/L
 * @deviation candidates pruned for speed (the reference grid is 100·2^b per channel, ≈ 0.8 µs per
 *   element-candidate here): i ∈ {20, 25, …, 100}, then every i within ±2 of the best; zp ∈ z_bal ± 1 with
 *   z_bal = ⌊−min·L/R⌉ (the min-max zero point, i.e. the window shrunk proportionally about it) — 63
 *   candidates per channel at any b. Scores accumulate in float64 without per-term float32 rounding;
 *   a candidate's sum stops once its partial mean reaches the best score so far (same argmin, less work).
 *   Weights one-signed on a whole tensor fall back to min-max.
 * @precision fp64 search; the chosen range goes through calcQParams (float32 emulated)
 */
export function weightRanges(w: Tensor, bits: number, mode: WeightRangeMode, p = 2.4): { min: Float32Array; max: Float32Array } {
  const fn = 'weightRanges';
  specRequire(w.shape.length >= 1 && numel(w.shape) > 0, { fn, what: 'w', rule: 'be non-empty with rank ≥ 1', got: w.shape });
  specRequire(mode === 'minmax' || mode === 'mse', { fn, what: 'mode', rule: 'be minmax or mse', got: mode });
  requireFinite(fn, 'w', w.data);
  const { qmin, qmax } = qRange(bits);
  const L = qmax - qmin;
  const C = w.shape[0]!;
  const n = w.data.length / C;
  const min = new Float32Array(C), max = new Float32Array(C);
  let gMin = Infinity, gMax = -Infinity;
  for (let i = 0; i < w.data.length; i++) {
    gMin = Math.min(gMin, w.data[i]!);
    gMax = Math.max(gMax, w.data[i]!);
  }
  const twoSided = gMin < 0 && gMax > 0;
  const num = 100;
  for (let c = 0; c < C; c++) {
    const off = c * n;
    let xMin = Infinity, xMax = -Infinity;
    for (let k = 0; k < n; k++) {
      xMin = Math.min(xMin, w.data[off + k]!);
      xMax = Math.max(xMax, w.data[off + k]!);
    }
    min[c] = xMin;
    max[c] = xMax;
    if (mode === 'minmax' || !twoSided) continue;
    const mn0 = Math.min(xMin, 0), mx0 = Math.max(xMax, 0);
    const R = f32(mx0 - mn0);
    if (!(R > 0)) continue;
    // the min-max window is always a candidate, so the search is never worse than min-max
    const mm = calcQParamsKernel(xMin, xMax, qmin, qmax, false, false);
    let best = channelScore(w.data, off, n, mm.scale, mm.zeroPoint, qmin, qmax, p), bestMin = xMin, bestMax = xMax;
    const zBal = rhe((-mn0 * L) / R);
    const tryI = (i: number): void => {
      const M = f32(f32(R / num) * i);
      const delta = f32(M / L);
      for (let zp = Math.max(qmin, zBal - 1); zp <= Math.min(qmax, zBal + 1); zp++) {
        const shift = f32(zp * delta);
        const a = f32(0 - shift), b = f32(M - shift);
        const q = calcQParamsKernel(a, b, qmin, qmax, false, false);
        const score = channelScore(w.data, off, n, q.scale, q.zeroPoint, qmin, qmax, p, best);
        if (score < best) {
          best = score;
          bestMin = a;
          bestMax = b;
          bestI = i;
        }
      }
    };
    let bestI = num;
    for (let i = 20; i <= num; i += 5) tryI(i);
    for (let i = Math.max(1, bestI - 2); i <= Math.min(num, bestI + 2); i++) if (i % 5 !== 0) tryI(i);
    min[c] = bestMin;
    max[c] = bestMax;
  }
  return { min, max };
}

/**
 * Quantize a weight per output channel (axis 0) from per-channel ranges.
 * @paper AHCQ-SAM:v4 §Weights (METHOD.md §2.2, §2.5; calibration-only: round to nearest)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/util_quant.py#fake_quantize_per_channel_affine
 * @equation (s_c, z_c) = calc_qparams(mn_c, mx_c);  q = clamp(⌊w/s_c⌉ + z_c, 0, 2^b − 1)
 * @deviation none (round-half-even)
 * @precision float32 scale; exact integer codes
 */
export function quantizeWeight(w: Tensor, bits: number, ranges: { min: ArrayLike<number>; max: ArrayLike<number> }): QuantizedWeight {
  const fn = 'quantizeWeight';
  specRequire(Number.isInteger(bits) && bits >= 2 && bits <= 8, { fn, what: 'bits', rule: 'be an integer in [2, 8] (codes stored as uint8)', got: bits });
  const C = w.shape[0]!;
  specRequire(ranges.min.length === C && ranges.max.length === C, { fn, what: 'ranges', rule: `have ${C} entries`, got: ranges.min.length });
  const { qmin, qmax } = qRange(bits);
  const n = w.data.length / C;
  const scales = new Float32Array(C), zeroPoints = new Int32Array(C);
  const codes = new Uint8Array(w.data.length);
  for (let c = 0; c < C; c++) {
    const q = calcQParams(ranges.min[c]!, ranges.max[c]!, { bits });
    scales[c] = q.scale;
    zeroPoints[c] = q.zeroPoint;
    for (let k = 0; k < n; k++) codes[c * n + k] = quantizeKernel(w.data[c * n + k]!, q.scale, q.zeroPoint, qmin, qmax);
  }
  return { shape: [...w.shape], bits, codes, scales, zeroPoints };
}

/**
 * Dequantized float32 weight of a quantized weight.
 * @paper AHCQ-SAM:v4 §Weights (METHOD.md §2.2)
 * @equation ŵ = f32((q − z_c)·s_c)
 * @deviation none
 * @precision float32 (one rounding per element)
 */
export function dequantizeWeight(q: QuantizedWeight): Tensor<'float32'> {
  const C = q.shape[0]!;
  const n = q.codes.length / C;
  const out = new Float32Array(q.codes.length);
  for (let c = 0; c < C; c++) {
    const s = q.scales[c]!, z = q.zeroPoints[c]!;
    for (let k = 0; k < n; k++) out[c * n + k] = f32((q.codes[c * n + k]! - z) * s);
  }
  return { dtype: 'float32', shape: [...q.shape], data: out };
}
