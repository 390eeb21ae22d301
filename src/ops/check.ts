/**
 * Shared precondition helpers of the op layer (STYLE.md §6.5): each op validates its inputs in
 * one block before computing, and these helpers keep the messages uniform.
 */
import { specRequire, type DType, type Tensor } from '../tensor';

// MAIN

/**
 * Require `x` to be a float32 tensor.
 * @source STYLE.md §6.5 (precondition block)
 * @deviation none
 * @precision exact
 */
export function requireFloat32(fn: string, what: string, x: Tensor<DType>): asserts x is Tensor<'float32'> {
  specRequire(x !== null && typeof x === 'object' && x.dtype === 'float32' && x.data instanceof Float32Array, {
    fn,
    what: `${what}.dtype`,
    rule: 'be float32',
    got: x?.dtype,
  });
}

/**
 * Require `x` to have rank `rank` exactly (or at least `rank` when `atLeast`).
 * @source STYLE.md §6.5 (precondition block)
 * @deviation none
 * @precision exact
 */
export function requireRank(fn: string, what: string, x: Tensor<DType>, rank: number, atLeast = false): void {
  const ok = atLeast ? x.shape.length >= rank : x.shape.length === rank;
  specRequire(ok, { fn, what: `${what}.rank`, rule: atLeast ? `be ≥ ${rank}` : `be ${rank}`, got: x.shape.length });
}

/**
 * Require a positive integer.
 * @source STYLE.md §6.5 (precondition block)
 * @deviation none
 * @precision exact
 */
export function requirePositiveInt(fn: string, what: string, v: number): void {
  specRequire(Number.isInteger(v) && v > 0, { fn, what, rule: 'be a positive integer', got: v });
}

/**
 * Require a non-negative integer.
 * @source STYLE.md §6.5 (precondition block)
 * @deviation none
 * @precision exact
 */
export function requireNonNegativeInt(fn: string, what: string, v: number): void {
  specRequire(Number.isInteger(v) && v >= 0, { fn, what, rule: 'be a non-negative integer', got: v });
}

/**
 * Require a pair `[a, b]` of integers, each positive (`positive`) or non-negative.
 * @source STYLE.md §6.5 (precondition block)
 * @deviation none
 * @precision exact
 */
export function requirePair(fn: string, what: string, v: unknown, positive: boolean): asserts v is [number, number] {
  const ok =
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((d) => Number.isInteger(d) && (positive ? d > 0 : d >= 0));
  specRequire(ok, { fn, what, rule: `be a pair of ${positive ? 'positive' : 'non-negative'} integers`, got: v });
}

/**
 * Normalise a possibly negative axis into `[0, rank)`.
 * @source STYLE.md §6.5 (precondition block)
 * @deviation none
 * @precision exact
 */
export function normalizeAxis(fn: string, what: string, axis: number, rank: number): number {
  specRequire(Number.isInteger(axis) && axis >= -rank && axis < rank, {
    fn,
    what,
    rule: `be an integer in [${-rank}, ${rank - 1}]`,
    got: axis,
  });
  return axis < 0 ? axis + rank : axis;
}

/**
 * Require a float32 tensor with at least one element and every dim ≥ 1 (the op-layer input rule).
 * @source STYLE.md §6.5 (precondition block)
 * @deviation none
 * @precision exact
 */
export function requireInput(fn: string, what: string, x: Tensor<DType>): asserts x is Tensor<'float32'> {
  requireFloat32(fn, what, x);
  specRequire(x.shape.every((d) => d >= 1), { fn, what: `${what}.shape`, rule: 'have every dim ≥ 1 (empty tensors are rejected)', got: x.shape });
}
