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

// GRAM-MATRIX SVD (fast path for ACNR, METHOD.md §12)

/**
 * Z[i, j] = x_i·y_j for the rows of X [p, K] and Y [q, K] (row-major), 2×2 register blocks; with
 * `symmetric` (X = Y) only blocks on or above the diagonal are computed and mirrored.
 */
function rowDots(x: Float64Array, p: number, y: Float64Array, qn: number, K: number, symmetric: boolean): Float64Array {
  const z = new Float64Array(p * qn);
  for (let i = 0; i < p; i += 2) {
    const i1 = Math.min(i + 1, p - 1);
    const xa = i * K, xb = i1 * K;
    for (let j = symmetric ? i - (i % 2) : 0; j < qn; j += 2) {
      const j1 = Math.min(j + 1, qn - 1);
      const ya = j * K, yb = j1 * K;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let k = 0; k < K; k++) {
        const u = x[xa + k]!, v = x[xb + k]!, w = y[ya + k]!, t = y[yb + k]!;
        s00 += u * w; s01 += u * t; s10 += v * w; s11 += v * t;
      }
      z[i * qn + j] = s00; z[i * qn + j1] = s01; z[i1 * qn + j] = s10; z[i1 * qn + j1] = s11;
    }
  }
  if (symmetric) for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) z[i * qn + j] = z[j * qn + i]!;
  return z;
}

/**
 * Householder reduction of the symmetric n×n matrix `g` (row-major, overwritten) to tridiagonal form
 * T = Qᵀ G Q; returns the diagonal, the off-diagonal (e[i] = T[i+1, i]) and Qᵀ (row-major n×n: row c is
 * column c of Q, so that column operations run over contiguous memory).
 */
function tridiagonalize(g: Float64Array, n: number): { d: Float64Array; e: Float64Array; q: Float64Array } {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(n), p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // x = G[k+1.., k]; reflector H = I − β·v·vᵀ with H·x = α·e₁
    const m = n - k - 1;
    let tail = 0;
    for (let i = 0; i < m; i++) { const x = g[(k + 1 + i) * n + k]!; v[i] = x; if (i > 0) tail += x * x; }
    if (tail === 0) continue; // column already reduced
    const xnorm2 = tail + v[0]! * v[0]!;
    const alpha = v[0]! >= 0 ? -Math.sqrt(xnorm2) : Math.sqrt(xnorm2);
    v[0] = v[0]! - alpha;
    tail += v[0]! * v[0]!; // vᵀv
    const beta = 2 / tail;
    // S = G[k+1.., k+1..] ← H S H:  p = β S v;  w = p − (β pᵀv / 2) v;  S ← S − v wᵀ − w vᵀ
    let pv = 0;
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      let s = 0;
      for (let j = 0; j < m; j++) s += g[row + j]! * v[j]!;
      p[i] = beta * s;
      pv += p[i]! * v[i]!;
    }
    const kk = (beta * pv) / 2;
    for (let i = 0; i < m; i++) p[i] = p[i]! - kk * v[i]!; // p now holds w
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const vi = v[i]!, wi = p[i]!;
      for (let j = 0; j < m; j++) g[row + j] = g[row + j]! - vi * p[j]! - wi * v[j]!;
    }
    g[(k + 1) * n + k] = alpha;
    g[k * n + k + 1] = alpha;
    for (let i = 1; i < m; i++) { g[(k + 1 + i) * n + k] = 0; g[k * n + k + 1 + i] = 0; }
    // Q ← Q·H on columns k+1.. (q holds Qᵀ: row c of q is column c of Q):  t = β Σ_j v_j q_{k+1+j};  q_{k+1+j} −= v_j t
    p.fill(0);
    for (let j = 0; j < m; j++) {
      const vj = v[j]!;
      if (vj === 0) continue;
      const row = (k + 1 + j) * n;
      for (let c = 0; c < n; c++) p[c] = p[c]! + vj * q[row + c]!;
    }
    for (let c = 0; c < n; c++) p[c] = beta * p[c]!;
    for (let j = 0; j < m; j++) {
      const vj = v[j]!;
      if (vj === 0) continue;
      const row = (k + 1 + j) * n;
      for (let c = 0; c < n; c++) q[row + c] = q[row + c]! - vj * p[c]!;
    }
  }
  const d = new Float64Array(n), e = new Float64Array(Math.max(0, n - 1));
  for (let i = 0; i < n; i++) d[i] = g[i * n + i]!;
  for (let i = 0; i + 1 < n; i++) e[i] = g[(i + 1) * n + i]!;
  return { d, e, q };
}

/**
 * Eigenvalues of the symmetric tridiagonal (d, e) by implicit QR steps with the Wilkinson shift; the
 * rotations are accumulated into Q (`q` holds Qᵀ row-major), so on return G = Q diag(d) Qᵀ.
 */
function tridiagonalQr(d: Float64Array, e: Float64Array, q: Float64Array, n: number): void {
  const negligible = (i: number): boolean => Math.abs(e[i]!) <= EPS64 * (Math.abs(d[i]!) + Math.abs(d[i + 1]!));
  let hi = n - 1, iterations = 0;
  const maxIterations = 60 * Math.max(1, n);
  while (hi > 0) {
    if (negligible(hi - 1)) { e[hi - 1] = 0; hi--; continue; }
    let lo = hi - 1;
    while (lo > 0 && !negligible(lo - 1)) lo--;
    if (lo > 0) e[lo - 1] = 0;
    specRequire(iterations++ < maxIterations, { fn: 'svdGram', what: 'the tridiagonal QR iteration', rule: `converge within ${maxIterations} steps`, got: iterations, ref: 'METHOD.md §12' });
    // Wilkinson shift from the trailing 2×2 block of T[lo..hi]
    const tb = e[hi - 1]!;
    const delta = (d[hi - 1]! - d[hi]!) / 2;
    const mu = d[hi]! - (tb * tb) / (delta + (delta >= 0 ? 1 : -1) * Math.hypot(delta, tb));
    // chase the bulge: rotation J_k in the plane (k, k+1) zeroes (x, z) → (r, 0); T ← J_kᵀ T J_k
    let x = d[lo]! - mu, z = e[lo]!;
    for (let k = lo; k < hi; k++) {
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r, s = r === 0 ? 0 : -z / r;
      if (k > lo) e[k - 1] = r;
      const a = d[k]!, b = e[k]!, cc = d[k + 1]!;
      d[k] = c * c * a - 2 * c * s * b + s * s * cc;
      d[k + 1] = s * s * a + 2 * c * s * b + c * c * cc;
      e[k] = c * s * (a - cc) + (c * c - s * s) * b;
      if (k + 1 < hi) {
        const next = e[k + 1]!;
        z = -s * next; // the bulge at (k+2, k)
        e[k + 1] = c * next;
        x = e[k]!;
      }
      // Q ← Q·J_k (q holds Qᵀ: rows k and k+1 are the rotated columns)
      const ka = k * n, kb = ka + n;
      for (let col = 0; col < n; col++) {
        const qa = q[ka + col]!, qb = q[kb + col]!;
        q[ka + col] = c * qa - s * qb;
        q[kb + col] = s * qa + c * qb;
      }
    }
  }
}

/**
 * Thin SVD `A = U diag(σ) Vᵀ` through the float64 Gram matrix: G = BᵀB (B = A, or Aᵀ when A is wide, so G is
 * r×r), G = V Λ Vᵀ by Householder tridiagonalisation and implicit Wilkinson-shift QR, then U = B·V/σ with
 * σ_j = ‖B v_j‖₂ (the column norms, not √λ_j). Same contract as `svd`; about 10× faster on ACNR's shapes.
 * @paper AHCQ-SAM:v4 §3.1 (ACNR needs the SVD of Wᵀ)
 * @source METHOD.md §12 ("an eigendecomposition of AᵀA/AAᵀ in float64, then U = AV/σ"); Golub & Van Loan,
 *   Matrix Computations §8.3 (tridiagonalisation, implicit symmetric QR step)
 * @equation G = BᵀB = V Λ Vᵀ;  σ_j = ‖B v_j‖;  u_j = B v_j / σ_j
 * @deviation Accuracy is that of the Gram matrix: a singular value σ_j carries a relative error of order
 *   ε·(σ₀/σ_j)² in its singular vectors (not the Jacobi SVD's ε·κ), which is ≤ 1e-9 relative for κ ≤ 3·10³;
 *   σ_j = 0 handled as in `svd` (U completed by Gram–Schmidt). Ties keep the eigen-solver's order.
 * @precision fp64 throughout
 */
export function svdGram(a: MatrixLike): Svd {
  checkMatrix('svdGram', a);
  const m = a.shape[0]!, n = a.shape[1]!;
  const transpose = m < n;
  const mm = transpose ? n : m, r = transpose ? m : n;
  const scale = maxAbs(a.data) || 1;
  // Bᵀ [r, mm] row-major (row j = column j of B), scaled by 1/scale
  const bt = new Float64Array(r * mm);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    const x = a.data[i * n + j]! / scale;
    if (transpose) bt[i * mm + j] = x; else bt[j * mm + i] = x;
  }
  // G = BᵀB [r, r]: G[i, j] = b_i·b_j (upper blocks, mirrored)
  const g = rowDots(bt, r, bt, r, mm, true);
  const { d, e, q } = tridiagonalize(g, r);
  tridiagonalQr(d, e, q, r);
  // Yᵀ [r, mm]: row j is B·v_j, i.e. Yᵀ[j, i] = v_j·(row i of B) (q holds Qᵀ, rows are the v_j)
  const b = new Float64Array(mm * r); // B [mm, r] row-major
  for (let j = 0; j < r; j++) for (let i = 0; i < mm; i++) b[i * r + j] = bt[j * mm + i]!;
  const yt = rowDots(q, r, b, mm, r, false);
  const norms = new Float64Array(r);
  for (let j = 0; j < r; j++) {
    let s2 = 0;
    for (let i = 0; i < mm; i++) s2 += yt[j * mm + i]! * yt[j * mm + i]!;
    norms[j] = Math.sqrt(s2);
  }
  const order = Array.from({ length: r }, (_, j) => j).sort((x, z) => norms[z]! - norms[x]! || x - z);
  const s = new Float64Array(r);
  const ucols: Float64Array[] = [], vcols: Float64Array[] = [], zero: boolean[] = [];
  order.forEach((j, k) => {
    const nrm = norms[j]!;
    s[k] = nrm * scale;
    const uc = new Float64Array(mm), vc = new Float64Array(r);
    if (nrm > 0) for (let i = 0; i < mm; i++) uc[i] = yt[j * mm + i]! / nrm;
    for (let i = 0; i < r; i++) vc[i] = q[j * r + i]!;
    ucols.push(uc);
    vcols.push(vc);
    zero.push(!(nrm > 0));
  });
  if (zero.some((z) => z)) completeBasis(ucols, zero, mm);
  const [left, right] = transpose ? [vcols, ucols] : [ucols, vcols];
  return { m, n, r, s, u: columnsToTensor(left, m, r), v: columnsToTensor(right, n, r), sweeps: 0 };
}
