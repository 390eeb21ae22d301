/**
 * Seeded k-means (k-means++ initialisation + Lloyd iterations, best of `nInit` runs), the clustering
 * CAG uses to group activation channels (METHOD.md §3.3, §12).
 *
 * Semantics follow scikit-learn 1.2's `KMeans(init='k-means++', algorithm='lloyd')` as documented:
 * greedy k-means++ with 2 + ⌊ln k⌋ local trials per centre; Lloyd stops on unchanged labels ("strict
 * convergence") or when Σ‖Δcentre‖² ≤ tol·mean_j var(X[:, j]); labels are then recomputed against the
 * final centres; the run with the lowest inertia wins. The random stream is our own xoshiro128**
 * (`createRng`), so partitions can differ from scikit-learn's on data with several near-optimal
 * clusterings; the result is deterministic for a seed.
 *
 * Legend: X [n, d] points, k clusters, c_j centres, ℓ(i) label of point i, inertia Σᵢ‖xᵢ − c_ℓ(i)‖².
 */
import { createRng, specRequire, type Rng, type Tensor } from '../tensor';

// TYPES

export interface KMeansOptions {
  /** Number of clusters k (1 ≤ k ≤ n). */
  readonly k: number;
  /** Seed of the random stream (all `nInit` runs draw from one stream, in order). */
  readonly seed: number;
  /** Independent k-means++ starts; the lowest inertia wins (scikit-learn 1.2 default 10). */
  readonly nInit?: number;
  /** Lloyd iterations per start (300). */
  readonly maxIter?: number;
  /** Relative tolerance on the centre shift, scaled by the mean per-feature variance (1e-4). */
  readonly tol?: number;
}

export interface KMeansResult {
  readonly k: number;
  readonly d: number;
  /** Centres [k, d] row-major (float64). */
  readonly centers: Float64Array;
  /** Label of each point in [0, k). */
  readonly labels: Int32Array;
  /** Σᵢ ‖xᵢ − c_ℓ(i)‖² of the returned clustering. */
  readonly inertia: number;
  /** Lloyd iterations of the winning run. */
  readonly nIter: number;
}

// MAIN

function sqDist(x: ArrayLike<number>, i: number, c: ArrayLike<number>, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) { const v = x[i * d + t]! - c[j * d + t]!; s += v * v; }
  return s;
}

/** Greedy k-means++ seeding (Arthur & Vassilvitskii 2007; greedy trials as in scikit-learn). */
function kmeansPlusPlus(x: ArrayLike<number>, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  for (let t = 0; t < d; t++) centers[t] = x[first * d + t]!;
  const closest = new Float64Array(n);
  let pot = 0;
  for (let i = 0; i < n; i++) { closest[i] = sqDist(x, i, centers, 0, d); pot += closest[i]!; }
  const cand = new Float64Array(trials * d);
  for (let c = 1; c < k; c++) {
    // draw `trials` candidates with probability ∝ D(x)² (inverse-CDF on the running sum)
    const picks: number[] = [];
    for (let s = 0; s < trials; s++) {
      const u = rng.next() * pot;
      let acc = 0, idx = n - 1;
      for (let i = 0; i < n; i++) { acc += closest[i]!; if (acc > u) { idx = i; break; } }
      picks.push(idx);
    }
    // keep the candidate that minimises the new potential Σ min(D², ‖x − cand‖²)
    let best = -1, bestPot = Infinity;
    let bestDist: Float64Array | null = null;
    picks.forEach((p, s) => {
      for (let t = 0; t < d; t++) cand[s * d + t] = x[p * d + t]!;
      const dist = new Float64Array(n);
      let np = 0;
      for (let i = 0; i < n; i++) { dist[i] = Math.min(closest[i]!, sqDist(x, i, cand, s, d)); np += dist[i]!; }
      if (np < bestPot) { bestPot = np; best = p; bestDist = dist; }
    });
    for (let t = 0; t < d; t++) centers[c * d + t] = x[best * d + t]!;
    closest.set(bestDist!);
    pot = bestPot;
  }
  return centers;
}

/** Assign each point to its nearest centre (ties → lowest index); returns inertia. */
function assign(x: ArrayLike<number>, n: number, d: number, centers: Float64Array, k: number, labels: Int32Array, dist: Float64Array): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let bj = 0, bd = Infinity;
    for (let j = 0; j < k; j++) { const v = sqDist(x, i, centers, j, d); if (v < bd) { bd = v; bj = j; } }
    labels[i] = bj; dist[i] = bd; inertia += bd;
  }
  return inertia;
}

/** New centres = cluster means; an empty cluster takes the point farthest from its centre. */
function updateCenters(x: ArrayLike<number>, n: number, d: number, k: number, labels: Int32Array, dist: Float64Array): Float64Array {
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const j = labels[i]!;
    counts[j] = counts[j]! + 1;
    for (let t = 0; t < d; t++) sums[j * d + t] = sums[j * d + t]! + x[i * d + t]!;
  }
  const empty: number[] = [];
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty.push(j);
  if (empty.length > 0) {
    // relocate: farthest points (stable by index) move to the empty clusters
    const far = Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[b]! - dist[a]! || a - b).slice(0, empty.length);
    empty.forEach((j, e) => {
      const i = far[e]!;
      const old = labels[i]!;
      if (counts[old]! > 1) {
        counts[old] = counts[old]! - 1;
        for (let t = 0; t < d; t++) sums[old * d + t] = sums[old * d + t]! - x[i * d + t]!;
      }
      counts[j] = 1;
      for (let t = 0; t < d; t++) sums[j * d + t] = x[i * d + t]!;
    });
  }
  const centers = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) centers[j * d + t] = sums[j * d + t]! / counts[j]!;
  return centers;
}

function lloyd(x: ArrayLike<number>, n: number, d: number, k: number, init: Float64Array, maxIter: number, tolAbs: number): KMeansResult {
  let centers = init;
  const labels = new Int32Array(n).fill(-1);
  const prev = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  let strict = false;
  let it = 0;
  for (; it < maxIter; it++) {
    assign(x, n, d, centers, k, labels, dist); // E-step against the current centres
    const next = updateCenters(x, n, d, k, labels, dist); // M-step
    let shift = 0;
    for (let t = 0; t < k * d; t++) { const v = next[t]! - centers[t]!; shift += v * v; }
    centers = next;
    if (labels.every((l, i) => l === prev[i])) { strict = true; break; }
    if (shift <= tolAbs) break;
    prev.set(labels);
  }
  const nIter = Math.min(it + 1, maxIter);
  // final labels consistent with the final centres
  if (!strict) assign(x, n, d, centers, k, labels, dist);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += sqDist(x, i, centers, labels[i]!, d);
  return { k, d, centers, labels, inertia, nIter };
}

/**
 * Cluster the rows of X [n, d] into k groups: best of `nInit` seeded k-means++ + Lloyd runs.
 * @paper AHCQ-SAM:v4 §3.3 (CAG clusters channels by their quantization parameters)
 * @source scikit-learn 1.2 sklearn/cluster/_kmeans.py#KMeans (documented behaviour: k-means++ with
 *   2 + ⌊ln k⌋ greedy trials, Lloyd, tol relative to mean feature variance, best inertia of n_init)
 * @equation min_{ℓ, c} Σᵢ ‖xᵢ − c_ℓ(i)‖²
 * @deviation Random stream is xoshiro128** (not NumPy's MT19937), so ties between near-equal
 *   clusterings may break differently; distances in float64 (scikit-learn uses the input dtype);
 *   an empty cluster takes the point farthest from its centre (scikit-learn relocates likewise).
 * @precision fp64 accumulate
 */
export function kmeans(x: Tensor<'float32' | 'float64'>, opts: KMeansOptions): KMeansResult {
  const fn = 'kmeans';
  specRequire(x.shape.length === 2, { fn, what: 'x.shape', rule: 'be [n, d]', got: x.shape, ref: 'AHCQ-SAM:v4 §3.3' });
  const [n, d] = x.shape as [number, number];
  specRequire(n >= 1 && d >= 1, { fn, what: 'x.shape', rule: 'be non-empty', got: x.shape, ref: 'AHCQ-SAM:v4 §3.3' });
  for (let i = 0; i < x.data.length; i++) specRequire(Number.isFinite(x.data[i]!), { fn, what: `x[${i}]`, rule: 'be finite', got: x.data[i], ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(Number.isInteger(opts.k) && opts.k >= 1 && opts.k <= n, { fn, what: 'k', rule: `be an integer in [1, n = ${n}]`, got: opts.k, ref: 'AHCQ-SAM:v4 §3.3' });
  const nInit = opts.nInit ?? 10, maxIter = opts.maxIter ?? 300, tol = opts.tol ?? 1e-4;
  specRequire(Number.isInteger(nInit) && nInit >= 1, { fn, what: 'nInit', rule: 'be an integer ≥ 1', got: nInit });
  specRequire(Number.isInteger(maxIter) && maxIter >= 1, { fn, what: 'maxIter', rule: 'be an integer ≥ 1', got: maxIter });
  specRequire(Number.isFinite(tol) && tol >= 0, { fn, what: 'tol', rule: 'be finite and ≥ 0', got: tol });
  specRequire(Number.isFinite(opts.seed), { fn, what: 'seed', rule: 'be a finite number', got: opts.seed });
  // tol is relative to the data: tol · mean_j Var(X[:, j]) (population variance)
  let meanVar = 0;
  for (let t = 0; t < d; t++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x.data[i * d + t]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) { const e = x.data[i * d + t]! - m; v += e * e; }
    meanVar += v / n;
  }
  const tolAbs = (meanVar / d) * tol;
  const rng = createRng(opts.seed);
  let best: KMeansResult | null = null;
  for (let run = 0; run < nInit; run++) {
    const res = lloyd(x.data, n, d, opts.k, kmeansPlusPlus(x.data, n, d, opts.k, rng), maxIter, tolAbs);
    if (best === null || res.inertia < best.inertia) best = res;
  }
  return best!;
}
