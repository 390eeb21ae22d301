import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { thresholdsFromMonotone, encodeByThresholds, float32Key, float32FromKey } from '../../src/int/threshold-encoder';

/** A float32-faithful uniform quantizer code written directly from its definition (test oracle). */
function uniformCode(x: number, s: number, z: number, qmax: number): number {
  const v = Math.fround(Math.fround(x) / s);
  const f = Math.floor(v);
  const r = v - f < 0.5 ? f : v - f > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return Math.min(qmax, Math.max(0, r + z));
}

describe('threshold encoder — exact encoding of monotone quantizers', () => {
  describe('edge cases', () => {
    it('float32 keys are order-preserving and invertible', () => {
      const xs = [-3.5, -1e-30, -0, 0, 1e-45, 1e-30, 0.1, 1, 3e38].map(Math.fround);
      for (let i = 1; i < xs.length; i++) expect(float32Key(xs[i]!)).toBeGreaterThanOrEqual(float32Key(xs[i - 1]!));
      for (const x of xs) expect(float32FromKey(float32Key(x))).toBe(x === 0 ? 0 : x);
    });
    it('a code never reached saturates (threshold beyond hi)', () => {
      const th = thresholdsFromMonotone((x) => (x >= 0.5 ? 1 : 0), 4, 0, 1);
      expect(encodeByThresholds(1, th)).toBe(1);
      expect(encodeByThresholds(0.49, th)).toBe(0);
    });
  });
  describe('oracle', () => {
    it('threshold encoding equals the uniform quantizer on every float32 input in range (ties included)', () => {
      fc.assert(
        fc.property(
          fc.double({ min: 0.01, max: 2, noNaN: true }).map(Math.fround),
          fc.integer({ min: 0, max: 15 }),
          fc.array(fc.double({ min: -40, max: 40, noNaN: true }), { minLength: 1, maxLength: 50 }),
          (s, z, xs) => {
            const code = (x: number) => uniformCode(x, s, z, 15);
            const th = thresholdsFromMonotone(code, 16, -64, 64);
            for (const x of xs) {
              const xf = Math.fround(x);
              expect(encodeByThresholds(xf, th)).toBe(code(xf));
              // exact ties k·s ± ½s
              const t = Math.fround((Math.round(x) + 0.5) * s);
              expect(encodeByThresholds(t, th)).toBe(code(t));
            }
          },
        ),
      );
    });
  });
  describe('laws', () => {
    it('thresholds are non-decreasing and each is the first float32 reaching its code', () => {
      fc.assert(
        fc.property(fc.double({ min: 0.05, max: 1, noNaN: true }).map(Math.fround), (s) => {
          const code = (x: number) => uniformCode(x, s, 3, 15);
          const th = thresholdsFromMonotone(code, 16, -10, 10);
          for (let k = 1; k < th.length; k++) expect(th[k]!).toBeGreaterThanOrEqual(th[k - 1]!);
          for (let k = 0; k < th.length; k++) {
            const t = th[k]!;
            if (t > 10) continue;
            expect(code(t)).toBeGreaterThanOrEqual(k + 1);
            expect(code(float32FromKey(float32Key(t) - 1))).toBeLessThan(k + 1);
          }
        }),
      );
    });
  });
});
