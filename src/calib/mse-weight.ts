/**
 * MSE observer for weights: per-output-channel grid search of the clipping range minimising
 * `mean|Q(w) − w|^p` (p = 2.4, 100 range steps), 2-D (range × zero point) when the tensor has both
 * signs, 1-D (range only) when it is one-signed (METHOD.md §2.5).
 *
 * Legend: `C` channels along axis 0, `R_c` channel range, `M = R_c·i/100` candidate range,
 * `Δ = M/(qmax − qmin)`, `zp` candidate zero point, candidate range `[−zp·Δ, M − zp·Δ]`.
 * Ties: strict `<`, so the first best candidate (smallest i, then smallest zp) is kept.
 */
import { type Tensor, specRequire, requireFinite, f32, numel } from '../tensor';
import { calcQParams, calcQParamsKernel, qRange, fakeQuantKernel } from '../quant/uniform';
import type { PerChannelParams } from '../quant/qparams';

// TYPES

export type OneSideDist = 'pos' | 'neg' | 'no';

export interface MseWeightOptions {
  readonly bits: number;
  /** Error exponent (reference 2.4). */
  readonly p?: number;
  /** Number of range steps (reference 100). */
  readonly num?: number;
}

export interface MseWeightResult {
  readonly oneSideDist: OneSideDist;
  readonly minVal: Float32Array;
  readonly maxVal: Float32Array;
  readonly params: PerChannelParams;
}

// MAIN

function channelScore(w: ArrayLike<number>, off: number, n: number, mn: number, mx: number, p: number, qmin: number, qmax: number): number {
  const { scale, zeroPoint } = calcQParamsKernel(mn, mx, qmin, qmax, false, false);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    const x = w[off + k]!;
    acc += f32(Math.pow(Math.abs(f32(fakeQuantKernel(x, scale, zeroPoint, qmin, qmax) - x)), p));
  }
  return f32(f32(acc) / n);
}

/**
 * Per-output-channel MSE range search for a weight `[C, …]` (channel axis 0).
 * @paper AHCQ-SAM:v4 §Weights (METHOD.md §2.5 "Range initialisation")
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#MSEObserver.perform_2D_search
 * @equation (mn_c, mx_c) = argmin over i = 1..100, zp = qmin..qmax of mean_c |Q(W_c; −zp·Δ, M − zp·Δ) − W_c|^2.4;
 *           one-signed tensors: argmin over i of [0, t_i] or [−t_i, 0], t_i = max(|min_c|, max_c)·i/100
 * @deviation none; the score is summed in float64 (PyTorch: float32), so near-ties (see the vectors'
 *            diag_f64_rel_margin) may resolve differently
 * @precision float32 candidates and quantization; fp64-accumulate scores
 */
export function mseWeightPerChannel(w: Tensor, opts: MseWeightOptions): MseWeightResult {
  const fn = 'mseWeightPerChannel';
  const p = opts.p ?? 2.4;
  const num = opts.num ?? 100;
  const { qmin, qmax } = qRange(opts.bits);
  specRequire(w.shape.length >= 1 && numel(w.shape) > 0, { fn, what: 'w', rule: 'be non-empty with rank ≥ 1', got: w.shape });
  specRequire(Number.isFinite(p) && p > 0, { fn, what: 'p', rule: 'be finite and > 0', got: p });
  specRequire(Number.isInteger(num) && num >= 1, { fn, what: 'num', rule: 'be a positive integer', got: num });
  requireFinite(fn, 'w', w.data);
  const C = w.shape[0]!;
  const n = w.data.length / C;
  // one_side_dist is decided on the WHOLE tensor
  let gMin = Infinity;
  let gMax = -Infinity;
  for (let i = 0; i < w.data.length; i++) {
    gMin = Math.min(gMin, w.data[i]!);
    gMax = Math.max(gMax, w.data[i]!);
  }
  const oneSideDist: OneSideDist = gMin >= 0 ? 'pos' : gMax <= 0 ? 'neg' : 'no';
  const minVal = new Float32Array(C);
  const maxVal = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const off = c * n;
    let xMin = Infinity;
    let xMax = -Infinity;
    for (let k = 0; k < n; k++) {
      xMin = Math.min(xMin, w.data[off + k]!);
      xMax = Math.max(xMax, w.data[off + k]!);
    }
    let bestScore = f32(1e10);
    let bestMin = xMin;
    let bestMax = xMax;
    const consider = (mn: number, mx: number): void => {
      const score = channelScore(w.data, off, n, mn, mx, p, qmin, qmax);
      if (score < bestScore) {
        bestScore = score;
        bestMin = mn;
        bestMax = mx;
      }
    };
    if (oneSideDist === 'no') {
      // 2-D search: range M × zero point
      const mn0 = Math.min(xMin, 0);
      const mx0 = Math.max(xMax, 0);
      const xrange = f32(mx0 - mn0);
      for (let i = 1; i <= num; i++) {
        const M = f32(f32(xrange / num) * i);
        const delta = f32(M / (qmax - qmin));
        for (let zp = qmin; zp <= qmax; zp++) {
          const shift = f32(zp * delta);
          consider(f32(0 - shift), f32(M - shift));
        }
      }
    } else {
      // 1-D search over a one-signed range
      const absMax = Math.max(Math.abs(xMin), xMax);
      for (let i = 1; i <= num; i++) {
        const thres = f32(f32(absMax / num) * i);
        if (oneSideDist === 'pos') consider(0, thres);
        else consider(-thres, 0);
      }
    }
    minVal[c] = bestMin;
    maxVal[c] = bestMax;
  }
  const scales = new Float32Array(C);
  const zeroPoints = new Int32Array(C);
  for (let c = 0; c < C; c++) {
    const q = calcQParams(minVal[c]!, maxVal[c]!, { bits: opts.bits });
    scales[c] = q.scale;
    zeroPoints[c] = q.zeroPoint;
  }
  return { oneSideDist, minVal, maxVal, params: { scales, zeroPoints, axis: 0, qmin, qmax } };
}
