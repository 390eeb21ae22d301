/**
 * Multi-head attention on an interleaved q|k|v projection (TinyViT's `Attention` layout), as one op of
 * the backend seam, written as the composition of the existing reference ops so that it reads like
 * the module it replaces.
 *
 * Legend: Bw batch (windows), N tokens, H heads, hd head dim, C = H·hd.
 */
import { specRequire, view, type Tensor } from '../tensor';
import { add } from './add';
import { requireInput, requireRank } from './check';
import { matmul } from './matmul';
import { permute } from './permute';
import { scale } from './scale';
import { slice } from './slice';
import { softmax } from './softmax';

// TYPES

/** Resolved geometry of a qkvAttention call. */
export interface QkvAttentionGeometry {
  readonly Bw: number;
  readonly N: number;
  readonly H: number;
  readonly hd: number;
}

// MAIN

/**
 * Check the operands of `qkvAttention` (shared by the fast backend): qkv [Bw, N, H, 3·hd] float32,
 * finite scale, optional float32 bias whose shape is a suffix of [Bw, H, N, N].
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#Attention.forward (shapes)
 * @deviation none
 * @precision exact
 */
export function qkvAttentionGeometry(qkv: Tensor, s: number, bias?: Tensor): QkvAttentionGeometry {
  const fn = 'qkvAttention';
  requireInput(fn, 'qkv', qkv);
  requireRank(fn, 'qkv', qkv, 4);
  const [Bw, N, H, hd3] = qkv.shape as [number, number, number, number];
  specRequire(hd3 % 3 === 0, { fn, what: 'qkv.shape[3]', rule: 'be 3·hd (q|k|v per head)', got: hd3 });
  specRequire(typeof s === 'number' && Number.isFinite(s), { fn, what: 's', rule: 'be a finite number', got: s });
  if (bias !== undefined) {
    requireInput(fn, 'bias', bias);
    const full = [Bw, H, N, N];
    const ok = bias.shape.length >= 1 && bias.shape.length <= 4 && bias.shape.every((d, i) => d === full[4 - bias.shape.length + i]) && bias.shape[bias.shape.length - 1] === N;
    specRequire(ok, { fn, what: 'bias.shape', rule: `be a suffix of [${full.join(',')}] ending in N`, got: bias.shape });
  }
  return { Bw, N, H, hd: hd3 / 3 };
}

/**
 * Per batch item and head h: P = softmax(s·qₕkₕᵀ + biasₕ) over the keys, Oₕ = P·vₕ, heads concatenated.
 * qkv [Bw, N, H, 3·hd] holds (qₕ | kₕ | vₕ) per token and head, as TinyViT's qkv Linear output viewed
 * [Bw, N, H, 3·hd]; the result is [Bw, N, H·hd] (ready for the output projection).
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#Attention.forward (eval mode, attn_ratio 1)
 * @equation Oₕ = softmax(fl32(fl32(qₕ·kₕᵀ)·fl32(s)) + Aₕ)·vₕ; y[b, n, h·hd + d] = Oₕ[b, n, d]
 * @deviation none
 * @precision as matmul, scale, add, softmax, matmul in sequence (fp64-accumulate, fp32-store per op)
 */
export function qkvAttention(qkv: Tensor, s: number, bias?: Tensor): Tensor {
  const { Bw, N, H, hd } = qkvAttentionGeometry(qkv, s, bias);
  const q = permute(slice(qkv, [0, 0, 0, 0], [Bw, N, H, hd]), [0, 2, 1, 3]); // [Bw, H, N, hd]
  const kT = permute(slice(qkv, [0, 0, 0, hd], [Bw, N, H, 2 * hd]), [0, 2, 3, 1]); // [Bw, H, hd, N]
  const v = permute(slice(qkv, [0, 0, 0, 2 * hd], [Bw, N, H, 3 * hd]), [0, 2, 1, 3]); // [Bw, H, N, hd]
  const logits = scale(matmul(q, kT), s); // [Bw, H, N, N]
  const p = softmax(bias === undefined ? logits : add(logits, bias), { axis: -1 });
  const o = permute(matmul(p, v), [0, 2, 1, 3]); // [Bw, N, H, hd]
  return view(o, [Bw, N, H * hd]); // [Bw, N, C]
}
