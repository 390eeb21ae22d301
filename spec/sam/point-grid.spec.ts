/**
 * SAM automatic-mask-generator point grid. Conformance values are sha256 hashes of NumPy's
 * `build_point_grid(n)` (and of `grid · [W, H]` for a 300×451 image) as float64 little-endian bytes,
 * computed outside the project with NumPy 2.4 using SAM's formula (linspace, tile, stack).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { SpecError } from '../../src/tensor';
import { buildPointGrid, pointGridForImage } from '../../src/sam/point-grid';

const sha256 = (a: Float64Array): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

describe('edge cases', () => {
  it('n = 1 is the single centre point (0.5, 0.5)', () => {
    const g = buildPointGrid(1);
    expect(g.shape).toEqual([1, 2]);
    expect(Array.from(g.data)).toEqual([0.5, 0.5]);
  });

  it('n = 2 is the four quarter points, row-major over y then x, x first', () => {
    expect(Array.from(buildPointGrid(2).data)).toEqual([0.25, 0.25, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75]);
  });

  it('n = 10 reproduces NumPy linspace rounding, not (k + ½)/n', () => {
    // np.linspace(0.05, 0.95, 10), printed by NumPy: entries 4 and 5 are not 0.45 / 0.55
    const want = [0.05, 0.15, 0.25, 0.35, 0.44999999999999996, 0.5499999999999999, 0.65, 0.75, 0.85, 0.95];
    const g = buildPointGrid(10);
    expect(Array.from({ length: 10 }, (_, j) => g.data[2 * j])).toEqual(want);
  });

  it.each([0, -1, 2.5, Number.NaN, 5000])('nPerSide = %s → SpecError', (n) => {
    expect(() => buildPointGrid(n)).toThrow(SpecError);
  });

  it('pointGridForImage rejects an empty image size', () => {
    expect(() => pointGridForImage(4, [0, 10])).toThrow(/pointGridForImage: size must be \[H, W\] of positive integers/);
  });
});

describe('oracle', () => {
  it('every point is within 2 ulp-ish (1e-15) of ((j + ½)/n, (i + ½)/n)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), (n) => {
        const g = buildPointGrid(n);
        let maxErr = 0;
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            maxErr = Math.max(maxErr, Math.abs(g.data[(i * n + j) * 2]! - (j + 0.5) / n), Math.abs(g.data[(i * n + j) * 2 + 1]! - (i + 0.5) / n));
          }
        // tolerance: linspace's k·step + start differs from (k+½)/n by a few ulps of 1
        expect(maxErr).toBeLessThan(1e-15);
      }),
    );
  });
});

describe('laws', () => {
  it('the grid is symmetric about ½ and strictly increasing along each axis', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), (n) => {
        const g = buildPointGrid(n);
        const u = Array.from({ length: n }, (_, j) => g.data[2 * j]!);
        expect(Math.max(...u.map((v, j) => Math.abs(v + u[n - 1 - j]! - 1)))).toBeLessThan(1e-15);
        return u.every((v, j) => j === 0 || v > u[j - 1]!);
      }),
    );
  });

  it('pointGridForImage = grid · (W, H)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), (n, H, W) => {
        const g = buildPointGrid(n).data;
        const p = pointGridForImage(n, [H, W]).data;
        return p.every((v, k) => v === g[k]! * (k % 2 === 0 ? W : H));
      }),
    );
  });
});

describe('conformance', () => {
  it.each([
    [7, '370ff43c4aa861bc0c4147c069b5ef3b67de8247f7cf72c1e7aa5d38d7b726b9', '16a21cbc98a1d851fa1583fd3d5aaf6c944f13c496dbd42d57ce25418d7501d5'],
    [10, '31dcbdb0aeff923808630617b0e9bf65c257eccf04c9c850ce607ef9a78ae34e', '9d88672862a484fd0897b2c50550953641849e330ea05ca05d349e2b25983d7d'],
    [32, '50b6cb76bd8d25957462a7165e0f135a99fdda55bfb7ebd6774e0ac400fdcd1f', 'cb3e166aea9d4761d511f34c981ed6a9d64f5706c7432758ebba56b1793b5376'],
  ])('n = %i: grid and 300×451 pixel grid are byte-identical to NumPy', (n, gridSha, pixSha) => {
    expect(sha256(buildPointGrid(n).data)).toBe(gridSha);
    expect(sha256(pointGridForImage(n, [300, 451]).data)).toBe(pixSha);
  });
});
