/**
 * AvgMinMaxGroup observer: per-channel (last axis) running means of minimum and maximum, then
 * per-channel `calc_qparams` — the calibration of CAG before grouping (METHOD.md §2.4, §3.3).
 *
 * Legend: `C` channels (last axis), `n` batches seen, `mn_c`/`mx_c` running means per channel.
 */
import { type Tensor, specRequire, requireFinite, f32, numel } from '../tensor';
import { calcQParams, qRange } from '../quant/uniform';
import type { PerChannelParams } from '../quant/qparams';

// TYPES

export interface AvgMinMaxGroupState {
  readonly count: number;
  /** Channels (0 before the first batch). */
  readonly channels: number;
  readonly min: Float32Array;
  readonly max: Float32Array;
}

// MAIN

/**
 * The empty observer state.
 * @paper AHCQ-SAM:v4 §CAG (METHOD.md §2.4)
 * @equation n = 0
 * @deviation none
 * @precision exact
 */
export function initAvgMinMaxGroup(): AvgMinMaxGroupState {
  return { count: 0, channels: 0, min: new Float32Array(0), max: new Float32Array(0) };
}

/**
 * Fold one batch `[…, C]` into the per-channel running means (the first batch sets them).
 * @paper AHCQ-SAM:v4 §CAG (METHOD.md §2.4, §3.3)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#AvgMinMaxGroupObserver.forward
 * @equation mn_c ← (mn_c·n + min_{…} batch[…, c])/(n + 1), mx_c likewise
 * @deviation none
 * @precision float32 ops emulated; bit-exact
 */
export function observeAvgMinMaxGroup(state: AvgMinMaxGroupState, batch: Tensor): AvgMinMaxGroupState {
  const fn = 'observeAvgMinMaxGroup';
  specRequire(batch.shape.length >= 1 && numel(batch.shape) > 0, { fn, what: 'batch', rule: 'be non-empty with rank ≥ 1', got: batch.shape });
  requireFinite(fn, 'batch', batch.data);
  const C = batch.shape[batch.shape.length - 1]!;
  specRequire(state.count === 0 || state.channels === C, { fn, what: 'batch.shape[-1]', rule: `equal the channels seen before (${state.channels})`, got: C });
  const curMin = new Float32Array(C).fill(Infinity);
  const curMax = new Float32Array(C).fill(-Infinity);
  for (let i = 0; i < batch.data.length; i++) {
    const c = i % C;
    const v = batch.data[i]!;
    if (v < curMin[c]!) curMin[c] = v;
    if (v > curMax[c]!) curMax[c] = v;
  }
  if (state.count === 0) return { count: 1, channels: C, min: curMin, max: curMax };
  const n = state.count;
  const mn = new Float32Array(C);
  const mx = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    mn[c] = f32(f32(state.min[c]! * n) + curMin[c]!) / (n + 1);
    mx[c] = f32(f32(state.max[c]! * n) + curMax[c]!) / (n + 1);
  }
  return { count: n + 1, channels: C, min: mn, max: mx };
}

/**
 * Per-channel quantizer parameters (channel axis = last) from the observed ranges.
 * @paper AHCQ-SAM:v4 §CAG (METHOD.md §2.2, §3.3)
 * @equation (s_c, z_c) = calc_qparams(mn_c, mx_c)
 * @deviation none
 * @precision float32 ops emulated; bit-exact
 */
export function finalizeAvgMinMaxGroup(state: AvgMinMaxGroupState, opts: { bits: number }): PerChannelParams {
  specRequire(state.count > 0, { fn: 'finalizeAvgMinMaxGroup', what: 'state.count', rule: 'be > 0 (observe at least one batch)', got: state.count });
  const { qmin, qmax } = qRange(opts.bits);
  const scales = new Float32Array(state.channels);
  const zeroPoints = new Int32Array(state.channels);
  for (let c = 0; c < state.channels; c++) {
    const p = calcQParams(state.min[c]!, state.max[c]!, { bits: opts.bits });
    scales[c] = p.scale;
    zeroPoints[c] = p.zeroPoint;
  }
  return { scales, zeroPoints, axis: -1, qmin, qmax };
}
