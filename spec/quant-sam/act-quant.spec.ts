/**
 * spec/quant-sam/act-quant: the per-image calibration batch (collectSite / flushSite). A batch is one
 * calibration image with all its decoder prompts (METHOD.md §2.4); our decoder runs the prompts one at a
 * time, so the calls of one image are collected and folded into the observer once.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, type Tensor } from '../../src/tensor';
import { collectSite, flushSite, initSiteObserver, subsampleRows, type ObserveOptions, type PendingBatch, type SiteObserver } from '../../src/quant-sam/act-quant';
import { initAvgMinMax, observeAvgMinMax } from '../../src/calib/avg-min-max';
import { initAvgMinMaxGroup, observeAvgMinMaxGroup } from '../../src/calib/avg-min-max-group';
import { initHybridParam, observeHybridParam } from '../../src/calib/hybrid-param';

const OPTS: ObserveOptions = { bits: 4, referenceCompat: false, budget: { hluqRows: 16, attnElements: 400, mseElements: 64, searchBatches: 2 } };
const t = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'float32', shape, data });
/** Concatenate along the leading axis (test-local; shares no code with src). */
const cat = (parts: Tensor[]): Tensor => {
  const rest = parts[0]!.shape.slice(1);
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let off = 0;
  for (const p of parts) { data.set(p.data as Float32Array, off); off += p.data.length; }
  return t([parts.reduce((n, p) => n + p.shape[0]!, 0), ...rest], data);
};
const batchOf = (calls: Tensor[], o: SiteObserver, ctx: Parameters<typeof collectSite>[3] = {}): SiteObserver => {
  let p: PendingBatch | undefined;
  for (const x of calls) p = collectSite(o, p, x, ctx, OPTS);
  return flushSite(o, p, OPTS);
};
const arbCalls = (C: number) => fc.array(fc.integer({ min: 1, max: 5 }).chain((r) => fc.float32Array({ minLength: r * C, maxLength: r * C, noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => t([r, C], d))), { minLength: 1, maxLength: 4 });

describe('edge cases', () => {
  it('a non-finite value or a channel count that changes within the batch is a SpecError naming x', () => {
    const o = initSiteObserver('cag', 4);
    expect(() => collectSite(o, undefined, t([1, 2], Float32Array.of(1, NaN)), {}, OPTS)).toThrow(SpecError);
    const p = collectSite(o, undefined, t([1, 2], Float32Array.of(1, 2)), {}, OPTS);
    expect(() => collectSite(o, p, t([1, 3], Float32Array.of(1, 2, 3)), {}, OPTS)).toThrow(/x\.shape\[-1\]/);
  });
  it('an HLUQ site without the next Linear is a SpecError', () => {
    expect(() => collectSite(initSiteObserver('hluq', 4), undefined, t([1, 2], Float32Array.of(1, 2)), {}, OPTS)).toThrow(/ctx\.next/);
  });
  it('flushing nothing leaves the observer unchanged', () => {
    const o = initSiteObserver('lsq', 4);
    expect(flushSite(o, undefined, OPTS)).toBe(o);
  });
});

describe('laws', () => {
  it('min/max sites: collecting the calls of one image then flushing equals observing their concatenation once (exact)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }).chain((C) => arbCalls(C)), (calls) => {
      const g = batchOf(calls, initSiteObserver('cag', 4));
      const refG = observeAvgMinMaxGroup(initAvgMinMaxGroup(), cat(calls));
      const l = batchOf(calls, initSiteObserver('lsq', 4));
      const refL = observeAvgMinMax(initAvgMinMax(), cat(calls));
      expect(g.kind === 'cag' && Array.from(g.st.min)).toEqual(Array.from(refG.min));
      expect(g.kind === 'cag' && Array.from(g.st.max)).toEqual(Array.from(refG.max));
      expect(l.kind === 'lsq' && [l.st.min, l.st.max, l.st.count]).toEqual([refL.min, refL.max, 1]);
    }));
  });
  it('an HLUQ site called once per image observes the same subsample as before (one call = one batch)', () => {
    const C = 8, out = 3;
    const x = t([40, C], Float32Array.from({ length: 40 * C }, (_, i) => Math.fround(Math.max(-0.17, Math.sin(i * 0.37) * 2))));
    const next = { weight: t([out, C], Float32Array.from({ length: out * C }, (_, i) => Math.fround(Math.cos(i)))), bias: null };
    const got = batchOf([x], initSiteObserver('hluq', 4), { next });
    const ref = observeHybridParam(initHybridParam(), subsampleRows(x, OPTS.budget.hluqRows), next, { bits: 4, referenceCompat: false });
    expect(got.kind === 'hluq' && [got.st.min, got.st.max, got.st.count]).toEqual([ref.min, ref.max, ref.count]);
    expect(got.kind === 'hluq' && Array.from(got.st.lossPerBatch[0]!)).toEqual(Array.from(ref.lossPerBatch[0]!));
  });
  it('attention sites: prompts with the same token count form one batch, different counts separate batches; the search budget caps them', () => {
    const attn = (N: number, seed: number): { P: Tensor; V: Tensor } => {
      const M = 6, D = 2, H = 2;
      const P = new Float32Array(H * N * M);
      for (let r = 0; r < H * N; r++) {
        let s = 0;
        for (let j = 0; j < M; j++) s += (P[r * M + j] = Math.exp(Math.sin(seed + r * 7 + j)));
        for (let j = 0; j < M; j++) P[r * M + j] = Math.fround(P[r * M + j]! / s);
      }
      return { P: t([1, H, N, M], P), V: t([1, H, M, D], Float32Array.from({ length: H * M * D }, (_, i) => Math.fround(Math.cos(seed + i)))) };
    };
    const run = (Ns: number[]): SiteObserver => {
      const o = initSiteObserver('lnq', 4);
      let p: PendingBatch | undefined;
      Ns.forEach((N, i) => { const a = attn(N, i); p = collectSite(o, p, a.P, { v: a.V }, OPTS); });
      return flushSite(o, p, OPTS);
    };
    const count = (o: SiteObserver): number => (o.kind === 'lnq' ? o.st.count : -1);
    expect(count(run([3, 3, 3]))).toBe(1);
    expect(count(run([3, 4, 3]))).toBe(2);
    expect(count(run([3, 4, 5]))).toBe(2); // searchBatches = 2
  });
});
