/**
 * Fully connected layer in PyTorch layout (weight [out, in]).
 *
 * Legend: R rows (product of leading dims), I in_features, O out_features.
 */
import { numel, requireShape, specRequire, type Tensor } from '../tensor';
import { requireInput, requireRank } from './check';
import { gemmInto } from './matmul';

// MAIN

/**
 * Affine map of the last axis: x [..., in], weight [out, in], bias [out] → [..., out].
 * @source PyTorch torch.nn.functional.linear
 * @equation y[r, o] = Σ_i x[r, i] · W[o, i] + b[o]
 * @deviation none; NaN/±∞ propagate
 * @precision fp64-accumulate (starting from b[o], then i ascending), fp32-store
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const fn = 'linear';
  requireInput(fn, 'x', x);
  requireInput(fn, 'weight', weight);
  requireRank(fn, 'x', x, 1, true);
  requireRank(fn, 'weight', weight, 2);
  const I = x.shape[x.shape.length - 1]!;
  const O = weight.shape[0]!;
  specRequire(weight.shape[1] === I, { fn, what: 'weight.shape[1]', rule: `equal x.shape[-1] = ${I}`, got: weight.shape[1] });
  if (bias !== undefined) {
    requireInput(fn, 'bias', bias);
    requireShape(fn, 'bias', bias, [O]);
  }
  const R = numel(x.shape.slice(0, -1));
  // Wᵀ [I, O] so the kernel streams contiguous rows (i-k-j order)
  const wt = new Float32Array(I * O);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) wt[i * O + o] = weight.data[o * I + i]!;
  const out = new Float32Array(R * O); // [R, O]
  gemmInto(x.data, 0, wt, 0, out, 0, R, I, O, bias?.data);
  return { dtype: 'float32', shape: [...x.shape.slice(0, -1), O], data: out }; // [..., out]
}
