/**
 * Activation quantizers of the pipeline as data (`ActParams`), the fake-quant function that applies
 * them, and the per-site calibration observers (reducers over calibration batches) that produce them.
 *
 * Heavy searches see a deterministic subsample of each batch (documented in docs/quantization-plan.md):
 * rows for HLUQ, windows/batch rows for LNQ / AGQ, elements for the AvgMSEFast key range.
 */
import { specRequire, type Tensor } from '../tensor';
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
import { cagGroupChannels } from '../calib/cag';
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
 * Fold one calibration batch into a site's observer.
 * @paper AHCQ-SAM:v4 §5.3 (METHOD.md §2.4, §3.2, §3.4, §4.2)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py (AvgMinMax, AvgMinMaxGroup, AvgMSEFast, HybridParam, LogTransform, LogAvgMSEFast)
 * @equation state' = observe(state, batch)
 * @deviation HLUQ, LNQ, AGQ and AvgMSEFast see a deterministic subsample of each batch and only the
 *   first `budget.searchBatches` batches of a site (`budget`)
 * @precision as the calib observers
 */
export function observeSite(o: SiteObserver, x: Tensor, ctx: { v?: Tensor; next?: NextLinear }, opts: ObserveOptions): SiteObserver {
  const fn = 'observeSite';
  if (o.kind !== 'lsq' && o.kind !== 'cag' && o.st.count >= opts.budget.searchBatches) return o;
  switch (o.kind) {
    case 'lsq':
      return { kind: 'lsq', st: observeAvgMinMax(o.st, x) };
    case 'lsq-mse':
      return { kind: 'lsq-mse', st: observeAvgMseFast(o.st, subsampleElements(x, opts.budget.mseElements), { bits: opts.bits }) };
    case 'cag':
      return { kind: 'cag', st: observeAvgMinMaxGroup(o.st, x) };
    case 'hluq':
      specRequire(ctx.next !== undefined, { fn, what: 'ctx.next', rule: 'be given for an HLUQ site (the following Linear)', got: 'undefined' });
      return { kind: 'hluq', st: observeHybridParam(o.st, subsampleRows(x, opts.budget.hluqRows), ctx.next, { bits: opts.bits, referenceCompat: opts.referenceCompat }) };
    case 'lnq':
    case 'agq': {
      specRequire(ctx.v !== undefined, { fn, what: 'ctx.v', rule: 'be given for an attention-probability site', got: 'undefined' });
      const s = subsampleAttention(x, ctx.v, opts.budget.attnElements);
      return o.kind === 'lnq'
        ? { kind: 'lnq', st: observeLogTransform(o.st, s.P, s.V, { bits: opts.bits }) }
        : { kind: 'agq', st: observeLogAvgMseFast(o.st, s.P, s.V, { bits: opts.bits }) };
    }
  }
}

/**
 * Final parameters of a site's quantizer; CAG groups are formed by k-means straight to G groups
 * (calibration-only mode, METHOD.md §12).
 * @paper AHCQ-SAM:v4 §3.3, §5.3 (METHOD.md §12 calibration-only mode)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py (init_quantization of each quantizer)
 * @equation lsq: calc_qparams(avg mn, avg mx); cag: kmeans_G([s_c, z_c]); others: their searches' argmin
 * @deviation CAG: no progressive 8G→4G→2G→G schedule (there is no reconstruction to interleave it with)
 * @precision as the calib finalizers
 */
export function finalizeSite(o: SiteObserver, opts: { bits: number; groups: number; seed: number; nInit: number }): ActParams {
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
      return { kind: 'cag', bits: opts.bits, groupScales: Array.from(stage.params.groupScales), groupZeroPoints: Array.from(stage.params.groupZeroPoints), labels: Array.from(stage.params.labels) };
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
