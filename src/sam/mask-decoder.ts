/**
 * SAM's MaskDecoder: output tokens + prompt tokens attend to the image embedding (TwoWayTransformer);
 * the upscaled image features are weighted by per-token hypernetwork vectors into 4 mask logits, and an
 * MLP on the IoU token predicts each mask's quality. Also the two mask-selection rules (official
 * multimask flag, and the ONNX export's single-mask rule).
 *
 * Legend: B prompt batch, C = transformer dim (256), T = 1 + numMultimaskOutputs mask tokens (4),
 * Ns sparse tokens, Nt = 1 + T + Ns decoder tokens, h×w image-embedding grid (64×64), c8 = C/8 (32).
 *
 * Hooks: the transformer's (see two-way-transformer.ts); the heads stay float (METHOD.md §10.1) and are
 * only observed: `mask_decoder.tokens` [B, Nt, C], `mask_decoder.transformer` (hs) [B, Nt, C],
 * `mask_decoder.output_upscaling` [B, c8, 4h, 4w].
 */
import { clone, specRequire, view, type Tensor } from '../tensor';
import { referenceBackend, withScope, type Backend } from '../ops/backend';
import { param, requireF32, type DecoderHooks, type MaskDecoderConfig, type StateDict } from './sam-decoder-types';
import { twoWayTransformer } from './two-way-transformer';

// TYPES

/** Decoder inputs: one image embedding, its PE, and the prompt encoder's outputs for B prompts. */
export interface MaskDecoderInputs {
  /** [1, C, h, w] image embedding (shared by every prompt of the batch). */
  readonly imageEmbedding: Tensor;
  /** [1, C, h, w] dense positional encoding (`getDensePe`). */
  readonly imagePe: Tensor;
  /** [B, Ns, C] sparse prompt tokens. */
  readonly sparse: Tensor;
  /** [B, C, h, w] (or [1, C, h, w]) dense prompt embedding. */
  readonly dense: Tensor;
}

/** Everything `predict_masks` computes. */
export interface MaskPrediction {
  /** [B, T, 4h, 4w] mask logits of all mask tokens. */
  readonly allMasks: Tensor;
  /** [B, T] IoU predictions of all mask tokens. */
  readonly allIou: Tensor;
  /** [B, Nt, C] transformer output tokens (hs). */
  readonly hs: Tensor;
  /** [B, T, c8] hypernetwork outputs. */
  readonly hyperIn: Tensor;
}

/** Selected masks (per `multimask`) plus the full prediction. */
export interface MaskDecoderOutput extends MaskPrediction {
  /** [B, n, 4h, 4w]: n = numMultimaskOutputs (tokens 1..T−1) when multimask, else 1 (token 0). */
  readonly masks: Tensor;
  /** [B, n]. */
  readonly iouPredictions: Tensor;
}

// HELPERS

const MD = 'mask_decoder';

/** Copy `x[:, start:start+count]` of a [B, N, ...rest] tensor. */
function sliceAxis1(x: Tensor, start: number, count: number): Tensor {
  const [B, N] = x.shape as [number, number];
  const inner = x.data.length / (B * N);
  const out = new Float32Array(B * count * inner);
  for (let b = 0; b < B; b++) out.set(x.data.subarray((b * N + start) * inner, (b * N + start + count) * inner), b * count * inner);
  return { dtype: 'float32', shape: [B, count, ...x.shape.slice(2)], data: out };
}

/** Repeat a batch-1 tensor B times along axis 0. */
function repeatBatch(x: Tensor, B: number): Tensor {
  if (x.shape[0] === B) return x;
  const n = x.data.length;
  const out = new Float32Array(B * n);
  for (let b = 0; b < B; b++) out.set(x.data, b * n);
  return { dtype: 'float32', shape: [B, ...x.shape.slice(1)], data: out };
}

// MAIN

/**
 * The decoder's small MLP head: Linear layers `dims[0]→dims[1]→…`, ReLU between them (none after the last).
 * @source SAM-code@dca509f segment_anything/modeling/mask_decoder.py#MLP
 * @equation y = L_{n−1}(relu(… relu(L_0(x))))
 * @deviation none (sigmoid_output is False in SAM)
 * @precision fp64-accumulate, fp32-store per Linear
 */
export function mlpHead(weights: StateDict, name: string, x: Tensor, dims: readonly number[], be: Backend = referenceBackend): Tensor {
  const fn = 'mlpHead';
  specRequire(dims.length >= 2, { fn, what: 'dims.length', rule: 'be at least 2', got: dims.length });
  let y = x;
  for (let i = 0; i + 1 < dims.length; i++) {
    const w = param(fn, weights, `${name}.layers.${i}.weight`, [dims[i + 1]!, dims[i]!]);
    const b = param(fn, weights, `${name}.layers.${i}.bias`, [dims[i + 1]!]);
    y = be.linear(y, w, b);
    if (i + 2 < dims.length) y = be.relu(y);
  }
  return y;
}

/**
 * The decoder's output upscaling of the image tokens: ConvT 2×2/2 (C → C/4) → LayerNorm2d → GELU →
 * ConvT 2×2/2 (C/4 → C/8) → GELU.
 * @source SAM-code@dca509f segment_anything/modeling/mask_decoder.py#MaskDecoder.output_upscaling
 * @equation U = gelu(ConvT₃(gelu(LN2d₁(ConvT₀(x)))))
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op; GELU is the exact erf form
 */
export function outputUpscaling(weights: StateDict, cfg: MaskDecoderConfig, x: Tensor, be: Backend = referenceBackend): Tensor {
  const fn = 'outputUpscaling';
  const C = cfg.transformerDim;
  requireF32(fn, 'x', x, 4);
  specRequire(x.shape[1] === C, { fn, what: 'x.shape[1]', rule: `equal transformerDim = ${C}`, got: x.shape });
  const w = (i: number, s: number[]): Tensor => param(fn, weights, `${MD}.output_upscaling.${i}.weight`, s);
  const b = (i: number, n: number): Tensor => param(fn, weights, `${MD}.output_upscaling.${i}.bias`, [n]);
  const ct = { stride: [2, 2] as [number, number], padding: [0, 0] as [number, number], outputPadding: [0, 0] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
  let u = be.convTranspose2d(x, w(0, [C, C / 4, 2, 2]), b(0, C / 4), ct); // [B, C/4, 2h, 2w]
  u = be.gelu(be.layerNorm2d(u, w(1, [C / 4]), b(1, C / 4), { epsilon: cfg.ln2dEps }));
  return be.gelu(be.convTranspose2d(u, w(3, [C / 4, C / 8, 2, 2]), b(3, C / 8), ct)); // [B, C/8, 4h, 4w]
}

/**
 * All mask-token outputs: transformer on [iou_token, mask_tokens, sparse] over (image + dense), then
 * output upscaling, hypernetwork MLPs and the IoU head.
 * @source SAM-code@dca509f segment_anything/modeling/mask_decoder.py#MaskDecoder.predict_masks
 * @equation tokens = [e_iou; E_mask; sparse]; src = img + dense; (hs, K) = TwoWay(src, pe, tokens);
 *   U = gelu(ConvT₃(gelu(LN2d₁(ConvT₀(Kᵀ))))) [B, c8, 4h, 4w]; hyper_t = MLP_t(hs[:, 1+t]);
 *   masks[:, t] = hyper_t · U; iou = MLP_iou(hs[:, 0])
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op
 */
export function predictMasks(weights: StateDict, cfg: MaskDecoderConfig, inputs: MaskDecoderInputs, hooks?: DecoderHooks, be: Backend = referenceBackend): MaskPrediction {
  const fn = 'predictMasks';
  const C = cfg.transformerDim;
  const T = cfg.numMultimaskOutputs + 1;
  const { imageEmbedding, imagePe, sparse, dense } = inputs;
  requireF32(fn, 'imageEmbedding', imageEmbedding, 4);
  requireF32(fn, 'imagePe', imagePe, 4);
  specRequire(sparse !== undefined && sparse.dtype === 'float32' && sparse.shape.length === 3 && sparse.shape[0]! > 0 && sparse.shape[2] === C, {
    fn, what: 'sparse.shape', rule: `be [B,Ns,${C}] float32 with B ≥ 1`, got: sparse?.shape,
  });
  requireF32(fn, 'dense', dense, 4);
  const [B, Ns] = sparse.shape as [number, number, number];
  const [, , h, w] = imageEmbedding.shape as [number, number, number, number];
  specRequire(imageEmbedding.shape[0] === 1 && imageEmbedding.shape[1] === C, {
    fn, what: 'imageEmbedding.shape', rule: `be [1,${C},h,w]`, got: imageEmbedding.shape,
  });
  specRequire(imagePe.shape[0] === 1 && imagePe.shape[1] === C && imagePe.shape[2] === h && imagePe.shape[3] === w, {
    fn, what: 'imagePe.shape', rule: `be [1,${C},${h},${w}]`, got: imagePe.shape,
  });
  specRequire((dense.shape[0] === B || dense.shape[0] === 1) && dense.shape[1] === C && dense.shape[2] === h && dense.shape[3] === w, {
    fn, what: 'dense.shape', rule: `be [${B} or 1,${C},${h},${w}]`, got: dense.shape,
  });
  specRequire(cfg.transformer.embeddingDim === C && C % 8 === 0, {
    fn, what: 'cfg.transformer.embeddingDim', rule: `equal transformerDim = ${C} (a multiple of 8)`, got: cfg.transformer.embeddingDim,
  });
  const c8 = C / 8;

  // tokens = [iou_token, mask_tokens, sparse]  [B, Nt, C]
  const iouTok = param(fn, weights, `${MD}.iou_token.weight`, [1, C]).data;
  const maskTok = param(fn, weights, `${MD}.mask_tokens.weight`, [T, C]).data;
  const Nt = 1 + T + Ns;
  const tok = new Float32Array(B * Nt * C);
  for (let b = 0; b < B; b++) {
    tok.set(iouTok, b * Nt * C);
    tok.set(maskTok, (b * Nt + 1) * C);
    tok.set(sparse.data.subarray(b * Ns * C, (b + 1) * Ns * C), (b * Nt + 1 + T) * C);
  }
  const tokens: Tensor = { dtype: 'float32', shape: [B, Nt, C], data: tok };
  hooks?.observe?.(`${MD}.tokens`, tokens);

  // resident scope (a backend may keep intermediates in its own memory) when no hook could retain them:
  // allMasks leaves the scope as its result, the small hs and IoU outputs are cloned inside it
  const resident = hooks === undefined || Object.values(hooks).every((h) => h === undefined);
  const keep = (t: Tensor): Tensor => (resident ? clone(t) : t);
  let hs!: Tensor;
  let allIou!: Tensor;
  let hyperIn!: Tensor;
  const body = (): Tensor => {
    const src = repeatBatch(be.add(imageEmbedding, dense), B); // [B, C, h, w]
    const { queries, keys } = twoWayTransformer(weights, cfg.transformer, { imageEmbedding: src, imagePe, pointEmbedding: tokens }, hooks, undefined, be);
    hs = keep(queries);
    hooks?.observe?.(`${MD}.transformer`, hs);

    const u = outputUpscaling(weights, cfg, view(be.permute(keys, [0, 2, 1]), [B, C, h, w]), be); // [B, hw, C] → [B, C, h, w] → [B, c8, 4h, 4w]
    hooks?.observe?.(`${MD}.output_upscaling`, u);

    // hypernetwork vectors, one per mask token  [B, T, c8]
    const maskTokensOut = sliceAxis1(hs, 1, T); // [B, T, C]
    const hyper = new Float32Array(B * T * c8);
    for (let t = 0; t < T; t++) {
      const y = mlpHead(weights, `${MD}.output_hypernetworks_mlps.${t}`, sliceAxis1(maskTokensOut, t, 1), [C, C, C, c8], be); // [B, 1, c8]
      for (let b = 0; b < B; b++) hyper.set(y.data.subarray(b * c8, (b + 1) * c8), (b * T + t) * c8);
    }
    hyperIn = { dtype: 'float32', shape: [B, T, c8], data: hyper };

    const H4 = 4 * h;
    const W4 = 4 * w;
    const masks = view(be.matmul(hyperIn, view(u, [B, c8, H4 * W4])), [B, T, H4, W4]); // [B, T, 4h·4w] → [B, T, 4h, 4w]
    const iouDims = [C, ...new Array<number>(cfg.iouHeadDepth - 1).fill(cfg.iouHeadHiddenDim), T];
    allIou = keep(view(mlpHead(weights, `${MD}.iou_prediction_head`, sliceAxis1(hs, 0, 1), iouDims, be), [B, T])); // [B, 1, T] → [B, T]
    return masks;
  };
  const allMasks = resident ? withScope(be, body) : body();
  return { allMasks, allIou, hs, hyperIn };
}

/**
 * Select the official outputs: multimask → mask tokens 1..T−1; single → token 0.
 * @source SAM-code@dca509f segment_anything/modeling/mask_decoder.py#MaskDecoder.forward
 * @equation multimask: (masks[:, 1:], iou[:, 1:]); else (masks[:, 0:1], iou[:, 0:1])
 * @deviation none
 * @precision exact (copy)
 */
export function selectMaskOutputs(allMasks: Tensor, allIou: Tensor, multimask: boolean): { masks: Tensor; iouPredictions: Tensor } {
  const T = allIou.shape[1]!;
  const start = multimask ? 1 : 0;
  const count = multimask ? T - 1 : 1;
  return { masks: sliceAxis1(allMasks, start, count), iouPredictions: sliceAxis1(allIou, start, count) };
}

/**
 * SAM's mask decoder: all outputs plus the ones selected by `multimask`.
 * @source SAM-code@dca509f segment_anything/modeling/mask_decoder.py#MaskDecoder.forward
 * @equation (masks, iou) = select(predictMasks(...), multimask)
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op
 */
export function maskDecoder(
  weights: StateDict,
  cfg: MaskDecoderConfig,
  inputs: MaskDecoderInputs,
  opts: { readonly multimask: boolean },
  hooks?: DecoderHooks,
  be: Backend = referenceBackend,
): MaskDecoderOutput {
  specRequire(typeof opts?.multimask === 'boolean', { fn: 'maskDecoder', what: 'opts.multimask', rule: 'be a boolean', got: opts?.multimask });
  const all = predictMasks(weights, cfg, inputs, hooks, be);
  return { ...all, ...selectMaskOutputs(all.allMasks, all.allIou, opts.multimask) };
}

/**
 * The ONNX export's single-mask rule (`SamOnnxModel`, return_single_mask=True): with M ≤ 2 prompt
 * points (padding point and box corners included) the best multimask output by IoU, else token 0.
 * @source SAM-code@dca509f segment_anything/utils/onnx.py#SamOnnxModel.select_masks
 * @equation score_t = iou_t + (M − 2.5)·1000·[t = 0]; t* = argmax_t score_t (first on ties)
 * @deviation none
 * @precision score in float64 (the float32 reference differs only for |iou| ≥ ~2^14, never for SAM)
 */
export function selectMasksOnnx(allMasks: Tensor, allIou: Tensor, numPoints: number): { masks: Tensor; iouPredictions: Tensor; index: Int32Array } {
  const fn = 'selectMasksOnnx';
  requireF32(fn, 'allMasks', allMasks, 4);
  requireF32(fn, 'allIou', allIou, 2);
  specRequire(Number.isInteger(numPoints) && numPoints >= 0, { fn, what: 'numPoints', rule: 'be a non-negative integer', got: numPoints });
  const [B, T, Hm, Wm] = allMasks.shape as [number, number, number, number];
  specRequire(allIou.shape[0] === B && allIou.shape[1] === T, { fn, what: 'allIou.shape', rule: `be [${B},${T}]`, got: allIou.shape });
  const plane = Hm * Wm;
  const masks = new Float32Array(B * plane);
  const iou = new Float32Array(B);
  const index = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let t = 0; t < T; t++) {
      const score = allIou.data[b * T + t]! + (t === 0 ? (numPoints - 2.5) * 1000 : 0);
      if (score > bestScore) {
        bestScore = score;
        best = t;
      }
    }
    index[b] = best;
    iou[b] = allIou.data[b * T + best]!;
    masks.set(allMasks.data.subarray((b * T + best) * plane, (b * T + best + 1) * plane), b * plane);
  }
  return { masks: { dtype: 'float32', shape: [B, 1, Hm, Wm], data: masks }, iouPredictions: { dtype: 'float32', shape: [B, 1], data: iou }, index };
}
