/**
 * Shared records of the SAM prompt encoder / mask decoder: configuration, the state-dict view of the
 * weights, the optional quantization hooks, and the checked parameter accessor used by
 * prompt-encoder.ts, two-way-transformer.ts, mask-decoder.ts and predictor.ts.
 *
 * Legend: C = embedding dim (256), h×w = image-embedding grid (64×64), Ns = sparse prompt tokens,
 * Nt = decoder tokens (1 IoU + 4 mask + Ns), B = prompt batch.
 */
import { numel, sameShape, specRequire, type Tensor } from '../tensor';
import { SAM_DECODER_LN_EPS, SAM_LAYERNORM2D_EPS } from './config';

// TYPES

/** Weights as the official `Sam.state_dict()` keys (`prompt_encoder.*`, `mask_decoder.*`), PyTorch layouts. */
export type StateDict = Readonly<Record<string, Tensor>>;

/** `PromptEncoder` constructor arguments. */
export interface PromptEncoderConfig {
  /** C: token / channel dimension of every prompt embedding. */
  readonly embedDim: number;
  /** [h, w]: spatial size of the image embedding. */
  readonly imageEmbeddingSize: readonly [number, number];
  /** [H, W]: padded encoder input size (coordinates are divided by it). */
  readonly inputImageSize: readonly [number, number];
  /** Hidden channels of the mask-downscaling path (first conv has maskInChans/4). */
  readonly maskInChans: number;
}

/** `TwoWayTransformer` constructor arguments. */
export interface TwoWayTransformerConfig {
  readonly depth: number;
  readonly embeddingDim: number;
  readonly mlpDim: number;
  readonly numHeads: number;
  /** Cross attentions project to embeddingDim / rate channels. */
  readonly attentionDownsampleRate: number;
  /** LayerNorm ε of the transformer norms (SAM: PyTorch default 1e-5). */
  readonly lnEps: number;
}

/** `MaskDecoder` constructor arguments. */
export interface MaskDecoderConfig {
  readonly transformerDim: number;
  readonly numMultimaskOutputs: number;
  readonly iouHeadDepth: number;
  readonly iouHeadHiddenDim: number;
  /** LayerNorm2d ε inside output_upscaling (SAM: 1e-6). */
  readonly ln2dEps: number;
  readonly transformer: TwoWayTransformerConfig;
}

/** Both halves of SAM's prompt-side model. */
export interface SamDecoderModelConfig {
  readonly promptEncoder: PromptEncoderConfig & { readonly ln2dEps: number };
  readonly maskDecoder: MaskDecoderConfig;
}

/**
 * Optional observation / substitution points for quantization. Every hook is identity when absent
 * and costs one `undefined` check. `name` is the official module path, e.g.
 * `mask_decoder.transformer.layers.0.cross_attn_token_to_image.k_proj`.
 */
export interface DecoderHooks {
  /** Replace the input of every Linear of the transformer (name = the Linear's path). */
  readonly linearInput?: (name: string, x: Tensor) => Tensor;
  /** Replace the output of every Linear of the transformer (name = the Linear's path); runs before keyOutput. */
  readonly linearOutput?: (name: string, y: Tensor) => Tensor;
  /** Replace the post-`k_proj` activation [B, Nk, C'] (name = the k_proj path), e.g. for BIG. */
  readonly keyOutput?: (name: string, k: Tensor) => Tensor;
  /** Replace the softmax output P [B, heads, Nq, Nk]; V [B, heads, Nk, C'/heads] is given too (name = the attention path). */
  readonly attnProbs?: (name: string, p: Tensor, v: Tensor) => Tensor;
  /** Read-only tap on named intermediate tensors (see each module for the names it reports). */
  readonly observe?: (name: string, t: Tensor) => void;
}

// MAIN

/** SAM's `PromptEncoder` as built by `build_sam` (all model sizes). */
export const SAM_PROMPT_ENCODER_CONFIG: SamDecoderModelConfig['promptEncoder'] = {
  embedDim: 256,
  imageEmbeddingSize: [64, 64],
  inputImageSize: [1024, 1024],
  maskInChans: 16,
  ln2dEps: SAM_LAYERNORM2D_EPS,
};

/** SAM's `MaskDecoder` + `TwoWayTransformer` as built by `build_sam` (all model sizes). */
export const SAM_MASK_DECODER_CONFIG: MaskDecoderConfig = {
  transformerDim: 256,
  numMultimaskOutputs: 3,
  iouHeadDepth: 3,
  iouHeadHiddenDim: 256,
  ln2dEps: SAM_LAYERNORM2D_EPS,
  transformer: { depth: 2, embeddingDim: 256, mlpDim: 2048, numHeads: 8, attentionDownsampleRate: 2, lnEps: SAM_DECODER_LN_EPS },
};

/** Both halves together. */
export const SAM_DECODER_MODEL_CONFIG: SamDecoderModelConfig = {
  promptEncoder: SAM_PROMPT_ENCODER_CONFIG,
  maskDecoder: SAM_MASK_DECODER_CONFIG,
};

/**
 * The state-dict entry `key`, required to exist, be float32 and have shape `shape`.
 * @source SAM-code@dca509f segment_anything/build_sam.py#_build_sam (state_dict keys)
 * @equation param(W, key) = W[key]
 * @deviation none
 * @precision exact
 */
export function param(fn: string, weights: StateDict, key: string, shape: readonly number[]): Tensor {
  const t = weights[key];
  specRequire(t !== undefined, { fn, what: `weights['${key}']`, rule: 'be present in the state dict', got: 'missing' });
  specRequire(t.dtype === 'float32', { fn, what: `weights['${key}'].dtype`, rule: 'be float32', got: t.dtype });
  const ok = t.shape.length === shape.length && shape.every((d, i) => d === t.shape[i]);
  specRequire(ok, { fn, what: `weights['${key}'].shape`, rule: `be [${shape.join(',')}]`, got: t.shape });
  return t;
}

/**
 * Require `x` to be a float32 tensor of rank `rank` with all dims positive.
 * @source none (argument check)
 * @equation —
 * @deviation none
 * @precision exact
 */
export function requireF32(fn: string, what: string, x: Tensor | undefined, rank: number): asserts x is Tensor {
  specRequire(x !== undefined && x !== null, { fn, what, rule: 'be given', got: 'undefined' });
  specRequire(x.dtype === 'float32', { fn, what: `${what}.dtype`, rule: 'be float32', got: x.dtype });
  specRequire(x.shape.length === rank, { fn, what: `${what}.shape`, rule: `have rank ${rank}`, got: x.shape });
  specRequire(numel(x.shape) > 0, { fn, what: `${what}.shape`, rule: 'have no zero-size dimension', got: x.shape });
}

/**
 * Require a hook's replacement tensor to be float32 with the shape of the tensor it replaces.
 * @source this project (hook contract of DecoderHooks)
 * @equation —
 * @deviation none
 * @precision exact
 */
export function checkHookResult(hook: string, name: string, before: Tensor, after: Tensor): Tensor {
  specRequire(after !== undefined && after !== null && after.dtype === 'float32' && sameShape(after.shape, before.shape), {
    fn: hook,
    what: `${hook}('${name}') result`,
    rule: `be a float32 tensor of shape [${before.shape.join(',')}]`,
    got: after?.shape,
  });
  return after;
}
