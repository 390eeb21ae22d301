/**
 * HybridParam observer: the HLUQ calibration search. Running means of min/max per batch, and for every
 * (range rate r, grid rate g) the loss of HLUQ-quantized activations measured through the following
 * Linear layer; the (r, g) with the smallest batch-averaged loss wins (METHOD.md §3.2).
 *
 * Legend: `mn/mx` running means, `R = mx − mn`, `r ∈ {0.1, 0.3, 0.5}`, `g ∈ {1/8, 1/4, 1/2}`,
 * `s_log = R·r`, `s_uni = R·(1 − r)/((qmax − qmin)·(1 − g))`, `W, b` the next Linear (lin2) FP weight.
 */
import { type Tensor, specRequire, f32 } from '../tensor';
import { qRange } from '../quant/uniform';
import { fakeQuantHluqTensor, type HluqParams } from '../quant/hluq';
import type { CompatOptions } from '../quant/qparams';
import { batchMinMax, linearF32, lpLossMean } from './lp-loss';

// TYPES

export interface HybridParamOptions extends CompatOptions {
  readonly bits: number;
  /** Range rates, outer loop (reference [0.1, 0.3, 0.5]). */
  readonly rangeRates?: readonly number[];
  /** Grid rates, inner loop (reference [1/8, 1/4, 1/2]). */
  readonly gridRates?: readonly number[];
}

/** The next Linear layer through which the loss is measured. */
export interface NextLinear {
  readonly weight: Tensor; // [out, in]
  readonly bias: Tensor | null; // [out]
}

export interface HybridParamState {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  /** Per batch, the loss of every (r, g) in grid order (r outer, g inner). */
  readonly lossPerBatch: readonly Float32Array[];
}

export interface HybridParamResult {
  readonly params: HluqParams;
  readonly rangeRate: number;
  readonly gridRate: number;
  /** Batch-averaged loss per (r, g), grid order. */
  readonly lossAvg: Float64Array;
  /** The (r, g) grid in evaluation order. */
  readonly configGrid: readonly (readonly [number, number])[];
}

// CONSTANTS

export const HLUQ_RANGE_RATES: readonly number[] = [0.1, 0.3, 0.5];
export const HLUQ_GRID_RATES: readonly number[] = [0.125, 0.25, 0.5];

// MAIN

function grid(opts: HybridParamOptions): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  for (const r of opts.rangeRates ?? HLUQ_RANGE_RATES) for (const g of opts.gridRates ?? HLUQ_GRID_RATES) out.push([r, g]);
  return out;
}

/**
 * HLUQ parameters for a range and (r, g), as the reference builds them.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2 "Calibration search")
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#HybridQuantize.init_quantization
 * @equation m = mn, R = mx − mn, s_log = R·r, s_uni = R·(1 − r)/((qmax − qmin)·(1 − g))
 * @deviation none
 * @precision float32 ops emulated (Python scalars enter as float32)
 */
export function hluqParamsFromRange(mn: number, mx: number, r: number, g: number, bits: number): HluqParams {
  const { qmin, qmax } = qRange(bits);
  specRequire(Number.isFinite(mn) && Number.isFinite(mx) && mx > mn, { fn: 'hluqParamsFromRange', what: 'mx − mn', rule: 'be finite and > 0', got: [mn, mx] });
  const R = f32(mx - mn);
  return { version: 'v4', bits, m: mn, sLog: f32(R * f32(r)), sUni: f32(f32(R * f32(1 - r)) / f32((qmax - qmin) * (1 - g))), g };
}

/**
 * The empty observer state.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @equation n = 0
 * @deviation none
 * @precision exact
 */
export function initHybridParam(): HybridParamState {
  return { count: 0, min: Infinity, max: -Infinity, lossPerBatch: [] };
}

/**
 * Fold one batch `[…, in]`: update the running min/max, then score every (r, g) through the next Linear.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2 "Calibration search")
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#HybridParamObserver.forward
 * @equation loss(r, g) = mean((Linear(HLUQ_{r,g}(x)) − Linear(x))²)
 * @deviation the reference HLUQ includes the underflow quirk; this uses `referenceCompat` (default
 *            false: the intended HLUQ, Project decision 1)
 * @precision running means float32-exact; loss fp64-accumulate, fp32-store
 */
export function observeHybridParam(state: HybridParamState, batch: Tensor, next: NextLinear, opts: HybridParamOptions): HybridParamState {
  const fn = 'observeHybridParam';
  const cur = batchMinMax(fn, batch);
  const inF = batch.shape[batch.shape.length - 1]!;
  specRequire(next.weight.shape.length === 2 && next.weight.shape[1] === inF, { fn, what: 'next.weight.shape', rule: `be [out, ${inF}]`, got: next.weight.shape });
  const n = state.count;
  const mn = n === 0 ? cur.min : f32(f32(f32(state.min * n) + cur.min) / (n + 1));
  const mx = n === 0 ? cur.max : f32(f32(f32(state.max * n) + cur.max) / (n + 1));
  const ref = linearF32(batch.data, inF, next.weight, next.bias);
  const cfg = grid(opts);
  const losses = new Float32Array(cfg.length);
  cfg.forEach(([r, g], j) => {
    const p = hluqParamsFromRange(mn, mx, r, g, opts.bits);
    const xq = fakeQuantHluqTensor(batch, p, opts);
    losses[j] = lpLossMean(linearF32(xq.data, inF, next.weight, next.bias), ref, 2);
  });
  return { count: n + 1, min: mn, max: mx, lossPerBatch: [...state.lossPerBatch, losses] };
}

/**
 * Choose (r, g) by the batch-averaged loss (first minimum in grid order) and build the final parameters.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2 "Calibration search")
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#HybridQuantize.init_quantization
 * @equation (r*, g*) = argmin_j (1/B)·Σ_batches loss_j;  params = hluqParamsFromRange(mn, mx, r*, g*)
 * @deviation none
 * @precision float64 average of float32 losses (as the reference's Python sum)
 */
export function finalizeHybridParam(state: HybridParamState, opts: HybridParamOptions): HybridParamResult {
  specRequire(state.count > 0, { fn: 'finalizeHybridParam', what: 'state.count', rule: 'be > 0 (observe at least one batch)', got: state.count });
  const cfg = grid(opts);
  const lossAvg = new Float64Array(cfg.length);
  for (let j = 0; j < cfg.length; j++) {
    let sum = 0;
    for (const l of state.lossPerBatch) sum += l[j]!;
    lossAvg[j] = sum / state.count;
  }
  let best = 0;
  for (let j = 1; j < cfg.length; j++) if (lossAvg[j]! < lossAvg[best]!) best = j;
  const [r, g] = cfg[best]!;
  return { params: hluqParamsFromRange(state.min, state.max, r, g, opts.bits), rangeRate: r, gridRate: g, lossAvg, configGrid: cfg };
}
