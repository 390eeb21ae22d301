/**
 * svdGram: the thin SVD through the float64 Gram matrix (eigendecomposition by Householder + implicit
 * QR, then U = BV/σ) that ACNR uses for speed (METHOD.md §12). Checked against constructed spectra, the
 * one-sided Jacobi `svd` (the accurate oracle) and the SVD laws.
 *
 * Tolerances. Backward error of forming G = BᵀB and diagonalising it is ≈ c·n·ε·‖A‖²; singular values are
 * re-measured as ‖B v_j‖, which is first-order insensitive to the eigenvector error, so |Δσ_j| ≲ c·n·ε·σ₀
 * (1e-12·σ₀ as for Jacobi). Singular vectors of σ_j carry an error ≈ ε·(σ₀/σ_j)²·(σ₀/gap): for the κ ≤ 1e4
 * matrices used here that is ≤ ≈ 2e-8·(σ₀/gap). The factor on the short side (r×r: the eigenvectors of G,
 * V for a tall A, U for a wide one) is a product of Householder reflectors and O(r²) plane rotations, each
 * adding ≈ ε of non-orthogonality: 1e-11 (measured up to 1.3e-12 on r ≤ 10). The other factor (B·v_j/σ_j)
 * loses orthogonality like ε·κ²: bounded by 1e-6 (κ ≤ 1e4 gives ≤ 2e-8; measured 1e-11 at κ = 2800).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { svd, svdGram, type Svd } from '../../src/linalg/svd';
import { SpecError, createRng, tensor, type Tensor } from '../../src/tensor';
import { composeMatrix, gaussianMatrix, matrixWithSpectrum } from '../arbitraries/matrices';
import { m64, maxAbs, orthoError, reconstructionError, SVD_EDGE_CASES } from './svd-checks';

const REL = 1e-12;
const V_ORTHO = 1e-11;

/** Orthonormality errors of (the short-side eigenvector factor, the B·v/σ factor). */
function orthoErrors(d: Svd): { eig: number; other: number } {
  const wide = d.m < d.n;
  return { eig: orthoError(wide ? d.u : d.v), other: orthoError(wide ? d.v : d.u) };
}

describe('svdGram — edge cases', () => {
  it.each([
    ...SVD_EDGE_CASES,
    ['already tridiagonal Gram (diagonal 4×4)', m64(4, 4, [4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2]), [4, 3, 2, 1]],
  ])('%s', (_name, a, expected) => {
    const d = svdGram(a);
    expect(d.r).toBe(Math.min(a.shape[0]!, a.shape[1]!));
    // rank-deficient: ‖Bv‖ of a null vector is ≈ ε·σ₀, not 0, hence the absolute σ₀-relative bound
    expected.forEach((s, k) => expect(Math.abs(d.s[k]! - s)).toBeLessThanOrEqual(1e-7 * Math.max(1, expected[0]!)));
    expect(reconstructionError(a, d)).toBeLessThanOrEqual(REL * Math.max(1, maxAbs(a.data)));
    const o = orthoErrors(d);
    expect(o.eig).toBeLessThanOrEqual(V_ORTHO);
    expect(o.other).toBeLessThanOrEqual(1e-6);
  });

  it.each([
    ['rank 1', tensor([3], Float64Array.of(1, 2, 3), 'float64')],
    ['empty', tensor([0, 3], new Float64Array(0), 'float64')],
    ['NaN', m64(2, 2, [1, NaN, 0, 1])],
    ['Infinity', m64(2, 2, [1, Infinity, 0, 1])],
  ])('rejects %s with SpecError', (_n, a) => {
    expect(() => svdGram(a as Tensor<'float64'>)).toThrow(SpecError);
  });
});

describe('svdGram — oracle', () => {
  it('recovers a constructed spectrum (κ up to 1e4) to 1e-12·σ₀', () => {
    fc.assert(
      fc.property(matrixWithSpectrum({ maxLogKappa: 4 }), ({ a, sigma }) => {
        const s = svdGram(a).s;
        for (let k = 0; k < sigma.length; k++) expect(Math.abs(s[k]! - sigma[k]!)).toBeLessThanOrEqual(REL * sigma[0]!);
      }),
    );
  });

  it('agrees with the one-sided Jacobi svd: σ to 1e-12·σ₀, singular directions |u_gᵀu_j| ≥ 1 − 1e-6 (distinct σ)', () => {
    fc.assert(
      fc.property(matrixWithSpectrum({ maxLogKappa: 3 }), ({ a }) => {
        const g = svdGram(a), j = svd(a);
        for (let k = 0; k < g.r; k++) {
          expect(Math.abs(g.s[k]! - j.s[k]!)).toBeLessThanOrEqual(REL * j.s[0]!);
          let du = 0, dv = 0;
          for (let i = 0; i < g.m; i++) du += g.u.data[i * g.r + k]! * j.u.data[i * g.r + k]!;
          for (let i = 0; i < g.n; i++) dv += g.v.data[i * g.r + k]! * j.v.data[i * g.r + k]!;
          expect(Math.abs(du)).toBeGreaterThanOrEqual(1 - 1e-6);
          expect(Math.abs(dv)).toBeGreaterThanOrEqual(1 - 1e-6);
        }
      }),
    );
  });
});

describe('svdGram — laws', () => {
  it('A = U diag(σ) Vᵀ, U and V orthonormal (bounds above), σ descending and ≥ 0; deterministic', () => {
    fc.assert(
      fc.property(fc.oneof(gaussianMatrix(), matrixWithSpectrum({ maxLogKappa: 4 }).map((x) => x.a)), (a) => {
        const d = svdGram(a);
        expect(reconstructionError(a, d)).toBeLessThanOrEqual(REL * Math.max(1, maxAbs(a.data)) * 10);
        const o = orthoErrors(d);
        expect(o.eig).toBeLessThanOrEqual(V_ORTHO);
        expect(o.other).toBeLessThanOrEqual(1e-6);
        for (let k = 0; k < d.r; k++) {
          expect(d.s[k]!).toBeGreaterThanOrEqual(0);
          if (k > 0) expect(d.s[k]!).toBeLessThanOrEqual(d.s[k - 1]!);
        }
        expect(Array.from(svdGram(a).u.data)).toEqual(Array.from(d.u.data));
      }),
    );
  });

  it('σ(Aᵀ) = σ(A)', () => {
    fc.assert(
      fc.property(gaussianMatrix(), (a) => {
        const [m, n] = a.shape as [number, number];
        const at = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) at[j * m + i] = a.data[i * n + j]!;
        const s = svdGram(a).s, st = svdGram(tensor([n, m], at, 'float64')).s;
        for (let k = 0; k < s.length; k++) expect(Math.abs(s[k]! - st[k]!)).toBeLessThanOrEqual(REL * Math.max(1, s[0]!));
      }),
    );
  });
});

describe('svdGram — conformance (ACNR-like shapes against the Jacobi svd)', () => {
  it.each([
    ['64×160, κ = 300', 64, 160, 300],
    ['160×48, κ = 3000', 160, 48, 3000],
  ])('%s: σ to 1e-12·σ₀, A rebuilt to 1e-12·max|A|', (_name, m, n, kappa) => {
    const r = Math.min(m, n);
    const sigma = Float64Array.from({ length: r }, (_, k) => kappa ** (-k / (r - 1)));
    const a = composeMatrix(createRng(11), m, n, sigma);
    const g = svdGram(a), j = svd(a);
    for (let k = 0; k < r; k++) expect(Math.abs(g.s[k]! - j.s[k]!)).toBeLessThanOrEqual(REL * sigma[0]!);
    expect(reconstructionError(a, g)).toBeLessThanOrEqual(REL * maxAbs(a.data) * 10);
    const o = orthoErrors(g);
    expect(o.eig).toBeLessThanOrEqual(V_ORTHO);
    expect(o.other).toBeLessThanOrEqual(1e-6);
  });
});
