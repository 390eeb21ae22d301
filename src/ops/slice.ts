/**
 * Contiguous sub-block extraction (step 1).
 */
import { numel, specRequire, stridesOf, type Tensor } from '../tensor';
import { requireInput } from './check';

// MAIN

/**
 * The block x[starts[0]:ends[0], …, starts[r−1]:ends[r−1]] (one start/end per axis, step 1).
 * @source NumPy basic slicing / PyTorch narrow
 * @equation out[j] = x[j + starts]
 * @deviation no negative indices, no clamping: 0 ≤ start < end ≤ size is required on every axis
 * @precision exact
 */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[]): Tensor {
  const fn = 'slice';
  requireInput(fn, 'x', x);
  const rank = x.shape.length;
  specRequire(Array.isArray(starts) && starts.length === rank, { fn, what: 'starts.length', rule: `equal x rank ${rank}`, got: starts?.length });
  specRequire(Array.isArray(ends) && ends.length === rank, { fn, what: 'ends.length', rule: `equal x rank ${rank}`, got: ends?.length });
  for (let d = 0; d < rank; d++) {
    const s = starts[d]!;
    const e = ends[d]!;
    specRequire(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s < e && e <= x.shape[d]!, {
      fn,
      what: `[starts[${d}], ends[${d}])`,
      rule: `satisfy 0 ≤ start < end ≤ ${x.shape[d]}`,
      got: [s, e],
    });
  }
  const shape = starts.map((s, d) => ends[d]! - s);
  const inStr = stridesOf(x.shape);
  const n = numel(shape);
  const out = new Float32Array(n);
  const pos = new Array<number>(rank).fill(0);
  let src = 0;
  for (let d = 0; d < rank; d++) src += starts[d]! * inStr[d]!;
  for (let o = 0; o < n; o++) {
    out[o] = x.data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      pos[d]!++;
      src += inStr[d]!;
      if (pos[d]! < shape[d]!) break;
      src -= inStr[d]! * shape[d]!;
      pos[d] = 0;
    }
  }
  return { dtype: 'float32', shape, data: out };
}
