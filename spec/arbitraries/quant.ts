/**
 * fast-check arbitraries for quantizer tests (STYLE.md §7.3).
 *
 * Distributions and why:
 * - `bitsArb`: 2..8, the range the paper and the vectors use (4–8) plus the 2/3-bit corner cases.
 * - `float32Value`: finite float32 in a bounded range (no NaN/∞: special values are tested in the
 *   `edge cases` blocks).
 * - `postGeluLike(n)`: the activation shape HLUQ targets — most mass in a narrow band just below 0
 *   (GELU's minimum is ≈ −0.17) and a sparse positive tail up to a few units (METHOD.md §3.2 quotes
 *   > 90 % in [−0.2, 0] with a tail to ≈ 0.8 for one SAM-B layer [T/P]; the tail length here varies
 *   from 0.5 to 12 so the HLUQ underflow quirk, which needs x − m ≥ L_log, is exercised too).
 * - `softmaxRows(rows, cols)`: attention probabilities for LNQ/AGQ — softmax of logits with a random
 *   temperature, so rows range from nearly uniform to nearly one-hot, and some entries underflow to 0.
 * - `uniformParamsArb`: a (scale, zero point, bits) triple whose scale spans 1e-3..1.
 * All sizes are bounded so each property runs in milliseconds.
 */
import fc from 'fast-check';
import { tensor, type Tensor } from '../../src/tensor';

// MAIN

export const bitsArb = fc.integer({ min: 2, max: 8 });

/** A finite float32 in [−max, max]. */
export function float32Value(max = 8): fc.Arbitrary<number> {
  return fc.float({ min: Math.fround(-max), max: Math.fround(max), noNaN: true, noDefaultInfinity: true }).map((v) => Math.fround(v) + 0);
}

/** Post-GELU-like activations: dense band in [−0.17, 0.05], sparse tail up to `tail`. */
export function postGeluLike(n: number): fc.Arbitrary<Tensor> {
  return fc
    .record({
      dense: fc.array(fc.float({ min: Math.fround(-0.17), max: Math.fround(0.05), noNaN: true }), { minLength: n, maxLength: n }),
      tailMask: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }),
      tailU: fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
      tail: fc.float({ min: Math.fround(0.5), max: 12, noNaN: true }),
    })
    .map(({ dense, tailMask, tailU, tail }) => tensor([n], Float32Array.from(dense, (d, i) => (tailMask[i] === 0 ? tailU[i]! * tail : d))));
}

/** Softmax rows `[rows, cols]` with a random temperature (some entries exactly 0). */
export function softmaxRows(rows: number, cols: number): fc.Arbitrary<Tensor> {
  return fc
    .record({
      logits: fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: rows * cols, maxLength: rows * cols }),
      temp: fc.constantFrom(0.5, 2, 8, 40, 200),
    })
    .map(({ logits, temp }) => {
      const p = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        let mx = -Infinity;
        for (let c = 0; c < cols; c++) mx = Math.max(mx, logits[r * cols + c]! * temp);
        let z = 0;
        for (let c = 0; c < cols; c++) z += Math.exp(logits[r * cols + c]! * temp - mx);
        for (let c = 0; c < cols; c++) p[r * cols + c] = Math.exp(logits[r * cols + c]! * temp - mx) / z;
      }
      return tensor([rows, cols], p);
    });
}

/** Affine quantizer parameters: bits, float32 scale in [1e-3, 1], zero point in range. */
export const uniformParamsArb = bitsArb.chain((bits) =>
  fc.record({
    bits: fc.constant(bits),
    scale: fc.float({ min: Math.fround(1e-3), max: 1, noNaN: true }).map(Math.fround),
    zeroPoint: fc.integer({ min: 0, max: 2 ** bits - 1 }),
  }),
);
