/**
 * ACNR benchmark: one SVD of Wᵀ versus a whole ACNR layer (one SVD + C_i + K spectral steps + one
 * rebuild, METHOD.md Project decision 2) on a SAM-B `lin1`-sized weight (W [3072, 768], so
 * A = Wᵀ is 768×3072) with K = 200. The claim under test: ACNR costs about one SVD, not K of them.
 * Prints nothing; returns one record. The lead wires it into `npm run bench`.
 */
import { acnrOneSvd } from '../calib/acnr';
import { svd, svdGram } from '../linalg/svd';
import { createRng, specRequire, tensor } from '../tensor';

// TYPES

export interface AcnrBenchOptions {
  /** Output features of W (rows), default 3072. */
  readonly out?: number;
  /** Input features of W (columns), default 768. */
  readonly inDim?: number;
  /** Proximal steps, default 200 (W4/W5). */
  readonly K?: number;
  /** Rows of ΔX, default 512 (32 samples × 16 rows). */
  readonly rows?: number;
  readonly seed?: number;
}

export interface AcnrBenchRecord {
  /** A = Wᵀ shape as `in×out`. */
  readonly shape: string;
  readonly K: number;
  /** One-sided Jacobi SVD of Wᵀ (the accurate reference). */
  readonly svdMs: number;
  /** The Gram-matrix SVD of Wᵀ that acnrOneSvd uses (METHOD.md §12). */
  readonly gramSvdMs: number;
  readonly acnrMs: number;
  /** acnrMs / svdMs (≤ 1 since ACNR's SVD is the Gram one; K literal Jacobi SVDs would be ≈ K). */
  readonly ratio: number;
  readonly sweeps: number;
  readonly kappaBefore: number;
  readonly kappaAfter: number;
}

// MAIN

/**
 * Time one float64 SVD of Wᵀ and one ACNR layer (K steps from one SVD) on the same ill-conditioned weight.
 * @paper AHCQ-SAM:v4 §3.1 (METHOD.md Project decision 2, §12)
 * @equation ratio = t(acnrOneSvd, K) / t(svd); gramSvdMs = t(svdGram) (the SVD inside acnrOneSvd)
 * @deviation none
 * @precision fp64
 */
export function benchAcnr(opts: AcnrBenchOptions = {}): AcnrBenchRecord {
  const out = opts.out ?? 3072, inDim = opts.inDim ?? 768, K = opts.K ?? 200, rows = opts.rows ?? 512;
  for (const [what, v] of [['out', out], ['inDim', inDim], ['K', K], ['rows', rows]] as const) {
    specRequire(Number.isInteger(v) && v >= 1, { fn: 'benchAcnr', what, rule: 'be an integer ≥ 1', got: v });
  }
  const rng = createRng(opts.seed ?? 2025);
  // ill-conditioned weight: Gaussian with input columns scaled geometrically from 1 to 1e-3 (κ ≈ 1e3)
  const w = new Float32Array(out * inDim);
  for (let o = 0; o < out; o++) for (let j = 0; j < inDim; j++) w[o * inDim + j] = 0.02 * rng.normal() * 1e-3 ** (j / Math.max(1, inDim - 1));
  const dx = Float32Array.from({ length: rows * inDim }, () => 0.1 * rng.normal());
  const weight = tensor([out, inDim], w);
  const a = new Float64Array(inDim * out);
  for (let o = 0; o < out; o++) for (let j = 0; j < inDim; j++) a[j * out + o] = w[o * inDim + j]!;
  let t0 = performance.now();
  const d = svd(tensor([inDim, out], a, 'float64')); // [in, out]
  const svdMs = performance.now() - t0;
  t0 = performance.now();
  svdGram(tensor([inDim, out], a, 'float64'));
  const gramSvdMs = performance.now() - t0;
  t0 = performance.now();
  const r = acnrOneSvd(weight, tensor([rows, inDim], dx), { K });
  const acnrMs = performance.now() - t0;
  return { shape: `${inDim}x${out}`, K, svdMs, gramSvdMs, acnrMs, ratio: acnrMs / svdMs, sweeps: d.sweeps, kappaBefore: r.kappaBefore, kappaAfter: r.kappaAfter };
}
