/**
 * SAM image preprocessing: resize the longest side to L (PIL bilinear on uint8, bit-exact), normalise
 * with the ImageNet pixel statistics, zero-pad bottom/right to L×L; and the matching transform of point
 * and box prompts from original-image pixels to resized-image pixels.
 *
 * Legend: H, W = original size; h, w = resized size (longest side L); C = channels.
 */
import { f32, specRequire, requireShape, tensor, type Tensor } from '../tensor';
import { SAM_IMAGE_SIZE, SAM_PIXEL_MEAN, SAM_PIXEL_STD } from './config';

// TYPES

/** Result of `preprocessImage`: the encoder input and the two sizes the decoder needs. */
export interface PreprocessedImage {
  /** [1, 3, L, L] float32, normalised, zero-padded bottom/right */
  readonly input: Tensor<'float32'>;
  /** [h, w]: size of the resized image inside the L×L canvas */
  readonly inputSize: readonly [number, number];
  /** [H, W]: original image size */
  readonly origSize: readonly [number, number];
}

// CONSTANTS

/** Fixed-point precision of Pillow's 8-bit resampler: 32 − 8 − 2 = 22 fractional bits. */
const PIL_PRECISION_BITS = 22;

// MAIN

/**
 * Output size of resizing an H×W image so that its longest side becomes L.
 * @source SAM-code@dca509f segment_anything/utils/transforms.py#ResizeLongestSide.get_preprocess_shape
 * @equation s = L / max(H, W);  h = ⌊H·s + ½⌋,  w = ⌊W·s + ½⌋
 * @deviation SAM returns a 0 side for aspect ratios beyond about 2L:1 (PIL then fails); here that is a SpecError
 * @precision exact (same float64 operations as the Python code)
 */
export function getPreprocessShape(H: number, W: number, L: number = SAM_IMAGE_SIZE): [number, number] {
  const fn = 'getPreprocessShape';
  specRequire(Number.isInteger(H) && H >= 1, { fn, what: 'H', rule: 'be a positive integer', got: H });
  specRequire(Number.isInteger(W) && W >= 1, { fn, what: 'W', rule: 'be a positive integer', got: W });
  specRequire(Number.isInteger(L) && L >= 1, { fn, what: 'L', rule: 'be a positive integer', got: L });
  const scale = (L * 1.0) / Math.max(H, W);
  const h = Math.trunc(H * scale + 0.5); // Python int() truncates; the operand is positive
  const w = Math.trunc(W * scale + 0.5);
  specRequire(h >= 1 && w >= 1, { fn, what: '[H, W]', rule: `have an aspect ratio that keeps both resized sides ≥ 1 at L = ${L}`, got: [H, W] });
  return [h, w];
}

/**
 * Resize a uint8 image [H, W, C] to [h, w, C] exactly as Pillow's `Image.resize((w, h), BILINEAR)`.
 * @source PIL:resize (Pillow 9.4 libImaging/Resample.c: precompute_coeffs, normalize_coeffs_8bpc,
 *   ImagingResampleHorizontal_8bpc / Vertical_8bpc); used by SAM-code@dca509f
 *   segment_anything/utils/transforms.py#ResizeLongestSide.apply_image
 * @equation support σ = max(in/out, 1);  centre c_i = (i + ½)·in/out;  taps j ∈ [⌊c_i − σ + ½⌋, ⌊c_i + σ + ½⌋) ∩ [0, in)
 *   k_ij = max(0, 1 − |(j − c_i + ½)/σ|) / Σ_j(…);  K_ij = ⌊k_ij·2²² + ½⌋
 *   y_i = clip(⌊(2²¹ + Σ_j K_ij·x_j) / 2²²⌋, 0, 255), horizontal pass first, intermediate stored as uint8
 * @deviation none (bit-identical to Pillow; this is not plain bilinear sampling: it antialiases when shrinking)
 * @precision exact (integer arithmetic; coefficients computed in float64 as Pillow does in C double)
 */
export function resizeUint8Pil(img: Tensor<'uint8'>, size: readonly [number, number]): Tensor<'uint8'> {
  const fn = 'resizeUint8Pil';
  specRequire(img.dtype === 'uint8', { fn, what: 'img.dtype', rule: 'be uint8', got: img.dtype });
  specRequire(img.shape.length === 3, { fn, what: 'img.shape', rule: 'be [H, W, C]', got: img.shape });
  const [H, W, C] = img.shape as [number, number, number];
  specRequire(H >= 1 && W >= 1 && C >= 1, { fn, what: 'img.shape', rule: 'have H, W, C ≥ 1', got: img.shape });
  const [h, w] = size;
  specRequire(Number.isInteger(h) && h >= 1, { fn, what: 'size[0] (h)', rule: 'be a positive integer', got: h });
  specRequire(Number.isInteger(w) && w >= 1, { fn, what: 'size[1] (w)', rule: 'be a positive integer', got: w });

  // Pass 1: horizontal, [H, W, C] → [H, w, C], rounded to uint8.
  const cx = pilBilinearCoeffs(W, w);
  const mid = new Uint8Array(H * w * C); // [H, w, C]
  for (let y = 0; y < H; y++) {
    for (let i = 0; i < w; i++) {
      const first = cx.first[i]!;
      const count = cx.count[i]!;
      for (let c = 0; c < C; c++) {
        let acc = 1 << (PIL_PRECISION_BITS - 1);
        for (let t = 0; t < count; t++) acc += img.data[(y * W + first + t) * C + c]! * cx.k[i * cx.kSize + t]!;
        mid[(y * w + i) * C + c] = clip8(acc);
      }
    }
  }
  // Pass 2: vertical, [H, w, C] → [h, w, C].
  const cy = pilBilinearCoeffs(H, h);
  const out = new Uint8Array(h * w * C); // [h, w, C]
  for (let i = 0; i < h; i++) {
    const first = cy.first[i]!;
    const count = cy.count[i]!;
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < C; c++) {
        let acc = 1 << (PIL_PRECISION_BITS - 1);
        for (let t = 0; t < count; t++) acc += mid[((first + t) * w + x) * C + c]! * cy.k[i * cy.kSize + t]!;
        out[(i * w + x) * C + c] = clip8(acc);
      }
    }
  }
  return tensor([h, w, C], out, 'uint8');
}

/**
 * Normalise a resized uint8 image [h, w, 3] with SAM's pixel mean/std and zero-pad it to [1, 3, L, L].
 * @source SAM-code@dca509f segment_anything/modeling/sam.py#Sam.preprocess
 * @equation x̂[c, y, x] = (x[y, x, c] − μ_c) / σ_c for y < h, x < w;  0 in the padding
 * @deviation none
 * @precision fp32 per operation (μ, σ rounded to float32 as the PyTorch buffers; each − and ÷ rounded to
 *   float32), bit-identical to PyTorch's float32 evaluation
 */
export function normalizeAndPad(resized: Tensor<'uint8'>, L: number = SAM_IMAGE_SIZE): Tensor<'float32'> {
  const fn = 'normalizeAndPad';
  specRequire(resized.dtype === 'uint8', { fn, what: 'resized.dtype', rule: 'be uint8', got: resized.dtype });
  requireShape(fn, 'resized', resized, [-1, -1, 3]);
  specRequire(Number.isInteger(L) && L >= 1, { fn, what: 'L', rule: 'be a positive integer', got: L });
  const [h, w] = resized.shape as [number, number, number];
  specRequire(h >= 1 && w >= 1 && h <= L && w <= L, { fn, what: 'resized.shape[0..1]', rule: `lie in [1, L = ${L}]`, got: [h, w] });

  const out = new Float32Array(3 * L * L); // [1, 3, L, L], zero = padding
  for (let c = 0; c < 3; c++) {
    const mean = f32(SAM_PIXEL_MEAN[c]!);
    const std = f32(SAM_PIXEL_STD[c]!);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        out[(c * L + y) * L + x] = f32(f32(resized.data[(y * w + x) * 3 + c]! - mean) / std);
      }
    }
  }
  return tensor([1, 3, L, L], out, 'float32');
}

/**
 * Full SAM preprocessing of an original uint8 image [H, W, 3]: resize longest side to L, normalise, pad.
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.set_image (ResizeLongestSide.apply_image
 *   then Sam.preprocess)
 * @equation input = pad_L(normalise(resize_PIL(img, getPreprocessShape(H, W, L))))
 * @deviation none
 * @precision exact resize; fp32 normalisation as `normalizeAndPad`
 */
export function preprocessImage(img: Tensor<'uint8'>, L: number = SAM_IMAGE_SIZE): PreprocessedImage {
  const fn = 'preprocessImage';
  specRequire(img.dtype === 'uint8', { fn, what: 'img.dtype', rule: 'be uint8', got: img.dtype });
  requireShape(fn, 'img', img, [-1, -1, 3]);
  const [H, W] = img.shape as [number, number, number];
  const [h, w] = getPreprocessShape(H, W, L);
  const resized = resizeUint8Pil(img, [h, w]); // [h, w, 3]
  return { input: normalizeAndPad(resized, L), inputSize: [h, w], origSize: [H, W] };
}

/**
 * Map (x, y) point coordinates from original-image pixels to resized-image pixels.
 * @source SAM-code@dca509f segment_anything/utils/transforms.py#ResizeLongestSide.apply_coords
 * @equation x′ = x·(w / W),  y′ = y·(h / H)   (h, w the rounded resized size, so the two factors differ)
 * @deviation none (computed in float64 like NumPy, stored as float32 as `torch.as_tensor(..., dtype=float)`)
 * @precision fp64 compute, one fp32 rounding on store
 */
export function applyCoords(
  coords: Tensor<'float32' | 'float64'>,
  origSize: readonly [number, number],
  inputSize: readonly [number, number],
): Tensor<'float32'> {
  const fn = 'applyCoords';
  checkSizes(fn, origSize, inputSize);
  specRequire(coords.shape.length >= 1 && coords.shape[coords.shape.length - 1] === 2, { fn, what: 'coords.shape', rule: 'be [..., 2] (x, y)', got: coords.shape });
  return scaleXY(fn, coords, origSize, inputSize);
}

/**
 * Map boxes (x0, y0, x1, y1) from original-image pixels to resized-image pixels.
 * @source SAM-code@dca509f segment_anything/utils/transforms.py#ResizeLongestSide.apply_boxes
 * @equation (x0′, y0′, x1′, y1′) = (x0·w/W, y0·h/H, x1·w/W, y1·h/H)
 * @deviation none
 * @precision fp64 compute, one fp32 rounding on store
 */
export function applyBoxes(
  boxes: Tensor<'float32' | 'float64'>,
  origSize: readonly [number, number],
  inputSize: readonly [number, number],
): Tensor<'float32'> {
  const fn = 'applyBoxes';
  checkSizes(fn, origSize, inputSize);
  specRequire(boxes.shape.length >= 1 && boxes.shape[boxes.shape.length - 1] === 4, { fn, what: 'boxes.shape', rule: 'be [..., 4] (x0, y0, x1, y1)', got: boxes.shape });
  return scaleXY(fn, boxes, origSize, inputSize); // [..., 4] viewed as [..., 2, 2]: alternating x, y
}

/**
 * Precondition: `size` is an image size [H, W] (or [h, w]) of two positive integers; `what` names it in the error.
 * @source project (shared precondition of the SAM pre/post-processing functions)
 * @deviation none
 * @precision exact
 */
export function requireImageSize(fn: string, what: string, size: readonly number[]): void {
  specRequire(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isInteger(d) && d >= 1), { fn, what, rule: 'be [H, W] of positive integers', got: size });
}

// HELPERS

interface PilCoeffs {
  /** first source index of each output pixel's taps */
  readonly first: Int32Array;
  /** number of taps of each output pixel */
  readonly count: Int32Array;
  /** taps per output pixel (row stride of `k`) */
  readonly kSize: number;
  /** [out, kSize] 22-bit fixed-point weights */
  readonly k: Int32Array;
}

/** Pillow's bilinear (triangle) coefficients for one axis, in 22-bit fixed point. */
function pilBilinearCoeffs(inSize: number, outSize: number): PilCoeffs {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1.0 * filterScale; // bilinear filter support is 1
  const kSize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * kSize);
  const weights = new Float64Array(kSize);
  const invScale = 1.0 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0); // C (int) truncation
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = hi - lo;
    let total = 0;
    for (let t = 0; t < n; t++) {
      const u = Math.abs((t + lo - center + 0.5) * invScale);
      weights[t] = u < 1 ? 1 - u : 0;
      total += weights[t]!;
    }
    for (let t = 0; t < n; t++) {
      const wt = total !== 0 ? weights[t]! / total : weights[t]!;
      k[i * kSize + t] = Math.trunc(wt * (1 << PIL_PRECISION_BITS) + (wt < 0 ? -0.5 : 0.5)); // C (int)(w·2²² ± 0.5)
    }
    first[i] = lo;
    count[i] = n;
  }
  return { first, count, kSize, k };
}

/** Pillow's clip8: arithmetic shift by the precision, clipped to 0..255. */
function clip8(acc: number): number {
  const v = acc >> PIL_PRECISION_BITS; // floor for |acc| < 2³¹
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function checkSizes(fn: string, origSize: readonly [number, number], inputSize: readonly [number, number]): void {
  requireImageSize(fn, 'origSize', origSize);
  requireImageSize(fn, 'inputSize', inputSize);
}

/** Multiply even positions of the last axis by w/W and odd positions by h/H (float64), store float32. */
function scaleXY(
  fn: string,
  t: Tensor<'float32' | 'float64'>,
  origSize: readonly [number, number],
  inputSize: readonly [number, number],
): Tensor<'float32'> {
  const [H, W] = origSize;
  const [h, w] = inputSize;
  const sx = w / W;
  const sy = h / H;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    specRequire(Number.isFinite(v), { fn, what: `coordinate[${i}]`, rule: 'be finite', got: v });
    out[i] = i % 2 === 0 ? v * sx : v * sy;
  }
  return tensor(t.shape, out, 'float32');
}
