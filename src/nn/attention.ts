/**
 * Multi-head self-attention over a 2-D token grid with optional decomposed relative position bias
 * (the `Attention` of SAM's ViT image encoder; the decoder's attention lives in src/sam).
 *
 * Legend: B batch (or windows), H×W token grid, N = H·W tokens, C = dim, nH heads, hd = C/nH.
 */
import { requireShape, specRequire, type Tensor } from '../tensor';
import { requireInput, requirePositiveInt, requireRank } from '../ops/check';
import { referenceBackend, type Backend } from '../ops/backend';
import { permute } from '../ops/permute';
import { scale } from '../ops/scale';
import { addDecomposedRelPos } from './rel-pos';
import { tap, type ForwardHooks } from './hooks';

// TYPES

/** Weights of one attention layer (PyTorch layouts; keys of SAM's `attn.*`). */
export interface GridAttentionWeights {
  readonly qkvWeight: Tensor; // [3C, C]
  readonly qkvBias?: Tensor; // [3C]
  readonly projWeight: Tensor; // [C, C]
  readonly projBias?: Tensor; // [C]
  readonly relPosH?: Tensor; // [2·H − 1, hd] (or any length: resized)
  readonly relPosW?: Tensor; // [2·W − 1, hd]
}

// MAIN

/**
 * Self-attention of x [B, H, W, C] with nH heads; relative position bias when relPosH/relPosW are given.
 * Tap points (prefix `name`): `.qkv.in`, `.q`, `.k`, `.v` ([B·nH, N, hd]), `.probs` (once per (b, head),
 * [1, N, N], b-major — a full global map at 1024² would be 0.8 GB), `.proj.in` ([B, H, W, C]).
 * `be` supplies linear/matmul/softmax (default: the reference ops).
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#Attention.forward
 * @equation [q k v] = x Wqkvᵀ + b; A = softmax((q·hd^−½) kᵀ + relbias(q)); y = (A v) Wprojᵀ + b
 * @deviation none (the scale hd^−½ is rounded to float32 before multiplying, as PyTorch does)
 * @precision matmuls fp64-accumulate, fp32-store; every intermediate tensor float32
 */
export function gridAttention(x: Tensor, w: GridAttentionWeights, numHeads: number, hooks?: ForwardHooks, name = 'attn', be: Backend = referenceBackend): Tensor {
  const fn = 'gridAttention';
  requireInput(fn, 'x', x);
  requireRank(fn, 'x', x, 4);
  requirePositiveInt(fn, 'numHeads', numHeads);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  specRequire(C % numHeads === 0, { fn, what: 'x.shape[3]', rule: `be divisible by numHeads = ${numHeads}`, got: C });
  requireShape(fn, 'qkvWeight', w.qkvWeight, [3 * C, C]);
  requireShape(fn, 'projWeight', w.projWeight, [C, C]);
  specRequire((w.relPosH === undefined) === (w.relPosW === undefined), { fn, what: 'relPosH/relPosW', rule: 'be given together', got: [w.relPosH?.shape, w.relPosW?.shape] });
  const nH = numHeads;
  const hd = C / nH;
  const N = H * W;

  // (1) qkv projection and head split
  const xIn = tap(hooks, `${name}.qkv.in`, x);
  const qkv = be.linear(xIn, w.qkvWeight, w.qkvBias); // [B, H, W, 3C]
  const split = permute({ ...qkv, shape: [B, N, 3, nH, hd] }, [2, 0, 3, 1, 4]); // [3, B, nH, N, hd]
  const part = (i: number): Tensor => ({ dtype: 'float32', shape: [B * nH, N, hd], data: split.data.subarray(i * B * nH * N * hd, (i + 1) * B * nH * N * hd) });
  const q = tap(hooks, `${name}.q`, part(0)); // [B·nH, N, hd]
  const k = tap(hooks, `${name}.k`, part(1));
  const v = tap(hooks, `${name}.v`, part(2));

  // (2) per (b, head): A = softmax(q·s kᵀ + rel), o = A v
  const s = 1 / Math.sqrt(hd);
  const heads = new Float32Array(B * nH * N * hd); // [B, nH, N, hd]
  for (let t = 0; t < B * nH; t++) {
    const sl = (z: Tensor): Tensor => ({ dtype: 'float32', shape: [1, N, hd], data: z.data.subarray(t * N * hd, (t + 1) * N * hd) });
    const qt = sl(q);
    let logits = be.matmul(scale(qt, s), permute(sl(k), [0, 2, 1])); // [1, N, N]
    if (w.relPosH !== undefined && w.relPosW !== undefined) {
      logits = addDecomposedRelPos(logits, qt, w.relPosH, w.relPosW, [H, W], [H, W]);
    }
    const probs = tap(hooks, `${name}.probs`, be.softmax(logits)); // [1, N, N]
    heads.set(be.matmul(probs, sl(v)).data, t * N * hd); // [1, N, hd]
  }

  // (3) merge heads and project
  const merged = permute({ dtype: 'float32', shape: [B, nH, H, W, hd], data: heads }, [0, 2, 3, 1, 4]); // [B, H, W, nH, hd]
  const projIn = tap(hooks, `${name}.proj.in`, { ...merged, shape: [B, H, W, C] });
  return be.linear(projIn, w.projWeight, w.projBias); // [B, H, W, C]
}
