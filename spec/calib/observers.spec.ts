import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, f32, tensor } from '../../src/tensor';
import { initAvgMinMax, observeAvgMinMax, finalizeAvgMinMax } from '../../src/calib/avg-min-max';
import { initAvgMinMaxGroup, observeAvgMinMaxGroup, finalizeAvgMinMaxGroup } from '../../src/calib/avg-min-max-group';
import { mseWeightPerChannel } from '../../src/calib/mse-weight';
import { initAvgMseFast, observeAvgMseFast, finalizeAvgMseFast } from '../../src/calib/avg-mse-fast';
import { initHybridParam, observeHybridParam, finalizeHybridParam } from '../../src/calib/hybrid-param';
import { initLogTransform, observeLogTransform } from '../../src/calib/log-transform';
import { initLogAvgMseFast, observeLogAvgMseFast } from '../../src/calib/log-avg-mse-fast';
import { calcQParams, fakeQuantPerChannel } from '../../src/quant/uniform';
import { postGeluLike, softmaxRows } from '../arbitraries/quant';
import { VECTORS_PRESENT, caseNames, expectCasePasses } from '../conformance/helpers';

const vec = (...v: number[]) => tensor([v.length], Float32Array.from(v));

describe('calibration observers — AHCQ-SAM:v4 §Calibration (METHOD.md §2.4, §2.5, §3.2, §3.4, §4.2)', () => {
  describe('edge cases', () => {
    it('empty, NaN and ∞ batches are SpecErrors naming the batch', () => {
      expect(() => observeAvgMinMax(initAvgMinMax(), tensor([0], new Float32Array(0)))).toThrow(/batch must be non-empty/);
      expect(() => observeAvgMinMax(initAvgMinMax(), vec(1, NaN))).toThrow(/batch\[1\] must be finite/);
      expect(() => observeAvgMinMaxGroup(initAvgMinMaxGroup(), vec(Infinity))).toThrow(SpecError);
      expect(() => observeAvgMseFast(initAvgMseFast(), vec(), { bits: 4 })).toThrow(SpecError);
      expect(() => finalizeAvgMinMax(initAvgMinMax(), { bits: 4 })).toThrow(/state\.count must be > 0/);
    });
    it('bits outside 2..16 are rejected by every observer', () => {
      expect(() => finalizeAvgMinMax(observeAvgMinMax(initAvgMinMax(), vec(1, 2)), { bits: 1 })).toThrow(/bits must be/);
      expect(() => mseWeightPerChannel(tensor([1, 2], Float32Array.of(1, -1)), { bits: 20 })).toThrow(/bits must be/);
      expect(() => observeAvgMseFast(initAvgMseFast(), vec(1, -1), { bits: 0 })).toThrow(/bits must be/);
    });
    it('zero-range data: AvgMinMax gives s = float32(1e-8), an all-zero weight channel gives s = 1e-8, z = 0', () => {
      const st = observeAvgMinMax(initAvgMinMax(), vec(0, 0, 0));
      expect(finalizeAvgMinMax(st, { bits: 4 })).toMatchObject({ scale: f32(1e-8), zeroPoint: 0 });
      const r = mseWeightPerChannel(tensor([2, 3], Float32Array.of(0, 0, 0, -1, 0.5, 1)), { bits: 4 });
      expect([r.params.scales[0], r.params.zeroPoints[0]]).toEqual([f32(1e-8), 0]);
    });
    it('the attention observers reject mismatched P/V shapes', () => {
      const P = tensor([2, 3], new Float32Array(6).fill(1 / 3));
      expect(() => observeLogTransform(initLogTransform({ bits: 4 }), P, tensor([2, 2], new Float32Array(4)), { bits: 4 })).toThrow(/V\.shape must be/);
      expect(() => observeLogAvgMseFast(initLogAvgMseFast({ bits: 4 }), P, tensor([4, 2], new Float32Array(8)), { bits: 4 })).toThrow(/V\.shape must be/);
    });
  });

  describe('oracle', () => {
    it('AvgMinMax equals the running mean of batch extremes (float64 oracle within float32 rounding)', () => {
      fc.assert(
        fc.property(fc.array(fc.array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 6 }), (batches) => {
          let st = initAvgMinMax();
          for (const b of batches) st = observeAvgMinMax(st, tensor([b.length], Float32Array.from(b)));
          const mins = batches.map((b) => Math.min(...b.map(f32)));
          const mean = mins.reduce((a, v) => a + v, 0) / mins.length;
          // float32 running mean: ≤ 2 roundings per batch of relative 6e-8 on values ≤ 5
          expect(Math.abs(st.min - mean)).toBeLessThanOrEqual(batches.length * 2 * 5 * 2 ** -23);
        }),
      );
    });
  });

  describe('laws', () => {
    it('MSE weight range: the chosen candidate scores no worse than plain min/max', () => {
      fc.assert(
        fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }), (ws) => {
          const w = tensor([3, 4], Float32Array.from(ws));
          const r = mseWeightPerChannel(w, { bits: 3, num: 20 });
          const y = fakeQuantPerChannel(w, r.params).data;
          for (let c = 0; c < 3; c++) {
            const row = Array.from(w.data.slice(c * 4, c * 4 + 4));
            const q = calcQParams(Math.min(...row), Math.max(...row), { bits: 3 });
            const base = fakeQuantPerChannel(tensor([1, 4], Float32Array.from(row)), { scales: [q.scale], zeroPoints: [q.zeroPoint], axis: 0, qmin: 0, qmax: 7 }).data;
            let eBest = 0;
            let eBase = 0;
            for (let k = 0; k < 4; k++) {
              eBest += Math.abs(y[c * 4 + k]! - row[k]!) ** 2.4;
              eBase += Math.abs(base[k]! - row[k]!) ** 2.4;
            }
            // the grid contains min/max (i = 100, zp = z) only approximately; allow float32 noise of the score
            expect(eBest).toBeLessThanOrEqual(eBase * (1 + 1e-5) + 1e-12);
          }
        }),
      );
    });
    it('AvgMinMaxGroup is per-channel AvgMinMax along the last axis', () => {
      fc.assert(
        fc.property(fc.array(fc.float({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }), fc.array(fc.float({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }), (a, b) => {
          let g = initAvgMinMaxGroup();
          g = observeAvgMinMaxGroup(observeAvgMinMaxGroup(g, tensor([3, 2], Float32Array.from(a))), tensor([3, 2], Float32Array.from(b)));
          const params = finalizeAvgMinMaxGroup(g, { bits: 4 });
          for (let c = 0; c < 2; c++) {
            const pick = (v: number[]) => tensor([3], Float32Array.from([v[c]!, v[c + 2]!, v[c + 4]!]));
            const s = finalizeAvgMinMax(observeAvgMinMax(observeAvgMinMax(initAvgMinMax(), pick(a)), pick(b)), { bits: 4 });
            expect([params.scales[c], params.zeroPoints[c]]).toEqual([s.scale, s.zeroPoint]);
          }
        }),
      );
    });
    it('AvgMSEFast (one-sided data) chooses a range inside the data range and is deterministic', () => {
      fc.assert(
        fc.property(postGeluLike(64), (x) => {
          const pos = tensor(x.shape, Float32Array.from(x.data, Math.abs));
          const st = observeAvgMseFast(initAvgMseFast(), pos, { bits: 4 });
          const mx = Math.max(...pos.data);
          expect(st.oneSideDist === 'pos' || st.oneSideDist === 'no').toBe(true);
          if (st.oneSideDist === 'pos') expect(st.max.value).toBeLessThanOrEqual(mx + 1e-9);
          expect(finalizeAvgMseFast(st, { bits: 4 })).toEqual(finalizeAvgMseFast(observeAvgMseFast(initAvgMseFast(), pos, { bits: 4 }), { bits: 4 }));
        }),
        { numRuns: 10 },
      );
    });
    it('HybridParam picks the (r, g) with the smallest averaged loss, first on ties', () => {
      fc.assert(
        fc.property(postGeluLike(32), (x) => {
          const b = tensor([8, 4], x.data);
          const next = { weight: tensor([2, 4], Float32Array.of(1, -1, 0.5, 2, 0, 1, 1, -0.5)), bias: null };
          const st = observeHybridParam(initHybridParam(), b, next, { bits: 4 });
          const r = finalizeHybridParam(st, { bits: 4 });
          const j = r.configGrid.findIndex(([rr, gg]) => rr === r.rangeRate && gg === r.gridRate);
          for (let k = 0; k < r.lossAvg.length; k++) {
            expect(r.lossAvg[j]!).toBeLessThanOrEqual(r.lossAvg[k]!);
            if (k < j) expect(r.lossAvg[k]!).toBeGreaterThan(r.lossAvg[j]!);
          }
        }),
        { numRuns: 20 },
      );
    });
    it('LNQ/AGQ searches stay inside their documented bounds', () => {
      fc.assert(
        fc.property(softmaxRows(4, 6), (P) => {
          const V = tensor([6, 3], Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)));
          const P3 = tensor([1, 4, 6], P.data);
          const V3 = tensor([1, 6, 3], V.data);
          const xmax = Math.max(...P.data);
          const lt = observeLogTransform(initLogTransform({ bits: 4, alphas: [1, 50] }), P3, V3, { bits: 4, alphas: [1, 50] });
          for (const s of lt.searches[0]!) expect(s.x >= Math.max(1e-4, 0.1 * xmax) && s.x <= xmax).toBe(true);
          const la = observeLogAvgMseFast(initLogAvgMseFast({ bits: 4 }), P3, V3, { bits: 4 });
          for (const s of la.searches[0]!) expect(s.x >= Math.min(0.1, 0.01 * xmax) && s.x <= xmax).toBe(true);
        }),
        { numRuns: 10 },
      );
    });
  });

  describe.skipIf(!VECTORS_PRESENT)('conformance (authors-reference observers: exact, Brent ranges rel 1e-4)', () => {
    it.each(caseNames('observers'))('%s', (name) => expectCasePasses('observers', name));
    it.each(caseNames('hluq', 'hybridparam_'))('hluq/%s', (name) => expectCasePasses('hluq', name));
  });
});
