import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { interpolateBilinear } from '../../src/ops/interpolate-bilinear';
import { fromArray, SpecError } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { interpolateBilinearLoop } from '../oracles/interpolate-loop';
import { expectClose } from '../helpers/close';

// vs the fp64 oracle: src uses float32 coordinates (as PyTorch) → weights differ by ≤ ~1e-7 · scale;
// |x| ≤ 4 → ≤ 4·(few ulp) ≈ 2e-6 (allowed 4e-6).
const ABS = 4e-6;

const arb = fc
  .record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 1, max: 6 }), ho: fc.integer({ min: 1, max: 12 }), wo: fc.integer({ min: 1, max: 12 }) })
  .chain(({ n, c, h, w, ho, wo }) => fc.tuple(float32Tensor([n, c, h, w]), fc.constant([ho, wo] as [number, number])));

describe('interpolateBilinear — edge cases', () => {
  it('1×1 input broadcasts to any size', () => {
    expect(Array.from(interpolateBilinear(fromArray([1, 1, 1, 1], [3]), { size: [2, 3] }).data)).toEqual([3, 3, 3, 3, 3, 3]);
  });
  it('size 0 or rank ≠ 4 → SpecError', () => {
    expect(() => interpolateBilinear(fromArray([1, 1, 1, 1], [3]), { size: [0, 3] })).toThrow(SpecError);
    expect(() => interpolateBilinear(fromArray([1, 1, 1], [3]), { size: [1, 1] })).toThrow(/x.rank must be 4/);
  });
  it('NaN reaches only the outputs whose taps touch it', () => {
    const y = interpolateBilinear(fromArray([1, 1, 1, 4], [NaN, 0, 0, 0]), { size: [1, 2] });
    // output 0 samples source 0.5 (taps 0 and 1); output 1 samples 2.5 (taps 2 and 3)
    expect(Number.isNaN(y.data[0]!)).toBe(true);
    expect(y.data[1]).toBe(0);
  });
});

describe('interpolateBilinear — oracle', () => {
  it('matches the align_corners=False formula element by element', () => {
    fc.assert(
      fc.property(arb, ([x, [ho, wo]]) => {
        expectClose(interpolateBilinear(x, { size: [ho, wo] }), interpolateBilinearLoop(x, ho, wo), ABS, 0);
      }),
    );
  });
});

describe('interpolateBilinear — laws', () => {
  it('same size is the identity (exact values; −0 may become +0 from the 0-weight tap)', () => {
    fc.assert(
      fc.property(arb, ([x]) => {
        const y = interpolateBilinear(x, { size: [x.shape[2]!, x.shape[3]!] });
        expect(y.data.every((v, i) => v === x.data[i])).toBe(true);
      }),
    );
  });
  it('convex combination: every output lies within [min, max] of the input', () => {
    fc.assert(
      fc.property(arb, ([x, size]) => {
        const y = interpolateBilinear(x, { size }).data;
        const lo = Math.min(...x.data);
        const hi = Math.max(...x.data);
        for (const v of y) {
          expect(v).toBeGreaterThanOrEqual(lo - 1e-6);
          expect(v).toBeLessThanOrEqual(hi + 1e-6);
        }
      }),
    );
  });
});

describe('interpolateBilinear — conformance', () => {
  it('F.interpolate(arange(4).view(1,1,2,2), size=(4,4), mode="bilinear", align_corners=False)', () => {
    // PyTorch documented behaviour: half-pixel centres with edge clamping
    const y = interpolateBilinear(fromArray([1, 1, 2, 2], [0, 1, 2, 3]), { size: [4, 4] });
    expect(Array.from(y.data)).toEqual([0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  });
  it('downscale 4 → 2 averages pairs (source at 0.5 and 2.5)', () => {
    expect(Array.from(interpolateBilinear(fromArray([1, 1, 1, 4], [0, 2, 4, 8]), { size: [1, 2] }).data)).toEqual([1, 6]);
  });
});
