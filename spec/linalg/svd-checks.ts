/**
 * Naive checks of an SVD shared by the Jacobi and Gram SVD specs (they share no code with src/linalg).
 */
import type { Svd } from '../../src/linalg/svd';
import { tensor, type Tensor } from '../../src/tensor';

/** max |dᵢ|. */
export function maxAbs(d: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s = Math.max(s, Math.abs(d[i]!));
  return s;
}

/** max |A − U diag(s) Vᵀ| by a naive triple loop. */
export function reconstructionError(a: Tensor<'float64'> | Tensor<'float32'>, d: Svd): number {
  let e = 0;
  for (let i = 0; i < d.m; i++) for (let j = 0; j < d.n; j++) {
    let s = 0;
    for (let k = 0; k < d.r; k++) s += d.u.data[i * d.r + k]! * d.s[k]! * d.v.data[j * d.r + k]!;
    e = Math.max(e, Math.abs(a.data[i * d.n + j]! - s));
  }
  return e;
}

/** max |QᵀQ − I| for Q [rows, r]. */
export function orthoError(q: Tensor<'float64'>): number {
  const [rows, r] = q.shape as [number, number];
  let e = 0;
  for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += q.data[i * r + a]! * q.data[i * r + b]!;
    e = Math.max(e, Math.abs(s - (a === b ? 1 : 0)));
  }
  return e;
}

/** A [rows, cols] float64 matrix from row-major values. */
export function m64(rows: number, cols: number, v: number[]): Tensor<'float64'> {
  return tensor([rows, cols], Float64Array.from(v), 'float64');
}

/** Small matrices with known singular values (descending), for both SVDs' edge-case tables. */
export const SVD_EDGE_CASES: [string, Tensor<'float64'>, number[]][] = [
  ['1×1', m64(1, 1, [-3]), [3]],
  ['1×n row', m64(1, 3, [3, 0, 4]), [5]],
  ['n×1 column', m64(3, 1, [0, -6, 8]), [10]],
  ['zero matrix', m64(2, 3, [0, 0, 0, 0, 0, 0]), [0, 0]],
  ['diagonal, unsorted', m64(3, 3, [1, 0, 0, 0, 3, 0, 0, 0, 2]), [3, 2, 1]],
  ['rank 1 (outer product)', m64(3, 2, [1, 2, 2, 4, 3, 6]), [Math.sqrt(14) * Math.sqrt(5), 0]],
  ['repeated singular values (orthogonal 2×2)', m64(2, 2, [0, 1, 1, 0]), [1, 1]],
];
