/**
 * Image decoding at the I/O boundary: PNG (via `pngjs`) and baseline/progressive JPEG (via `jpeg-js`),
 * detected by magic bytes (never by extension), normalised to 8-bit RGB, height × width × channel.
 *
 * Normalisation rules (chosen to match what `np.array(PIL.Image.open(p).convert('RGB'))` gives, which
 * is how SAM's examples load images):
 * - greyscale → R = G = B; 1/2/4-bit grey scaled by 255/(2^d − 1) (exact integers 255, 85, 17);
 * - palette → palette RGB; any alpha (RGBA, grey+alpha, tRNS) is dropped, never composited;
 * - 16-bit samples → the high byte (v >> 8), as PIL's `RGB;16B` raw mode does;
 * - EXIF orientation is ignored (PIL's `Image.open` does not apply it either);
 * - gAMA / iCCP / sRGB chunks are ignored (as PIL's `convert('RGB')`).
 *
 * Every failure (missing, unreadable, directory, unknown format, truncated, corrupt, too large) is a
 * `FormatError` that names the file and the problem.
 */
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { FormatError, specRequire, tensor, requireShape, type Tensor } from '../tensor';
import { readFileOrThrow } from './fs';

// TYPES

/** A decoded 8-bit RGB image, pixels row-major, 3 bytes per pixel: `data[(y·width + x)·3 + c]`. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** [H, W, 3] RGB, uint8 */
  readonly data: Uint8Array;
}

/** Which container a byte stream holds, from its magic bytes. */
export type ImageFormat = 'png' | 'jpeg';

// CONSTANTS

/** Largest image accepted, in pixels (same cap as jpeg-js's default `maxResolutionInMP` = 100 MP). */
export const MAX_IMAGE_PIXELS = 100_000_000;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
const JPEG_SOI = [0xff, 0xd8, 0xff] as const;

// MAIN

/**
 * The container format of `bytes`, decided by magic bytes only (PNG signature or JPEG SOI marker).
 * @source PNG:ISO-15948 §5.2 (signature); JPEG:ITU-T.81 Annex B (SOI = FF D8)
 * @deviation none
 * @precision exact
 */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (sig: readonly number[]): boolean => bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
  if (starts(PNG_SIGNATURE)) return 'png';
  if (starts(JPEG_SOI)) return 'jpeg';
  return undefined;
}

/**
 * Decode PNG or JPEG bytes into 8-bit RGB; `source` names the stream in errors.
 * @source PIL:resize (loading convention only: `Image.open(p).convert('RGB')`)
 * @deviation JPEG pixels come from jpeg-js's IDCT and chroma upsampling, which are not libjpeg-turbo's:
 *   decoded JPEG pixels may differ from PIL's by a few levels. PNG decoding is lossless and exact.
 *   16-bit greyscale takes the high byte (PIL's `I;16 → RGB` clips instead).
 * @precision exact (PNG); decoder-defined (JPEG)
 */
export function decodeImage(bytes: Uint8Array, source: string): RgbImage {
  const format = detectImageFormat(bytes);
  if (format === undefined) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new FormatError(source, `unsupported image format: not PNG or JPEG by magic bytes (first bytes: ${head || 'none, file is empty'})`);
  }
  return format === 'png' ? decodePng(bytes, source) : decodeJpeg(bytes, source);
}

/**
 * Read and decode an image file (PNG or JPEG, by content) into 8-bit RGB.
 * @source PIL:resize (loading convention only: `Image.open(p).convert('RGB')`)
 * @deviation as `decodeImage`
 * @precision exact (PNG); decoder-defined (JPEG)
 */
export function readImage(path: string): RgbImage {
  return decodeImage(readFileOrThrow(path, 'image file'), path);
}

/**
 * View an `RgbImage` as a uint8 tensor [H, W, 3] (data shared, not copied).
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.set_image (HWC uint8 input)
 * @deviation none
 * @precision exact
 */
export function imageToTensor(img: RgbImage): Tensor<'uint8'> {
  checkRgbImage('imageToTensor', img);
  return tensor([img.height, img.width, 3], img.data, 'uint8'); // [H, W, 3]
}

/**
 * View a uint8 tensor [H, W, 3] as an `RgbImage` (data shared, not copied).
 * @source SAM-code@dca509f segment_anything/predictor.py#SamPredictor.set_image (HWC uint8 input)
 * @deviation none
 * @precision exact
 */
export function tensorToImage(t: Tensor<'uint8'>): RgbImage {
  specRequire(t.dtype === 'uint8', { fn: 'tensorToImage', what: 't.dtype', rule: 'be uint8', got: t.dtype });
  requireShape('tensorToImage', 't', t, [-1, -1, 3]);
  return { height: t.shape[0]!, width: t.shape[1]!, data: t.data };
}

/**
 * Precondition block shared by the functions that take an `RgbImage`: positive integer size, data of W·H·3 bytes.
 * @source project (RgbImage record invariant)
 * @deviation none
 * @precision exact
 */
export function checkRgbImage(fn: string, img: RgbImage): void {
  specRequire(Number.isInteger(img.width) && img.width >= 1, { fn, what: 'image.width', rule: 'be a positive integer', got: img.width });
  specRequire(Number.isInteger(img.height) && img.height >= 1, { fn, what: 'image.height', rule: 'be a positive integer', got: img.height });
  specRequire(img.data instanceof Uint8Array && img.data.length === img.width * img.height * 3, {
    fn,
    what: 'image.data.length',
    rule: `be a Uint8Array of width·height·3 = ${img.width * img.height * 3} bytes`,
    got: img.data?.length,
  });
}

// PNG

interface PngChunk {
  readonly type: string;
  readonly start: number; // offset of the length field
  readonly end: number; // offset after the CRC
}

/** Walk the chunk list, checking that every chunk fits in the file and that IHDR comes first. */
function pngChunks(bytes: Uint8Array, source: string): PngChunk[] {
  const chunks: PngChunk[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos: number = PNG_SIGNATURE.length;
  for (;;) {
    if (pos + 12 > bytes.length) throw new FormatError(source, `truncated PNG: no IEND chunk (file ends at byte ${bytes.length})`);
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!, bytes[pos + 6]!, bytes[pos + 7]!);
    const end = pos + 12 + len;
    if (end > bytes.length) throw new FormatError(source, `truncated PNG: chunk '${type}' at byte ${pos} needs ${len} data bytes, file ends at byte ${bytes.length}`);
    if (chunks.length === 0 && type !== 'IHDR') throw new FormatError(source, `corrupt PNG: first chunk is '${type}', not IHDR`);
    chunks.push({ type, start: pos, end });
    if (type === 'IEND') return chunks;
    pos = end;
  }
}

function decodePng(bytes: Uint8Array, source: string): RgbImage {
  const chunks = pngChunks(bytes, source);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = chunks[0]!;
  if (ihdr.end - ihdr.start !== 25) throw new FormatError(source, `corrupt PNG: IHDR has ${ihdr.end - ihdr.start - 12} data bytes, expected 13`);
  const width = dv.getUint32(ihdr.start + 8);
  const height = dv.getUint32(ihdr.start + 12);
  if (width === 0 || height === 0) throw new FormatError(source, `corrupt PNG: image size ${width}×${height} is empty`);
  if (width * height > MAX_IMAGE_PIXELS) throw new FormatError(source, `PNG of ${width}×${height} pixels exceeds the ${MAX_IMAGE_PIXELS}-pixel limit`);

  // tRNS makes pngjs zero the RGB of "transparent" pixels; PIL's convert('RGB') keeps them, so drop it.
  const kept = chunks.filter((c) => c.type !== 'tRNS');
  const stream = kept.length === chunks.length ? bytes : Buffer.concat([bytes.subarray(0, PNG_SIGNATURE.length), ...kept.map((c) => bytes.subarray(c.start, c.end))]);

  let decoded: { width: number; height: number; depth: number; colorType: number; data: ArrayLike<number> };
  try {
    decoded = PNG.sync.read(Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength), { skipRescale: true, checkCRC: true }) as never;
  } catch (e) {
    throw new FormatError(source, `corrupt or unsupported PNG: ${(e as Error).message}`);
  }
  const { depth, colorType, data } = decoded;
  const n = width * height;
  if (decoded.width !== width || decoded.height !== height || data.length !== n * 4) {
    throw new FormatError(source, `corrupt PNG: decoder returned ${decoded.width}×${decoded.height} with ${data.length} samples`);
  }
  // pngjs gives RGBA samples: palette already expanded to 8-bit; others at the file's bit depth.
  const toByte =
    colorType === 3 || depth === 8
      ? (v: number) => v
      : depth === 16
        ? (v: number) => v >>> 8 // high byte, PIL "RGB;16B"
        : (v: number) => v * (255 / ((1 << depth) - 1)); // 1/2/4-bit grey: ×255, ×85, ×17 (exact)
  const out = new Uint8Array(n * 3); // [H, W, 3]
  for (let p = 0; p < n; p++) {
    out[3 * p] = toByte(data[4 * p]!);
    out[3 * p + 1] = toByte(data[4 * p + 1]!);
    out[3 * p + 2] = toByte(data[4 * p + 2]!);
  }
  return { width, height, data: out };
}

// JPEG

function decodeJpeg(bytes: Uint8Array, source: string): RgbImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false, // truncated / corrupt scans are errors, not grey blocks
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    throw new FormatError(source, `corrupt or unsupported JPEG: ${(e as Error).message}`);
  }
  const { width, height, data } = decoded;
  if (!(width >= 1 && height >= 1) || data.length !== width * height * 3) {
    throw new FormatError(source, `corrupt JPEG: decoder returned ${width}×${height} with ${data.length} bytes`);
  }
  return { width, height, data };
}
