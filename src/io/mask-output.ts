/**
 * Writing masks as images: a single-channel 8-bit PNG (0 / 255) per mask, and an RGB overlay of a mask
 * on its photo (tinted fill plus a solid contour). Encoding is deterministic (fixed zlib settings), and
 * files are written atomically (temp + rename).
 */
import { PNG } from 'pngjs';
import { roundHalfEven, specRequire } from '../tensor';
import { checkRgbImage, type RgbImage } from './image';
import { writeFileAtomic } from './fs';

// TYPES

/** A binary mask, row-major H×W: any non-zero (or `true`) entry is "in the mask". */
export type MaskData = Uint8Array | readonly boolean[] | ArrayLike<number | boolean>;

/** Options of `encodeOverlayPng`. */
export interface OverlayOptions {
  /** Tint of the fill and of the contour, RGB 0..255 (default [30, 144, 255], SAM's demo blue). */
  readonly color?: readonly [number, number, number];
  /** Opacity of the fill in [0, 1] (default 0.5). */
  readonly alpha?: number;
  /** Draw the contour (mask pixels with a 4-neighbour outside the mask or on the image border); default true. */
  readonly contour?: boolean;
}

// MAIN

/**
 * Encode an H×W binary mask as a greyscale 8-bit PNG with values 0 (outside) and 255 (inside).
 * @source SAM-code@dca509f scripts/amg.py#write_masks_to_folder (masks saved as 0/255 images)
 * @equation pixel = 255·[m ≠ 0]
 * @deviation none
 * @precision exact (lossless)
 */
export function encodeMaskPng(mask: MaskData, width: number, height: number): Uint8Array {
  const fn = 'encodeMaskPng';
  checkMask(fn, mask, width, height);
  const grey = Buffer.alloc(width * height); // [H, W]
  for (let i = 0; i < grey.length; i++) grey[i] = mask[i] ? 255 : 0;
  return encodePng(grey, width, height, 0);
}

/**
 * Encode an RGB PNG of `image` with `mask` tinted: fill blended at `alpha`, contour drawn opaque.
 * @source SAM notebooks' show_mask convention (blue fill at α = 0.6); project choice of α = 0.5 and a contour
 * @equation out = ⌊(1 − α)·p + α·t⌉ inside the mask (half-even), t on the contour, p elsewhere
 * @deviation none
 * @precision exact (integer result, roundHalfEven)
 */
export function encodeOverlayPng(image: RgbImage, mask: MaskData, options: OverlayOptions = {}): Uint8Array {
  const fn = 'encodeOverlayPng';
  checkRgbImage(fn, image);
  const { width, height } = image;
  checkMask(fn, mask, width, height);
  const color = options.color ?? [30, 144, 255];
  const alpha = options.alpha ?? 0.5;
  const contour = options.contour ?? true;
  specRequire(color.length === 3 && color.every((v) => Number.isInteger(v) && v >= 0 && v <= 255), { fn, what: 'options.color', rule: 'be three integers in [0, 255]', got: color });
  specRequire(Number.isFinite(alpha) && alpha >= 0 && alpha <= 1, { fn, what: 'options.alpha', rule: 'be a number in [0, 1]', got: alpha });

  const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < width && y < height && Boolean(mask[y * width + x]);
  const rgb = Buffer.alloc(width * height * 3); // [H, W, 3]
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const m = inside(x, y);
      const edge = m && contour && !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1));
      for (let c = 0; c < 3; c++) {
        const v = image.data[p + c]!;
        rgb[p + c] = edge ? color[c]! : m ? roundHalfEven((1 - alpha) * v + alpha * color[c]!) : v;
      }
    }
  }
  return encodePng(rgb, width, height, 2);
}

/**
 * Write `encodeMaskPng(mask, width, height)` to `path` atomically.
 * @source SAM-code@dca509f scripts/amg.py#write_masks_to_folder
 * @deviation none
 * @precision exact
 */
export function writeMaskPng(path: string, mask: MaskData, width: number, height: number): void {
  writeFileAtomic(path, encodeMaskPng(mask, width, height));
}

/**
 * Write `encodeOverlayPng(image, mask, options)` to `path` atomically.
 * @source project (visual check of a mask on its photo)
 * @deviation none
 * @precision exact
 */
export function writeOverlayPng(path: string, image: RgbImage, mask: MaskData, options: OverlayOptions = {}): void {
  writeFileAtomic(path, encodeOverlayPng(image, mask, options));
}

// HELPERS

function checkMask(fn: string, mask: MaskData, width: number, height: number): void {
  specRequire(Number.isInteger(width) && width >= 1, { fn, what: 'width', rule: 'be a positive integer', got: width });
  specRequire(Number.isInteger(height) && height >= 1, { fn, what: 'height', rule: 'be a positive integer', got: height });
  specRequire(mask != null && mask.length === width * height, { fn, what: 'mask.length', rule: `equal width·height = ${width * height}`, got: mask?.length });
}

/** Deterministic PNG encoding of 8-bit grey (colorType 0) or RGB (colorType 2) samples. */
function encodePng(samples: Buffer, width: number, height: number, colorType: 0 | 2): Uint8Array {
  const png = { width, height, data: samples, gamma: 0 } as unknown as PNG;
  const buf = PNG.sync.write(png, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: false,
    bitDepth: 8,
    deflateLevel: 9,
    deflateStrategy: 3,
  });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
