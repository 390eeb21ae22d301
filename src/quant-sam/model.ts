/**
 * The model the PTQ pipeline works on, as data (encoder architecture + weights, decoder state dict,
 * geometry), and forward runners that expose every quantization site of the plan through one
 * `SiteTap` — so calibration, ACNR capture and fake-quant inference are all plain functions passed in.
 */
import { specRequire, type Tensor } from '../tensor';
import { tinyViT, type TinyViTWeights } from '../sam/tiny-vit';
import { imageEncoderViT, type ImageEncoderViTWeights } from '../sam/image-encoder-vit';
import { promptEncoder, getDensePe } from '../sam/prompt-encoder';
import { maskDecoder } from '../sam/mask-decoder';
import { applyBoxes, applyCoords } from '../sam/preprocess';
import { predict, type PredictResult } from '../sam/predictor';
import type { DecoderHooks, SamDecoderModelConfig, StateDict } from '../sam/sam-decoder-types';
import type { Backend } from '../ops/backend';
import type { EncoderArch } from './plan';

// TYPES

/** A model under quantization. Weights are plain records; quantized variants are new records. */
export interface QuantTarget {
  /** Model identity written into quantized files (e.g. `mobilesam`). */
  readonly name: string;
  readonly arch: EncoderArch;
  readonly encoderWeights: Readonly<Record<string, Tensor>>;
  /** Prompt encoder + mask decoder weights, or null for an encoder-only target. */
  readonly decoderWeights: StateDict | null;
  readonly decoderCfg: SamDecoderModelConfig;
  /** Encoder input side (1024 for SAM / MobileSAM). */
  readonly imageSize: number;
}

/**
 * A site tap: sees the value at `site` (plus V for attention probabilities) and returns the value the
 * forward continues with (identity for observation, fake-quant for inference).
 */
export type SiteTap = (site: string, t: Tensor, v?: Tensor) => Tensor;

/** A prompt in original-image pixels. */
export interface PixelPrompt {
  readonly name: string;
  readonly points?: readonly (readonly [number, number, number])[];
  readonly box?: readonly [number, number, number, number];
}

/** What a decoder run needs about the image. */
export interface ImageGeometry {
  readonly origSize: readonly [number, number];
  readonly inputSize: readonly [number, number];
}

// HELPERS

const identityTap: SiteTap = (_s, t) => t;

// MAIN

/**
 * Run the image encoder with every plan site exposed through `tap`; `observe` sees named intermediates.
 * @source this project (src/sam/tiny-vit.ts and src/sam/image-encoder-vit.ts hook contracts)
 * @equation embedding = Encoder(x) with t ← tap(site, t) at every site
 * @deviation none (identity tap = the FP encoder)
 * @precision as the encoder and the backend
 */
export function runEncoder(
  target: QuantTarget,
  weights: Readonly<Record<string, Tensor>>,
  x: Tensor,
  tap: SiteTap = identityTap,
  observe?: (name: string, t: Tensor) => void,
  backend?: Backend,
): Tensor {
  const arch = target.arch;
  if (arch.kind === 'tiny-vit') {
    return tinyViT(
      x,
      weights as TinyViTWeights,
      arch.cfg,
      // no tap: no transform hooks, so a resident-capable backend runs its fast (scoped) path
      tap === identityTap
        ? { observe }
        : {
          observe,
          linearInput: (name, t) => tap(`${name}.in`, t),
          convInput: (name, t) => tap(`${name}.in`, t),
          attnProbs: (name, p, v) => tap(`${name}.probs`, p, v),
        },
      backend,
    );
  }
  // ViT: probabilities arrive per (window·head) as [1, N, N]; V is the matching slice of the `.v` tap
  const lastV = new Map<string, { v: Tensor; t: number }>();
  return imageEncoderViT(
    x,
    weights as ImageEncoderViTWeights,
    arch.cfg,
    {
      observe,
      transform: (name, t) => {
        if (name.endsWith('.v')) {
          const y = tap(name, t);
          lastV.set(name.slice(0, -2), { v: y, t: 0 });
          return y;
        }
        if (name.endsWith('.probs')) {
          const a = name.slice(0, -6);
          const cur = lastV.get(a);
          specRequire(cur !== undefined, { fn: 'runEncoder', what: `${a}.v`, rule: 'be tapped before its probabilities', got: 'missing' });
          const [, N, hd] = cur.v.shape as [number, number, number];
          const v: Tensor = { dtype: 'float32', shape: [1, N, hd], data: (cur.v.data as Float32Array).subarray(cur.t * N * hd, (cur.t + 1) * N * hd) };
          cur.t++;
          return tap(name, t, v);
        }
        return tap(name, t);
      },
    },
    backend,
  );
}

/**
 * Decoder hooks that route every decoder site of the plan through `tap`.
 * @source this project (src/sam/sam-decoder-types.ts DecoderHooks)
 * @equation linearInput → `<linear>.in`; linearOutput of q_proj / v_proj → `<linear>.out`; keyOutput → `<k_proj>.key`; attnProbs → `<attn>.probs`
 * @deviation none
 * @precision exact (routing only)
 */
export function decoderHooksFromTap(tap: SiteTap, observe?: (name: string, t: Tensor) => void): DecoderHooks {
  return {
    observe,
    linearInput: (name, x) => tap(`${name}.in`, x),
    linearOutput: (name, y) => (name.endsWith('.q_proj') || name.endsWith('.v_proj') ? tap(`${name}.out`, y) : y),
    keyOutput: (name, k) => tap(`${name}.key`, k),
    attnProbs: (name, p, v) => tap(`${name}.probs`, p, v),
  };
}

/**
 * Prompt tensors of `predict` from a pixel prompt.
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.predict (argument layout)
 * @equation points → ([N, 2] coords, [N] labels); box → [4]
 * @deviation none
 * @precision float64 coordinates
 */
export function promptTensors(p: PixelPrompt): { pointCoords?: Tensor<'float64'>; pointLabels?: Tensor<'int32'>; box?: Tensor<'float64'> } {
  const out: { pointCoords?: Tensor<'float64'>; pointLabels?: Tensor<'int32'>; box?: Tensor<'float64'> } = {};
  if (p.points && p.points.length > 0) {
    const N = p.points.length;
    const c = new Float64Array(2 * N), l = new Int32Array(N);
    p.points.forEach(([x, y, lab], i) => {
      c[2 * i] = x;
      c[2 * i + 1] = y;
      l[i] = lab;
    });
    out.pointCoords = { dtype: 'float64', shape: [N, 2], data: c };
    out.pointLabels = { dtype: 'int32', shape: [N], data: l };
  }
  if (p.box) out.box = { dtype: 'float64', shape: [4], data: Float64Array.from(p.box) };
  return out;
}

/**
 * Decoder forward for calibration (no mask post-processing): prompt encoder + mask decoder, single-mask output.
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.predict_torch (without postprocess_masks)
 * @equation (low-res masks, iou) = MaskDecoder(emb, PE, PromptEncoder(prompt))
 * @deviation none
 * @precision as the decoder and the backend
 */
export function runDecoderLowRes(
  target: QuantTarget,
  weights: StateDict,
  embedding: Tensor,
  prompt: PixelPrompt,
  geom: ImageGeometry,
  tap: SiteTap = identityTap,
  backend?: Backend,
): { masks: Tensor; iou: Tensor } {
  const cfg = target.decoderCfg;
  const t = promptTensors(prompt);
  let points: { coords: Tensor; labels: Tensor<'int32'> } | undefined;
  if (t.pointCoords && t.pointLabels) {
    const N = t.pointLabels.shape[0]!;
    const c = applyCoords(t.pointCoords, geom.origSize, geom.inputSize);
    points = { coords: { ...c, shape: [1, N, 2] }, labels: { ...t.pointLabels, shape: [1, N] } };
  }
  const boxes = t.box ? { ...applyBoxes(t.box, geom.origSize, geom.inputSize), shape: [1, 1, 4] } : undefined;
  const { sparse, dense } = promptEncoder(weights, cfg.promptEncoder, { points, boxes });
  const imagePe = getDensePe(weights, cfg.promptEncoder);
  const out = maskDecoder(weights, cfg.maskDecoder, { imageEmbedding: embedding, imagePe, sparse, dense }, { multimask: false }, decoderHooksFromTap(tap), backend);
  return { masks: out.masks, iou: out.iouPredictions };
}

/**
 * Full prediction at the original resolution (single-mask output) with the decoder sites tapped.
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.predict (multimask_output=False, return_logits=True)
 * @equation masks = postprocess(MaskDecoder(…)) at H×W
 * @deviation none
 * @precision as the decoder and the backend
 */
export function runPredict(
  target: QuantTarget,
  weights: StateDict,
  embedding: Tensor,
  prompt: PixelPrompt,
  geom: ImageGeometry,
  tap: SiteTap = identityTap,
  backend?: Backend,
): PredictResult {
  return predict(weights, embedding, promptTensors(prompt), {
    multimask: false,
    origSize: geom.origSize,
    inputSize: geom.inputSize,
    cfg: target.decoderCfg,
    hooks: decoderHooksFromTap(tap),
    backend,
  });
}
