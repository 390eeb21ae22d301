/**
 * fast-check arbitraries for float32 tensors (STYLE.md §6.7, §7.3).
 *
 * Distributions: shapes lean toward small dims with 1 and primes frequent (broadcast and edge paths);
 * values are finite float32 in a bounded range (default [−4, 4], the O(1) scale of SAM activations),
 * with no NaN/∞ (special values are tested in explicit `edge cases` blocks instead). Sizes are bounded
 * so every property runs in milliseconds.
 */
import fc from 'fast-check';
import { numel, type Tensor } from '../../src/tensor';

// TYPES

export interface ShapeOpts {
  readonly minRank?: number;
  readonly maxRank?: number;
  readonly maxDim?: number;
}

export interface ValueOpts {
  readonly min?: number;
  readonly max?: number;
}

// MAIN

/** A dimension size in [1, maxDim], biased toward 1 and small primes. */
export function dim(maxDim = 5): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.constant(1), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: maxDim }), weight: 3 });
}

/** A shape of rank in [minRank, maxRank] with dims from `dim(maxDim)`. */
export function shape(opts: ShapeOpts = {}): fc.Arbitrary<number[]> {
  const { minRank = 1, maxRank = 4, maxDim = 5 } = opts;
  return fc.array(dim(maxDim), { minLength: minRank, maxLength: maxRank });
}

/** A float32 tensor of the given shape with finite values in [min, max]. */
export function float32Tensor(s: readonly number[], opts: ValueOpts = {}): fc.Arbitrary<Tensor> {
  const { min = -4, max = 4 } = opts;
  const n = numel(s);
  return fc
    .float32Array({ minLength: n, maxLength: n, min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true })
    .map((data) => ({ dtype: 'float32' as const, shape: [...s], data }));
}

/** A shape together with a tensor of that shape. */
export function tensor(opts: ShapeOpts & ValueOpts = {}): fc.Arbitrary<Tensor> {
  return shape(opts).chain((s) => float32Tensor(s, opts));
}
