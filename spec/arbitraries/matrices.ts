/**
 * Arbitraries for linear-algebra and grouping tests.
 *
 * - `matrixWithSpectrum`: A = U diag(σ) Vᵀ with U, V random orthonormal (Gram–Schmidt of Gaussian
 *   matrices from a seeded RNG) and a chosen spectrum. Aims at ACNR's regime: ill-conditioned
 *   weights (κ from 1 to 1e6) with DISTINCT singular values (geometric decay with a random ratio),
 *   so the singular basis is unique and one-SVD vs literal ACNR are comparable (METHOD.md decision 2).
 * - `gaussianMatrix`: plain N(0, 1) entries, including 1×n and n×1 shapes.
 * - `channelHeterogeneous`: activations [rows, C] whose channels have very different ranges and
 *   offsets (what CAG groups), drawn from a few latent "channel families".
 * All sizes are small so properties run in well under a second each.
 */
import fc from 'fast-check';
import { createRng, tensor, type Rng, type Tensor } from '../../src/tensor';

// TYPES

export interface SpectrumMatrix {
  readonly m: number;
  readonly n: number;
  /** A [m, n] float64. */
  readonly a: Tensor<'float64'>;
  /** The constructed σ (descending, distinct). */
  readonly sigma: Float64Array;
  readonly kappa: number;
}

// HELPERS

/** m×r matrix with orthonormal columns (row-major), r ≤ m, by modified Gram–Schmidt (twice). */
export function randomOrthonormal(rng: Rng, m: number, r: number): Float64Array {
  const q = new Float64Array(m * r);
  for (let j = 0; j < r; j++) {
    const v = Float64Array.from({ length: m }, () => rng.normal());
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += q[i * r + k]! * v[i]!;
        for (let i = 0; i < m; i++) v[i] = v[i]! - d * q[i * r + k]!;
      }
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += v[i]! * v[i]!;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < m; i++) q[i * r + j] = v[i]! / nrm;
  }
  return q;
}

/** A = U diag(σ) Vᵀ for given σ (length r = min(m, n)). */
export function composeMatrix(rng: Rng, m: number, n: number, sigma: ArrayLike<number>): Tensor<'float64'> {
  const r = Math.min(m, n);
  const u = randomOrthonormal(rng, m, r), v = randomOrthonormal(rng, n, r);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < r; k++) s += u[i * r + k]! * sigma[k]! * v[j * r + k]!;
    a[i * n + j] = s;
  }
  return tensor([m, n], a, 'float64');
}

// ARBITRARIES

/** Ill-conditioned matrices with a geometric, distinct spectrum σ_k = s₀·κ^(−k/(r−1)). */
export function matrixWithSpectrum(opts: { maxDim?: number; maxLogKappa?: number } = {}): fc.Arbitrary<SpectrumMatrix> {
  const maxDim = opts.maxDim ?? 12;
  return fc
    .record({
      m: fc.integer({ min: 2, max: maxDim }),
      n: fc.integer({ min: 2, max: maxDim }),
      logKappa: fc.double({ min: 0.5, max: opts.maxLogKappa ?? 6, noNaN: true }),
      scale: fc.double({ min: 0.01, max: 10, noNaN: true }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    .map(({ m, n, logKappa, scale, seed }) => {
      const r = Math.min(m, n);
      const kappa = 10 ** logKappa;
      const sigma = Float64Array.from({ length: r }, (_, k) => scale * kappa ** (-k / (r - 1)));
      return { m, n, a: composeMatrix(createRng(seed), m, n, sigma), sigma, kappa };
    });
}

/** Gaussian matrices of any small shape, including 1×n and n×1. */
export function gaussianMatrix(maxDim = 10): fc.Arbitrary<Tensor<'float64'>> {
  return fc
    .record({ m: fc.integer({ min: 1, max: maxDim }), n: fc.integer({ min: 1, max: maxDim }), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }) })
    .map(({ m, n, seed }) => {
      const rng = createRng(seed);
      return tensor([m, n], Float64Array.from({ length: m * n }, () => rng.normal()), 'float64');
    });
}

/** Activations [rows, C] (float32) with channel-dependent scale and offset from a few families. */
export function channelHeterogeneous(opts: { maxChannels?: number; maxRows?: number } = {}): fc.Arbitrary<Tensor> {
  return fc
    .record({
      C: fc.integer({ min: 4, max: opts.maxChannels ?? 40 }),
      rows: fc.integer({ min: 2, max: opts.maxRows ?? 12 }),
      families: fc.integer({ min: 1, max: 5 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    .map(({ C, rows, families, seed }) => {
      const rng = createRng(seed);
      const fam = Array.from({ length: families }, () => ({ scale: 0.05 * 40 ** rng.next(), offset: (rng.next() - 0.5) * 4 }));
      const ch = Array.from({ length: C }, () => fam[rng.int(families)]!);
      const data = new Float32Array(rows * C);
      for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) data[r * C + c] = ch[c]!.offset + ch[c]!.scale * rng.normal();
      return tensor([rows, C], data);
    });
}
