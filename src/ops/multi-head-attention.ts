/**
 * Multi-head scaled dot-product attention on separate q, k, v projections (SAM decoder's `Attention`
 * after its q/k/v Linears), as one op of the backend seam, written as the composition of the existing
 * reference ops so that it reads like the module it replaces.
 *
 * Legend: B batch, Nq queries, Nk keys, H heads, d = q/k head dim, dv = v head dim.
 */
import { specRequire, view, type Tensor } from '../tensor';
import { requireInput, requireRank } from './check';
import { matmul } from './matmul';
import { permute } from './permute';
import { scale } from './scale';
import { softmax } from './softmax';

// TYPES

/** Resolved geometry of a multiHeadAttention call. */
export interface MultiHeadAttentionGeometry {
  readonly B: number;
  readonly Nq: number;
  readonly Nk: number;
  readonly d: number;
  readonly dv: number;
}

// MAIN

/**
 * Check the operands of `multiHeadAttention` (shared by the fast backend): q [B, Nq, H·d],
 * k [B, Nk, H·d], v [B, Nk, H·dv] float32, H a positive integer dividing both widths, finite scale.
 * @source SAM-code@dca509f segment_anything/modeling/transformer.py#Attention (shapes)
 * @deviation none
 * @precision exact
 */
export function multiHeadAttentionGeometry(q: Tensor, k: Tensor, v: Tensor, heads: number, s: number): MultiHeadAttentionGeometry {
  const fn = 'multiHeadAttention';
  for (const [what, t] of [['q', q], ['k', k], ['v', v]] as const) {
    requireInput(fn, what, t);
    requireRank(fn, what, t, 3);
  }
  const [B, Nq, C] = q.shape as [number, number, number];
  const [, Nk, Cv] = v.shape as [number, number, number];
  specRequire(k.shape[0] === B && v.shape[0] === B, { fn, what: 'k/v.shape[0]', rule: `equal q.shape[0] = ${B}`, got: [k.shape[0], v.shape[0]] });
  specRequire(k.shape[1] === Nk, { fn, what: 'k.shape[1]', rule: `equal v.shape[1] = ${Nk}`, got: k.shape[1] });
  specRequire(k.shape[2] === C, { fn, what: 'k.shape[2]', rule: `equal q.shape[2] = ${C}`, got: k.shape[2] });
  specRequire(Number.isInteger(heads) && heads >= 1 && C % heads === 0 && Cv % heads === 0, { fn, what: 'heads', rule: `be a positive integer dividing ${C} and ${Cv}`, got: heads });
  specRequire(typeof s === 'number' && Number.isFinite(s), { fn, what: 's', rule: 'be a finite number', got: s });
  return { B, Nq, Nk, d: C / heads, dv: Cv / heads };
}

/**
 * Per batch item and head h: P = softmax(s·QₕKₕᵀ) over the keys, Yₕ = P·Vₕ, heads concatenated;
 * q, k, v hold the heads side by side along the last axis (head h = columns h·d … h·d + d − 1).
 * @source SAM-code@dca509f segment_anything/modeling/transformer.py#Attention (_separate_heads, attn, _recombine_heads)
 * @equation Yₕ = softmax(fl32(fl32(Qₕ·Kₕᵀ)·fl32(s)))·Vₕ; y[b, n, h·dv + e] = Yₕ[b, n, e]
 * @deviation none
 * @precision as matmul, scale, softmax, matmul in sequence (fp64-accumulate, fp32-store per op)
 */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, s: number): Tensor {
  const { B, Nq, Nk, d, dv } = multiHeadAttentionGeometry(q, k, v, heads, s);
  const qh = permute(view(q, [B, Nq, heads, d]), [0, 2, 1, 3]); // [B, H, Nq, d]
  const kT = permute(view(k, [B, Nk, heads, d]), [0, 2, 3, 1]); // [B, H, d, Nk]
  const vh = permute(view(v, [B, Nk, heads, dv]), [0, 2, 1, 3]); // [B, H, Nk, dv]
  const p = softmax(scale(matmul(qh, kT), s), { axis: -1 }); // [B, H, Nq, Nk]
  return view(permute(matmul(p, vh), [0, 2, 1, 3]), [B, Nq, heads * dv]); // [B, Nq, H·dv]
}
