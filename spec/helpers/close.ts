/**
 * Element-addressed float comparison for tests (array-api-tests style failure messages).
 */
import { expect } from 'vitest';
import type { DType, Tensor } from '../../src/tensor';

/** Max |a − b| over two equally long arrays (NaN if any pair differs in NaN-ness). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return NaN;
      continue;
    }
    if (x === y) continue; // also covers equal infinities
    m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/** Expect shapes equal and every element within `tol` (absolute + relative · |expected|); names the first bad element. */
export function expectClose(actual: Tensor<DType>, expected: { shape: readonly number[]; data: ArrayLike<number> }, tol: number, rel = 0, label = ''): void {
  expect([...actual.shape], `${label} shape`).toEqual([...expected.shape]);
  for (let i = 0; i < expected.data.length; i++) {
    const x = actual.data[i]!;
    const y = expected.data[i]!;
    const ok = (Number.isNaN(x) && Number.isNaN(y)) || x === y || Math.abs(x - y) <= tol + rel * Math.abs(y);
    if (!ok) expect.fail(`${label} out[${i}] = ${x}, but expected ${y} (|Δ| = ${Math.abs(x - y)}, tol ${tol} + ${rel}·|y|)`);
  }
}
