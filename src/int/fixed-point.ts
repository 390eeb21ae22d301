/**
 * Fixed-point requantisation of the integer datapath: a real scale becomes an integer multiplier
 * and a right shift, applied with round-half-up (TOSA `apply_scale` semantics, no double rounding).
 *
 * Legend: `acc` integer accumulator; `m` multiplier, an integer in [2^(MULT_BITS−1), 2^MULT_BITS);
 * `sh` shift, an integer in [SHIFT_MIN, SHIFT_MAX]; `r = m · 2^(−sh)` the represented real scale.
 *
 * Exactness: every product `acc · m` must stay below 2^53 so that a JS double holds it exactly.
 * With MULT_BITS = 16 and |acc| ≤ ACC_MAX = 2^36 the product is below 2^52; `applyScale` checks it.
 * (The 16-bit multiplier also maps onto one DSP48E2 18-bit port; HARDWARE.md §4.2.)
 *
 * @hardware hw-model per-column requant unit; fpga/hls/include/ahcq_types.hpp `apply_scale`
 */
import { specRequire, roundHalfEven } from '../tensor';

// CONSTANTS

/** Width of the unsigned requant multiplier: m ∈ [2^15, 2^16). */
export const MULT_BITS = 16;
/** Smallest allowed right shift (the rounding offset 2^(sh−1) needs sh ≥ 1). */
export const SHIFT_MIN = 1;
/** Largest allowed right shift. */
export const SHIFT_MAX = 62;
/** Largest accumulator magnitude accepted by `applyScale` (keeps acc·m < 2^52). */
export const ACC_MAX = 2 ** 36;

// TYPES

/** A real scale in fixed point: r ≈ mult · 2^(−shift). */
export interface FixedScale {
  readonly mult: number;
  readonly shift: number;
}

// MAIN

/**
 * Convert a positive real scale to (multiplier, shift), computed once, offline, in float64.
 * @source TOSA:RESCALE (scale computed offline; here with a 16-bit multiplier)
 * @equation r = f·2^e, f ∈ [½, 1);  mult = ⌊f·2^16⌉ (half-even; a carry to 2^16 renormalises);  shift = 16 − e
 * @deviation TOSA uses a 32-bit multiplier; 16 bits keep every product exact in a double (relative scale error ≤ 2^−16)
 * @precision exact (deterministic float64 arithmetic)
 */
export function quantizeMultiplier(realScale: number): FixedScale {
  specRequire(Number.isFinite(realScale) && realScale > 0, {
    fn: 'quantizeMultiplier', what: 'realScale', rule: 'be a finite positive number', got: realScale,
  });
  let e = Math.floor(Math.log2(realScale)) + 1; // realScale = f·2^e with f ∈ [½, 1) (corrected below)
  let f = realScale / 2 ** e;
  if (f >= 1) { f /= 2; e += 1; }
  if (f < 0.5) { f *= 2; e -= 1; }
  let mult = roundHalfEven(f * 2 ** MULT_BITS);
  if (mult === 2 ** MULT_BITS) { mult = 2 ** (MULT_BITS - 1); e += 1; }
  const shift = MULT_BITS - e;
  specRequire(shift >= SHIFT_MIN && shift <= SHIFT_MAX, {
    fn: 'quantizeMultiplier', what: 'realScale', rule: `give a shift in [${SHIFT_MIN}, ${SHIFT_MAX}] (scale within about [2^-46, 2^15])`, got: realScale,
  });
  return { mult, shift };
}

/** The real value represented by a fixed scale (float64). */
export function fixedScaleValue(s: FixedScale): number {
  return s.mult * 2 ** -s.shift;
}

/**
 * Multiply an integer accumulator by a fixed scale and round half up: TOSA `apply_scale` without
 * double rounding.
 * @source TOSA:RESCALE apply_scale_32 (round = 1 << (shift − 1); (value·mult + round) >> shift)
 * @equation applyScale(acc, m, sh) = ⌊(acc·m + 2^(sh−1)) / 2^sh⌋   (arithmetic shift = floor; ties → +∞: −1.5 → −1)
 * @deviation none beyond the 16-bit multiplier (see `quantizeMultiplier`)
 * @precision exact: |acc·m| < 2^52 is required and checked
 */
export function applyScale(acc: number, s: FixedScale): number {
  specRequire(Number.isInteger(acc) && Math.abs(acc) <= ACC_MAX, {
    fn: 'applyScale', what: 'acc', rule: `be an integer with |acc| ≤ 2^36`, got: acc,
  });
  // acc·mult < 2^52 and the offset is a power of two ≤ 2^61, so the sum is exact whenever it is
  // below 2^53; shifts beyond 52 only ever see values that round to 0 or −1 (still exact).
  const prod = acc * s.mult;
  return Math.floor((prod + 2 ** (s.shift - 1)) / 2 ** s.shift);
}

/** Saturate an integer to [lo, hi]. */
export function saturate(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
