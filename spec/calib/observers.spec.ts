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

// MSE weight-range helpers (naive grid of METHOD.md §2.5, written independently of src/calib/mse-weight.ts)
const MSE_NUM = 20;
const MSE_P = 2.4;
/** Σ_k |y_k − x_k|^p in float64 (the score × n, unrounded). */
const lpError = (x: number[], y: number[]) => x.reduce((a, v, k) => a + Math.abs(y[k]! - v) ** MSE_P, 0);
/** Score of a candidate range [mn, mx] (3-bit asymmetric, qparams via calcQParams). */
const eCandidate = (row: number[], mn: number, mx: number) => {
  const q = calcQParams(mn, mx, { bits: 3 });
  return lpError(row, Array.from(fakeQuantPerChannel(tensor([1, row.length], Float32Array.from(row)), { scales: [q.scale], zeroPoints: [q.zeroPoint], axis: 0, qmin: 0, qmax: 7 }).data));
};
/** one_side_dist of the whole tensor. */
const mseOneSide = (w: ArrayLike<number>): 'pos' | 'neg' | 'no' => {
  const a = Array.from(w);
  return Math.min(...a) >= 0 ? 'pos' : Math.max(...a) <= 0 ? 'neg' : 'no';
};
/** Every candidate range of one channel: i = 1..num (× zp = 0..7 when two-sided), float32 as the reference. */
const mseGrid = (row: number[], side: 'pos' | 'neg' | 'no'): [number, number][] => {
  const out: [number, number][] = [];
  const lo = Math.min(...row), hi = Math.max(...row);
  for (let i = 1; i <= MSE_NUM; i++) {
    if (side === 'no') {
      const M = f32(f32(f32(Math.max(hi, 0) - Math.min(lo, 0)) / MSE_NUM) * i);
      const delta = f32(M / 7);
      for (let zp = 0; zp <= 7; zp++) out.push([f32(-f32(zp * delta)), f32(M - f32(zp * delta))]);
    } else {
      const t = f32(f32(Math.max(Math.abs(lo), hi) / MSE_NUM) * i);
      out.push(side === 'pos' ? [0, t] : [-t, 0]);
    }
  }
  return out;
};
/**
 * Score tolerance between the search's float32 scores and this float64 oracle. The search ranks
 * candidates by Ŝ = f32(f32(Σ_k f32(|f32(d_k)|^p)) / n) (float64 sum). With u = 2^-24: f32(d) gives
 * (1+δ)^2.4, the term rounding (1+δ), f32(sum) and f32(/n) one (1+δ) each, so Ŝ·n = T·(1+θ)^4.4·(1 ± 2^-50)
 * (the 2^-50 covers Math.pow and the float64 sums, here and in `lpError`) with |θ| ≤ u. The chosen
 * candidate has Ŝ ≤ Ŝ(c) for every c (strict `<` keeps the first), hence
 * T_best ≤ T_c·((1+u)/(1−u))^4.4·(1+2^-49) ≤ T_c·(1 + 9u)  (8.8u + O(u²) + 2^-49 < 9u).
 * Values below 2^-126 round with an absolute error ≤ 2^-150 instead: ≤ n + 2 such roundings per
 * score (in units of Ŝ·n at most n·2^-150 each), on both sides: 2·n·(n+2)·2^-150 with n = 4.
 */
const MSE_SCORE_RATIO = 1 + 9 * 2 ** -24;
const MSE_SCORE_ABS = 2 * 4 * 6 * 2 ** -150;
/** Counterexamples of the former "no worse than plain min/max" property (FC_SEED=42, −610719733). */
const MSE_GRID_MISSES: number[][] = [
  [0, 0, 0, 0, 0, 0, -0.9999998211860657, -0.7144125699996948, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0, 0, 0, 0, -0.0032444896642118692, 0.643718421459198, 0],
];

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
    it('MSE weight range: the chosen candidate scores no worse than any grid candidate, the min/max-like i = num one included', () => {
      fc.assert(
        fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }), (ws) => {
          const w = tensor([3, 4], Float32Array.from(ws));
          const r = mseWeightPerChannel(w, { bits: 3, num: MSE_NUM });
          const y = fakeQuantPerChannel(w, r.params).data;
          const side = mseOneSide(w.data);
          for (let c = 0; c < 3; c++) {
            const row = Array.from(w.data.slice(c * 4, c * 4 + 4));
            const eBest = lpError(row, Array.from(y.slice(c * 4, c * 4 + 4)));
            for (const [mn, mx] of mseGrid(row, side)) expect(eBest).toBeLessThanOrEqual(eCandidate(row, mn, mx) * MSE_SCORE_RATIO + MSE_SCORE_ABS);
          }
        }),
        // regressions (FC_SEED=42 and −610719733): rows whose plain min/max range is NOT on the grid
        // (f32(f32(R/num)·num) ≠ R) and scores better than the chosen candidate, see the test below
        { examples: MSE_GRID_MISSES.map((ws) => [ws]) },
      );
    });
    it('MSE weight range: the grid contains min/max only up to float32 rounding, so min/max itself can score better (reference grid)', () => {
      // the grid's widest range is f32(f32(R/num)·num), which for these rows is one float32 step off R;
      // the search (like the reference's) never sees the exact min/max, and here min/max is strictly better
      for (const ws of MSE_GRID_MISSES) {
        const w = tensor([3, 4], Float32Array.from(ws));
        const r = mseWeightPerChannel(w, { bits: 3, num: MSE_NUM });
        const y = fakeQuantPerChannel(w, r.params).data;
        const c = ws.findIndex((v) => v !== 0) >> 2; // the only non-zero row
        const row = Array.from(w.data.slice(c * 4, c * 4 + 4));
        const grid = mseGrid(row, mseOneSide(w.data));
        const q = calcQParams(Math.min(...row), Math.max(...row), { bits: 3 });
        expect(grid.some(([mn, mx]) => { const g = calcQParams(mn, mx, { bits: 3 }); return g.scale === q.scale && g.zeroPoint === q.zeroPoint; })).toBe(false);
        const eMinMax = lpError(row, Array.from(fakeQuantPerChannel(tensor([1, 4], Float32Array.from(row)), { scales: [q.scale], zeroPoints: [q.zeroPoint], axis: 0, qmin: 0, qmax: 7 }).data));
        expect(lpError(row, Array.from(y.slice(c * 4, c * 4 + 4)))).toBeGreaterThan(eMinMax);
      }
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
