import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, tensor } from '../../src/tensor';
import { calcQParams, dequantizeUniform, fakeQuantPerChannel, fakeQuantPerTensor, fakeQuantUniform, qRange, quantizePerChannel, quantizePerTensor, quantizeUniform } from '../../src/quant/uniform';
import { float32Value, uniformParamsArb } from '../arbitraries/quant';
import { naiveFakeQuant } from './oracles';
import { VECTORS_PRESENT, caseNames, expectCasePasses } from '../conformance/helpers';

describe('uniform — AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)', () => {
  describe('edge cases', () => {
    it.each([1, 17, 4.5, NaN, -3])('qRange rejects bits = %s with a SpecError naming bits', (b) => {
      expect(() => qRange(b)).toThrow(SpecError);
      expect(() => qRange(b)).toThrow(/bits must be an integer in \[2, 16\]/);
    });
    it('qRange: asymmetric [0, 2^b−1], symmetric [−2^(b−1), 2^(b−1)−1]', () => {
      expect(qRange(4)).toEqual({ qmin: 0, qmax: 15 });
      expect(qRange(4, true)).toEqual({ qmin: -8, qmax: 7 });
      expect(qRange(16)).toEqual({ qmin: 0, qmax: 65535 });
    });
    it('zero range gives s = float32(1e-8) and z = 0', () => {
      expect(calcQParams(0, 0, { bits: 4 })).toEqual({ scale: Math.fround(1e-8), zeroPoint: 0 });
    });
    it('calcQParams widens to include 0 (min > 0 and max < 0)', () => {
      expect(calcQParams(1, 2, { bits: 4 }).zeroPoint).toBe(0);
      expect(calcQParams(-2, -1, { bits: 4 }).zeroPoint).toBe(15);
    });
    it('calcQParams zero point ties round half to even: mn/s = −2.5 → z = 2', () => {
      // s = (1.5 + 1.25)/15 is not exact; use a range whose quotient is an exact half: mn = −2.5·s
      const { scale, zeroPoint } = calcQParams(-0.625, 3.125, { bits: 4 }); // s = 0.25, mn/s = −2.5
      expect(scale).toBe(0.25);
      expect(zeroPoint).toBe(2);
    });
    it.each([[NaN, 1], [0, Infinity]])('calcQParams rejects non-finite (%s, %s)', (a, b) => {
      expect(() => calcQParams(a, b, { bits: 4 })).toThrow(SpecError);
    });
    it('rejects scale ≤ 0, non-integer zero point, NaN input and empty tensors', () => {
      expect(() => quantizeUniform(1, 0, 0, 0, 15)).toThrow(/scale must be finite and > 0/);
      expect(() => fakeQuantUniform(1, 0.1, 0.5, 0, 15)).toThrow(/zeroPoint must be an integer/);
      expect(() => fakeQuantUniform(NaN, 0.1, 0, 0, 15)).toThrow(/x must be finite/);
      expect(() => fakeQuantPerTensor(tensor([0], new Float32Array(0)), { scale: 1, zeroPoint: 0, qmin: 0, qmax: 15 })).toThrow(/x must be non-empty/);
      expect(() => fakeQuantPerTensor(tensor([2], Float32Array.of(1, Infinity)), { scale: 1, zeroPoint: 0, qmin: 0, qmax: 15 })).toThrow(/x\[1\] must be finite/);
    });
    it('per-channel rejects a wrong axis or a scales length that does not match', () => {
      const x = tensor([2, 3], new Float32Array(6));
      expect(() => fakeQuantPerChannel(x, { scales: [1, 1], zeroPoints: [0, 0], axis: 2, qmin: 0, qmax: 15 })).toThrow(/axis must be/);
      expect(() => fakeQuantPerChannel(x, { scales: [1, 1, 1], zeroPoints: [0, 0, 0], axis: 0, qmin: 0, qmax: 15 })).toThrow(/scales.length must equal/);
    });
    it('ties: x/s = 2.5 → 2, 3.5 → 4, −2.5 → −2 (before + z)', () => {
      expect(quantizeUniform(0.625, 0.25, 3, 0, 15)).toBe(5);
      expect(quantizeUniform(0.875, 0.25, 3, 0, 15)).toBe(7);
      expect(quantizeUniform(-0.625, 0.25, 3, 0, 15)).toBe(1);
      expect(dequantizeUniform(1, 0.25, 3)).toBe(-0.5);
    });
  });

  describe('oracle', () => {
    it('per-tensor codes and values equal the naive loop', () => {
      fc.assert(
        fc.property(uniformParamsArb, fc.array(float32Value(4), { minLength: 1, maxLength: 40 }), ({ bits, scale, zeroPoint }, xs) => {
          const { qmin, qmax } = qRange(bits);
          const x = tensor([xs.length], Float32Array.from(xs));
          const y = fakeQuantPerTensor(x, { scale, zeroPoint, qmin, qmax });
          const q = quantizePerTensor(x, { scale, zeroPoint, qmin, qmax });
          for (let i = 0; i < xs.length; i++) {
            const o = naiveFakeQuant(x.data[i]!, scale, zeroPoint, qmin, qmax);
            expect(q.data[i]).toBe(o.q);
            expect(y.data[i]).toBe(o.y);
          }
        }),
      );
    });
    it('per-channel along a negative axis equals the naive loop per channel', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 1000 }), (a, c, bits, seed) => {
          const { qmin, qmax } = qRange(bits);
          const n = a * c;
          const x = tensor([a, c], Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 1.7) * 3));
          const scales = Float32Array.from({ length: c }, (_, k) => 0.01 + 0.1 * k);
          const zeroPoints = Int32Array.from({ length: c }, (_, k) => (k * 3) % (qmax + 1));
          const y = fakeQuantPerChannel(x, { scales, zeroPoints, axis: -1, qmin, qmax });
          const q = quantizePerChannel(x, { scales, zeroPoints, axis: -1, qmin, qmax });
          for (let i = 0; i < n; i++) {
            const o = naiveFakeQuant(x.data[i]!, scales[i % c]!, zeroPoints[i % c]!, qmin, qmax);
            expect([q.data[i], y.data[i]]).toEqual([o.q, o.y]);
          }
        }),
      );
    });
  });

  describe('laws', () => {
    it('codes lie in [qmin, qmax] and are monotone non-decreasing in x', () => {
      fc.assert(
        fc.property(uniformParamsArb, float32Value(), float32Value(), ({ bits, scale, zeroPoint }, a, b) => {
          const { qmin, qmax } = qRange(bits);
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const qa = quantizeUniform(lo, scale, zeroPoint, qmin, qmax);
          const qb = quantizeUniform(hi, scale, zeroPoint, qmin, qmax);
          return qa >= qmin && qb <= qmax && qa <= qb;
        }),
      );
    });
    it('|x − fq(x)| ≤ s/2 inside the clip range', () => {
      fc.assert(
        fc.property(uniformParamsArb, fc.float({ min: 0, max: 1, noNaN: true }), ({ bits, scale, zeroPoint }, u) => {
          const { qmin, qmax } = qRange(bits);
          const lo = (qmin - zeroPoint) * scale;
          const hi = (qmax - zeroPoint) * scale;
          const x = Math.fround(lo + u * (hi - lo));
          // tolerance: float32 rounding of x/s and of (q − z)·s adds ≤ 2 ulp of |x| + |x̂| (≈ 2.4e-7 relative)
          const err = Math.abs(x - fakeQuantUniform(x, scale, zeroPoint, qmin, qmax));
          expect(err).toBeLessThanOrEqual(scale / 2 + 4e-7 * (Math.abs(x) + scale));
        }),
      );
    });
    it('idempotence: fq(fq(x)) = fq(x)', () => {
      fc.assert(
        fc.property(uniformParamsArb, float32Value(), ({ bits, scale, zeroPoint }, x) => {
          const { qmin, qmax } = qRange(bits);
          const y = fakeQuantUniform(x, scale, zeroPoint, qmin, qmax);
          return fakeQuantUniform(y, scale, zeroPoint, qmin, qmax) === y;
        }),
      );
    });
    it('calcQParams range covers [min(mn,0), max(mx,0)] up to one step', () => {
      fc.assert(
        fc.property(float32Value(), float32Value(), fc.integer({ min: 2, max: 8 }), (a, b, bits) => {
          const [mn, mx] = a <= b ? [a, b] : [b, a];
          const { qmin, qmax } = qRange(bits);
          const { scale, zeroPoint } = calcQParams(mn, mx, { bits });
          expect(zeroPoint).toBeGreaterThanOrEqual(qmin);
          expect(zeroPoint).toBeLessThanOrEqual(qmax);
          // the represented range [(qmin−z)s, (qmax−z)s] reaches mn⁻ and mx⁺ within one step (z is rounded)
          expect((qmin - zeroPoint) * scale).toBeLessThanOrEqual(Math.min(mn, 0) + scale);
          expect((qmax - zeroPoint) * scale).toBeGreaterThanOrEqual(Math.max(mx, 0) - scale);
        }),
      );
    });
  });

  describe.skipIf(!VECTORS_PRESENT)('conformance (authors-reference, exact)', () => {
    it.each(caseNames('uniform'))('%s', (name) => expectCasePasses('uniform', name));
  });
});
