/**
 * BIG (Bimodal Integration, PTQ4SAM) detection: is the post-`k_proj` key distribution bimodal, and if
 * so, which channel signs fold it into one mode (METHOD.md §4.1). The fold itself is
 * `src/quant/big.ts#foldBigSigns`.
 *
 * Legend: keys K [boxes, tokens, C]; data = K[0] flattened (first box only); Gaussian KDE with Scott's
 * bandwidth evaluated on 128 points; peaks with height ≥ 0.01·Σy and index distance ≥ 32;
 * bimodal ⇔ exactly 2 peaks; sign_c = sign(mean_{boxes, tokens} K[…, c]).
 */
import { specRequire, type Tensor } from '../tensor';
import { foldBigSigns, type BigProjection } from '../quant/big';

// TYPES

/** A fitted one-dimensional Gaussian KDE. */
export interface GaussianKde {
  /** Number of data points n. */
  readonly n: number;
  /** Scott's factor n^(−1/5). */
  readonly factor: number;
  /** Kernel variance = factor² · unbiased variance of the data. */
  readonly covariance: number;
}

export interface FindPeaksOptions {
  /** Minimum peak height (inclusive). */
  readonly height?: number;
  /** Minimum index distance between kept peaks (≥ 1); higher peaks win. */
  readonly distance?: number;
}

export interface BimodalJudgement {
  readonly isBimodal: boolean;
  /** Indices into kdeX of the peaks that survived the filters. */
  readonly peaks: Int32Array;
  /** All local maxima before the height and distance filters. */
  readonly localMaxima: Int32Array;
  readonly kdeX: Float64Array;
  readonly kdeY: Float64Array;
  readonly heightThreshold: number;
  readonly kde: GaussianKde;
}

export interface BigOptions {
  /** Grid points of the KDE (`global_num`, 128). */
  readonly gridPoints?: number;
  /** Relative peak height (`peak_height`, 0.01 of Σy). */
  readonly peakHeight?: number;
  /** Peak distance in grid points (`peak_distance`, 32). */
  readonly peakDistance?: number;
}

// CONSTANTS

/** PTQ4SAM config: global_num 128, peak_height 0.01, peak_distance 32 (METHOD.md §4.1, §5.2). */
export const BIG_DEFAULTS: Required<BigOptions> = Object.freeze({ gridPoints: 128, peakHeight: 0.01, peakDistance: 32 });

// MAIN

/**
 * Fit a 1-D Gaussian KDE with Scott's rule: factor n^(−1/5), kernel variance factor²·s² (s² unbiased).
 * @paper PTQ4SAM (arXiv:2405.03144) BIG; AHCQ-SAM:v4 §4.1 (METHOD.md)
 * @source SciPy 1.10 scipy/stats/_kde.py#gaussian_kde (documented: scotts_factor, covariance = data covariance · factor²)
 * @equation f = n^(−1/5);  σ_k² = f² · Σ(xᵢ − x̄)²/(n − 1)
 * @deviation none
 * @precision fp64
 */
export function gaussianKdeFit(data: ArrayLike<number>): GaussianKde {
  const fn = 'gaussianKdeFit';
  const n = data.length;
  specRequire(n >= 2, { fn, what: 'data.length', rule: 'be ≥ 2', got: n, ref: 'METHOD.md §4.1' });
  let mean = 0;
  for (let i = 0; i < n; i++) {
    specRequire(Number.isFinite(data[i]!), { fn, what: `data[${i}]`, rule: 'be finite', got: data[i], ref: 'METHOD.md §4.1' });
    mean += data[i]!;
  }
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) { const e = data[i]! - mean; ss += e * e; }
  const variance = ss / (n - 1);
  specRequire(variance > 0, { fn, what: 'data', rule: 'not be constant (the KDE bandwidth would be 0)', got: `all ${data[0]}`, ref: 'METHOD.md §4.1' });
  const factor = Math.pow(n, -1 / 5);
  return { n, factor, covariance: variance * factor * factor };
}

/**
 * Evaluate the KDE of `data` at `points`: mean of Gaussian kernels with variance `kde.covariance`.
 * @paper AHCQ-SAM:v4 §4.1 (METHOD.md)
 * @source SciPy 1.10 scipy/stats/_kde.py#gaussian_kde.evaluate (kernels on whitened data, summed over data points)
 * @equation f̂(x) = (1/n) Σᵢ (2π σ_k²)^(−1/2) exp(−(x − xᵢ)²/(2σ_k²))
 * @deviation none
 * @precision fp64; data-point order of summation as the reference (≈1e-15 relative)
 */
export function gaussianKdeEvaluate(data: ArrayLike<number>, kde: GaussianKde, points: ArrayLike<number>): Float64Array {
  specRequire(data.length === kde.n, { fn: 'gaussianKdeEvaluate', what: 'data.length', rule: `equal kde.n (${kde.n})`, got: data.length });
  const sd = Math.sqrt(kde.covariance);
  const norm = Math.pow(2 * Math.PI, -0.5) / sd;
  const w = 1 / kde.n;
  const xs = Float64Array.from(data, (v) => v / sd); // whitened data
  const out = new Float64Array(points.length);
  for (let j = 0; j < points.length; j++) {
    const p = points[j]! / sd;
    let est = 0;
    for (let i = 0; i < xs.length; i++) {
      const r = xs[i]! - p;
      est += w * (Math.exp(-(r * r) / 2) * norm);
    }
    out[j] = est;
  }
  return out;
}

/**
 * `num` evenly spaced values from `start` to `stop` inclusive (NumPy linspace: start + i·step, last = stop).
 * @source NumPy numpy/core/function_base.py#linspace (documented behaviour)
 * @equation xᵢ = start + i·(stop − start)/(num − 1), x_{num−1} = stop
 * @deviation none
 * @precision fp64
 */
export function linspace(start: number, stop: number, num: number): Float64Array {
  specRequire(Number.isInteger(num) && num >= 2, { fn: 'linspace', what: 'num', rule: 'be an integer ≥ 2', got: num });
  const step = (stop - start) / (num - 1);
  const out = new Float64Array(num);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * Local maxima of a 1-D signal, a flat plateau counting once at its middle index (left-biased);
 * end points are never maxima.
 * @source SciPy scipy/signal/_peak_finding_utils.pyx#_local_maxima_1d (documented semantics)
 * @equation i is a peak ⇔ y[l−1] < y[l] = … = y[r] > y[r+1], reported at ⌊(l + r)/2⌋
 * @deviation none
 * @precision exact
 */
export function localMaxima(y: ArrayLike<number>): Int32Array {
  const out: number[] = [];
  const last = y.length - 1;
  let i = 1;
  while (i < last) {
    if (y[i - 1]! < y[i]!) {
      let ahead = i + 1;
      while (ahead < last && y[ahead] === y[i]) ahead++;
      if (y[ahead]! < y[i]!) {
        out.push(Math.floor((i + ahead - 1) / 2));
        i = ahead; // nothing inside the plateau can be a maximum
      }
    }
    i++;
  }
  return Int32Array.from(out);
}

/**
 * Peaks of a 1-D signal with SciPy `find_peaks` semantics for `height` and `distance`: local maxima,
 * then drop those below `height`, then, visiting peaks from highest to lowest, remove every
 * remaining peak closer than `distance` to a kept one.
 * @source SciPy scipy/signal/_peak_finding.py#find_peaks and _peak_finding_utils.pyx#_select_by_peak_distance (documented semantics)
 * @equation keep p ⇔ y[p] ≥ h ∧ ∄ kept q of higher priority with |p − q| < ⌈distance⌉
 * @deviation Equal heights: the later peak has the higher priority (a stable ascending sort, which is
 *   what NumPy's argsort does for fewer than 17 peaks); not specified by SciPy for larger ties.
 * @precision exact
 */
export function findPeaks(y: ArrayLike<number>, opts: FindPeaksOptions = {}): Int32Array {
  const fn = 'findPeaks';
  for (let i = 0; i < y.length; i++) specRequire(!Number.isNaN(y[i]!), { fn, what: `y[${i}]`, rule: 'not be NaN', got: y[i] });
  if (opts.distance !== undefined) specRequire(Number.isFinite(opts.distance) && opts.distance >= 1, { fn, what: 'distance', rule: 'be ≥ 1', got: opts.distance });
  let peaks = Array.from(localMaxima(y));
  if (opts.height !== undefined) peaks = peaks.filter((p) => opts.height! <= y[p]!);
  if (opts.distance !== undefined && peaks.length > 1) {
    const dist = Math.ceil(opts.distance);
    const keep = peaks.map(() => true);
    const byPriority = peaks.map((_, j) => j).sort((a, b) => y[peaks[a]!]! - y[peaks[b]!]! || a - b); // ascending, stable
    for (let r = byPriority.length - 1; r >= 0; r--) {
      const j = byPriority[r]!;
      if (!keep[j]) continue;
      for (let k = j - 1; k >= 0 && peaks[j]! - peaks[k]! < dist; k--) keep[k] = false;
      for (let k = j + 1; k < peaks.length && peaks[k]! - peaks[j]! < dist; k++) keep[k] = false;
    }
    peaks = peaks.filter((_, j) => keep[j]);
  }
  return Int32Array.from(peaks);
}

function requireKeys(fn: string, keys: Tensor): void {
  specRequire(keys.shape.length === 3, { fn, what: 'keys.shape', rule: 'be [boxes, tokens, C]', got: keys.shape, ref: 'METHOD.md §4.1' });
  specRequire(keys.data.length > 0, { fn, what: 'keys', rule: 'be non-empty', got: keys.shape, ref: 'METHOD.md §4.1' });
  for (let i = 0; i < keys.data.length; i++) specRequire(Number.isFinite(keys.data[i]!), { fn, what: `keys.data[${i}]`, rule: 'be finite', got: keys.data[i], ref: 'METHOD.md §4.1' });
}

/**
 * Decide whether the first box's keys are bimodal: KDE on linspace(min, max, 128), peaks with
 * height ≥ 0.01·Σy and distance 32, bimodal iff exactly two peaks.
 * @paper AHCQ-SAM:v4 §4.1 (METHOD.md; PTQ4SAM BIG)
 * @source AHCQ-SAM sam/ahcqsam/quantization/fake_quant.py#LSQSignFakeQuantize.judge_bimodal
 * @equation y = KDE(K[0])(linspace(min, max, 128));  P = peaks(y, h = 0.01·Σy, d = 32);  bimodal ⇔ |P| = 2
 * @deviation Constant data (zero bandwidth; the reference raises inside SciPy) is reported as not bimodal.
 * @precision fp64; Σy sequential
 */
export function judgeBimodal(keys: Tensor, opts: BigOptions = {}): BimodalJudgement {
  const fn = 'judgeBimodal';
  requireKeys(fn, keys);
  const o = { ...BIG_DEFAULTS, ...opts };
  specRequire(Number.isInteger(o.gridPoints) && o.gridPoints >= 3, { fn, what: 'gridPoints', rule: 'be an integer ≥ 3', got: o.gridPoints, ref: 'METHOD.md §4.1' });
  const per = keys.shape[1]! * keys.shape[2]!;
  const data = keys.data.subarray(0, per); // first box, flattened // [tokens·C]
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < per; i++) { mn = Math.min(mn, data[i]!); mx = Math.max(mx, data[i]!); }
  if (!(mx > mn) || per < 2) {
    const e = new Int32Array(0);
    return { isBimodal: false, peaks: e, localMaxima: e, kdeX: new Float64Array(0), kdeY: new Float64Array(0), heightThreshold: NaN, kde: { n: per, factor: Math.pow(per, -1 / 5), covariance: 0 } };
  }
  const kde = gaussianKdeFit(data);
  const kdeX = linspace(mn, mx, o.gridPoints);
  const kdeY = gaussianKdeEvaluate(data, kde, kdeX);
  let sum = 0;
  for (let i = 0; i < kdeY.length; i++) sum += kdeY[i]!;
  const heightThreshold = o.peakHeight * sum;
  const peaks = findPeaks(kdeY, { height: heightThreshold, distance: o.peakDistance });
  return { isBimodal: peaks.length === 2, peaks, localMaxima: localMaxima(kdeY), kdeX, kdeY, heightThreshold, kde };
}

/**
 * Per-channel sign of the key mean over all boxes and tokens (0 for a zero mean).
 * @paper AHCQ-SAM:v4 §4.1 (METHOD.md; PTQ4SAM BIG)
 * @source AHCQ-SAM sam/ahcqsam/quantization/fake_quant.py#LSQSignFakeQuantize (torch.sign of the channel mean)
 * @equation sign_c = sign( mean_{b, t} K[b, t, c] )
 * @deviation none (mean accumulated in fp64; the reference's fp32 mean can only differ in sign for
 *   means within rounding of 0)
 * @precision fp64 accumulate; output exact in {−1, 0, 1}
 */
export function bigSigns(keys: Tensor): Float32Array {
  requireKeys('bigSigns', keys);
  const C = keys.shape[2]!;
  const rows = keys.data.length / C;
  const sums = new Float64Array(C);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) sums[c] = sums[c]! + keys.data[r * C + c]!;
  return Float32Array.from(sums, (s) => Math.sign(s / rows) + 0);
}

/**
 * BIG on one attention: judge the keys, and if bimodal fold the channel signs into q_proj and k_proj.
 * @paper AHCQ-SAM:v4 §4.1 (METHOD.md; PTQ4SAM BIG)
 * @source AHCQ-SAM sam/ahcqsam/model/quant_model.py#bimodal_adjust
 * @equation bimodal ⇒ W_q[c,:] ← sign_c W_q[c,:], b_q[c] ← sign_c b_q[c] (same for k)
 * @deviation none
 * @precision exact
 */
export function applyBig(keys: Tensor, qProj: BigProjection, kProj: BigProjection, opts: BigOptions = {}): { judgement: BimodalJudgement; signs: Float32Array | null; qProj: BigProjection; kProj: BigProjection } {
  const judgement = judgeBimodal(keys, opts);
  if (!judgement.isBimodal) return { judgement, signs: null, qProj, kProj };
  const signs = bigSigns(keys);
  const folded = foldBigSigns(qProj, kProj, signs);
  return { judgement, signs, qProj: folded.qProj, kProj: folded.kProj };
}
