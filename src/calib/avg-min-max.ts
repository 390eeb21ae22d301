/**
 * AvgMinMax observer: running mean of per-batch minimum and maximum, then `calc_qparams`
 * (METHOD.md §2.4; the default activation observer, feeding an LSQ quantizer).
 *
 * Legend: `n` batches seen, `mn`/`mx` running means, `cur` the batch extreme.
 * Pure reducer: `observeAvgMinMax(state, batch) → state`, `finalizeAvgMinMax(state, opts) → params`.
 */
import { type Tensor, specRequire, f32 } from '../tensor';
import { calcQParams, qRange } from '../quant/uniform';
import type { UniformParams } from '../quant/qparams';
import { batchMinMax } from './lp-loss';

// TYPES

export interface AvgMinMaxState {
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

// MAIN

/**
 * The empty observer state.
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §2.4)
 * @equation n = 0
 * @deviation none
 * @precision exact
 */
export function initAvgMinMax(): AvgMinMaxState {
  return { count: 0, min: Infinity, max: -Infinity };
}

/**
 * Fold one batch into the running means (the first batch sets them).
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §2.4)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#AvgMinMaxObserver.forward
 * @equation mn ← (mn·n + min(batch))/(n + 1), mx likewise; n ← n + 1
 * @deviation none
 * @precision float32 ops emulated (mn·n + cur rounded, then the division rounded); bit-exact
 */
export function observeAvgMinMax(state: AvgMinMaxState, batch: Tensor): AvgMinMaxState {
  const cur = batchMinMax('observeAvgMinMax', batch);
  if (state.count === 0) return { count: 1, min: cur.min, max: cur.max };
  const n = state.count;
  return {
    count: n + 1,
    min: f32(f32(f32(state.min * n) + cur.min) / (n + 1)),
    max: f32(f32(f32(state.max * n) + cur.max) / (n + 1)),
  };
}

/**
 * Quantizer parameters from the observed range.
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §2.2, §2.4)
 * @equation (s, z) = calc_qparams(mn, mx)
 * @deviation none
 * @precision float32 ops emulated; bit-exact
 */
export function finalizeAvgMinMax(state: AvgMinMaxState, opts: { bits: number; symmetric?: boolean }): UniformParams {
  specRequire(state.count > 0, { fn: 'finalizeAvgMinMax', what: 'state.count', rule: 'be > 0 (observe at least one batch)', got: state.count });
  const { qmin, qmax } = qRange(opts.bits, opts.symmetric ?? false);
  return { ...calcQParams(state.min, state.max, opts), qmin, qmax };
}
