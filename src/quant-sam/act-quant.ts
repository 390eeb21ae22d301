/**
 * Activation quantizers of the pipeline as data (`ActParams`), the fake-quant function that applies
 * them, and the per-site calibration observers (reducers over calibration batches) that produce them.
 *
 * Heavy searches see a deterministic subsample of each batch (documented in docs/quantization-plan.md):
 * rows for HLUQ, windows/batch rows for LNQ / AGQ, elements for the AvgMSEFast key range.
 */
import { requireFinite, specRequire, type Tensor } from '../tensor';
import { fakeQuantPerTensor, qRange } from '../quant/uniform';
import { fakeQuantCag } from '../quant/cag';
import { fakeQuantHluqTensor, type HluqParams } from '../quant/hluq';
import { fakeQuantLnqTensor, type LnqParams } from '../quant/lnq';
import { fakeQuantAgqTensor, type AgqParams } from '../quant/agq';
import { finalizeAvgMinMax, initAvgMinMax, observeAvgMinMax, type AvgMinMaxState } from '../calib/avg-min-max';
import { finalizeAvgMinMaxGroup, initAvgMinMaxGroup, observeAvgMinMaxGroup, type AvgMinMaxGroupState } from '../calib/avg-min-max-group';
import { finalizeAvgMseFast, initAvgMseFast, observeAvgMseFast, type AvgMseFastState } from '../calib/avg-mse-fast';
import { finalizeHybridParam, initHybridParam, observeHybridParam, type HybridParamState, type NextLinear } from '../calib/hybrid-param';
import { finalizeLogTransform, initLogTransform, observeLogTransform, type LogTransformState } from '../calib/log-transform';
import { finalizeLogAvgMseFast, initLogAvgMseFast, observeLogAvgMseFast, type LogAvgMseFastState } from '../calib/log-avg-mse-fast';
import { cagCoverGroups, cagGroupChannels } from '../calib/cag';
import type { ActQuantizer } from './plan';

// TYPES

/** Parameters of one activation quantizer (JSON-serialisable). */
export type ActParams =
  | { readonly kind: 'lsq'; readonly scale: number; readonly zeroPoint: number; readonly qmin: number; readonly qmax: number }
  | { readonly kind: 'cag'; readonly bits: number; readonly groupScales: readonly number[]; readonly groupZeroPoints: readonly number[]; readonly labels: readonly number[] }
  | { readonly kind: 'hluq'; readonly params: HluqParams }
  | { readonly kind: 'lnq'; readonly params: LnqParams }
  | { readonly kind: 'agq'; readonly params: AgqParams };

/** Observer state of one site (a tagged union of the calib reducers). */
export type SiteObserver =
  | { readonly kind: 'lsq'; readonly st: AvgMinMaxState }
  | { readonly kind: 'lsq-mse'; readonly st: AvgMseFastState }
  | { readonly kind: 'cag'; readonly st: AvgMinMaxGroupState }
  | { readonly kind: 'hluq'; readonly st: HybridParamState }
  | { readonly kind: 'lnq'; readonly st: LogTransformState }
  | { readonly kind: 'agq'; readonly st: LogAvgMseFastState };

/** Subsampling budgets of the heavy searches. */
export interface SubsampleBudget {
  /** Rows (tokens) of an HLUQ batch scored through the next Linear. */
  readonly hluqRows: number;
  /** Elements of P per LNQ / AGQ batch (whole leading rows are kept; at least one). */
  readonly attnElements: number;
  /** Elements of a key batch for the AvgMSEFast range search. */
  readonly mseElements: number;
  /** Batches (forward calls) per site that the searching observers (HLUQ, LNQ, AGQ, AvgMSEFast) fold in; later batches are skipped. */
  readonly searchBatches: number;
}

/**
 * How a CAG group's (S_g, Z_g) is formed from its members: `cover` = calc_qparams over the members' union
 * range (project default, calibration-only mode); `centroid` = the k-means centroid, as the reference does
 * before reconstruction learns S_g (selected by `referenceCompat`).
 */
export type CagGroupRange = 'cover' | 'centroid';

/** Options of the observers. */
export interface ObserveOptions {
  readonly bits: number;
  readonly referenceCompat: boolean;
  readonly budget: SubsampleBudget;
}

// CONSTANTS

/** Default budgets (see docs/quantization-plan.md "Subsampling"). */
export const DEFAULT_BUDGET: SubsampleBudget = Object.freeze({ hluqRows: 256, attnElements: 30_000, mseElements: 2048, searchBatches: 8 });

// HELPERS

/** Every `step`-th row of a [..., C] tensor, at most `maxRows` rows → [n, C]. */
export function subsampleRows(x: Tensor, maxRows: number): Tensor {
  const C = x.shape[x.shape.length - 1]!;
  const rows = x.data.length / C;
  if (rows <= maxRows) return { dtype: 'float32', shape: [rows, C], data: x.data as Float32Array };
  const step = rows / maxRows;
  const out = new Float32Array(maxRows * C);
  for (let r = 0; r < maxRows; r++) {
    const src = Math.floor(r * step);
    out.set((x.data as Float32Array).subarray(src * C, (src + 1) * C), r * C);
  }
  return { dtype: 'float32', shape: [maxRows, C], data: out };
}

/**
 * Evenly spaced [N, M] slices of P [..., N, M] with the matching [M, D] slices of V [..., M, D], within an
 * element budget (at least one slice): the leading axes (batch, windows, heads) are flattened first.
 */
function subsampleAttention(P: Tensor, V: Tensor, maxElements: number): { P: Tensor; V: Tensor } {
  const N = P.shape[P.shape.length - 2]!, M = P.shape[P.shape.length - 1]!, D = V.shape[V.shape.length - 1]!;
  const per = N * M, perV = M * D;
  const A = P.data.length / per;
  const keep = Math.max(1, Math.min(A, Math.floor(maxElements / per)));
  const p = new Float32Array(keep * per), v = new Float32Array(keep * perV);
  for (let i = 0; i < keep; i++) {
    const src = Math.floor((i * A) / keep);
    p.set((P.data as Float32Array).subarray(src * per, (src + 1) * per), i * per);
    v.set((V.data as Float32Array).subarray(src * perV, (src + 1) * perV), i * perV);
  }
  return { P: { dtype: 'float32', shape: [keep, N, M], data: p }, V: { dtype: 'float32', shape: [keep, M, D], data: v } };
}

/** Every `step`-th element, at most `max` → [n]. */
function subsampleElements(x: Tensor, max: number): Tensor {
  const n = x.data.length;
  if (n <= max) return x;
  const out = new Float32Array(max);
  const step = n / max;
  for (let i = 0; i < max; i++) out[i] = x.data[Math.floor(i * step)]!;
  return { dtype: 'float32', shape: [max], data: out };
}

// MAIN

/**
 * Fake-quantize one activation with its parameters.
 * @paper AHCQ-SAM:v4 §3.2–§3.4, §4.2 (METHOD.md §2.2, §3.2, §3.3, §3.4, §4.2)
 * @equation lsq: (clamp(⌊x/s⌉+z) − z)·s; cag: per-channel with group (S, Z); hluq/lnq/agq: their quantizers
 * @deviation none; `referenceCompat` selects the HLUQ / LNQ reference quirks (Project decision 1)
 * @precision float32 (as the quantizers)
 */
export function applyActQuant(x: Tensor, p: ActParams, referenceCompat: boolean): Tensor {
  switch (p.kind) {
    case 'lsq':
      return fakeQuantPerTensor(x, { scale: p.scale, zeroPoint: p.zeroPoint, qmin: p.qmin, qmax: p.qmax });
    case 'cag':
      return fakeQuantCag(x, { bits: p.bits, groupScales: p.groupScales, groupZeroPoints: p.groupZeroPoints, labels: p.labels });
    case 'hluq':
      return fakeQuantHluqTensor(x, p.params, { referenceCompat });
    case 'lnq':
      return fakeQuantLnqTensor(x, p.params, { referenceCompat });
    case 'agq':
      return fakeQuantAgqTensor(x, p.params);
  }
}

/**
 * The empty observer of a site.
 * @paper AHCQ-SAM:v4 §5.3 (METHOD.md §2.4 observers)
 * @equation n = 0
 * @deviation none
 * @precision exact
 */
export function initSiteObserver(q: ActQuantizer, bits: number): SiteObserver {
  switch (q) {
    case 'lsq':
      return { kind: 'lsq', st: initAvgMinMax() };
    case 'lsq-mse':
      return { kind: 'lsq-mse', st: initAvgMseFast() };
    case 'cag':
      return { kind: 'cag', st: initAvgMinMaxGroup() };
    case 'hluq':
      return { kind: 'hluq', st: initHybridParam() };
    case 'lnq':
      return { kind: 'lnq', st: initLogTransform({ bits }) };
    case 'agq':
      return { kind: 'agq', st: initLogAvgMseFast({ bits }) };
  }
}

/**
 * What one site has seen so far of the current calibration batch. A batch is one calibration image:
 * its encoder forward and ALL its decoder prompts together (METHOD.md §2.4: "batch" = one image; all its
 * box prompts go through the decoder together). Our decoder runs one prompt per call, so the pipeline
 * collects a site's calls of one image here and folds them into the observer once (`flushSite`).
 * Min/max reducers keep only the batch's running min/max (exact: the observers take min/max of the
 * batch); searching observers keep their per-call subsample (copied: the tap's tensor may be reused).
 */
export type PendingBatch =
  | { readonly kind: 'minmax'; readonly lo: Float32Array; readonly hi: Float32Array }
  | { readonly kind: 'rows'; readonly parts: readonly Tensor[]; readonly next?: NextLinear }
  | { readonly kind: 'attn'; readonly groups: ReadonlyMap<string, { readonly P: readonly Tensor[]; readonly V: readonly Tensor[] }> };

function copyTensor(t: Tensor): Tensor {
  return { dtype: 'float32', shape: [...t.shape], data: Float32Array.from(t.data as Float32Array) };
}

/** Concatenate tensors [a_i, ...rest] along the leading axis → [Σa_i, ...rest]. */
function concatLeading(parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  const rest = parts[0]!.shape.slice(1);
  let n = 0, lead = 0;
  for (const t of parts) { n += t.data.length; lead += t.shape[0]!; }
  const data = new Float32Array(n);
  let off = 0;
  for (const t of parts) { data.set(t.data as Float32Array, off); off += t.data.length; }
  return { dtype: 'float32', shape: [lead, ...rest], data };
}

/** True when a searching observer has folded in its budget of batches (later batches are skipped). */
function saturated(o: SiteObserver, opts: ObserveOptions): boolean {
  return o.kind !== 'lsq' && o.kind !== 'cag' && o.st.count >= opts.budget.searchBatches;
}

/**
 * Add one forward call's tensor of a site to the site's pending batch (undefined: nothing to keep).
 * @paper AHCQ-SAM:v4 §5.3 (METHOD.md §2.4 batch definition)
 * @source AHCQ-SAM-code sam/ahcqsam/solver/test_quant.py (calibration forwards one image with all its boxes)
 * @equation minmax: lo ← min(lo, min x), hi ← max(hi, max x) (per tensor for lsq, per last-axis channel for cag);
 *   searches: parts ← parts ∪ {subsample(x)}
 * @deviation prompts of one image are observed as one batch although our decoder runs them one at a time
 *   (same min/max; searches see a subsample of the union, see flushSite); attention probabilities of prompts
 *   with different token counts form separate batches (they cannot be stacked)
 * @precision exact (min/max, copies)
 */
export function collectSite(o: SiteObserver, pending: PendingBatch | undefined, x: Tensor, ctx: { v?: Tensor; next?: NextLinear }, opts: ObserveOptions): PendingBatch | undefined {
  const fn = 'collectSite';
  if (saturated(o, opts)) return undefined;
  switch (o.kind) {
    case 'lsq':
    case 'cag': {
      specRequire(x.shape.length >= 1 && x.data.length > 0, { fn, what: 'x', rule: 'be non-empty with rank ≥ 1', got: x.shape });
      requireFinite(fn, 'x', x.data);
      const C = o.kind === 'lsq' ? 1 : x.shape[x.shape.length - 1]!;
      const prev = pending?.kind === 'minmax' ? pending : undefined;
      specRequire(prev === undefined || prev.lo.length === C, { fn, what: 'x.shape[-1]', rule: `equal the channels seen earlier in this batch (${prev?.lo.length})`, got: C });
      const lo = prev ? Float32Array.from(prev.lo) : new Float32Array(C).fill(Infinity);
      const hi = prev ? Float32Array.from(prev.hi) : new Float32Array(C).fill(-Infinity);
      const d = x.data;
      for (let i = 0; i < d.length; i++) {
        const c = C === 1 ? 0 : i % C;
        const v = d[i]!;
        if (v < lo[c]!) lo[c] = v;
        if (v > hi[c]!) hi[c] = v;
      }
      return { kind: 'minmax', lo, hi };
    }
    case 'lsq-mse':
    case 'hluq': {
      if (o.kind === 'hluq') specRequire(ctx.next !== undefined, { fn, what: 'ctx.next', rule: 'be given for an HLUQ site (the following Linear)', got: 'undefined' });
      const part = copyTensor(o.kind === 'hluq' ? subsampleRows(x, opts.budget.hluqRows) : subsampleElements(x, opts.budget.mseElements));
      const prev = pending?.kind === 'rows' ? pending.parts : [];
      return { kind: 'rows', parts: [...prev, part], next: ctx.next };
    }
    case 'lnq':
    case 'agq': {
      specRequire(ctx.v !== undefined, { fn, what: 'ctx.v', rule: 'be given for an attention-probability site', got: 'undefined' });
      const s = subsampleAttention(x, ctx.v, opts.budget.attnElements);
      const key = `${s.P.shape[1]}x${s.P.shape[2]}x${s.V.shape[2]}`;
      const groups = new Map(pending?.kind === 'attn' ? pending.groups : []);
      const g = groups.get(key);
      groups.set(key, { P: [...(g?.P ?? []), s.P], V: [...(g?.V ?? []), s.V] });
      return { kind: 'attn', groups };
    }
  }
}

/**
 * Fold a site's pending batch (one calibration image) into its observer.
 * @paper AHCQ-SAM:v4 §5.3 (METHOD.md §2.4, §3.2, §3.3, §3.4, §4.2)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py (one observer update per batch)
 * @equation minmax: observe([lo; hi]) ≡ observe(batch); searches: observe(subsample(∪ parts)) with the
 *   per-batch budget; attention: one observation per token-count group
 * @deviation searches see a subsample of the union of the calls' subsamples (budget per batch unchanged)
 * @precision as the calib observers
 */
export function flushSite(o: SiteObserver, pending: PendingBatch | undefined, opts: ObserveOptions): SiteObserver {
  if (pending === undefined || saturated(o, opts)) return o;
  switch (o.kind) {
    case 'lsq':
    case 'cag': {
      specRequire(pending.kind === 'minmax', { fn: 'flushSite', what: 'pending.kind', rule: "be 'minmax' for a min/max site", got: pending.kind });
      const C = pending.lo.length;
      const data = new Float32Array(2 * C);
      data.set(pending.lo, 0);
      data.set(pending.hi, C);
      const t: Tensor = { dtype: 'float32', shape: [2, C], data };
      return o.kind === 'lsq' ? { kind: 'lsq', st: observeAvgMinMax(o.st, t) } : { kind: 'cag', st: observeAvgMinMaxGroup(o.st, t) };
    }
    case 'lsq-mse':
    case 'hluq': {
      specRequire(pending.kind === 'rows', { fn: 'flushSite', what: 'pending.kind', rule: "be 'rows' for a searching site", got: pending.kind });
      if (o.kind === 'lsq-mse') {
        let n = 0;
        for (const t of pending.parts) n += t.data.length;
        const flat = new Float32Array(n);
        let off = 0;
        for (const t of pending.parts) { flat.set(t.data as Float32Array, off); off += t.data.length; }
        return { kind: 'lsq-mse', st: observeAvgMseFast(o.st, subsampleElements({ dtype: 'float32', shape: [n], data: flat }, opts.budget.mseElements), { bits: opts.bits }) };
      }
      const rows = subsampleRows(concatLeading(pending.parts), opts.budget.hluqRows);
      return { kind: 'hluq', st: observeHybridParam(o.st, rows, pending.next!, { bits: opts.bits, referenceCompat: opts.referenceCompat }) };
    }
    case 'lnq':
    case 'agq': {
      specRequire(pending.kind === 'attn', { fn: 'flushSite', what: 'pending.kind', rule: "be 'attn' for an attention-probability site", got: pending.kind });
      let cur: SiteObserver = o;
      for (const g of pending.groups.values()) {
        if (saturated(cur, opts)) break;
        const s = subsampleAttention(concatLeading(g.P), concatLeading(g.V), opts.budget.attnElements);
        cur = cur.kind === 'lnq'
          ? { kind: 'lnq', st: observeLogTransform(cur.st, s.P, s.V, { bits: opts.bits }) }
          : { kind: 'agq', st: observeLogAvgMseFast((cur as Extract<SiteObserver, { kind: 'agq' }>).st, s.P, s.V, { bits: opts.bits }) };
      }
      return cur;
    }
  }
}

/**
 * Final parameters of a site's quantizer; CAG groups are formed by k-means straight to G groups
 * (calibration-only mode, METHOD.md §12).
 * @paper AHCQ-SAM:v4 §3.3, §5.3 (METHOD.md §12 calibration-only mode)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py (init_quantization of each quantizer)
 * @equation lsq: calc_qparams(avg mn, avg mx); cag: ℓ = kmeans_G([s_c, z_c]), (S_g, Z_g) = calc_qparams(min_g mn_c,
 *   max_g mx_c) ('cover', default) or the centroid ('centroid', the published rule); others: their searches' argmin
 * @deviation CAG: no progressive 8G→4G→2G→G schedule (there is no reconstruction to interleave it with); the
 *   default group range covers its members (`cagCoverGroups`): the published centroid scale is a starting point
 *   for learning that calibration-only mode does not do (docs/deviations.md "CAG group range")
 * @precision as the calib finalizers
 */
export function finalizeSite(o: SiteObserver, opts: { bits: number; groups: number; seed: number; nInit: number; cagGroupRange?: CagGroupRange }): ActParams {
  const { qmin, qmax } = qRange(opts.bits);
  switch (o.kind) {
    case 'lsq': {
      const u = finalizeAvgMinMax(o.st, { bits: opts.bits });
      return { kind: 'lsq', scale: u.scale, zeroPoint: u.zeroPoint, qmin, qmax };
    }
    case 'lsq-mse': {
      const u = finalizeAvgMseFast(o.st, { bits: opts.bits });
      return { kind: 'lsq', scale: u.scaleF32, zeroPoint: u.zeroPoint, qmin, qmax };
    }
    case 'cag': {
      const pc = finalizeAvgMinMaxGroup(o.st, { bits: opts.bits });
      const G = Math.min(opts.groups, pc.scales.length);
      const stage = cagGroupChannels(pc.scales, pc.zeroPoints, { bits: opts.bits, stages: [G], seed: opts.seed, nInit: opts.nInit })[0]!;
      const g = (opts.cagGroupRange ?? 'cover') === 'cover' ? cagCoverGroups(o.st.min, o.st.max, stage.params.labels, G, opts.bits) : stage.params;
      return { kind: 'cag', bits: opts.bits, groupScales: Array.from(g.groupScales), groupZeroPoints: Array.from(g.groupZeroPoints), labels: Array.from(g.labels) };
    }
    case 'hluq':
      return { kind: 'hluq', params: finalizeHybridParam(o.st, { bits: opts.bits }).params };
    case 'lnq': {
      const r = finalizeLogTransform(o.st, { bits: opts.bits });
      return { kind: 'lnq', params: { bits: opts.bits, s: r.scaleF32, alpha: r.alpha } };
    }
    case 'agq': {
      const r = finalizeLogAvgMseFast(o.st, { bits: opts.bits });
      return { kind: 'agq', params: { bits: opts.bits, s: r.scaleF32, tau: r.tau } };
    }
  }
}
