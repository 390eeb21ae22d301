/**
 * SAM's predictor for one image embedding: prompts in ORIGINAL-image pixels → resized-frame prompts →
 * prompt encoder → mask decoder → mask logits at the original size. Computing the embedding
 * (`setImage`: preprocess + image encoder) is composed elsewhere; this file starts from it.
 *
 * Legend: H×W original image, h×w resized image (longest side 1024), N points, n returned masks
 * (3 when multimask, else 1), C = 256, 64×64 embedding grid, 256×256 low-res masks.
 */
import { specRequire, view, type Tensor } from '../tensor';
import { applyBoxes, applyCoords } from './preprocess';
import { postprocessMasks } from './postprocess';
import type { Backend } from '../ops/backend';
import { getDensePe, promptEncoder } from './prompt-encoder';
import { maskDecoder } from './mask-decoder';
import { SAM_DECODER_MODEL_CONFIG, requireF32, type DecoderHooks, type SamDecoderModelConfig, type StateDict } from './sam-decoder-types';

// TYPES

/** Prompts for one image, as `SamPredictor.predict` takes them (original-image pixels). */
export interface PredictorPrompts {
  /** [N, 2] (x, y) in original-image pixels. */
  readonly pointCoords?: Tensor<'float32' | 'float64'>;
  /** [N]: 1 foreground, 0 background. Required with pointCoords. */
  readonly pointLabels?: Tensor<'int32'> | Tensor<'float32'>;
  /** [4] box (x0, y0, x1, y1) in original-image pixels. */
  readonly box?: Tensor<'float32' | 'float64'>;
  /** [1, 256, 256] low-res mask logits from a previous prediction. */
  readonly maskInput?: Tensor;
}

/** Options of `predict`. */
export interface PredictOptions {
  /** Return the 3 multimask outputs (true) or the single-mask output (false). */
  readonly multimask: boolean;
  /** [H, W] of the original image. */
  readonly origSize: readonly [number, number];
  /** [h, w] of the resized image before padding (`getPreprocessShape(H, W)`). */
  readonly inputSize: readonly [number, number];
  /** Model configuration (default: SAM's). */
  readonly cfg?: SamDecoderModelConfig;
  /** Quantization hooks, forwarded to the mask decoder's transformer. */
  readonly hooks?: DecoderHooks;
  /** Compute backend (default: the reference ops). */
  readonly backend?: Backend;
}

/** Outputs of `predict` (logits; mask = logit > 0). */
export interface PredictResult {
  /** [1, n, H, W] mask logits at the original image size. */
  readonly masks: Tensor;
  /** [1, n] predicted IoU of each mask. */
  readonly iouPredictions: Tensor;
  /** [1, n, 256, 256] low-res mask logits (usable as a later maskInput). */
  readonly lowResLogits: Tensor;
}

// MAIN

/**
 * Predict masks for one image embedding from prompts given in original-image pixels.
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.predict (return_logits=True)
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.predict_torch
 * @equation p′ = applyCoords(p), b′ = applyBoxes(b); (sparse, dense) = PE(p′, b′, m);
 *   (low, iou) = MaskDecoder(emb, densePe, sparse, dense, multimask); masks = postprocess(low, h×w, H×W)
 * @deviation none (logits are returned; threshold at 0 for binary masks)
 * @precision coordinate transform fp64 → fp32; network fp64-accumulate, fp32-store per op
 */
export function predict(
  decoderWeights: StateDict,
  embedding: Tensor,
  prompts: PredictorPrompts,
  opts: PredictOptions,
): PredictResult {
  const fn = 'predict';
  const cfg = opts.cfg ?? SAM_DECODER_MODEL_CONFIG;
  const C = cfg.promptEncoder.embedDim;
  const [eh, ew] = cfg.promptEncoder.imageEmbeddingSize;
  requireF32(fn, 'embedding', embedding, 4);
  specRequire(embedding.shape[0] === 1 && embedding.shape[1] === C && embedding.shape[2] === eh && embedding.shape[3] === ew, {
    fn, what: 'embedding.shape', rule: `be [1,${C},${eh},${ew}]`, got: embedding.shape,
  });
  specRequire(typeof opts.multimask === 'boolean', { fn, what: 'opts.multimask', rule: 'be a boolean', got: opts.multimask });
  const { pointCoords, pointLabels, box, maskInput } = prompts;
  specRequire((pointCoords === undefined) === (pointLabels === undefined), {
    fn, what: 'pointLabels', rule: 'be given exactly when pointCoords is given', got: pointLabels === undefined ? 'missing' : 'unexpected',
  });

  let points: { coords: Tensor; labels: Tensor<'int32'> | Tensor<'float32'> } | undefined;
  if (pointCoords !== undefined && pointLabels !== undefined) {
    specRequire(pointCoords.shape.length === 2 && pointCoords.shape[1] === 2 && pointCoords.shape[0]! > 0, {
      fn, what: 'pointCoords.shape', rule: 'be [N,2] with N ≥ 1', got: pointCoords.shape,
    });
    const N = pointCoords.shape[0]!;
    specRequire(pointLabels.shape.length === 1 && pointLabels.shape[0] === N, { fn, what: 'pointLabels.shape', rule: `be [${N}]`, got: pointLabels.shape });
    const coords = applyCoords(pointCoords, opts.origSize, opts.inputSize); // [N, 2]
    points = { coords: view(coords, [1, N, 2]), labels: view(pointLabels, [1, N]) as Tensor<'int32'> | Tensor<'float32'> };
  }
  let boxes: Tensor | undefined;
  if (box !== undefined) {
    specRequire(box.shape.length === 1 && box.shape[0] === 4, { fn, what: 'box.shape', rule: 'be [4]', got: box.shape });
    boxes = view(applyBoxes(box, opts.origSize, opts.inputSize), [1, 1, 4]); // [4] → [1, 1, 4]
  }
  let masks: Tensor | undefined;
  if (maskInput !== undefined) {
    requireF32(fn, 'maskInput', maskInput, 3);
    specRequire(maskInput.shape[0] === 1 && maskInput.shape[1] === 4 * eh && maskInput.shape[2] === 4 * ew, {
      fn, what: 'maskInput.shape', rule: `be [1,${4 * eh},${4 * ew}]`, got: maskInput.shape,
    });
    masks = view(maskInput, [1, 1, 4 * eh, 4 * ew]);
  }

  const { sparse, dense } = promptEncoder(decoderWeights, cfg.promptEncoder, { points, boxes, masks });
  const imagePe = getDensePe(decoderWeights, cfg.promptEncoder, opts.backend);
  const out = maskDecoder(decoderWeights, cfg.maskDecoder, { imageEmbedding: embedding, imagePe, sparse, dense }, { multimask: opts.multimask }, opts.hooks, opts.backend);
  const upscaled = postprocessMasks(out.masks, opts.inputSize, opts.origSize, cfg.promptEncoder.inputImageSize[0], opts.backend);
  return { masks: upscaled, iouPredictions: out.iouPredictions, lowResLogits: out.masks };
}
