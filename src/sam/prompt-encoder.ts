/**
 * SAM's PromptEncoder: points, boxes and low-res masks → sparse tokens [B, Ns, C] and a dense
 * embedding [B, C, h, w]; plus the dense image positional encoding `getDensePe`.
 *
 * Legend: B prompt batch, N points, Ns sparse tokens, C = embedDim (256), h×w = image-embedding grid
 * (64×64), H×W = encoder input size (1024×1024), G = positional_encoding_gaussian_matrix [2, C/2].
 */
import { specRequire, view, type Tensor } from '../tensor';
import { conv2d, gelu, layerNorm2d } from '../ops';
import { peEncoding } from '../nn/position-embedding-random';
import { referenceBackend, type Backend } from '../ops/backend';
import { param, requireF32, type PromptEncoderConfig, type StateDict } from './sam-decoder-types';

// TYPES

/** Point prompts in encoder-input pixels (after `applyCoords`). */
export interface PointPrompts {
  /** [B, N, 2] (x, y) in input-frame pixels. */
  readonly coords: Tensor;
  /** [B, N]: 1 foreground, 0 background, −1 padding (not a point), 2 / 3 box top-left / bottom-right corner. */
  readonly labels: Tensor<'int32'> | Tensor<'float32'>;
}

/** Any subset of the three prompt kinds. */
export interface Prompts {
  readonly points?: PointPrompts;
  /** [B, 4] or [B, 1, 4] boxes (x0, y0, x1, y1) in input-frame pixels. */
  readonly boxes?: Tensor;
  /** [B, 1, 4h, 4w] low-res mask logits. */
  readonly masks?: Tensor;
}

/** Prompt-encoder configuration plus the LayerNorm2d ε of the mask-downscaling path. */
export type PromptEncoderCfg = PromptEncoderConfig & { readonly ln2dEps: number };

// HELPERS

const PE = 'prompt_encoder';

/** (x + 0.5) / size in float32, as the official float32 tensor ops compute it. */
function normalizedCoord(v: number, size: number): number {
  return Math.fround(Math.fround(v + 0.5) / size);
}

function embeddingRow(weights: StateDict, key: string, C: number): Float32Array {
  return param('promptEncoder', weights, key, [1, C]).data as Float32Array;
}

// MAIN

/**
 * The dense positional encoding of the image-embedding grid, [1, C, h, w]; cell (r, c) is encoded at
 * ((c+0.5)/w, (r+0.5)/h), x first.
 * @source SAM-code@dca509f segment_anything/modeling/prompt_encoder.py#PromptEncoder.get_dense_pe
 * @equation pe[:, r, c] = [sin(2π(2u−1)·G), cos(2π(2u−1)·G)], u = ((c+0.5)/w, (r+0.5)/h)
 * @deviation none
 * @precision see nn/position-embedding-random#denseImagePe
 */
export function getDensePe(weights: StateDict, cfg: PromptEncoderConfig, be: Backend = referenceBackend): Tensor {
  const C = cfg.embedDim;
  const G = param('getDensePe', weights, `${PE}.pe_layer.positional_encoding_gaussian_matrix`, [2, C / 2]);
  const [h, w] = cfg.imageEmbeddingSize;
  return view(be.denseImagePe(G, [h, w]), [1, C, h, w]); // [C, h, w] → [1, C, h, w]
}

/**
 * Mask prompt → dense embedding: conv 2×2/2 → LayerNorm2d → GELU → conv 2×2/2 → LayerNorm2d → GELU → conv 1×1.
 * @source SAM-code@dca509f segment_anything/modeling/prompt_encoder.py#PromptEncoder._embed_masks
 * @equation dense = conv₆(gelu(LN2d₄(conv₃(gelu(LN2d₁(conv₀(m)))))))
 * @deviation none
 * @precision fp64-accumulate, fp32-store per op; GELU is the exact erf form
 */
export function maskDownscaling(weights: StateDict, cfg: PromptEncoderCfg, masks: Tensor): Tensor {
  const fn = 'maskDownscaling';
  requireF32(fn, 'masks', masks, 4);
  const [h, w] = cfg.imageEmbeddingSize;
  const B = masks.shape[0]!;
  specRequire(masks.shape[1] === 1 && masks.shape[2] === 4 * h && masks.shape[3] === 4 * w, {
    fn, what: 'masks.shape', rule: `be [B,1,${4 * h},${4 * w}]`, got: masks.shape,
  });
  const c1 = cfg.maskInChans / 4;
  const c2 = cfg.maskInChans;
  const C = cfg.embedDim;
  const k = (i: number, s: number[]): Tensor => param(fn, weights, `${PE}.mask_downscaling.${i}.weight`, s);
  const b = (i: number, n: number): Tensor => param(fn, weights, `${PE}.mask_downscaling.${i}.bias`, [n]);
  const s2 = { stride: [2, 2] as [number, number], padding: [0, 0] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
  const s1 = { ...s2, stride: [1, 1] as [number, number] };
  let x = conv2d(masks, k(0, [c1, 1, 2, 2]), b(0, c1), s2); // [B, c1, 2h, 2w]
  x = gelu(layerNorm2d(x, k(1, [c1]), b(1, c1), { epsilon: cfg.ln2dEps }));
  x = conv2d(x, k(3, [c2, c1, 2, 2]), b(3, c2), s2); // [B, c2, h, w]
  x = gelu(layerNorm2d(x, k(4, [c2]), b(4, c2), { epsilon: cfg.ln2dEps }));
  const out = conv2d(x, k(6, [C, c2, 1, 1]), b(6, C), s1); // [B, C, h, w]
  specRequire(out.shape[0] === B, { fn, what: 'output batch', rule: `equal ${B}`, got: out.shape[0] });
  return out;
}

/**
 * Encode prompts: points (with an automatic padding point when there is no box), box corners, and
 * either the downscaled mask or the broadcast no-mask embedding.
 * @source SAM-code@dca509f segment_anything/modeling/prompt_encoder.py#PromptEncoder.forward
 * @source SAM-code@dca509f segment_anything/utils/onnx.py#SamOnnxModel._embed_points (labels 2/3 on points)
 * @equation point (x, y, l): l = −1 → e_nap; else PE(((x+0.5)/W, (y+0.5)/H)) + e_l;
 *   box corner j ∈ {0, 1}: PE(corner_j + 0.5 normalised) + e_{2+j};
 *   PE(u) = [sin(2π(2u−1)·G), cos(2π(2u−1)·G)];
 *   dense = maskDownscaling(m) if masks else e_nomask broadcast to [B, C, h, w]
 * @deviation labels 2 / 3 on *points* add point_embeddings[2] / [3] (the SamOnnxModel rule, so that the
 *   ONNX convention of passing box corners as points is supported); the dca509f PromptEncoder adds no
 *   label embedding for them. `padPoints` (default: no boxes, as the official code) can be turned off for
 *   callers that append the padding point themselves (ONNX convention).
 * @precision pixel-centre shift and normalisation in float32; PE fp64 then fp32-store; sums fp32
 */
export function promptEncoder(
  weights: StateDict,
  cfg: PromptEncoderCfg,
  prompts: Prompts,
  opts: { readonly padPoints?: boolean } = {},
): { sparse: Tensor; dense: Tensor } {
  const fn = 'promptEncoder';
  const C = cfg.embedDim;
  const [H, W] = cfg.inputImageSize;
  const [h, w] = cfg.imageEmbeddingSize;
  const { points, boxes, masks } = prompts;
  // preconditions
  specRequire(Number.isInteger(C) && C > 0 && C % 2 === 0, { fn, what: 'cfg.embedDim', rule: 'be a positive even integer', got: C });
  let B: number | undefined;
  let N = 0;
  if (points !== undefined) {
    requireF32(fn, 'points.coords', points.coords, 3);
    specRequire(points.coords.shape[2] === 2, { fn, what: 'points.coords.shape[2]', rule: 'be 2 (x, y)', got: points.coords.shape });
    B = points.coords.shape[0]!;
    N = points.coords.shape[1]!;
    specRequire(points.labels !== undefined && points.labels.shape.length === 2 && points.labels.shape[0] === B && points.labels.shape[1] === N, {
      fn, what: 'points.labels.shape', rule: `be [${B},${N}]`, got: points.labels?.shape,
    });
    for (let i = 0; i < points.labels.data.length; i++) {
      const l = points.labels.data[i]!;
      specRequire(l === -1 || l === 0 || l === 1 || l === 2 || l === 3, {
        fn, what: `points.labels[${i}]`, rule: 'be one of −1 (pad), 0 (bg), 1 (fg), 2, 3 (box corners)', got: l,
      });
    }
    requireFiniteCoords(fn, 'points.coords', points.coords.data);
  }
  let nBoxes = 0;
  if (boxes !== undefined) {
    specRequire(boxes.dtype === 'float32' && (boxes.shape.length === 2 || (boxes.shape.length === 3 && boxes.shape[1] === 1)) && boxes.shape[boxes.shape.length - 1] === 4, {
      fn, what: 'boxes.shape', rule: 'be [B,4] or [B,1,4] float32', got: boxes.shape,
    });
    specRequire(B === undefined || boxes.shape[0] === B, { fn, what: 'boxes.shape[0]', rule: `equal the points batch ${B}`, got: boxes.shape[0] });
    B = boxes.shape[0]!;
    nBoxes = 1;
    requireFiniteCoords(fn, 'boxes', boxes.data);
  }
  if (masks !== undefined) {
    requireF32(fn, 'masks', masks, 4);
    specRequire(B === undefined || masks.shape[0] === B, { fn, what: 'masks.shape[0]', rule: `equal the prompt batch ${B}`, got: masks.shape[0] });
    B = masks.shape[0]!;
  }
  const batch = B ?? 1;
  specRequire(batch > 0, { fn, what: 'prompt batch', rule: 'be at least 1', got: batch });
  const pad = points !== undefined && (opts.padPoints ?? boxes === undefined) ? 1 : 0;

  // positional encodings of every point and box corner, normalised to [0, 1]
  const Np = points !== undefined ? N : 0;
  const Ns = Np + pad + 2 * nBoxes;
  const G = param(fn, weights, `${PE}.pe_layer.positional_encoding_gaussian_matrix`, [2, C / 2]);
  const uv = new Float32Array(batch * Ns * 2); // [B, Ns, 2]
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < Np; n++) {
      const src = (b * N + n) * 2;
      uv[(b * Ns + n) * 2] = normalizedCoord(points!.coords.data[src]!, W);
      uv[(b * Ns + n) * 2 + 1] = normalizedCoord(points!.coords.data[src + 1]!, H);
    }
    for (let j = 0; j < 2 * nBoxes; j++) {
      const t = (b * Ns + Np + pad + j) * 2;
      uv[t] = normalizedCoord(boxes!.data[b * 4 + 2 * j]!, W);
      uv[t + 1] = normalizedCoord(boxes!.data[b * 4 + 2 * j + 1]!, H);
    }
  }
  const pe = Ns > 0 ? peEncoding({ dtype: 'float32', shape: [batch, Ns, 2], data: uv }, G).data : new Float32Array(0); // [B, Ns, C]

  // label embeddings
  const nap = embeddingRow(weights, `${PE}.not_a_point_embed.weight`, C);
  const e = [0, 1, 2, 3].map((i) => embeddingRow(weights, `${PE}.point_embeddings.${i}.weight`, C));
  const sparse = new Float32Array(batch * Ns * C); // [B, Ns, C]
  for (let b = 0; b < batch; b++) {
    for (let n = 0; n < Ns; n++) {
      const label = n < Np ? points!.labels.data[b * N + n]! : n < Np + pad ? -1 : 2 + (n - Np - pad);
      const o = (b * Ns + n) * C;
      if (label === -1) {
        sparse.set(nap, o);
      } else {
        const emb = e[label]!;
        for (let c = 0; c < C; c++) sparse[o + c] = pe[o + c]! + emb[c]!;
      }
    }
  }

  const dense = masks !== undefined ? maskDownscaling(weights, cfg, masks) : noMaskDense(weights, C, batch, h, w);
  return { sparse: { dtype: 'float32', shape: [batch, Ns, C], data: sparse }, dense };
}

function requireFiniteCoords(fn: string, what: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    specRequire(Number.isFinite(data[i]!), { fn, what: `${what}[${i}]`, rule: 'be finite', got: data[i] });
  }
}

/** no_mask_embed [1, C] broadcast to [B, C, h, w]. */
function noMaskDense(weights: StateDict, C: number, B: number, h: number, w: number): Tensor {
  const e = param('promptEncoder', weights, `${PE}.no_mask_embed.weight`, [1, C]).data;
  const hw = h * w;
  const out = new Float32Array(B * C * hw); // [B, C, h, w]
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) out.fill(e[c]!, (b * C + c) * hw, (b * C + c + 1) * hw);
  return { dtype: 'float32', shape: [B, C, h, w], data: out };
}
