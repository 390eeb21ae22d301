import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, f32, tensor, FLOAT32_EPS } from '../../src/tensor';
import { lsqBackwardPerTensor, lsqClampScale, lsqEffectiveScale, lsqForwardPerTensor, lsqGradFactor } from '../../src/quant/lsq';
import { adaroundH, adaroundHard, adaroundInitAlpha, adaroundRoundLoss, adaroundSoft } from '../../src/quant/adaround';
import { fakeQuantPerChannel, fakeQuantPerTensor, qRange } from '../../src/quant/uniform';
import { naiveRoundHalfEven } from './oracles';
import { VECTORS_PRESENT, caseNames, expectCasePasses } from '../conformance/helpers';

describe('LSQ — AHCQ-SAM:v4 §LSQ (METHOD.md §2.3)', () => {
  describe('edge cases', () => {
    it('g = 1/√(N·qmax) as float32; scale guard max(|s|, eps)', () => {
      expect(lsqGradFactor(4096, 15)).toBe(f32(1 / Math.sqrt(4096 * 15)));
      expect(lsqClampScale(-0.5)).toBe(0.5);
      expect(lsqClampScale(0)).toBe(FLOAT32_EPS);
      expect(() => lsqGradFactor(0, 15)).toThrow(SpecError);
    });
  });
  describe('oracle', () => {
    it('backward: ∂x̂/∂s = ⌊v⌉ − v inside, qmax − z / qmin − z when clipped; ∂x̂/∂x = 1 inside', () => {
      fc.assert(
        fc.property(fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 2, max: 6 }), (xs, bits) => {
          const { qmin, qmax } = qRange(bits);
          const p = { scale: 0.1, zeroPoint: Math.floor(qmax / 2), qmin, qmax };
          const x = tensor([xs.length], Float32Array.from(xs));
          const go = tensor([xs.length], Float32Array.from(xs, () => 1));
          const g = lsqBackwardPerTensor(x, go, p);
          let want = 0;
          for (let i = 0; i < xs.length; i++) {
            const v = f32(x.data[i]! / 0.1);
            const r = naiveRoundHalfEven(v);
            const inside = r + p.zeroPoint >= qmin && r + p.zeroPoint <= qmax;
            want += inside ? r - v : r + p.zeroPoint > qmax ? qmax - p.zeroPoint : qmin - p.zeroPoint;
            expect(g.gradX[i]).toBe(inside ? 1 : 0);
          }
          // fp64 accumulation in both: equal up to summation order of ≤ 20 terms
          expect(g.gradScale[0]).toBeCloseTo(want * lsqGradFactor(xs.length, qmax), 9);
        }),
      );
    });
  });
  describe('laws', () => {
    it("s' differs from s by at most 1 ulp, and the default forward equals plain fake quant", () => {
      fc.assert(
        fc.property(fc.float({ min: Math.fround(1e-3), max: 10, noNaN: true }), fc.integer({ min: 1, max: 1 << 16 }), (s, n) => {
          const sEff = lsqEffectiveScale(f32(s), lsqGradFactor(n, 15));
          expect(Math.abs(sEff - f32(s))).toBeLessThanOrEqual(f32(s) * 2 ** -23);
          const x = tensor([3], Float32Array.of(-1, 0.3, 2));
          const p = { scale: f32(s), zeroPoint: 3, qmin: 0, qmax: 15 };
          expect(Array.from(lsqForwardPerTensor(x, p).data)).toEqual(Array.from(fakeQuantPerTensor(x, p).data));
        }),
      );
    });
  });
  describe.skipIf(!VECTORS_PRESENT)('conformance (authors-reference, exact)', () => {
    it.each(caseNames('uniform', 'lsq_'))('%s', (name) => expectCasePasses('uniform', name));
  });
});

describe('AdaRound — AHCQ-SAM:v4 §AdaRound (METHOD.md §2.5)', () => {
  const p = { scales: [0.1, 0.05], zeroPoints: [3, 8], axis: 0, qmin: 0, qmax: 15 };
  describe('edge cases', () => {
    it('h(0) = 0.5, h(±∞-ish) clamps to {0, 1}; hard rounds α = 0 up', () => {
      expect(adaroundH(0)).toBe(0.5);
      expect(adaroundH(50)).toBe(1);
      expect(adaroundH(-50)).toBe(0);
      const w = tensor([2, 1], Float32Array.of(0.1, 0.05));
      expect(Array.from(adaroundHard(w, tensor([2, 1], Float32Array.of(0, -0)), p).data)).toEqual([f32(2 * 0.1), f32(2 * 0.05)]);
    });
    it('rejects mismatched alpha and bad scales', () => {
      const w = tensor([2, 2], new Float32Array(4));
      expect(() => adaroundSoft(w, tensor([3], new Float32Array(3)), p)).toThrow(/alpha\.shape must equal w\.shape/);
      expect(() => adaroundInitAlpha(w, { ...p, scales: [0, 1] })).toThrow(/scales\[0\] must be finite and > 0/);
      expect(() => adaroundRoundLoss(tensor([0], new Float32Array(0)), 2)).toThrow(/alpha must be non-empty/);
    });
  });
  describe('laws', () => {
    it('h(α_init) ≈ fractional part of w/s, so soft(α_init) ≈ w inside the range; hard(α_init) is a grid value', () => {
      fc.assert(
        fc.property(fc.array(fc.float({ min: Math.fround(-0.25), max: Math.fround(0.5), noNaN: true }), { minLength: 2, maxLength: 2 }), (ws) => {
          const w = tensor([2, 1], Float32Array.from(ws));
          const a = adaroundInitAlpha(w, p);
          const soft = adaroundSoft(w, a, p).data;
          const hard = adaroundHard(w, a, p).data;
          const rtn = fakeQuantPerChannel(w, p).data;
          for (let c = 0; c < 2; c++) {
            const lo = (p.qmin - p.zeroPoints[c]!) * p.scales[c]!;
            const hi = (p.qmax - p.zeroPoints[c]!) * p.scales[c]!;
            // tolerance: h(α_init) reproduces the fraction to ~1e-6 (log/exp round trip in float32), times s
            if (w.data[c]! > lo && w.data[c]! < hi) expect(Math.abs(soft[c]! - w.data[c]!)).toBeLessThanOrEqual(p.scales[c]! * 1e-5);
            // hard is floor or ceil of w/s: within one step of round-to-nearest
            expect(Math.abs(hard[c]! - rtn[c]!)).toBeLessThanOrEqual(p.scales[c]! * 1.0000001);
          }
        }),
      );
    });
    it('round loss is 0 when every h ∈ {0, 1} and maximal (λ·n) when every h = 0.5', () => {
      expect(adaroundRoundLoss(tensor([3], Float32Array.of(50, -50, 60)), 20)).toBe(0);
      expect(adaroundRoundLoss(tensor([4], new Float32Array(4)), 2)).toBe(f32(0.04));
    });
  });
  describe.skipIf(!VECTORS_PRESENT)('conformance (authors-reference: hard exact, α/h/soft few-ulp)', () => {
    it.each(caseNames('adaround'))('%s', (name) => expectCasePasses('adaround', name));
  });
});
