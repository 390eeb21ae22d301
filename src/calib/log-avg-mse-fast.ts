/**
 * LogAvgMSEFast observer: the AGQ calibration search (PTQ4SAM). Per batch and per granularity τ, a
 * bounded Brent search over the scale s minimising `mean|AGQ(P)·V − P·V|^2.4`; scales are running-averaged
 * and errors summed; the τ with the smallest summed error wins (METHOD.md §4.2).
 *
 * Legend: `P` softmax output `[…, N, K]`, `V` values `[…, K, D]`, `τ ∈ {1, 2, 4}`, `xr = max(|min P|, max P)`.
 */
import { type Tensor, specRequire, f32 } from '../tensor';
import { agqCodeKernel, agqValueKernel } from '../quant/agq';
import { requireBits } from '../quant/qparams';
import { brentBounded, type BrentResult } from './brent';
import { lpLossMean, matmulBatchedF32 } from './lp-loss';
import { requireAttention } from './log-transform';

// TYPES

export interface LogAvgMseFastOptions {
  readonly bits: number;
  /** Granularities in search order (reference [1, 2, 4]). */
  readonly taus?: readonly number[];
  /** Error exponent (reference 2.4). */
  readonly p?: number;
}

export interface LogAvgMseFastSearch extends BrentResult {
  readonly tau: number;
  readonly bounds: readonly [number, number];
}

export interface LogAvgMseFastState {
  readonly count: number;
  readonly scales: Float64Array;
  readonly errors: Float32Array;
  readonly searches: readonly (readonly LogAvgMseFastSearch[])[];
}

export interface LogAvgMseFastResult {
  readonly tau: number;
  readonly scale: number;
  readonly scaleF32: number;
}

// CONSTANTS

export const AGQ_TAUS: readonly number[] = [1, 2, 4];

// MAIN

/**
 * The empty observer state.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @equation n = 0
 * @deviation none
 * @precision exact
 */
export function initLogAvgMseFast(opts: LogAvgMseFastOptions): LogAvgMseFastState {
  const k = (opts.taus ?? AGQ_TAUS).length;
  return { count: 0, scales: new Float64Array(k), errors: new Float32Array(k), searches: [] };
}

/**
 * Search every τ on one batch (P, V) and fold the results in.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @source PTQ4SAM-code ptq4sam/quantization/observer.py#LogAvgMSEFastObserver.forward
 * @equation s*_τ = argmin_{s∈[min(0.1, 0.01·xr), xr]} mean|AGQ_{s,τ}(P)·V − P·V|^2.4;  S_τ ← running mean;  E_τ += err_τ
 * @deviation none; matmul and mean accumulate in float64 (PyTorch: float32)
 * @precision float64 search, float32 quantization, fp64-accumulate objective
 */
export function observeLogAvgMseFast(state: LogAvgMseFastState, P: Tensor, V: Tensor, opts: LogAvgMseFastOptions): LogAvgMseFastState {
  const fn = 'observeLogAvgMseFast';
  requireBits(fn, opts.bits);
  requireAttention(fn, P, V);
  const taus = opts.taus ?? AGQ_TAUS;
  specRequire(state.scales.length === taus.length, { fn, what: 'state', rule: `come from initLogAvgMseFast with ${taus.length} taus`, got: state.scales.length });
  for (const t of taus) specRequire(Number.isInteger(t) && t >= 1, { fn, what: 'taus', rule: 'be positive integers', got: taus });
  const p = opts.p ?? 2.4;
  const L = 2 ** opts.bits;
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < P.data.length; i++) {
    mn = Math.min(mn, P.data[i]!);
    mx = Math.max(mx, P.data[i]!);
  }
  const xr = Math.max(Math.abs(mn), mx);
  specRequire(xr > 0, { fn, what: 'max|P|', rule: 'be > 0', got: xr });
  const lo = Math.min(0.1, 0.01 * xr);
  const ref = matmulBatchedF32(P.data, P.shape, V);
  const q = new Float32Array(P.data.length);
  const scales = state.scales.slice();
  const errors = state.errors.slice();
  const searches: LogAvgMseFastSearch[] = [];
  taus.forEach((tau, j) => {
    const objective = (sv: number): number => {
      const s = f32(sv);
      for (let i = 0; i < q.length; i++) q[i] = agqValueKernel(agqCodeKernel(P.data[i]!, s, tau, L), s, tau, L);
      return lpLossMean(matmulBatchedF32(q, P.shape, V), ref, p);
    };
    const r = brentBounded(objective, lo, xr);
    searches.push({ ...r, tau, bounds: [lo, xr] });
    scales[j] = state.count === 0 ? r.x : (scales[j]! * state.count + r.x) / (state.count + 1);
    errors[j] = f32(errors[j]! + r.fun);
  });
  return { count: state.count + 1, scales, errors, searches: [...state.searches, searches] };
}

/**
 * Choose τ by the summed error (first minimum) and return its averaged scale.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @source PTQ4SAM-code ptq4sam/quantization/fake_quant.py#AdaptiveGranularityQuantize.init_quantization
 * @equation τ* = argmin_τ E_τ;  s* = S_τ*
 * @deviation none
 * @precision float64 scale; float32 copy for the quantizer
 */
export function finalizeLogAvgMseFast(state: LogAvgMseFastState, opts: LogAvgMseFastOptions): LogAvgMseFastResult {
  specRequire(state.count > 0, { fn: 'finalizeLogAvgMseFast', what: 'state.count', rule: 'be > 0 (observe at least one batch)', got: state.count });
  const taus = opts.taus ?? AGQ_TAUS;
  let best = 0;
  for (let j = 1; j < taus.length; j++) if (state.errors[j]! < state.errors[best]!) best = j;
  return { tau: taus[best]!, scale: state.scales[best]!, scaleF32: f32(state.scales[best]!) };
}
