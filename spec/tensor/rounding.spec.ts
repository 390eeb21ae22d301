import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { roundHalfEven } from '../../src/tensor';

describe('roundHalfEven — IEEE-754 roundTiesToEven (torch.round)', () => {
  describe('edge cases', () => {
    it.each([
      [0.5, 0], [1.5, 2], [2.5, 2], [-0.5, -0], [-1.5, -2], [-2.5, -2], [3.5, 4],
      [0.49999999999999994, 0], [4503599627370495.5, 4503599627370496], [1e300, 1e300], [-7, -7],
    ])('roundHalfEven(%d) = %d', (x, y) => {
      expect(Object.is(roundHalfEven(x), y) || roundHalfEven(x) === y).toBe(true);
    });
    it('keeps NaN and infinities', () => {
      expect(roundHalfEven(NaN)).toBeNaN();
      expect(roundHalfEven(Infinity)).toBe(Infinity);
      expect(roundHalfEven(-Infinity)).toBe(-Infinity);
    });
    it('differs from Math.round on negative ties', () => {
      expect(Math.round(-2.5)).toBe(-2);
      expect(roundHalfEven(-2.5)).toBe(-2);
      expect(Math.round(2.5)).toBe(3);
      expect(roundHalfEven(2.5)).toBe(2);
    });
  });
  describe('laws', () => {
    it('result is an integer within 1/2 of x, and ties go to the even neighbour', () => {
      fc.assert(
        fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (x) => {
          const r = roundHalfEven(x);
          expect(Number.isInteger(r)).toBe(true);
          expect(Math.abs(r - x)).toBeLessThanOrEqual(0.5);
          if (Math.abs(r - x) === 0.5) expect(r % 2 === 0).toBe(true);
        }),
      );
    });
    it('is odd-symmetric: round(−x) = −round(x)', () => {
      fc.assert(fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (x) => roundHalfEven(-x) === -roundHalfEven(x)));
    });
    it('integer + ½ ties: k + ½ → even of {k, k+1}', () => {
      fc.assert(
        fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (k) => {
          const r = roundHalfEven(k + 0.5);
          return r === (k % 2 === 0 ? k : k + 1);
        }),
      );
    });
  });
});
