import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { expF32, softmaxRowF32, layerNormRowF32, geluF32 } from '../../src/int/vector-f32';
import erf from '@stdlib/math-base-special-erf';

const ulp32 = (x: number) => {
  const a = Math.abs(Math.fround(x));
  if (a === 0) return 2 ** -149;
  const e = Math.floor(Math.log2(a));
  return 2 ** Math.max(e - 23, -149);
};

describe('float32 vector unit — + − × ÷ √ only', () => {
  describe('edge cases', () => {
    it('exp saturates outside the float32 range and is exact at 0', () => {
      expect(expF32(0)).toBe(1);
      expect(expF32(-100)).toBe(0);
      expect(expF32(100)).toBe(Infinity);
    });
    it('softmax of one element is 1; of equal logits is uniform', () => {
      expect(softmaxRowF32(Float32Array.of(3))[0]).toBe(1);
      const p = softmaxRowF32(new Float32Array(4).fill(-7));
      for (const v of p) expect(v).toBe(0.25);
    });
    it('softmax survives huge logits (max-subtracted)', () => {
      const p = softmaxRowF32(Float32Array.of(1e30, 1e30, -1e30));
      expect(p[0]).toBe(0.5);
      expect(p[2]).toBe(0);
    });
    it('GELU(0) = 0 and GELU(x) → x for large x', () => {
      expect(geluF32(0)).toBe(0);
      expect(geluF32(20)).toBe(20);
      expect(geluF32(-20)).toBe(-0);
    });
  });
  describe('oracle', () => {
    // Error bounds are measured properties of these restricted-op algorithms; see docs/integer-datapath.md.
    it('expF32 is within 2 ulp of Math.exp on [−87, 88]', () => {
      fc.assert(
        fc.property(fc.double({ min: -87, max: 88, noNaN: true }), (x) => {
          const xf = Math.fround(x);
          const ref = Math.exp(xf);
          return Math.abs(expF32(xf) - ref) <= 2 * ulp32(ref);
        }),
      );
    });
    it('geluF32 (tanh form) is within 1e-3 absolute of the exact-erf GELU on [−8, 8]', () => {
      fc.assert(
        fc.property(fc.double({ min: -8, max: 8, noNaN: true }), (x) => {
          const xf = Math.fround(x);
          const ref = 0.5 * xf * (1 + erf(xf / Math.SQRT2));
          return Math.abs(geluF32(xf) - ref) <= 1e-3;
        }),
      );
    });
    it('layerNormRowF32 is within 1e-5 (relative to |y|+1) of a float64 LayerNorm', () => {
      fc.assert(
        fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 64 }), (xs) => {
          const x = Float32Array.from(xs);
          const n = x.length;
          const g = new Float32Array(n).fill(1.5), b = new Float32Array(n).fill(-0.25);
          const y = layerNormRowF32(x, g, b, 1e-6);
          let m = 0; for (const v of x) m += v; m /= n;
          let v2 = 0; for (const v of x) v2 += (v - m) ** 2; v2 /= n;
          for (let i = 0; i < n; i++) {
            const ref = ((x[i]! - m) / Math.sqrt(v2 + 1e-6)) * 1.5 - 0.25;
            expect(Math.abs(y[i]! - ref)).toBeLessThanOrEqual(1e-5 * (Math.abs(ref) + 1));
          }
        }),
      );
    });
  });
  describe('laws', () => {
    it('softmax rows sum to 1 within n·2^-24 and are shift-invariant for exact shifts', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 100 }), fc.integer({ min: -20, max: 20 }), (xs, c) => {
          const x = Float32Array.from(xs);
          const p = softmaxRowF32(x);
          let s = 0; for (const v of p) s += v;
          expect(Math.abs(s - 1)).toBeLessThanOrEqual(p.length * 2 ** -23);
          const q = softmaxRowF32(Float32Array.from(xs, (v) => v + c));
          expect(Array.from(q)).toEqual(Array.from(p));
        }),
      );
    });
    it('every result is a float32 value (bit-exact reproducibility in C++ needs it)', () => {
      fc.assert(fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (x) => Math.fround(geluF32(x)) === geluF32(x) && Math.fround(expF32(x)) === expF32(x)));
    });
  });
});
