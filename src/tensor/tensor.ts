/**
 * The tensor record of the specification: contiguous, row-major, no views, no offsets
 * (STYLE.md §6.2). Strides are derived from the shape. Creators and accessors only.
 *
 * Legend: `shape` lists dimension sizes outermost first; `numel` = product of `shape`.
 */
import { specRequire } from './errors';

// TYPES

export type DType = 'float32' | 'float64' | 'int32' | 'int16' | 'int8' | 'uint8';

export interface ArrayForMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
}
export type ArrayFor<D extends DType> = ArrayForMap[D];

/** A dense tensor. `data.length === numel(shape)` always holds. */
export interface Tensor<D extends DType = 'float32'> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: ArrayFor<D>;
}

// MAIN

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
} as const;

/** Number of elements of a shape (1 for rank 0). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

function checkShape(fn: string, shape: readonly number[]): void {
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    specRequire(Number.isInteger(d) && d >= 0, { fn, what: `shape[${i}]`, rule: 'be a non-negative integer', got: d });
  }
}

/** Wrap existing data (not copied) in a tensor; checks `data.length === numel(shape)`. */
export function tensor<D extends DType = 'float32'>(shape: readonly number[], data: ArrayFor<D>, dtype?: D): Tensor<D> {
  checkShape('tensor', shape);
  specRequire(data.length === numel(shape), {
    fn: 'tensor',
    what: 'data.length',
    rule: `equal numel(shape) = ${numel(shape)}`,
    got: data.length,
  });
  const dt = (dtype ?? dtypeOf(data)) as D;
  return { dtype: dt, shape: [...shape], data };
}

/** The dtype of a typed array. */
export function dtypeOf(data: ArrayFor<DType>): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int8Array) return 'int8';
  return 'uint8';
}

/** A zero-filled tensor. */
export function zeros<D extends DType = 'float32'>(shape: readonly number[], dtype: D = 'float32' as D): Tensor<D> {
  checkShape('zeros', shape);
  return { dtype, shape: [...shape], data: new CTORS[dtype](numel(shape)) as ArrayFor<D> };
}

/** A float32 tensor from plain numbers (each rounded to float32). */
export function fromArray(shape: readonly number[], values: ArrayLike<number>): Tensor<'float32'> {
  return tensor(shape, Float32Array.from(values as ArrayLike<number>));
}

/** A copy with a new shape of equal numel (data copied, so the result never aliases). */
export function reshape<D extends DType>(x: Tensor<D>, shape: readonly number[]): Tensor<D> {
  const inferred = shape.indexOf(-1);
  let s = [...shape];
  if (inferred >= 0) {
    const rest = numel(s.filter((_, i) => i !== inferred));
    s[inferred] = rest === 0 ? 0 : numel(x.shape) / rest;
  }
  specRequire(numel(s) === numel(x.shape), {
    fn: 'reshape',
    what: 'numel(shape)',
    rule: `equal numel(x.shape) = ${numel(x.shape)}`,
    got: s,
  });
  return { dtype: x.dtype, shape: s, data: x.data.slice() as ArrayFor<D> };
}

/** Same data, new shape, no copy (the caller promises not to mutate either). */
export function view<D extends DType>(x: Tensor<D>, shape: readonly number[]): Tensor<D> {
  specRequire(numel(shape) === numel(x.shape), {
    fn: 'view',
    what: 'numel(shape)',
    rule: `equal numel(x.shape) = ${numel(x.shape)}`,
    got: shape,
  });
  return { dtype: x.dtype, shape: [...shape], data: x.data };
}

/** Deep copy. */
export function clone<D extends DType>(x: Tensor<D>): Tensor<D> {
  return { dtype: x.dtype, shape: [...x.shape], data: x.data.slice() as ArrayFor<D> };
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Require `x.shape` to equal `expected` (−1 = any size), naming `what` in the error. */
export function requireShape(fn: string, what: string, x: { shape: readonly number[] }, expected: readonly number[]): void {
  const ok = x.shape.length === expected.length && expected.every((d, i) => d === -1 || d === x.shape[i]);
  specRequire(ok, { fn, what: `${what}.shape`, rule: `be [${expected.map((d) => (d === -1 ? '*' : d)).join(',')}]`, got: x.shape });
}

/** Require every element to be finite (no NaN / ±∞). */
export function requireFinite(fn: string, what: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      specRequire(false, { fn, what: `${what}[${i}]`, rule: 'be finite', got: data[i] });
    }
  }
}
