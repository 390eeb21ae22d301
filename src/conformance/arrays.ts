/**
 * Decoding of the vector format's `ARRAY` values: `{shape, dtype, data}` inline (row-major) or
 * `{shape, dtype, npy}` pointing at a `.npy` file next to the case JSON.
 */
import { join } from 'node:path';
import { FormatError, numel } from '../tensor';
import { loadNpy } from '../io/fs';

// TYPES

export type VecDType = 'float32' | 'float64' | 'int32' | 'bool';

/** A decoded ARRAY: values as doubles (float32 values are exact in a double). */
export interface VecArray {
  readonly shape: readonly number[];
  readonly dtype: VecDType;
  readonly data: Float64Array;
}

// MAIN

/** True if `v` looks like an ARRAY object. */
export function isArrayValue(v: unknown): v is { shape: number[]; dtype: string } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { shape?: unknown }).shape) && typeof (v as { dtype?: unknown }).dtype === 'string';
}

/** Decode an ARRAY value; `where` names it in errors. */
export function decodeArray(v: unknown, dir: string, where: string): VecArray {
  if (!isArrayValue(v)) throw new FormatError(where, 'expected an ARRAY {shape, dtype, data|npy}');
  const a = v as { shape: number[]; dtype: string; data?: unknown; npy?: unknown };
  const dtype = a.dtype as VecDType;
  if (!['float32', 'float64', 'int32', 'bool'].includes(dtype)) throw new FormatError(where, `unsupported dtype '${a.dtype}'`);
  const n = numel(a.shape);
  let data: Float64Array;
  if (Array.isArray(a.data)) {
    data = Float64Array.from(a.data as unknown[], (x) => (typeof x === 'boolean' ? (x ? 1 : 0) : Number(x)));
  } else if (typeof a.npy === 'string') {
    const t = loadNpy(join(dir, a.npy));
    data = Float64Array.from(t.data as ArrayLike<number>);
  } else if (a.shape.length === 0 && (typeof a.data === 'number' || typeof a.data === 'boolean')) {
    data = Float64Array.of(Number(a.data));
  } else {
    throw new FormatError(where, 'ARRAY has neither data nor npy');
  }
  if (data.length !== n) throw new FormatError(where, `ARRAY data has ${data.length} values, shape [${a.shape}] needs ${n}`);
  return { shape: a.shape, dtype, data };
}

/** Decode an ARRAY as float32 data. */
export function decodeF32(v: unknown, dir: string, where: string): { shape: readonly number[]; data: Float32Array } {
  const a = decodeArray(v, dir, where);
  return { shape: a.shape, data: Float32Array.from(a.data) };
}
