/**
 * Image decoding: malformed inputs are FormatErrors naming the file; every PNG colour type / bit depth
 * normalises to RGB uint8 as PIL's convert('RGB'); the bundled photos decode to their documented sizes.
 * The oracle is a tiny PNG writer in this file (zlib + CRC-32), independent of pngjs.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { FormatError, SpecError, tensor } from '../../src/tensor';
import { decodeImage, detectImageFormat, imageToTensor, readImage, tensorToImage } from '../../src/io/image';
import { hasShared, loadSharedNpy, missingShared } from '../helpers/shared';

const PHOTOS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/photos');
const photo = (f: string): string => resolve(PHOTOS, f);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// ORACLE: minimal PNG writer (filter 0 on every row), written from the PNG specification.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
/** samples: row-major, `channels` samples per pixel, each < 2^depth. */
function makePng(o: { width: number; height: number; depth: number; colorType: number; samples: number[]; palette?: number[]; trns?: Uint8Array; chunks?: [string, Uint8Array][] }): Uint8Array {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[o.colorType]!;
  const rowBits = o.width * channels * o.depth;
  const rowBytes = Math.ceil(rowBits / 8);
  const raw = new Uint8Array(o.height * (rowBytes + 1));
  for (let y = 0; y < o.height; y++) {
    const row = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    for (let s = 0; s < o.width * channels; s++) {
      const v = o.samples[y * o.width * channels + s]!;
      if (o.depth === 16) {
        row[2 * s] = v >>> 8;
        row[2 * s + 1] = v & 0xff;
      } else if (o.depth === 8) row[s] = v;
      else {
        const bit = s * o.depth;
        row[bit >> 3] |= v << (8 - o.depth - (bit & 7));
      }
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, o.width);
  dv.setUint32(4, o.height);
  ihdr[8] = o.depth;
  ihdr[9] = o.colorType;
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', ihdr)];
  for (const [t, d] of o.chunks ?? []) parts.push(chunk(t, d));
  if (o.palette) parts.push(chunk('PLTE', Uint8Array.from(o.palette)));
  if (o.trns) parts.push(chunk('tRNS', o.trns));
  parts.push(chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0)));
  return Uint8Array.from(Buffer.concat(parts));
}

const tmp = mkdtempSync(join(tmpdir(), 'ahcq-image-spec-'));

describe('edge cases', () => {
  const chelsea = (): Uint8Array => new Uint8Array(readFileSync(photo('chelsea.png')));
  const rocket = (): Uint8Array => new Uint8Array(readFileSync(photo('rocket.jpg')));
  const cases: [string, () => unknown, RegExp][] = [
    ['missing file', () => readImage(join(tmp, 'nope.png')), /nope\.png: image file does not exist/],
    ['directory', () => readImage(tmp), /image file is a directory/],
    ['empty file', () => decodeImage(new Uint8Array(0), 'empty.png'), /empty\.png: unsupported image format.*empty/],
    ['text file', () => decodeImage(new TextEncoder().encode('hello, world\n'), 'notes.txt'), /notes\.txt: unsupported image format/],
    ['random bytes', () => decodeImage(Uint8Array.from({ length: 64 }, (_, i) => (i * 73 + 11) & 0xff), 'rand.bin'), /unsupported image format/],
    ['GIF', () => decodeImage(new TextEncoder().encode('GIF89a....'), 'a.gif'), /not PNG or JPEG/],
    ['PNG signature only', () => decodeImage(chelsea().subarray(0, 8), 's.png'), /truncated PNG/],
    ['PNG cut inside IDAT', () => decodeImage(chelsea().subarray(0, 50_000), 'cut.png'), /cut\.png: truncated PNG: chunk 'IDAT'/],
    ['PNG without IEND', () => decodeImage(chelsea().subarray(0, chelsea().length - 12), 'noend.png'), /truncated PNG: no IEND/],
    ['PNG with a flipped IDAT byte (CRC)', () => {
      const b = chelsea();
      b[100_000] ^= 0xff; // inside an IDAT chunk (IDAT data spans bytes 5,825..240,499)
      return decodeImage(b, 'crc.png');
    }, /crc\.png: corrupt or unsupported PNG/],
    ['PNG whose first chunk is not IHDR', () => {
      const b = makePng({ width: 1, height: 1, depth: 8, colorType: 0, samples: [0] });
      b[12] = 0x58; // 'IHDR' → 'XHDR'
      return decodeImage(b, 'x.png');
    }, /first chunk is 'XHDR'/],
    ['PNG declaring 0×1 pixels', () => decodeImage(makePng({ width: 0, height: 1, depth: 8, colorType: 0, samples: [] }), 'z.png'), /empty/],
    ['PNG declaring 20000×20000 pixels', () => {
      const b = makePng({ width: 1, height: 1, depth: 8, colorType: 0, samples: [0] });
      const dv = new DataView(b.buffer);
      dv.setUint32(16, 20000);
      dv.setUint32(20, 20000);
      return decodeImage(b, 'huge.png');
    }, /exceeds the 100000000-pixel limit/],
    ['JPEG header only', () => decodeImage(rocket().subarray(0, 100), 'cut.jpg'), /cut\.jpg: corrupt or unsupported JPEG/],
    ['JPEG cut in the scan', () => decodeImage(rocket().subarray(0, 50_000), 'cut2.jpg'), /corrupt or unsupported JPEG/],
  ];
  it.each(cases)('%s → FormatError naming the source', (_n, f, msg) => {
    expect(f).toThrow(FormatError);
    expect(f).toThrow(msg);
  });

  it('detectImageFormat looks at magic bytes only', () => {
    expect(detectImageFormat(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toBe('jpeg');
    expect(detectImageFormat(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe('png');
    expect(detectImageFormat(Uint8Array.of(0x89, 0x50, 0x4e, 0x47))).toBeUndefined();
    expect(detectImageFormat(new Uint8Array(0))).toBeUndefined();
  });

  it('a PNG named .jpg decodes as PNG (content, not extension)', () => {
    const p = join(tmp, 'really-a-png.jpg');
    writeFileSync(p, makePng({ width: 2, height: 1, depth: 8, colorType: 2, samples: [1, 2, 3, 4, 5, 6] }));
    expect(Array.from(readImage(p).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('tensorToImage / imageToTensor reject wrong shapes', () => {
    expect(() => tensorToImage(tensor([2, 2, 4], new Uint8Array(16), 'uint8'))).toThrow(SpecError);
    expect(() => imageToTensor({ width: 2, height: 2, data: new Uint8Array(11) })).toThrow(/image\.data\.length must be/);
  });
});

describe('oracle', () => {
  const arbSize = fc.record({ width: fc.integer({ min: 1, max: 9 }), height: fc.integer({ min: 1, max: 7 }) });
  const samples = (n: number, max: number) => fc.array(fc.integer({ min: 0, max }), { minLength: n, maxLength: n });

  it.each([
    ['RGB 8-bit', 2, 8, (s: number[], p: number) => [s[3 * p]!, s[3 * p + 1]!, s[3 * p + 2]!]],
    ['RGBA 8-bit (alpha dropped)', 6, 8, (s: number[], p: number) => [s[4 * p]!, s[4 * p + 1]!, s[4 * p + 2]!]],
    ['grey 8-bit', 0, 8, (s: number[], p: number) => [s[p]!, s[p]!, s[p]!]],
    ['grey+alpha 8-bit', 4, 8, (s: number[], p: number) => [s[2 * p]!, s[2 * p]!, s[2 * p]!]],
    ['RGB 16-bit (high byte)', 2, 16, (s: number[], p: number) => [s[3 * p]! >> 8, s[3 * p + 1]! >> 8, s[3 * p + 2]! >> 8]],
    ['RGBA 16-bit', 6, 16, (s: number[], p: number) => [s[4 * p]! >> 8, s[4 * p + 1]! >> 8, s[4 * p + 2]! >> 8]],
    ['grey 16-bit', 0, 16, (s: number[], p: number) => [s[p]! >> 8, s[p]! >> 8, s[p]! >> 8]],
    ['grey 4-bit (×17)', 0, 4, (s: number[], p: number) => [17 * s[p]!, 17 * s[p]!, 17 * s[p]!]],
    ['grey 2-bit (×85)', 0, 2, (s: number[], p: number) => [85 * s[p]!, 85 * s[p]!, 85 * s[p]!]],
    ['grey 1-bit (×255)', 0, 1, (s: number[], p: number) => [255 * s[p]!, 255 * s[p]!, 255 * s[p]!]],
  ] as const)('%s decodes to the normalised RGB of the written samples', (_n, colorType, depth, expectPx) => {
    const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
    fc.assert(
      fc.property(arbSize.chain((sz) => fc.record({ sz: fc.constant(sz), s: samples(sz.width * sz.height * channels, 2 ** depth - 1) })), ({ sz, s }) => {
        const img = decodeImage(makePng({ ...sz, depth, colorType, samples: s }), 'gen.png');
        expect(img.width).toBe(sz.width);
        expect(img.height).toBe(sz.height);
        const want: number[] = [];
        for (let p = 0; p < sz.width * sz.height; p++) want.push(...expectPx(s, p));
        expect(Array.from(img.data)).toEqual(want);
      }),
      { numRuns: 20 },
    );
  });

  it('palette PNGs (1/2/4/8-bit indices) expand to palette RGB; tRNS alpha is ignored', () => {
    fc.assert(
      fc.property(arbSize, fc.constantFrom(1, 2, 4, 8), fc.integer(), ({ width, height }, depth, seed) => {
        const nColors = 2 ** Math.min(depth, 4);
        const palette = Array.from({ length: nColors * 3 }, (_, i) => (seed * 31 + i * 97) & 0xff);
        const idx = Array.from({ length: width * height }, (_, i) => (seed + i * 7) & (nColors - 1));
        const trns = Uint8Array.from({ length: nColors }, (_, i) => (i * 50) & 0xff);
        const img = decodeImage(makePng({ width, height, depth, colorType: 3, samples: idx, palette, trns }), 'pal.png');
        expect(Array.from(img.data)).toEqual(idx.flatMap((k) => [palette[3 * k]!, palette[3 * k + 1]!, palette[3 * k + 2]!]));
      }),
      { numRuns: 20 },
    );
  });

  it('RGB tRNS does not zero the "transparent" colour (PIL keeps RGB)', () => {
    const png = makePng({ width: 2, height: 1, depth: 8, colorType: 2, samples: [10, 20, 30, 40, 50, 60], trns: Uint8Array.of(0, 10, 0, 20, 0, 30) });
    expect(Array.from(decodeImage(png, 't.png').data)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('gAMA and tEXt chunks do not change pixels', () => {
    const chunks: [string, Uint8Array][] = [['gAMA', Uint8Array.of(0, 0, 0xb1, 0x8f)], ['tEXt', new TextEncoder().encode('Comment\0hi')]];
    const png = makePng({ width: 1, height: 2, depth: 8, colorType: 2, samples: [1, 2, 3, 250, 251, 252], chunks });
    expect(Array.from(decodeImage(png, 'g.png').data)).toEqual([1, 2, 3, 250, 251, 252]);
  });
});

describe('laws', () => {
  it('decoding is deterministic (same bytes → same pixels)', () => {
    const b = new Uint8Array(readFileSync(photo('rocket.jpg')));
    expect(sha256(decodeImage(b, 'a').data)).toBe(sha256(decodeImage(b, 'b').data));
  });

  it('imageToTensor ∘ tensorToImage is the identity and shares data', () => {
    const t = tensor([2, 3, 3], Uint8Array.from({ length: 18 }, (_, i) => i), 'uint8');
    const back = imageToTensor(tensorToImage(t));
    expect(back.shape).toEqual([2, 3, 3]);
    expect(back.data).toBe(t.data);
  });
});

describe('conformance', () => {
  // Sizes from skimage/data/_fetchers.py docstrings; sha256 of the files as listed in fixtures/README.md.
  it.each([
    ['astronaut.png', 512, 512, '88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5'],
    ['chelsea.png', 451, 300, '596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb'],
    ['coffee.png', 600, 400, 'cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7'],
    ['rocket.jpg', 640, 427, 'c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c'],
    ['motorcycle_left.png', 741, 500, 'db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179'],
    ['camera.png', 512, 512, 'b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a'],
    ['retina.jpg', 1411, 1411, '38a07f36f27f095e818aea7b96d34202c05176d30253c66733f2e00379e9e0e6'],
  ])('%s: file sha256 and decoded size %i×%i', (file, W, H, sha) => {
    expect(sha256(readFileSync(photo(file)))).toBe(sha);
    const img = readImage(photo(file));
    expect([img.width, img.height, img.data.length]).toEqual([W, H, W * H * 3]);
  });

  it('camera.png (greyscale) decodes to R = G = B', () => {
    const img = readImage(photo('camera.png'));
    let ok = true;
    for (let p = 0; p < img.width * img.height; p++) ok &&= img.data[3 * p] === img.data[3 * p + 1] && img.data[3 * p] === img.data[3 * p + 2];
    expect(ok).toBe(true);
  });

  const hasRef = hasShared('fixtures/sam-reference/image/original_uint8.npy');
  it.skipIf(!hasRef)(`chelsea.png decodes bit-identically to sam-reference original_uint8.npy ${hasRef ? '' : missingShared('fixtures/sam-reference/image/original_uint8.npy')}`, () => {
    const ref = loadSharedNpy('fixtures/sam-reference/image/original_uint8.npy');
    const t = imageToTensor(readImage(photo('chelsea.png')));
    expect(t.shape).toEqual(ref.shape);
    expect(Buffer.compare(Buffer.from(t.data), Buffer.from(ref.data as Uint8Array))).toBe(0);
  });
});
