/**
 * SAM's ViT image encoder (ImageEncoderViT): patch embedding, absolute position embedding, a stack
 * of pre-norm transformer blocks with windowed or global attention and decomposed relative position
 * bias, and a convolutional neck.
 *
 * Legend: S input side, p patch size, G = S/p token grid, E embed dim, nH heads, ws window size,
 * O neck channels. Activations are [1, G, G, E] (BHWC) up to the neck, NCHW after it.
 *
 * Tap points (see src/nn/hooks.ts; observe sees each value before any transform):
 *   patch_embed.proj.in [1,3,S,S] (transformable) · patch_embed [1,G,G,E] · embed_plus_pos
 *   per block i: blocks.i.norm1 · blocks.i.attn_in (windows [nW,ws,ws,E] or [1,G,G,E]) ·
 *     blocks.i.attn.qkv.in · blocks.i.attn.q/k/v · blocks.i.attn.probs (per window·head, [1,N,N]) ·
 *     blocks.i.attn.proj.in · blocks.i.attn (before un-partition) · blocks.i.norm2 ·
 *     blocks.i.mlp.lin1.in · blocks.i.mlp.lin2.in · blocks.i.mlp · blocks.i
 *   neck.0.in (transformable) · neck.0 · neck.1 · neck.2.in (transformable) · neck.2 · neck.3
 * The transformable points are every Linear/Conv input plus q, k, v and probs, so fake quantisation can
 * be injected without copying the model; weights are a plain record and can be mapped directly.
 */
import { requireFinite, specRequire, type Tensor } from '../tensor';
import { add, permute } from '../ops';
import { referenceBackend, type Backend } from '../ops/backend';
import { requireInput, requireRank } from '../ops/check';
import { gridAttention } from '../nn/attention';
import { observe, tap, type ForwardHooks, type ObserveHook } from '../nn/hooks';
import { windowPartition, windowUnpartition } from '../nn/window-partition';
import type { ImageEncoderViTConfig } from './config';

// TYPES

/** Encoder weights keyed by the official state_dict names (no `image_encoder.` prefix), validated. */
export type ImageEncoderViTWeights = Readonly<Record<string, Tensor>> & { readonly __validated: 'ImageEncoderViTWeights' };

// MAIN

/** Token-grid side length of the attention of block i: the window size or the full grid. */
function attnSize(cfg: ImageEncoderViTConfig, i: number): number {
  const isGlobal = cfg.windowSize === 0 || cfg.globalAttnIndexes.includes(i);
  return isGlobal ? cfg.imgSize / cfg.patchSize : cfg.windowSize;
}

/**
 * Every state_dict key of an ImageEncoderViT with its expected shape, in state_dict order.
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#ImageEncoderViT.__init__, #Block, #Attention, #PatchEmbed
 * @equation —
 * @deviation none
 * @precision exact
 */
export function imageEncoderViTExpectedShapes(cfg: ImageEncoderViTConfig): [string, number[]][] {
  const E = cfg.embedDim;
  const G = cfg.imgSize / cfg.patchSize;
  const hd = E / cfg.numHeads;
  const hidden = Math.trunc(E * cfg.mlpRatio);
  const O = cfg.outChans;
  const keys: [string, number[]][] = [];
  if (cfg.useAbsPos) keys.push(['pos_embed', [1, G, G, E]]);
  keys.push(['patch_embed.proj.weight', [E, cfg.inChans, cfg.patchSize, cfg.patchSize]], ['patch_embed.proj.bias', [E]]);
  for (let i = 0; i < cfg.depth; i++) {
    const b = `blocks.${i}`;
    const s = attnSize(cfg, i);
    keys.push([`${b}.norm1.weight`, [E]], [`${b}.norm1.bias`, [E]]);
    if (cfg.useRelPos) keys.push([`${b}.attn.rel_pos_h`, [2 * s - 1, hd]], [`${b}.attn.rel_pos_w`, [2 * s - 1, hd]]);
    keys.push([`${b}.attn.qkv.weight`, [3 * E, E]]);
    if (cfg.qkvBias) keys.push([`${b}.attn.qkv.bias`, [3 * E]]);
    keys.push([`${b}.attn.proj.weight`, [E, E]], [`${b}.attn.proj.bias`, [E]]);
    keys.push([`${b}.norm2.weight`, [E]], [`${b}.norm2.bias`, [E]]);
    keys.push([`${b}.mlp.lin1.weight`, [hidden, E]], [`${b}.mlp.lin1.bias`, [hidden]]);
    keys.push([`${b}.mlp.lin2.weight`, [E, hidden]], [`${b}.mlp.lin2.bias`, [E]]);
  }
  keys.push(['neck.0.weight', [O, E, 1, 1]], ['neck.1.weight', [O]], ['neck.1.bias', [O]]);
  keys.push(['neck.2.weight', [O, O, 3, 3]], ['neck.3.weight', [O]], ['neck.3.bias', [O]]);
  return keys;
}

/** Validate the configuration record. */
function requireConfig(fn: string, cfg: ImageEncoderViTConfig): void {
  const posInt = (v: number): boolean => Number.isInteger(v) && v > 0;
  for (const k of ['imgSize', 'patchSize', 'inChans', 'embedDim', 'depth', 'numHeads', 'outChans'] as const) {
    specRequire(posInt(cfg[k]), { fn, what: `cfg.${k}`, rule: 'be a positive integer', got: cfg[k] });
  }
  specRequire(cfg.imgSize % cfg.patchSize === 0, { fn, what: 'cfg.imgSize', rule: `be a multiple of patchSize = ${cfg.patchSize}`, got: cfg.imgSize });
  specRequire(cfg.embedDim % cfg.numHeads === 0, { fn, what: 'cfg.embedDim', rule: `be divisible by numHeads = ${cfg.numHeads}`, got: cfg.embedDim });
  specRequire(Number.isInteger(cfg.windowSize) && cfg.windowSize >= 0, { fn, what: 'cfg.windowSize', rule: 'be a non-negative integer', got: cfg.windowSize });
  specRequire(Number.isFinite(cfg.mlpRatio) && Math.trunc(cfg.embedDim * cfg.mlpRatio) >= 1, { fn, what: 'cfg.mlpRatio', rule: 'give a hidden width ≥ 1', got: cfg.mlpRatio });
  specRequire(cfg.globalAttnIndexes.every((i) => Number.isInteger(i) && i >= 0 && i < cfg.depth), {
    fn,
    what: 'cfg.globalAttnIndexes',
    rule: `be block indexes in [0, ${cfg.depth})`,
    got: cfg.globalAttnIndexes,
  });
}

/**
 * Check a state dict against the configuration and return it as the encoder's weight record.
 * Keys are the official ones (strip `image_encoder.` first, or pass it as `prefix`); every expected key must be
 * present with its exact shape and dtype float32, and no unexpected key under the prefix is allowed.
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py (state_dict layout)
 * @equation —
 * @deviation none
 * @precision exact (no copy)
 */
export function imageEncoderViTWeightsFromStateDict(sd: Readonly<Record<string, Tensor>>, cfg: ImageEncoderViTConfig, prefix = ''): ImageEncoderViTWeights {
  const fn = 'imageEncoderViTWeightsFromStateDict';
  requireConfig(fn, cfg);
  const expected = imageEncoderViTExpectedShapes(cfg);
  const out: Record<string, Tensor> = {};
  for (const [key, shape] of expected) {
    const t = sd[prefix + key];
    specRequire(t !== undefined, { fn, what: `sd['${prefix}${key}']`, rule: 'be present', got: 'missing' });
    specRequire(t.dtype === 'float32', { fn, what: `sd['${prefix}${key}'].dtype`, rule: 'be float32', got: t.dtype });
    specRequire(t.shape.length === shape.length && t.shape.every((d, j) => d === shape[j]), {
      fn,
      what: `sd['${prefix}${key}'].shape`,
      rule: `be [${shape.join(',')}]`,
      got: t.shape,
    });
    out[key] = t;
  }
  const known = new Set(expected.map(([k]) => prefix + k));
  for (const k of Object.keys(sd)) {
    specRequire(!k.startsWith(prefix) || known.has(k), { fn, what: `sd['${k}']`, rule: 'be an ImageEncoderViT key for this config', got: 'unexpected key' });
  }
  return out as ImageEncoderViTWeights;
}

/** Fetch a validated weight. */
function wt(w: ImageEncoderViTWeights, key: string): Tensor {
  const t = w[key];
  specRequire(t !== undefined, { fn: 'imageEncoderViT', what: `weights['${key}']`, rule: 'be present (use imageEncoderViTWeightsFromStateDict)', got: 'missing' });
  return t;
}

/**
 * One transformer block: x + attn(norm1(x)) (windowed or global), then + mlp(norm2(·)).
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#Block.forward, modeling/common.py#MLPBlock
 * @equation y = x + A(LN₁(x)); z = y + W₂ · gelu(W₁ · LN₂(y) + b₁) + b₂
 * @deviation none
 * @precision as the ops (fp64-accumulate, fp32-store)
 */
export function imageEncoderBlock(x: Tensor, w: ImageEncoderViTWeights, cfg: ImageEncoderViTConfig, i: number, hooks?: ForwardHooks, be: Backend = referenceBackend): Tensor {
  const b = `blocks.${i}`;
  const [, G1, G2] = x.shape as [number, number, number, number];
  const eps = { epsilon: cfg.lnEps };
  const windowed = cfg.windowSize > 0 && !cfg.globalAttnIndexes.includes(i);
  // (1) attention branch
  const n1 = observe(hooks, `${b}.norm1`, be.layerNorm(x, wt(w, `${b}.norm1.weight`), wt(w, `${b}.norm1.bias`), eps)); // [1, G, G, E]
  const part = windowed ? windowPartition(n1, cfg.windowSize) : undefined; // windows [nW, ws, ws, E]
  const attnIn = observe(hooks, `${b}.attn_in`, part ? part.windows : n1);
  const a = gridAttention(
    attnIn,
    {
      qkvWeight: wt(w, `${b}.attn.qkv.weight`),
      qkvBias: cfg.qkvBias ? wt(w, `${b}.attn.qkv.bias`) : undefined,
      projWeight: wt(w, `${b}.attn.proj.weight`),
      projBias: wt(w, `${b}.attn.proj.bias`),
      relPosH: cfg.useRelPos ? wt(w, `${b}.attn.rel_pos_h`) : undefined,
      relPosW: cfg.useRelPos ? wt(w, `${b}.attn.rel_pos_w`) : undefined,
    },
    cfg.numHeads,
    hooks,
    `${b}.attn`,
    be,
  );
  observe(hooks, `${b}.attn`, a);
  const aFull = part ? windowUnpartition(a, cfg.windowSize, part.padHw, [G1, G2]) : a; // [1, G, G, E]
  const y = add(x, aFull);
  // (2) MLP branch
  const n2 = observe(hooks, `${b}.norm2`, be.layerNorm(y, wt(w, `${b}.norm2.weight`), wt(w, `${b}.norm2.bias`), eps));
  const h = be.gelu(be.linear(tap(hooks, `${b}.mlp.lin1.in`, n2), wt(w, `${b}.mlp.lin1.weight`), wt(w, `${b}.mlp.lin1.bias`))); // [1, G, G, hidden]
  const m = observe(hooks, `${b}.mlp`, be.linear(tap(hooks, `${b}.mlp.lin2.in`, h), wt(w, `${b}.mlp.lin2.weight`), wt(w, `${b}.mlp.lin2.bias`))); // [1, G, G, E]
  return observe(hooks, b, add(y, m));
}

/**
 * The SAM ViT image encoder: x [1, inChans, S, S] → image embedding [1, outChans, S/p, S/p].
 * `hooks` is either an observer `(name, t) => void` or a `ForwardHooks` record { observe?, transform? };
 * `be` supplies linear/matmul/conv2d/layerNorm(2d)/gelu/softmax (default: the reference ops of src/ops).
 * @paper SAM (Kirillov et al. 2023, arXiv:2304.02643) §3 "Image encoder"
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#ImageEncoderViT.forward
 * @equation t = PatchEmbed(x) + pos; t = Block_i(t) for i = 0…depth−1; y = LN2d(Conv3×3(LN2d(Conv1×1(tᵀ))))
 * @deviation the input must be finite and exactly S×S (the official code also requires the padded size);
 *   batch size 1 only (as SAM's predictor); pos_embed is added without interpolation (its grid must equal S/p)
 * @precision ops fp64-accumulate, fp32-store; vs official float32 PyTorch max |Δ| ≈ 1e-6 (vit-tiny fixture)
 */
export function imageEncoderViT(
  x: Tensor,
  weights: ImageEncoderViTWeights,
  cfg: ImageEncoderViTConfig,
  hooks?: ForwardHooks | ObserveHook,
  be: Backend = referenceBackend,
): Tensor {
  const fn = 'imageEncoderViT';
  requireConfig(fn, cfg);
  requireInput(fn, 'x', x);
  requireRank(fn, 'x', x, 4);
  specRequire(x.shape[0] === 1 && x.shape[1] === cfg.inChans && x.shape[2] === cfg.imgSize && x.shape[3] === cfg.imgSize, {
    fn,
    what: 'x.shape',
    rule: `be [1,${cfg.inChans},${cfg.imgSize},${cfg.imgSize}]`,
    got: x.shape,
  });
  requireFinite(fn, 'x', x.data);
  const h: ForwardHooks | undefined = typeof hooks === 'function' ? { observe: hooks } : hooks;
  const p = cfg.patchSize;

  // (1) patch embedding: Conv p×p stride p, then NCHW → NHWC
  const xIn = tap(h, 'patch_embed.proj.in', x);
  const pe = be.conv2d(xIn, wt(weights, 'patch_embed.proj.weight'), wt(weights, 'patch_embed.proj.bias'), {
    stride: [p, p],
    padding: [0, 0],
    dilation: [1, 1],
    groups: 1,
  }); // [1, E, G, G]
  let t = observe(h, 'patch_embed', permute(pe, [0, 2, 3, 1])); // [1, G, G, E]
  // (2) absolute position embedding
  if (cfg.useAbsPos) t = add(t, wt(weights, 'pos_embed'));
  t = observe(h, 'embed_plus_pos', t);
  // (3) transformer blocks
  for (let i = 0; i < cfg.depth; i++) t = imageEncoderBlock(t, weights, cfg, i, h, be);
  // (4) neck: Conv1×1 (no bias) → LN2d → Conv3×3 pad 1 (no bias) → LN2d
  const nchw = permute(t, [0, 3, 1, 2]); // [1, E, G, G]
  const conv1 = { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 } as const;
  const conv3 = { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 } as const;
  const ln2d = { epsilon: cfg.layerNorm2dEps };
  const n0 = observe(h, 'neck.0', be.conv2d(tap(h, 'neck.0.in', nchw), wt(weights, 'neck.0.weight'), undefined, conv1)); // [1, O, G, G]
  const n1 = observe(h, 'neck.1', be.layerNorm2d(n0, wt(weights, 'neck.1.weight'), wt(weights, 'neck.1.bias'), ln2d));
  const n2 = observe(h, 'neck.2', be.conv2d(tap(h, 'neck.2.in', n1), wt(weights, 'neck.2.weight'), undefined, conv3));
  const n3 = observe(h, 'neck.3', be.layerNorm2d(n2, wt(weights, 'neck.3.weight'), wt(weights, 'neck.3.bias'), ln2d));
  return n3; // [1, O, G, G]
}
