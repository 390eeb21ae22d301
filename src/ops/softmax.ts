/**
 * Softmax along one axis, with the row maximum subtracted before exponentiation.
 *
 * Legend: outer × L × inner, where L is the softmax axis length.
 */
import { type Tensor } from '../tensor';
import { normalizeAxis, requireInput } from './check';

// TYPES

/** Attributes of `softmax`; `axis` defaults to −1 (last). */
export interface SoftmaxAttrs {
  readonly axis?: number;
}

// MAIN

/**
 * Softmax of x along `axis`: every slice along the axis is mapped to a probability vector.
 * @source PyTorch torch.softmax (dim = −1 in SAM attention)
 * @equation softmax(x)_i = e^(x_i − m) / Σ_j e^(x_j − m), m = max_j x_j
 * @deviation none. Special values: a NaN in a slice makes that slice NaN; a +∞ makes it NaN
 *   (∞ − ∞), as PyTorch; −∞ entries get probability 0; an all-−∞ slice is NaN (as PyTorch)
 * @precision fp64 exp and sum, fp32-store
 */
export function softmax(x: Tensor, attrs?: SoftmaxAttrs): Tensor {
  const fn = 'softmax';
  requireInput(fn, 'x', x);
  const rank = x.shape.length;
  const axis = normalizeAxis(fn, 'attrs.axis', attrs?.axis ?? -1, Math.max(rank, 1));
  const L = rank === 0 ? 1 : x.shape[axis]!;
  let inner = 1;
  for (let d = axis + 1; d < rank; d++) inner *= x.shape[d]!;
  const outer = x.data.length / (L * inner);
  const out = new Float32Array(x.data.length);
  const e = new Float64Array(L);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * L * inner + j; // element l of this slice is at base + l·inner
      // (1) m = max (NaN-propagating)
      let m = -Infinity;
      for (let l = 0; l < L; l++) {
        const v = x.data[base + l * inner]!;
        if (v > m || Number.isNaN(v)) m = v;
        if (Number.isNaN(m)) break;
      }
      // (2) exponentials and their sum
      let sum = 0;
      for (let l = 0; l < L; l++) {
        const v = Math.exp(x.data[base + l * inner]! - m);
        e[l] = v;
        sum += v;
      }
      // (3) normalise
      for (let l = 0; l < L; l++) out[base + l * inner] = e[l]! / sum;
    }
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}
