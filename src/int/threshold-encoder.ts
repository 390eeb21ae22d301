/**
 * Threshold-table encoders: any monotone scalar quantizer on float32 inputs is specified exactly by
 * its thresholds θ_1 ≤ … ≤ θ_{L−1} (float32) and the rule  code(p) = #{k : p ≥ θ_k}.
 * The table is derived offline by bisection over the ordered float32 bit patterns, using the
 * fake-quant code function itself, so the encoder agrees with it on EVERY float32 input by
 * construction (no log/exp at run time, no tie ambiguity). HARDWARE.md §1.3 "observations".
 *
 * @hardware hw-model encoder unit (comparator tree); fpga/hls encoders
 */
import { specRequire } from '../tensor';

// MAIN

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** Order-preserving integer key of a float32: key(a) < key(b) ⇔ a < b (−0 and +0 map together). */
export function float32Key(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0]!;
  return u & 0x80000000 ? -(u & 0x7fffffff) : u; // −0 → 0, +0 → 0
}

/** Inverse of `float32Key`. */
export function float32FromKey(k: number): number {
  u32buf[0] = k < 0 ? (0x80000000 | -k) >>> 0 : k;
  return f32buf[0]!;
}

/**
 * Thresholds of a monotone non-decreasing code function on [lo, hi] (float32 bounds).
 * θ_k = the smallest float32 x in [lo, hi] with code(x) ≥ k, for k = 1..levels−1 (or the float32
 * after hi when the code is never reached, which makes the encoder saturate like `code`).
 * @equation θ_k = min{ x ∈ F32 ∩ [lo, hi] : code(x) ≥ k }
 * @deviation none
 * @precision exact (bisection on integers)
 */
export function thresholdsFromMonotone(code: (x: number) => number, levels: number, lo: number, hi: number): Float32Array {
  const fn = 'thresholdsFromMonotone';
  specRequire(Number.isInteger(levels) && levels >= 2, { fn, what: 'levels', rule: 'be an integer ≥ 2', got: levels });
  specRequire(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi, { fn, what: '[lo, hi]', rule: 'be a finite interval', got: [lo, hi] });
  const kLo = float32Key(Math.fround(lo));
  const kHi = float32Key(Math.fround(hi));
  const out = new Float32Array(levels - 1);
  for (let k = 1; k < levels; k++) {
    if (code(float32FromKey(kHi)) < k) {
      out[k - 1] = float32FromKey(kHi + 1);
      continue;
    }
    // Invariant: code(a) < k ≤ code(b) unless a is already at lo.
    let a = kLo, b = kHi;
    if (code(float32FromKey(a)) >= k) {
      out[k - 1] = float32FromKey(a);
      continue;
    }
    while (b - a > 1) {
      const mid = a + Math.floor((b - a) / 2);
      if (code(float32FromKey(mid)) >= k) b = mid;
      else a = mid;
    }
    out[k - 1] = float32FromKey(b);
  }
  return out;
}

/**
 * Encode a float32 value with a threshold table: the number of thresholds ≤ p (binary search).
 * @equation code(p) = #{k : p ≥ θ_k}
 * @precision exact
 */
export function encodeByThresholds(p: number, thresholds: Float32Array): number {
  let lo = 0, hi = thresholds.length; // answer in [0, L−1]
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (p >= thresholds[mid]!) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
