/**
 * Naive checks of an SVD shared by the Jacobi and Gram SVD specs (they share no code with src/linalg).
 */
import type { Svd } from '../../src/linalg/svd';
import type { Tensor } from '../../src/tensor';

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
