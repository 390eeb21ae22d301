import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { quantizeMultiplier, applyScale, fixedScaleValue, MULT_BITS } from '../../src/int/fixed-point';
import { SpecError } from '../../src/tensor';

/** BigInt oracle of TOSA apply_scale: floor((acc·m + 2^(sh−1)) / 2^sh). */
function applyScaleBig(acc: number, mult: number, shift: number): number {
  const v = BigInt(acc) * BigInt(mult) + (1n << BigInt(shift - 1));
  // BigInt >> is an arithmetic (floor) shift for negatives.
  return Number(v >> BigInt(shift));
}

describe('fixed-point requantisation — TOSA:RESCALE', () => {
  describe('edge cases', () => {
    it('rounds half up: −1.5 → −1, 1.5 → 2, −2.5 → −2, 2.5 → 3', () => {
      const half = { mult: 2 ** 15, shift: 16 }; // exactly 0.5
      expect(applyScale(-3, half)).toBe(-1);
      expect(applyScale(3, half)).toBe(2);
      expect(applyScale(-5, half)).toBe(-2);
      expect(applyScale(5, half)).toBe(3);
    });
    it('represents powers of two exactly', () => {
      for (const e of [-20, -3, 0, 5]) {
        const s = quantizeMultiplier(2 ** e);
        expect(fixedScaleValue(s)).toBe(2 ** e);
        expect(s.mult).toBe(2 ** (MULT_BITS - 1));
      }
    });
    it('rejects non-positive, non-finite scales and oversized accumulators', () => {
      expect(() => quantizeMultiplier(0)).toThrow(SpecError);
      expect(() => quantizeMultiplier(NaN)).toThrow(/realScale must be a finite positive number/);
      expect(() => applyScale(2 ** 40, { mult: 40000, shift: 20 })).toThrow(/acc must be an integer/);
      expect(() => applyScale(1.5, { mult: 40000, shift: 20 })).toThrow(SpecError);
    });
  });
  describe('oracle', () => {
    it('applyScale equals the BigInt definition for every accumulator and scale', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: -(2 ** 36), max: 2 ** 36 }),
          fc.integer({ min: 2 ** 15, max: 2 ** 16 - 1 }),
          fc.integer({ min: 1, max: 62 }),
          (acc, mult, shift) => applyScale(acc, { mult, shift }) === applyScaleBig(acc, mult, shift),
        ),
      );
    });
  });
  describe('laws', () => {
    it('the multiplier is normalised and its relative error is ≤ 2^-16', () => {
      fc.assert(
        fc.property(fc.double({ min: 1e-12, max: 1e4, noNaN: true }), (r) => {
          const s = quantizeMultiplier(r);
          expect(s.mult).toBeGreaterThanOrEqual(2 ** 15);
          expect(s.mult).toBeLessThan(2 ** 16);
          expect(Math.abs(fixedScaleValue(s) - r) / r).toBeLessThanOrEqual(2 ** -16);
        }),
      );
    });
    it('applyScale is within ½ + |acc|·|r̃ − r| of the real product', () => {
      fc.assert(
        fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.double({ min: 1e-6, max: 10, noNaN: true }), (acc, r) => {
          const s = quantizeMultiplier(r);
          const err = Math.abs(applyScale(acc, s) - acc * fixedScaleValue(s));
          return err <= 0.5;
        }),
      );
    });
  });
});
