import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { conditionNumber, conditionOf, singularValues, svd, type Svd } from '../../src/linalg/svd';
import { SpecError, createRng, tensor, type Tensor } from '../../src/tensor';
import { composeMatrix, gaussianMatrix, matrixWithSpectrum } from '../arbitraries/matrices';
import { m64, maxAbs, orthoError, reconstructionError, SVD_EDGE_CASES } from './svd-checks';

// Tolerances. Every matrix below has max|A| ≈ 1–10 and dimensions ≤ 12 (arbitraries) or 40 (tables).
// fp64 one-sided Jacobi is backward stable: ‖A − UΣVᵀ‖ ≲ c·n·ε·‖A‖ and |UᵀU − I| ≲ c·√m·ε, so
// 1e-12 relative (≈ 4500 ε) leaves a wide margin for these sizes without hiding real errors (a wrong
// rotation gives O(1) errors).
const REL = 1e-12;

describe('svd — edge cases', () => {
  it.each([
    ...SVD_EDGE_CASES,
  ])('%s', (_name, a, expected) => {
    const d = svd(a);
    expect(d.r).toBe(Math.min(a.shape[0]!, a.shape[1]!));
    expected.forEach((s, k) => expect(Math.abs(d.s[k]! - s)).toBeLessThanOrEqual(REL * Math.max(1, s)));
    expect(reconstructionError(a, d)).toBeLessThanOrEqual(REL * Math.max(1, maxAbs(a.data)));
    // U and V stay orthonormal even for zero singular values (completed basis)
    expect(orthoError(d.u)).toBeLessThanOrEqual(REL);
    expect(orthoError(d.v)).toBeLessThanOrEqual(REL);
  });

  it('accepts float32 input', () => {
    const a = tensor([2, 2], Float32Array.of(2, 0, 0, 0.5));
    expect(Array.from(svd(a).s)).toEqual([2, 0.5]);
  });

  it.each([
    ['rank 1', tensor([3], Float64Array.of(1, 2, 3), 'float64')],
    ['empty', tensor([0, 3], new Float64Array(0), 'float64')],
    ['NaN', m64(2, 2, [1, NaN, 0, 1])],
    ['Infinity', m64(2, 2, [1, Infinity, 0, 1])],
  ])('rejects %s with SpecError', (_n, a) => {
    expect(() => svd(a as Tensor<'float64'>)).toThrow(SpecError);
    expect(() => singularValues(a as Tensor<'float64'>)).toThrow(SpecError);
  });

  it('conditionNumber: singular matrix gives +Infinity, identity gives 1', () => {
    expect(conditionNumber(m64(2, 2, [1, 2, 2, 4]))).toBe(Infinity);
    expect(conditionNumber(m64(3, 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]))).toBe(1);
    expect(conditionOf([4, 2])).toBe(2);
    expect(() => conditionOf([])).toThrow(SpecError);
  });
});

describe('svd — oracle', () => {
  it('recovers a constructed spectrum U diag(σ) Vᵀ (κ up to 1e6)', () => {
    fc.assert(
      fc.property(matrixWithSpectrum(), ({ a, sigma }) => {
        const s = svd(a).s;
        // absolute error ≲ ε·σ₀ from composing A in fp64 (σ_min inherits it), hence relative to σ₀
        for (let k = 0; k < sigma.length; k++) expect(Math.abs(s[k]! - sigma[k]!)).toBeLessThanOrEqual(REL * sigma[0]!);
      }),
    );
  });

  it('2×2 closed form: σ² are the roots of λ² − tr(AᵀA)λ + det(A)² = 0', () => {
    // The discriminant tr² − 4det² must NOT be evaluated as written: for near-equal singular values it
    // is a tiny difference of two numbers ≈ tr² (≈ 4e4 here), so it carries an absolute error ≈ ε·tr²,
    // which the square root amplifies to ≈ ε·tr²/(2·disc) in disc and ≈ that/(4σ₀) in σ₀ — e.g. 1.6e-11
    // for diag(9.99977…, −9.99934…), where the exact σ₀ = 9.99977… (and svd returns it exactly).
    // It factors exactly: tr ∓ 2det = (p ± t)² + (q ∓ r)², so
    //   disc² = ((p − t)² + (q + r)²)·((p + t)² + (q − r)²),
    // a product of sums of squares with O(ε) relative error each; σ₀ = √((tr + disc)/2) then has a
    // relative error of a few ε, far inside 1e-12. σ₁ = |det|/σ₀: det = pt − qr has absolute error
    // ≤ ε(|pt| + |qr|) ≤ ε·tr ≤ 2ε·σ₀², i.e. ≤ 2ε·σ₀ in σ₁, again inside 1e-12·max(1, σ₀).
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 }), (v) => {
        const [p, q, r, t] = v as [number, number, number, number];
        const tr = p * p + q * q + r * r + t * t, det = p * t - q * r;
        const disc = Math.sqrt(((p - t) ** 2 + (q + r) ** 2) * ((p + t) ** 2 + (q - r) ** 2));
        const s0 = Math.sqrt((tr + disc) / 2);
        const s = svd(m64(2, 2, v)).s;
        expect(Math.abs(s[0]! - s0)).toBeLessThanOrEqual(1e-12 * Math.max(1, s0));
        // σ₁ = |det| / σ₀ avoids cancellation in the closed form
        if (s0 > 0) expect(Math.abs(s[1]! - Math.abs(det) / s0)).toBeLessThanOrEqual(1e-12 * Math.max(1, s0));
      }),
      // regression: near-equal singular values (CI counterexample of the unfactored discriminant)
      { examples: [[[9.9997745989734, 0, 0, -9.999349111436903]]] },
    );
  });

  it('2×2 near-equal singular values, rotated: σ = (σ₀, σ₁) of R(θ)·diag(σ₀, −σ₁)·R(φ)ᵀ', () => {
    // Exercises actual Jacobi rotations for the regression case above (the diagonal input needs none).
    // Composing A in fp64 perturbs it by ≈ 2ε‖A‖, which moves each σ by ≤ 2ε·σ₀ (Weyl); 1e-12·σ₀ covers it.
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), fc.double({ min: 0, max: 1e-3, noNaN: true }), (th, ph, gap) => {
        const s0 = 9.9997745989734, s1 = s0 * (1 - gap);
        const [c1, n1, c2, n2] = [Math.cos(th), Math.sin(th), Math.cos(ph), Math.sin(ph)];
        // A = [[c1, −n1], [n1, c1]] · diag(s0, −s1) · [[c2, n2], [−n2, c2]]
        const a = m64(2, 2, [c1 * s0 * c2 - n1 * s1 * n2, c1 * s0 * n2 + n1 * s1 * c2, n1 * s0 * c2 + c1 * s1 * n2, n1 * s0 * n2 - c1 * s1 * c2]);
        const s = svd(a).s;
        expect(Math.abs(s[0]! - s0)).toBeLessThanOrEqual(1e-12 * s0);
        expect(Math.abs(s[1]! - s1)).toBeLessThanOrEqual(1e-12 * s0);
      }),
    );
  });
});

describe('svd — laws', () => {
  it('A = U diag(σ) Vᵀ, UᵀU = VᵀV = I, σ descending and ≥ 0', () => {
    fc.assert(
      fc.property(fc.oneof(gaussianMatrix(), matrixWithSpectrum().map((x) => x.a)), (a) => {
        const d = svd(a);
        expect(reconstructionError(a, d)).toBeLessThanOrEqual(REL * Math.max(1, maxAbs(a.data)) * 10);
        expect(orthoError(d.u)).toBeLessThanOrEqual(REL);
        expect(orthoError(d.v)).toBeLessThanOrEqual(REL);
        for (let k = 0; k < d.r; k++) {
          expect(d.s[k]!).toBeGreaterThanOrEqual(0);
          if (k > 0) expect(d.s[k]!).toBeLessThanOrEqual(d.s[k - 1]!);
        }
      }),
    );
  });

  it('σ(Aᵀ) = σ(A) and σ(cA) = |c|σ(A)', () => {
    fc.assert(
      fc.property(gaussianMatrix(), fc.double({ min: -100, max: 100, noNaN: true }).filter((c) => Math.abs(c) > 1e-3), (a, c) => {
        const [m, n] = a.shape as [number, number];
        const at = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) at[j * m + i] = a.data[i * n + j]!;
        const s = singularValues(a), st = singularValues(tensor([n, m], at, 'float64'));
        const sc = singularValues(tensor([m, n], a.data.map((x) => c * x), 'float64'));
        for (let k = 0; k < s.length; k++) {
          expect(Math.abs(s[k]! - st[k]!)).toBeLessThanOrEqual(REL * Math.max(1, s[0]!));
          expect(Math.abs(sc[k]! - Math.abs(c) * s[k]!)).toBeLessThanOrEqual(REL * Math.max(1, Math.abs(c) * s[0]!));
        }
      }),
    );
  });

  it('singularValues equals svd(...).s and is deterministic', () => {
    fc.assert(
      fc.property(gaussianMatrix(), (a) => {
        const s1 = singularValues(a), s2 = svd(a).s;
        s1.forEach((v, k) => expect(Math.abs(v - s2[k]!)).toBeLessThanOrEqual(REL * Math.max(1, s1[0]!)));
        expect(Array.from(svd(a).u.data)).toEqual(Array.from(svd(a).u.data));
      }),
    );
  });
});

describe('svd — conformance (larger constructed matrices)', () => {
  it.each([
    ['40×24, κ = 1e4', 40, 24, Float64Array.from({ length: 24 }, (_, k) => 3 * 1e4 ** (-k / 23))],
    ['24×40, κ = 1e8', 24, 40, Float64Array.from({ length: 24 }, (_, k) => 1e8 ** (-k / 23))],
    ['30×20 rank 5', 30, 20, Float64Array.from({ length: 20 }, (_, k) => (k < 5 ? 5 - k : 0))],
  ])('%s', (_name, m, n, sigma) => {
    const a = composeMatrix(createRng(7), m, n, sigma);
    const d = svd(a);
    for (let k = 0; k < sigma.length; k++) expect(Math.abs(d.s[k]! - sigma[k]!)).toBeLessThanOrEqual(REL * sigma[0]!);
    expect(reconstructionError(a, d)).toBeLessThanOrEqual(REL * maxAbs(a.data) * 10);
    expect(orthoError(d.u)).toBeLessThanOrEqual(1e-10); // rank-deficient: noise columns normalised, still orthogonal to √m·ε·(σ₀/σ) scale
    expect(orthoError(d.v)).toBeLessThanOrEqual(REL);
  });
});
