/**
 * SAM's TwoWayTransformer: the mask decoder's attention stack in which the prompt tokens (queries)
 * and the flattened image embedding (keys) update each other.
 *
 * Legend: B batch, Nq / Nk query / key tokens, C = embedding dim (256), Ci = C / downsample rate
 * (internal attention width), H heads, d = Ci / H, hw = h·w image tokens.
 *
 * Hook names (see DecoderHooks) are the official module paths below `prefix`
 * (default `mask_decoder.transformer`):
 * - Linear layers: `<prefix>.layers.<i>.{self_attn,cross_attn_token_to_image,cross_attn_image_to_token}.{q,k,v,out}_proj`,
 *   `<prefix>.layers.<i>.mlp.{lin1,lin2}`, `<prefix>.final_attn_token_to_image.{q,k,v,out}_proj`;
 * - attnProbs: the attention path (`<prefix>.layers.0.self_attn`, …);
 * - observe: every Linear output (its path), `<attention>.softmax` (P after attnProbs),
 *   `<layer>.mlp.act` (post-ReLU), `<layer>.norm1..4`, `<layer>` (queries out), `<layer>:keys`
 *   (keys out), `<prefix>.norm_final_attn` (final queries).
 */
import { specRequire, view, type Tensor } from '../tensor';
import { referenceBackend, type Backend } from '../ops/backend';
import { checkHookResult, param, requireF32, type DecoderHooks, type StateDict, type TwoWayTransformerConfig } from './sam-decoder-types';

// HELPERS

/**
 * A Linear layer of the transformer with the linearInput / linearOutput / observe hooks applied.
 * @source SAM-code@dca509f segment_anything/modeling/transformer.py#Attention (nn.Linear q/k/v/out_proj)
 * @equation y = hookOut(hookIn(x) · Wᵀ + b)
 * @deviation none (hooks are identity when absent)
 * @precision fp64-accumulate, fp32-store (see ops/linear)
 */
export function hookedLinear(
  weights: StateDict,
  name: string,
  x: Tensor,
  inFeatures: number,
  outFeatures: number,
  hooks?: DecoderHooks,
  be: Backend = referenceBackend,
): Tensor {
  const fn = 'hookedLinear';
  const w = param(fn, weights, `${name}.weight`, [outFeatures, inFeatures]);
  const b = param(fn, weights, `${name}.bias`, [outFeatures]);
  const xin = hooks?.linearInput ? checkHookResult('linearInput', name, x, hooks.linearInput(name, x)) : x;
  let y = be.linear(xin, w, b);
  if (hooks?.linearOutput) y = checkHookResult('linearOutput', name, y, hooks.linearOutput(name, y));
  hooks?.observe?.(name, y);
  return y;
}

function layerNormNamed(weights: StateDict, name: string, x: Tensor, c: number, eps: number, hooks: DecoderHooks | undefined, be: Backend): Tensor {
  const fn = 'twoWayTransformer';
  const y = be.layerNorm(x, param(fn, weights, `${name}.weight`, [c]), param(fn, weights, `${name}.bias`, [c]), { epsilon: eps });
  hooks?.observe?.(name, y);
  return y;
}

// MAIN

/**
 * SAM decoder attention with a down-projection: multi-head softmax attention of q over (k, v),
 * all projected from C to Ci = C / downsampleRate channels and back.
 * @source SAM-code@dca509f segment_anything/modeling/transformer.py#Attention
 * @equation Q = q·Wqᵀ+bq, K = k·Wkᵀ+bk, V = v·Wvᵀ+bv (split into H heads of d = Ci/H);
 *   P = softmax(Q·Kᵀ / √d) per head; out = concat_h(P·V)·Woᵀ + bo
 * @deviation none; hooks (linearInput/Output, keyOutput after k_proj, attnProbs after softmax) are identity when absent
 * @precision fp64-accumulate, fp32-store per op (linear, matmul, softmax)
 */
export function decoderAttention(
  weights: StateDict,
  name: string,
  io: { readonly q: Tensor; readonly k: Tensor; readonly v: Tensor },
  attrs: { readonly embeddingDim: number; readonly numHeads: number; readonly downsampleRate: number },
  hooks?: DecoderHooks,
  be: Backend = referenceBackend,
): Tensor {
  const fn = 'decoderAttention';
  const { embeddingDim: C, numHeads: H, downsampleRate } = attrs;
  specRequire(Number.isInteger(downsampleRate) && downsampleRate >= 1 && C % downsampleRate === 0, {
    fn, what: 'downsampleRate', rule: `be a positive integer dividing embeddingDim = ${C}`, got: downsampleRate,
  });
  const Ci = C / downsampleRate;
  specRequire(Number.isInteger(H) && H >= 1 && Ci % H === 0, {
    fn, what: 'numHeads', rule: `be a positive integer dividing the internal dim ${Ci}`, got: H,
  });
  requireF32(fn, 'q', io.q, 3);
  requireF32(fn, 'k', io.k, 3);
  requireF32(fn, 'v', io.v, 3);
  const [B, Nq] = io.q.shape as [number, number, number];
  const Nk = io.k.shape[1]!;
  specRequire(io.k.shape[0] === B && io.v.shape[0] === B, { fn, what: 'k/v.shape[0]', rule: `equal q.shape[0] = ${B}`, got: [io.k.shape[0], io.v.shape[0]] });
  specRequire(io.v.shape[1] === Nk, { fn, what: 'v.shape[1]', rule: `equal k.shape[1] = ${Nk}`, got: io.v.shape[1] });
  const d = Ci / H;

  const q = hookedLinear(weights, `${name}.q_proj`, io.q, C, Ci, hooks, be); // [B, Nq, Ci]
  let k = hookedLinear(weights, `${name}.k_proj`, io.k, C, Ci, hooks, be); // [B, Nk, Ci]
  if (hooks?.keyOutput) k = checkHookResult('keyOutput', `${name}.k_proj`, k, hooks.keyOutput(`${name}.k_proj`, k));
  const v = hookedLinear(weights, `${name}.v_proj`, io.v, C, Ci, hooks, be); // [B, Nk, Ci]

  if (!hooks?.attnProbs && !hooks?.observe) {
    // the steps below as one op of the backend (no head split/merge copies)
    return hookedLinear(weights, `${name}.out_proj`, be.multiHeadAttention(q, k, v, H, 1 / Math.sqrt(d)), Ci, C, hooks, be); // [B, Nq, C]
  }
  const qh = be.permute(view(q, [B, Nq, H, d]), [0, 2, 1, 3]); // [B, H, Nq, d]
  const kt = be.permute(view(k, [B, Nk, H, d]), [0, 2, 3, 1]); // [B, H, d, Nk]
  const vh = be.permute(view(v, [B, Nk, H, d]), [0, 2, 1, 3]); // [B, H, Nk, d]

  let p = be.attentionProbs(qh, kt, 1 / Math.sqrt(d)); // softmax(Q·Kᵀ/√d)  [B, H, Nq, Nk]
  if (hooks?.attnProbs) p = checkHookResult('attnProbs', name, p, hooks.attnProbs(name, p, vh));
  hooks?.observe?.(`${name}.softmax`, p);

  const o = be.permute(be.matmul(p, vh), [0, 2, 1, 3]); // [B, H, Nq, d] → [B, Nq, H, d]
  return hookedLinear(weights, `${name}.out_proj`, view(o, [B, Nq, Ci]), Ci, C, hooks, be); // [B, Nq, C]
}

/**
 * One TwoWayAttentionBlock: (1) token self-attention, (2) token→image cross-attention, (3) ReLU MLP on
 * the tokens, (4) image→token cross-attention; each followed by a residual add and a LayerNorm.
 * @source SAM-code@dca509f segment_anything/modeling/transformer.py#TwoWayAttentionBlock
 * @equation skipPe: Q ← LN1(SelfAttn(Q, Q, Q)); else Q ← LN1(Q + SelfAttn(Q+Pq, Q+Pq, Q));
 *   Q ← LN2(Q + Attn_t→i(Q+Pq, K+Pk, K)); Q ← LN3(Q + W2·relu(W1·Q)); K ← LN4(K + Attn_i→t(K+Pk, Q+Pq, Q))
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op
 */
export function twoWayAttentionBlock(
  weights: StateDict,
  name: string,
  io: { readonly queries: Tensor; readonly keys: Tensor; readonly queryPe: Tensor; readonly keyPe: Tensor },
  cfg: TwoWayTransformerConfig,
  skipFirstLayerPe: boolean,
  hooks?: DecoderHooks,
  be: Backend = referenceBackend,
): { queries: Tensor; keys: Tensor } {
  const C = cfg.embeddingDim;
  const self = { embeddingDim: C, numHeads: cfg.numHeads, downsampleRate: 1 };
  const cross = { embeddingDim: C, numHeads: cfg.numHeads, downsampleRate: cfg.attentionDownsampleRate };
  const { queryPe, keyPe } = io;
  let queries = io.queries; // [B, Nq, C]
  let keys = io.keys; // [B, hw, C]

  // (1) self-attention of the tokens (layer 0: no PE and no residual)
  if (skipFirstLayerPe) {
    queries = decoderAttention(weights, `${name}.self_attn`, { q: queries, k: queries, v: queries }, self, hooks, be);
  } else {
    const q = be.add(queries, queryPe);
    queries = be.add(queries, decoderAttention(weights, `${name}.self_attn`, { q, k: q, v: queries }, self, hooks, be));
  }
  queries = layerNormNamed(weights, `${name}.norm1`, queries, C, cfg.lnEps, hooks, be);

  // (2) tokens attend to the image
  let q = be.add(queries, queryPe);
  let k = be.add(keys, keyPe);
  queries = be.add(queries, decoderAttention(weights, `${name}.cross_attn_token_to_image`, { q, k, v: keys }, cross, hooks, be));
  queries = layerNormNamed(weights, `${name}.norm2`, queries, C, cfg.lnEps, hooks, be);

  // (3) MLP on the tokens
  const h = be.relu(hookedLinear(weights, `${name}.mlp.lin1`, queries, C, cfg.mlpDim, hooks, be)); // [B, Nq, mlpDim]
  hooks?.observe?.(`${name}.mlp.act`, h);
  queries = be.add(queries, hookedLinear(weights, `${name}.mlp.lin2`, h, cfg.mlpDim, C, hooks, be));
  queries = layerNormNamed(weights, `${name}.norm3`, queries, C, cfg.lnEps, hooks, be);

  // (4) the image attends to the tokens
  q = be.add(queries, queryPe);
  k = be.add(keys, keyPe);
  keys = be.add(keys, decoderAttention(weights, `${name}.cross_attn_image_to_token`, { q: k, k: q, v: queries }, cross, hooks, be));
  keys = layerNormNamed(weights, `${name}.norm4`, keys, C, cfg.lnEps, hooks, be);

  hooks?.observe?.(name, queries);
  hooks?.observe?.(`${name}:keys`, keys);
  return { queries, keys };
}

/**
 * The TwoWayTransformer: `depth` TwoWayAttentionBlocks (the first without query PE), then a final
 * token→image attention with residual and LayerNorm.
 * @source SAM-code@dca509f segment_anything/modeling/transformer.py#TwoWayTransformer
 * @equation K⁰ = flatten(img)ᵀ, Pk = flatten(pe)ᵀ, Q⁰ = Pq = tokens; (Qˡ⁺¹, Kˡ⁺¹) = Blockˡ(Qˡ, Kˡ);
 *   Q ← LN_f(Q + Attn_final(Q+Pq, K+Pk, K)); returns (Q, K)
 * @deviation imagePe may have batch 1 and is then broadcast (the official code repeats it per batch; same values)
 * @precision fp64-accumulate, fp32-store per op
 */
export function twoWayTransformer(
  weights: StateDict,
  cfg: TwoWayTransformerConfig,
  inputs: { readonly imageEmbedding: Tensor; readonly imagePe: Tensor; readonly pointEmbedding: Tensor },
  hooks?: DecoderHooks,
  prefix = 'mask_decoder.transformer',
  be: Backend = referenceBackend,
): { queries: Tensor; keys: Tensor } {
  const fn = 'twoWayTransformer';
  const { imageEmbedding, imagePe, pointEmbedding } = inputs;
  requireF32(fn, 'imageEmbedding', imageEmbedding, 4);
  requireF32(fn, 'imagePe', imagePe, 4);
  requireF32(fn, 'pointEmbedding', pointEmbedding, 3);
  const [B, C, h, w] = imageEmbedding.shape as [number, number, number, number];
  specRequire(C === cfg.embeddingDim, { fn, what: 'imageEmbedding.shape[1]', rule: `equal embeddingDim = ${cfg.embeddingDim}`, got: C });
  specRequire(
    (imagePe.shape[0] === B || imagePe.shape[0] === 1) && imagePe.shape[1] === C && imagePe.shape[2] === h && imagePe.shape[3] === w,
    { fn, what: 'imagePe.shape', rule: `be [${B} or 1,${C},${h},${w}]`, got: imagePe.shape },
  );
  specRequire(pointEmbedding.shape[0] === B && pointEmbedding.shape[2] === C, {
    fn, what: 'pointEmbedding.shape', rule: `be [${B},N,${C}]`, got: pointEmbedding.shape,
  });
  specRequire(Number.isInteger(cfg.depth) && cfg.depth >= 1, { fn, what: 'cfg.depth', rule: 'be a positive integer', got: cfg.depth });

  let keys = be.permute(view(imageEmbedding, [B, C, h * w]), [0, 2, 1]); // [B, hw, C]
  const keyPe = be.permute(view(imagePe, [imagePe.shape[0]!, C, h * w]), [0, 2, 1]); // [B|1, hw, C]
  let queries = pointEmbedding; // [B, Nq, C]

  for (let i = 0; i < cfg.depth; i++) {
    const out = twoWayAttentionBlock(weights, `${prefix}.layers.${i}`, { queries, keys, queryPe: pointEmbedding, keyPe }, cfg, i === 0, hooks, be);
    queries = out.queries;
    keys = out.keys;
  }

  const q = be.add(queries, pointEmbedding);
  const k = be.add(keys, keyPe);
  const cross = { embeddingDim: C, numHeads: cfg.numHeads, downsampleRate: cfg.attentionDownsampleRate };
  queries = be.add(queries, decoderAttention(weights, `${prefix}.final_attn_token_to_image`, { q, k, v: keys }, cross, hooks, be));
  queries = layerNormNamed(weights, `${prefix}.norm_final_attn`, queries, C, cfg.lnEps, hooks, be);
  return { queries, keys };
}
