/**
 * Axis permutation (a copy: tensors are always contiguous).
 */
import { specRequire, stridesOf, type DType, type Tensor } from '../tensor';

// MAIN

/**
 * Reorder the axes of x: out.shape[i] = x.shape[perm[i]], out[…, j_i, …] = x[…, j at axis perm[i], …].
 * @source PyTorch torch.permute (followed by .contiguous())
 * @equation out[j_0, …, j_{r−1}] = x[k] with k_{perm[i]} = j_i
 * @deviation none (any dtype; the result is a contiguous copy)
 * @precision exact
 */
export function permute<D extends DType>(x: Tensor<D>, perm: readonly number[]): Tensor<D> {
  const fn = 'permute';
  const rank = x.shape.length;
  specRequire(Array.isArray(perm) && perm.length === rank, { fn, what: 'perm.length', rule: `equal x rank ${rank}`, got: perm });
  const seen = new Array<boolean>(rank).fill(false);
  for (const p of perm) {
    specRequire(Number.isInteger(p) && p >= 0 && p < rank && !seen[p], {
      fn,
      what: 'perm',
      rule: `be a permutation of 0..${rank - 1}`,
      got: perm,
    });
    seen[p] = true;
  }
  const shape = perm.map((p) => x.shape[p]!);
  const inStr = stridesOf(x.shape);
  const str = perm.map((p) => inStr[p]!); // input stride of each output axis
  const n = x.data.length;
  const out = new (x.data.constructor as new (n: number) => typeof x.data)(n);
  const pos = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < n; o++) {
    out[o] = x.data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      pos[d]!++;
      src += str[d]!;
      if (pos[d]! < shape[d]!) break;
      src -= str[d]! * shape[d]!;
      pos[d] = 0;
    }
  }
  return { dtype: x.dtype, shape, data: out };
}
