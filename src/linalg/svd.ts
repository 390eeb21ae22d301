/**
 * Thin singular value decomposition in float64 by one-sided (Hestenes) Jacobi rotations, plus the
 * condition number built on it. Used by ACNR (METHOD.md §3.1, §12), which needs accurate small
 * singular values of ill-conditioned weights: one-sided Jacobi computes every singular value to high
 * *relative* accuracy, unlike an eigendecomposition of AᵀA (whose error on σ_min grows like ε·κ²).
 *
 * Legend: A ∈ ℝ^{m×n}, r = min(m, n), A = U diag(σ) Vᵀ with U ∈ ℝ^{m×r}, V ∈ ℝ^{n×r} orthonormal
 * columns and σ₀ ≥ σ₁ ≥ … ≥ σ_{r−1} ≥ 0.
 */
import { specRequire, tensor, type Tensor } from '../tensor';

// TYPES

/** A thin SVD `A = U diag(s) Vᵀ`; `u` is `[m, r]`, `v` is `[n, r]` (row-major), `s` is descending. */
export interface Svd {
  readonly m: number;
  readonly n: number;
  readonly r: number;
  readonly u: Tensor<'float64'>;
  readonly s: Float64Array;
  readonly v: Tensor<'float64'>;
  /** Jacobi sweeps used (diagnostic). */
  readonly sweeps: number;
}

/** Any dense real matrix accepted by `svd`. */
export type MatrixLike = Tensor<'float32' | 'float64'>;

// CONSTANTS

/** Float64 unit roundoff ε = 2^−52. */
const EPS64 = 2.220446049250313e-16;
/** Upper bound on Jacobi sweeps; convergence normally takes 6–12 (quadratic once near-orthogonal). */
const MAX_SWEEPS = 80;

// MAIN

interface JacobiResult {
  readonly cols: Float64Array[]; // n columns of A·V, each of length m
  readonly vcols: Float64Array[] | null; // n columns of V, each of length n
  readonly sweeps: number;
}

/**
 * Orthogonalise the columns of `cols` (each length m) by plane rotations until every pair satisfies
 * |a_pᵀa_q| ≤ tol·‖a_p‖‖a_q‖ with tol = √m·ε (LAPACK dgesvj's criterion).
 */
function jacobiSweeps(cols: Float64Array[], m: number, wantV: boolean): JacobiResult {
  const n = cols.length;
  const vcols = wantV ? cols.map((_, j) => { const e = new Float64Array(n); e[j] = 1; return e; }) : null;
  const tol = Math.max(1, Math.sqrt(m)) * EPS64;
  let sweeps = 0;
  for (; sweeps < MAX_SWEEPS; sweeps++) {
    let rotations = 0;
    for (let p = 0; p < n - 1; p++) {
      const ap = cols[p]!;
      for (let q = p + 1; q < n; q++) {
        const aq = cols[q]!;
        // fused pass: α = ‖a_p‖², β = ‖a_q‖², γ = a_pᵀa_q (all exact recomputations, no drift)
        let alpha = 0, beta = 0, gamma = 0;
        for (let k = 0; k < m; k++) {
          const x = ap[k]!, y = aq[k]!;
          alpha += x * x; beta += y * y; gamma += x * y;
        }
        if (alpha === 0 || beta === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
        rotations++;
        // rotation angle that zeroes γ: t² + 2ζt − 1 = 0, smaller root
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.abs(zeta) > 1e150 ? 1 / (2 * zeta) : Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let k = 0; k < m; k++) {
          const x = ap[k]!, y = aq[k]!;
          ap[k] = c * x - s * y;
          aq[k] = s * x + c * y;
        }
        if (vcols) {
          const vp = vcols[p]!, vq = vcols[q]!;
          for (let k = 0; k < n; k++) {
            const x = vp[k]!, y = vq[k]!;
            vp[k] = c * x - s * y;
            vq[k] = s * x + c * y;
          }
        }
      }
    }
    if (rotations === 0) break;
  }
  return { cols, vcols, sweeps };
}

/** Columns of the (m×n, m ≥ n) matrix `data` viewed with `transpose` as needed, scaled by 1/scale. */
function extractColumns(data: ArrayLike<number>, rows: number, cols: number, transpose: boolean, scale: number): Float64Array[] {
  // working matrix B = transpose ? Aᵀ : A, of shape [mm, nn] with mm ≥ nn
  const mm = transpose ? cols : rows;
  const nn = transpose ? rows : cols;
  const out: Float64Array[] = [];
  for (let j = 0; j < nn; j++) {
    const col = new Float64Array(mm);
    for (let i = 0; i < mm; i++) col[i] = (transpose ? data[j * cols + i]! : data[i * cols + j]!) / scale;
    out.push(col);
  }
  return out;
}

/** Complete the zero columns of an [mm, r] orthonormal set (stored as columns) by Gram–Schmidt on unit vectors. */
function completeBasis(ucols: Float64Array[], isZero: boolean[], mm: number): void {
  let e = 0;
  for (let j = 0; j < ucols.length; j++) {
    if (!isZero[j]) continue;
    const col = ucols[j]!;
    for (; e < mm; e++) {
      col.fill(0);
      col[e] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < ucols.length; k++) {
          if (k === j || isZero[k]) continue;
          const o = ucols[k]!;
          let d = 0;
          for (let i = 0; i < mm; i++) d += o[i]! * col[i]!;
          for (let i = 0; i < mm; i++) col[i] = col[i]! - d * o[i]!;
        }
      }
      let nrm = 0;
      for (let i = 0; i < mm; i++) nrm += col[i]! * col[i]!;
      nrm = Math.sqrt(nrm);
      if (nrm > 0.5) {
        for (let i = 0; i < mm; i++) col[i] = col[i]! / nrm;
        e++;
        break;
      }
    }
    isZero[j] = false;
  }
}

function checkMatrix(fn: string, a: MatrixLike): void {
  specRequire(a.shape.length === 2, { fn, what: 'a.shape', rule: 'be a matrix [m, n]', got: a.shape, ref: 'METHOD.md §12' });
  specRequire(a.shape[0]! >= 1 && a.shape[1]! >= 1, { fn, what: 'a.shape', rule: 'have m ≥ 1 and n ≥ 1', got: a.shape, ref: 'METHOD.md §12' });
  let finite = true;
  for (let i = 0; i < a.data.length; i++) if (!Number.isFinite(a.data[i]!)) { finite = false; break; }
  specRequire(finite, { fn, what: 'a', rule: 'contain only finite values', got: 'NaN or ±Infinity', ref: 'METHOD.md §12' });
}

function maxAbs(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s = Math.max(s, Math.abs(data[i]!));
  return s;
}

/**
 * Thin SVD `A = U diag(σ) Vᵀ` of a real m×n matrix in float64, singular values descending.
 * @paper AHCQ-SAM:v4 §3.1 (ACNR needs the SVD of Wᵀ)
 * @source Hestenes (1958) one-sided Jacobi; convergence test of LAPACK dgesvj (|a_pᵀa_q| ≤ √m·ε‖a_p‖‖a_q‖)
 * @equation A·V = U·diag(σ), σ_j = ‖(AV)_j‖₂, U_j = (AV)_j / σ_j
 * @deviation For σ_j = 0 (exactly zero column after rotation) U_j is any unit vector orthogonal to the
 *   others (Gram–Schmidt on unit vectors), so U stays orthonormal; such columns are not unique anyway.
 *   Ties in σ keep the Jacobi column order (stable sort). Signs of (u_j, v_j) pairs are arbitrary.
 * @precision fp64 throughout; σ to high relative accuracy (≈ √m·ε·κ(column-scaled A)).
 */
export function svd(a: MatrixLike): Svd {
  checkMatrix('svd', a);
  const m = a.shape[0]!, n = a.shape[1]!;
  const transpose = m < n; // work on B = Aᵀ when A is wide, so B has r = min(m, n) columns
  const mm = transpose ? n : m, r = transpose ? m : n;
  const scale = maxAbs(a.data) || 1; // pre-scale to avoid under/overflow in sums of squares
  const { cols, vcols, sweeps } = jacobiSweeps(extractColumns(a.data, m, n, transpose, scale), mm, true);
  // σ_j = ‖b_j‖, sorted descending (stable)
  const norms = cols.map((c) => { let s2 = 0; for (let i = 0; i < mm; i++) s2 += c[i]! * c[i]!; return Math.sqrt(s2); });
  const order = Array.from({ length: r }, (_, j) => j).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const s = new Float64Array(r);
  const ucols: Float64Array[] = [];
  const zero: boolean[] = [];
  order.forEach((j, k) => {
    const nrm = norms[j]!;
    s[k] = nrm * scale;
    const col = new Float64Array(mm);
    if (nrm > 0) for (let i = 0; i < mm; i++) col[i] = cols[j]![i]! / nrm;
    ucols.push(col);
    zero.push(!(nrm > 0));
  });
  if (zero.some((z) => z)) completeBasis(ucols, zero, mm);
  const vsorted = order.map((j) => vcols![j]!);
  // B = Ub diag(σ) Vbᵀ; if B = Aᵀ then A = Vb diag(σ) Ubᵀ
  const [left, right] = transpose ? [vsorted, ucols] : [ucols, vsorted];
  return { m, n, r, s, u: columnsToTensor(left, m, r), v: columnsToTensor(right, n, r), sweeps };
}

function columnsToTensor(cols: Float64Array[], rows: number, r: number): Tensor<'float64'> {
  const data = new Float64Array(rows * r);
  for (let j = 0; j < r; j++) {
    const c = cols[j]!;
    for (let i = 0; i < rows; i++) data[i * r + j] = c[i]!;
  }
  return tensor([rows, r], data, 'float64'); // [rows, r]
}

/**
 * Singular values of a real m×n matrix in float64, descending (no singular vectors accumulated).
 * @paper AHCQ-SAM:v4 §3.1
 * @source Hestenes one-sided Jacobi (as `svd`)
 * @equation σ(A) = eig(AᵀA)^{1/2}, computed without forming AᵀA
 * @deviation none
 * @precision fp64; same accuracy as `svd`
 */
export function singularValues(a: MatrixLike): Float64Array {
  checkMatrix('singularValues', a);
  const m = a.shape[0]!, n = a.shape[1]!;
  const transpose = m < n;
  const mm = transpose ? n : m;
  const scale = maxAbs(a.data) || 1;
  const { cols } = jacobiSweeps(extractColumns(a.data, m, n, transpose, scale), mm, false);
  const s = Float64Array.from(cols, (c) => { let s2 = 0; for (let i = 0; i < mm; i++) s2 += c[i]! * c[i]!; return Math.sqrt(s2) * scale; });
  return s.sort().reverse();
}

/**
 * Spectral condition number κ(A) = σ_max / σ_min over the r = min(m, n) singular values.
 * @paper AHCQ-SAM:v4 §3.1 (ACNR skips layers with κ(Wᵀ) < 100)
 * @source AHCQ-SAM sam/ahcqsam/solver (σ_max/σ_min of the thin SVD)
 * @equation κ = σ₀ / σ_{r−1}
 * @deviation σ_min = 0 (including the zero matrix) gives +Infinity.
 * @precision fp64
 */
export function conditionNumber(a: MatrixLike): number {
  const s = singularValues(a);
  return conditionOf(s);
}

/**
 * κ from a descending singular-value vector: σ₀ / σ_{r−1} (+Infinity if σ_{r−1} = 0).
 * @paper AHCQ-SAM:v4 §3.1
 * @equation κ = σ₀ / σ_{r−1}
 * @deviation none
 * @precision fp64
 */
export function conditionOf(s: ArrayLike<number>): number {
  specRequire(s.length >= 1, { fn: 'conditionOf', what: 's.length', rule: 'be ≥ 1', got: s.length });
  const lo = s[s.length - 1]!;
  return lo > 0 ? s[0]! / lo : Infinity;
}
