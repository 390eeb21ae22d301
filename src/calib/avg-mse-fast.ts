/**
 * AvgMSEFast observer: per batch, a bounded-Brent search for the clipping range minimising
 * `mean|Q(x) − x|^2.4`, 2-D (range, then shift) for two-signed data and 1-D for one-signed data;
 * ranges are running-averaged over batches (METHOD.md §2.4; initialises the decoder key quantizers
 * when BIG is on, §4.1).
 *
 * Legend: `R` range, `d` shift, `Δ = R/(qmax − qmin)`, candidate range `[−d, R − d]`,
 * `xmin/xmax` batch extremes (float32), `n` batches seen.
 *
 * Dtypes (authors-reference README §2): Brent works in float64; `calc_qparams` of a candidate runs in
 * float64 with ε = float32(1e−8) and quantizes with scale float32(s64) and zero point int(z64). Batch
 * results are float64 except a value clipped to the data extreme or forced to 0, which stays float32;
 * the running mean and the final `calc_qparams` run in float64 as soon as a float64 value took part.
 */
import { type Tensor, specRequire, f32 } from '../tensor';
import { calcQParamsKernel, qRange, fakeQuantKernel } from '../quant/uniform';
import { brentBounded, type BrentResult } from './brent';
import { batchMinMax } from './lp-loss';
import type { OneSideDist } from './mse-weight';

// TYPES

/** A scalar together with the dtype the reference holds it in. */
export interface TypedScalar {
  readonly value: number;
  readonly float64: boolean;
}

/** One top-level Brent call (the observer's search trace). */
export interface BrentCall extends BrentResult {
  readonly bounds: readonly [number, number];
}

export interface AvgMseFastBatch {
  readonly batchMin: TypedScalar;
  readonly batchMax: TypedScalar;
  /** Top-level calls: 1-D: the range search; 2-D: the range search, then the final shift search. */
  readonly calls: readonly BrentCall[];
  /** Inner (shift) searches run inside the range search's objective. */
  readonly nestedCalls: number;
}

export interface AvgMseFastState {
  readonly count: number;
  readonly oneSideDist: OneSideDist | null;
  readonly min: TypedScalar;
  readonly max: TypedScalar;
  readonly batches: readonly AvgMseFastBatch[];
}

export interface AvgMseFastOptions {
  readonly bits: number;
  /** Error exponent (reference 2.4). */
  readonly p?: number;
}

export interface AvgMseFastParams {
  /** Scale as the observer holds it (float64 when the running range is float64). */
  readonly scale: number;
  readonly zeroPoint: number;
  /** The scale as an LSQ quantizer stores it (float32). */
  readonly scaleF32: number;
  readonly qmin: number;
  readonly qmax: number;
}

// MAIN

/** Loss of a candidate range [a, b] (float64 bounds) on the float32 data. */
function rangeLoss(x: ArrayLike<number>, a: number, b: number, qmin: number, qmax: number, p: number): number {
  const { scale, zeroPoint } = calcQParamsKernel(a, b, qmin, qmax, false, true);
  const s = f32(scale);
  let acc = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    acc += f32(Math.pow(Math.abs(f32(fakeQuantKernel(v, s, zeroPoint, qmin, qmax) - v)), p));
  }
  return f32(f32(acc) / x.length);
}

function runningMean(old: TypedScalar, cur: TypedScalar, n: number): TypedScalar {
  const float64 = old.float64 || cur.float64;
  const r = float64 ? (v: number) => v : f32;
  return { value: r(r(r(old.value * n) + cur.value) / (n + 1)), float64 };
}

/**
 * The empty observer state.
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §2.4)
 * @equation n = 0
 * @deviation none
 * @precision exact
 */
export function initAvgMseFast(): AvgMseFastState {
  return { count: 0, oneSideDist: null, min: { value: Infinity, float64: false }, max: { value: -Infinity, float64: false }, batches: [] };
}

/**
 * Search one batch's clipping range and fold it into the running means.
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §2.4 AvgMSEFast)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#AvgMSEFastObserver.forward
 * @equation two-signed: R* = argmin_{R∈[min(0.1, 0.01·r), r]} min_{d∈[Δ·qmin, Δ·qmax]} L(−d, R − d), r = xmax − xmin;
 *           batch range [max(−d*, xmin), min(R* − d*, xmax)];  one-signed: R* = argmin L(0, R) or L(−R, 0);
 *           L(a, b) = mean|Q_{a,b}(x) − x|^p;  running mean over batches
 * @deviation none; the loss is summed in float64 (PyTorch: float32), so the Brent path can differ
 *            slightly from the reference's (rel ≈ 1e-6 on the resulting range)
 * @precision float64 search, float32 quantization, fp64-accumulate loss
 */
export function observeAvgMseFast(state: AvgMseFastState, batch: Tensor, opts: AvgMseFastOptions): AvgMseFastState {
  const fn = 'observeAvgMseFast';
  const p = opts.p ?? 2.4;
  const { qmin, qmax } = qRange(opts.bits);
  specRequire(Number.isFinite(p) && p > 0, { fn, what: 'p', rule: 'be finite and > 0', got: p });
  const { min: xmin, max: xmax } = batchMinMax(fn, batch);
  const x = batch.data;
  // one_side_dist is fixed by the FIRST batch
  const side: OneSideDist = state.oneSideDist ?? (xmin >= 0 ? 'pos' : xmax <= 0 ? 'neg' : 'no');
  let bMin: TypedScalar;
  let bMax: TypedScalar;
  const calls: BrentCall[] = [];
  let nested = 0;
  if (side === 'no') {
    const xr = f32(xmax - xmin);
    const shiftSearch = (R: number): BrentCall => {
      const lo = (R / (qmax - qmin)) * qmin;
      const hi = (R / (qmax - qmin)) * qmax;
      const r = brentBounded((d) => rangeLoss(x, 0 - d, R - d, qmin, qmax, p), lo, hi);
      return { ...r, bounds: [lo, hi] };
    };
    const lo = Math.min(0.1, 0.01 * xr);
    const outer = brentBounded(
      (R) => {
        nested += 1;
        return shiftSearch(R).fun;
      },
      lo,
      xr,
    );
    calls.push({ ...outer, bounds: [lo, xr] });
    const inner = shiftSearch(outer.x);
    calls.push(inner);
    const R = outer.x;
    const d = inner.x;
    bMin = xmin > -d ? { value: xmin, float64: false } : { value: -d, float64: true };
    bMax = xmax < R - d ? { value: xmax, float64: false } : { value: R - d, float64: true };
  } else {
    const xr = Math.max(Math.abs(xmin), xmax);
    const lo = Math.min(0.1, 0.01 * xr);
    const r = brentBounded((R) => (side === 'pos' ? rangeLoss(x, 0, R, qmin, qmax, p) : rangeLoss(x, -R, 0, qmin, qmax, p)), lo, xr);
    calls.push({ ...r, bounds: [lo, xr] });
    bMin = side === 'pos' ? { value: 0, float64: false } : { value: -r.x, float64: true };
    bMax = side === 'pos' ? { value: r.x, float64: true } : { value: 0, float64: false };
  }
  const entry: AvgMseFastBatch = { batchMin: bMin, batchMax: bMax, calls, nestedCalls: nested };
  if (state.count === 0) return { count: 1, oneSideDist: side, min: bMin, max: bMax, batches: [entry] };
  return {
    count: state.count + 1,
    oneSideDist: side,
    min: runningMean(state.min, bMin, state.count),
    max: runningMean(state.max, bMax, state.count),
    batches: [...state.batches, entry],
  };
}

/**
 * Quantizer parameters from the averaged range.
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §2.2, §2.4)
 * @equation (s, z) = calc_qparams(mn, mx) in the running values' dtype;  s_f32 = float32(s)
 * @deviation none
 * @precision float64 or float32 as the reference
 */
export function finalizeAvgMseFast(state: AvgMseFastState, opts: { bits: number }): AvgMseFastParams {
  specRequire(state.count > 0, { fn: 'finalizeAvgMseFast', what: 'state.count', rule: 'be > 0 (observe at least one batch)', got: state.count });
  const { qmin, qmax } = qRange(opts.bits);
  const f64 = state.min.float64 || state.max.float64;
  const { scale, zeroPoint } = calcQParamsKernel(state.min.value, state.max.value, qmin, qmax, false, f64);
  return { scale, zeroPoint, scaleF32: f32(scale), qmin, qmax };
}
