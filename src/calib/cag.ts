/**
 * CAG grouping: from per-channel (scale, zero point) to G shared pairs by k-means on the 2-D features
 * [s_c, z_c], progressively (e.g. 32 → 16 → 8 → 4 groups), each stage clustering the *current*
 * mapping (group values broadcast to channels), so stages are nested.
 *
 * Legend (METHOD.md §3.3): C channels, s_c/z_c per-channel scale/zero point, K clusters of a stage,
 * centroid (ĉ₀, ĉ₁), S_g = float32(ĉ₀), Z_g = ⌊ĉ₁⌉ (half-to-even).
 */
import { f32, roundHalfEven, specRequire, tensor } from '../tensor';
import { calcQParams } from '../quant/uniform';
import { requireBits } from '../quant/qparams';
import type { CagParams } from '../quant/cag';
import { kmeans, type KMeansOptions } from './kmeans';

// TYPES

/** One grouping stage. */
export interface CagStage {
  /** Clusters requested for this stage. */
  readonly K: number;
  readonly params: CagParams;
  /** Centroids [K, 2] (float64) as found by k-means (group values use `float32Centroids`). */
  readonly centers: Float64Array;
  /** k-means inertia on this stage's features. */
  readonly inertia: number;
  readonly nIter: number;
}

/**
 * Default number of k-means++ starts for CAG grouping. The reference (scikit-learn 1.2.1) used 10;
 * its random stream cannot be reproduced, and with 10 starts from ours k-means lands in a worse
 * local optimum than the reference in 2 of the 11 reference stages (K=16 of progressive_b5_C96 and
 * progressive_b4_C128). 100 starts reach the reference inertia or lower in all 11; the features are
 * ≤ a few thousand 2-D points, so the cost is negligible. Deviation recorded in docs/paper-map.md.
 */
export const CAG_KMEANS_N_INIT = 100;

export interface CagGroupingOptions {
  readonly bits: number;
  /** Cluster counts in order, e.g. [32, 16, 8, 4] (progressive) or [4]. */
  readonly stages: readonly number[];
  /** k-means seed (0, like the reference's random_state). */
  readonly seed?: number;
  /** k-means starts (default CAG_KMEANS_N_INIT = 100; the reference's scikit-learn 1.2 used 10). */
  readonly nInit?: number;
  readonly maxIter?: number;
  readonly tol?: number;
}

// MAIN

/**
 * Per-channel (scale, zero point) from per-channel ranges, by calcQParams channel by channel.
 * @paper AHCQ-SAM:v4 §3.3 (step 1: per-channel calibration before grouping)
 * @source AHCQ-SAM sam/ahcqsam/quantization/observer.py#AvgMinMaxGroupObserver (calculate_qparams per channel)
 * @equation (s_c, z_c) = calc_qparams(mn_c, mx_c)
 * @deviation none
 * @precision float32 ops emulated (as calcQParams)
 */
export function cagChannelQParams(mn: ArrayLike<number>, mx: ArrayLike<number>, bits: number): { scales: Float32Array; zeroPoints: Int32Array } {
  const fn = 'cagChannelQParams';
  requireBits(fn, bits);
  specRequire(mn.length >= 1, { fn, what: 'mn.length', rule: 'be ≥ 1', got: mn.length, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(mx.length === mn.length, { fn, what: 'mx.length', rule: `equal mn.length (${mn.length})`, got: mx.length, ref: 'AHCQ-SAM:v4 §3.3' });
  const scales = new Float32Array(mn.length), zeroPoints = new Int32Array(mn.length);
  for (let c = 0; c < mn.length; c++) {
    const q = calcQParams(mn[c]!, mx[c]!, { bits });
    scales[c] = q.scale;
    zeroPoints[c] = q.zeroPoint;
  }
  return { scales, zeroPoints };
}

/**
 * Progressive CAG grouping: for each K in `stages`, k-means on the unnormalised features [s_c, z_c]
 * of the current mapping; group scale = float32(centroid₀), zero point = ⌊centroid₁⌉.
 * @paper AHCQ-SAM:v4 §3.3
 * @source AHCQ-SAM sam/ahcqsam/quantization/fake_quant.py#GroupLSQFakeQuantize.group_channel
 * @equation ℓ = kmeans_K({[s_c, z_c]});  S_g = f32(ĉ_g,0);  Z_g = ⌊ĉ_g,1⌉;  next features [S_ℓ(c), Z_ℓ(c)]
 * @deviation Channels are clustered in a canonical order (sorted by (s, z), ties by index), so the
 *   partition is equivariant under channel permutation. The group values are float32 centroids summed
 *   in channel order like the reference's, so under a permutation a scale can move by float32
 *   rounding (≲ (n + 3)·2^-24·mean|s − s̄|) and a zero point whose members' mean is exactly k + ½
 *   can round to either neighbour. Features are NOT normalised (reference quirk, METHOD.md §11 item 9: zero points, integers
 *   up to 2^b − 1, dominate scales ~1e-2, so groups are mostly zero-point bands); kept as the default
 *   because it is the published behaviour. k-means uses our seeded stream (see calib/kmeans.ts), so a
 *   partition can differ from scikit-learn's where several clusterings have near-equal inertia.
 * @precision features float32, k-means fp64; centroids of the final partition recomputed in
 *   emulated float32 as scikit-learn does (`float32Centroids`)
 */
export function cagGroupChannels(scales: ArrayLike<number>, zeroPoints: ArrayLike<number>, opts: CagGroupingOptions): CagStage[] {
  const fn = 'cagGroupChannels';
  requireBits(fn, opts.bits);
  const C = scales.length;
  specRequire(C >= 1, { fn, what: 'scales.length', rule: 'be ≥ 1 (one per channel)', got: C, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(zeroPoints.length === C, { fn, what: 'zeroPoints.length', rule: `equal scales.length (${C})`, got: zeroPoints.length, ref: 'AHCQ-SAM:v4 §3.3' });
  for (let c = 0; c < C; c++) {
    specRequire(Number.isFinite(scales[c]!) && scales[c]! > 0, { fn, what: `scales[${c}]`, rule: 'be finite and > 0', got: scales[c], ref: 'AHCQ-SAM:v4 §3.3' });
    specRequire(Number.isInteger(zeroPoints[c]!), { fn, what: `zeroPoints[${c}]`, rule: 'be an integer', got: zeroPoints[c], ref: 'AHCQ-SAM:v4 §3.3' });
  }
  specRequire(opts.stages.length >= 1, { fn, what: 'stages', rule: 'list at least one group count', got: opts.stages, ref: 'AHCQ-SAM:v4 §3.3' });
  for (const K of opts.stages) specRequire(Number.isInteger(K) && K >= 1 && K <= C, { fn, what: 'stages[i]', rule: `be an integer in [1, C = ${C}] (G may not exceed the channel count)`, got: K, ref: 'AHCQ-SAM:v4 §3.3' });
  // current per-channel mapping (float32 scale, integer zero point)
  let curS = Float32Array.from(scales, f32);
  let curZ = Int32Array.from(zeroPoints);
  const out: CagStage[] = [];
  for (const K of opts.stages) {
    // k-means++ draws depend on point order; clustering the features in a canonical (sorted) order
    // makes the grouping equivariant under channel permutation
    const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => curS[a]! - curS[b]! || curZ[a]! - curZ[b]! || a - b);
    const feats = new Float64Array(2 * C); // [C, 2] in canonical order
    order.forEach((c, i) => { feats[2 * i] = curS[c]!; feats[2 * i + 1] = curZ[c]!; });
    const km: KMeansOptions = { k: K, seed: opts.seed ?? 0, nInit: opts.nInit ?? CAG_KMEANS_N_INIT, maxIter: opts.maxIter ?? 300, tol: opts.tol ?? 1e-4 };
    const res = kmeans(tensor([C, 2], feats, 'float64'), km);
    const labels = new Int32Array(C);
    order.forEach((c, i) => { labels[c] = res.labels[i]!; });
    // group values: float32 centroids in the reference's (channel) order
    const chanFeats = new Float64Array(2 * C);
    for (let c = 0; c < C; c++) { chanFeats[2 * c] = curS[c]!; chanFeats[2 * c + 1] = curZ[c]!; }
    const cent = float32Centroids(chanFeats, labels, K, 2);
    const groupScales = new Float32Array(K), groupZeroPoints = new Int32Array(K);
    for (let g = 0; g < K; g++) {
      groupScales[g] = cent[2 * g]!;
      groupZeroPoints[g] = roundHalfEven(cent[2 * g + 1]!);
    }

    out.push({ K, params: { bits: opts.bits, groupScales, groupZeroPoints, labels }, centers: res.centers, inertia: res.inertia, nIter: res.nIter });
    curS = Float32Array.from(labels, (l) => groupScales[l]!);
    curZ = Int32Array.from(labels, (l) => groupZeroPoints[l]!);
  }
  return out;
}

/**
 * Centroids of a partition computed the way scikit-learn's Lloyd step does on float32 features:
 * data centred by its float32 column mean, per-cluster float32 sums in sample order, times the float32
 * reciprocal of the count, then the mean added back (all float32).
 * @paper AHCQ-SAM:v4 §3.3
 * @source scikit-learn 1.2 sklearn/cluster/_kmeans.py#KMeans.fit (X −= X_mean; centers += X_mean) and
 *   _k_means_common.pyx#_average_centers (centers *= 1/weight)
 * @equation m = f32(Σᵢ xᵢ / n);  ĉ_g = f32(f32(Σ_{ℓ(i)=g} f32(xᵢ − m)) · f32(1/n_g)) + m
 * @deviation none for a single Lloyd chunk (n ≤ 256 samples, one thread); beyond that the reference's
 *   chunked sums may round differently in the last bit
 * @precision float32 ops emulated
 */
export function float32Centroids(x: ArrayLike<number>, labels: ArrayLike<number>, k: number, d: number): Float32Array {
  const n = labels.length;
  specRequire(x.length === n * d, { fn: 'float32Centroids', what: 'x.length', rule: `equal labels.length × d (${n * d})`, got: x.length });
  const mean = new Float32Array(d);
  for (let t = 0; t < d; t++) {
    let s = 0;
    for (let i = 0; i < n; i++) s = f32(s + f32(x[i * d + t]!));
    mean[t] = f32(s / n);
  }
  const sums = new Float32Array(k * d), counts = new Float32Array(k);
  for (let i = 0; i < n; i++) {
    const g = labels[i]!;
    counts[g] = counts[g]! + 1;
    for (let t = 0; t < d; t++) sums[g * d + t] = f32(sums[g * d + t]! + f32(f32(x[i * d + t]!) - mean[t]!));
  }
  const out = new Float32Array(k * d);
  for (let g = 0; g < k; g++) {
    const alpha = counts[g]! > 0 ? f32(1 / counts[g]!) : 0;
    for (let t = 0; t < d; t++) out[g * d + t] = f32(f32(sums[g * d + t]! * alpha) + mean[t]!);
  }
  return out;
}

/**
 * Relabel clusters by first appearance (0, 1, 2, … in channel order), so partitions compare directly.
 * @paper AHCQ-SAM:v4 §3.3
 * @equation ℓ'(c) = rank of ℓ(c) among labels in order of first occurrence
 * @deviation none
 * @precision exact
 */
export function canonicalLabels(labels: ArrayLike<number>): Int32Array {
  const map = new Map<number, number>();
  return Int32Array.from(Array.from({ length: labels.length }, (_, c) => {
    const l = labels[c]!;
    if (!map.has(l)) map.set(l, map.size);
    return map.get(l)!;
  }));
}

/**
 * Group quantizer parameters that COVER their members' calibrated ranges: for a partition ℓ (e.g. the
 * k-means labels of `cagGroupChannels`), each group takes the min of its members' minima and the max of
 * their maxima, and calc_qparams of that range. Used by the calibration-only pipeline instead of the
 * published centroid scale (mean of the members' scales), which without reconstruction to learn the
 * group scales clips every member whose range exceeds the group mean.
 * @paper AHCQ-SAM:v4 §3.3 (group-shared quantization parameters)
 * @source this project (calibration-only CAG, docs/deviations.md "CAG group range")
 * @equation mn_g = min_{ℓ(c)=g} mn_c;  mx_g = max_{ℓ(c)=g} mx_c;  (S_g, Z_g) = calc_qparams(mn_g, mx_g)
 * @deviation the reference's groups take the k-means centroid (S_g = mean s_c, Z_g = ⌊mean z_c⌉) and then
 *   learn S_g during block reconstruction; calibration-only mode has no reconstruction (Project decision 3)
 * @precision float32 ops emulated (as calcQParams); min/max exact
 */
export function cagCoverGroups(mn: ArrayLike<number>, mx: ArrayLike<number>, labels: ArrayLike<number>, groups: number, bits: number): CagParams {
  const fn = 'cagCoverGroups';
  requireBits(fn, bits);
  const C = mn.length;
  specRequire(C >= 1, { fn, what: 'mn.length', rule: 'be ≥ 1 (one per channel)', got: C, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(mx.length === C, { fn, what: 'mx.length', rule: `equal mn.length (${C})`, got: mx.length, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(labels.length === C, { fn, what: 'labels.length', rule: `equal mn.length (${C})`, got: labels.length, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(Number.isInteger(groups) && groups >= 1 && groups <= C, { fn, what: 'groups', rule: `be an integer in [1, ${C}]`, got: groups, ref: 'AHCQ-SAM:v4 §3.3' });
  const lo = new Float64Array(groups).fill(Infinity), hi = new Float64Array(groups).fill(-Infinity);
  for (let c = 0; c < C; c++) {
    const g = labels[c]!;
    specRequire(Number.isInteger(g) && g >= 0 && g < groups, { fn, what: `labels[${c}]`, rule: `be an integer in [0, ${groups})`, got: g, ref: 'AHCQ-SAM:v4 §3.3' });
    specRequire(Number.isFinite(mn[c]!) && Number.isFinite(mx[c]!) && mn[c]! <= mx[c]!, { fn, what: `[mn, mx][${c}]`, rule: 'be finite with mn ≤ mx', got: [mn[c], mx[c]], ref: 'AHCQ-SAM:v4 §3.3' });
    if (mn[c]! < lo[g]!) lo[g] = mn[c]!;
    if (mx[c]! > hi[g]!) hi[g] = mx[c]!;
  }
  const groupScales = new Float32Array(groups), groupZeroPoints = new Int32Array(groups);
  for (let g = 0; g < groups; g++) {
    specRequire(lo[g]! !== Infinity, { fn, what: `group ${g}`, rule: 'have at least one member', got: 'empty', ref: 'AHCQ-SAM:v4 §3.3' });
    const q = calcQParams(lo[g]!, hi[g]!, { bits });
    groupScales[g] = q.scale;
    groupZeroPoints[g] = q.zeroPoint;
  }
  return { bits, groupScales, groupZeroPoints, labels: Int32Array.from(labels) };
}
