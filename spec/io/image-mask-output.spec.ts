/**
 * Mask and overlay PNG output: decode what we encode (round trip through the PNG decoder), the blend
 * and contour rules, deterministic bytes, atomic writes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpecError } from '../../src/tensor';
import { decodeImage, readImage, type RgbImage } from '../../src/io/image';
import { encodeMaskPng, encodeOverlayPng, writeMaskPng, writeOverlayPng } from '../../src/io/mask-output';

const PHOTOS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/photos');
const tmp = mkdtempSync(join(tmpdir(), 'ahcq-mask-out-spec-'));

const arbMask = fc
  .record({ width: fc.integer({ min: 1, max: 24 }), height: fc.integer({ min: 1, max: 24 }) })
  .chain(({ width, height }) =>
    fc.record({
      width: fc.constant(width),
      height: fc.constant(height),
      mask: fc.uint8Array({ min: 0, max: 1, minLength: width * height, maxLength: width * height }),
      pixels: fc.uint8Array({ minLength: width * height * 3, maxLength: width * height * 3 }),
    }),
  );

/** Naive reading of the contour rule: in the mask with some 4-neighbour outside the mask or the image. */
function isContour(mask: Uint8Array, w: number, h: number, x: number, y: number): boolean {
  if (!mask[y * w + x]) return false;
  const at = (xx: number, yy: number): number => (xx < 0 || yy < 0 || xx >= w || yy >= h ? 0 : mask[yy * w + xx]!);
  return !at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1);
}

describe('edge cases', () => {
  it.each([
    ['mask too short', () => encodeMaskPng(new Uint8Array(3), 2, 2)],
    ['width 0', () => encodeMaskPng(new Uint8Array(0), 0, 2)],
    ['height fractional', () => encodeMaskPng(new Uint8Array(2), 2, 1.5)],
    ['overlay mask size ≠ image size', () => encodeOverlayPng({ width: 2, height: 1, data: new Uint8Array(6) }, new Uint8Array(3))],
    ['overlay alpha > 1', () => encodeOverlayPng({ width: 1, height: 1, data: new Uint8Array(3) }, [1], { alpha: 1.5 })],
    ['overlay colour out of range', () => encodeOverlayPng({ width: 1, height: 1, data: new Uint8Array(3) }, [1], { color: [0, 256, 0] })],
    ['overlay bad image', () => encodeOverlayPng({ width: 2, height: 2, data: new Uint8Array(5) }, new Uint8Array(4))],
  ])('%s → SpecError', (_n, f) => {
    expect(f).toThrow(SpecError);
  });

  it('boolean masks and any non-zero value count as "in the mask"', () => {
    const img = decodeImage(encodeMaskPng([true, false, 7, 0] as ArrayLike<number | boolean>, 2, 2), 'm.png');
    expect(Array.from(img.data)).toEqual([255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0]);
  });

  it('a mask PNG is single-channel 8-bit greyscale (IHDR colour type 0, depth 8)', () => {
    const png = encodeMaskPng(new Uint8Array(6), 3, 2);
    expect([png[24], png[25]]).toEqual([8, 0]);
  });

  it('a write that fails leaves no file and no temp file behind', () => {
    const dir = join(tmp, 'fail');
    expect(() => writeMaskPng(join(dir, 'x.png'), new Uint8Array(3), 2, 2)).toThrow(SpecError);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});

describe('oracle', () => {
  it('mask PNG round trip: decode(encodeMaskPng(m)) = 255·[m ≠ 0] on every channel', () => {
    fc.assert(
      fc.property(arbMask, ({ width, height, mask }) => {
        const img = decodeImage(encodeMaskPng(mask, width, height), 'mask.png');
        expect([img.width, img.height]).toEqual([width, height]);
        return img.data.every((v, i) => v === (mask[Math.floor(i / 3)] ? 255 : 0));
      }),
    );
  });

  it('overlay pixels follow the rule: outside unchanged, contour = colour, inside = ⌊½p + ½t⌉ (half-even)', () => {
    const color = [30, 144, 255];
    fc.assert(
      fc.property(arbMask, ({ width, height, mask, pixels }) => {
        const image: RgbImage = { width, height, data: pixels };
        const out = decodeImage(encodeOverlayPng(image, mask), 'ov.png');
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++)
            for (let c = 0; c < 3; c++) {
              const p = pixels[(y * width + x) * 3 + c]!;
              const s = p + color[c]!; // ½p + ½t = s/2; half-even on .5
              const half = s % 2 === 0 ? s / 2 : (s - 1) / 2 % 2 === 0 ? (s - 1) / 2 : (s + 1) / 2;
              const want = !mask[y * width + x] ? p : isContour(mask, width, height, x, y) ? color[c]! : half;
              expect(out.data[(y * width + x) * 3 + c]).toBe(want);
            }
      }),
      { numRuns: 30 },
    );
  });
});

describe('laws', () => {
  it('an empty mask (or alpha 0 without contour) leaves the image unchanged', () => {
    fc.assert(
      fc.property(arbMask, ({ width, height, mask, pixels }) => {
        const image: RgbImage = { width, height, data: pixels };
        const a = decodeImage(encodeOverlayPng(image, new Uint8Array(width * height)), 'a.png');
        const b = decodeImage(encodeOverlayPng(image, mask, { alpha: 0, contour: false }), 'b.png');
        expect(Array.from(a.data)).toEqual(Array.from(pixels));
        expect(Array.from(b.data)).toEqual(Array.from(pixels));
      }),
      { numRuns: 30 },
    );
  });

  it('encoding is deterministic (same input → same bytes)', () => {
    fc.assert(
      fc.property(arbMask, ({ width, height, mask, pixels }) => {
        expect(Buffer.compare(Buffer.from(encodeMaskPng(mask, width, height)), Buffer.from(encodeMaskPng(mask, width, height)))).toBe(0);
        const image: RgbImage = { width, height, data: pixels };
        expect(Buffer.compare(Buffer.from(encodeOverlayPng(image, mask)), Buffer.from(encodeOverlayPng(image, mask)))).toBe(0);
      }),
      { numRuns: 20 },
    );
  });
});

describe('conformance', () => {
  it('overlay of a real photo: written atomically, decodes to the photo outside the mask', () => {
    const photo = readImage(join(PHOTOS, 'chelsea.png'));
    const mask = new Uint8Array(photo.width * photo.height);
    for (let y = 80; y < 160; y++) for (let x = 130; x < 210; x++) mask[y * photo.width + x] = 1; // the left eye
    const path = join(tmp, 'out', 'overlay.png');
    writeOverlayPng(path, photo, mask);
    writeMaskPng(join(tmp, 'out', 'mask.png'), mask, photo.width, photo.height);
    expect(readdirSync(join(tmp, 'out')).sort()).toEqual(['mask.png', 'overlay.png']); // no temp files left
    const back = decodeImage(new Uint8Array(readFileSync(path)), path);
    let outsideSame = true;
    let insideChanged = 0;
    for (let p = 0; p < mask.length; p++)
      for (let c = 0; c < 3; c++) {
        if (!mask[p]) outsideSame &&= back.data[3 * p + c] === photo.data[3 * p + c];
        else if (back.data[3 * p + c] !== photo.data[3 * p + c]) insideChanged++;
      }
    expect(outsideSame).toBe(true);
    expect(insideChanged).toBeGreaterThan(80 * 80); // most inside samples are tinted
  });
});
