import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { bigSigns, findPeaks, gaussianKdeEvaluate, gaussianKdeFit, judgeBimodal, linspace, localMaxima } from '../../src/calib/big';
import { checkBig } from '../../src/conformance/big';
import { SpecError, createRng, tensor } from '../../src/tensor';
import { hasShared, sharedPath } from '../helpers/shared';

/** A signal with Gaussian bumps of given heights at given centres (width w). */
function bumps(n: number, centres: number[], heights: number[], w = 3): number[] {
  return Array.from({ length: n }, (_, i) => centres.reduce((a, c, k) => a + heights[k]! * Math.exp(-(((i - c) / w) ** 2)), 0));
}

/** Keys [boxes, tokens, C] drawn from a mixture: each channel's mean is ±mu (random sign). */
function mixtureKeys(seed: number, boxes: number, tokens: number, C: number, mu: number): Float32Array {
  const rng = createRng(seed);
  const sgn = Array.from({ length: C }, () => (rng.next() < 0.5 ? -1 : 1));
  return Float32Array.from({ length: boxes * tokens * C }, (_, i) => sgn[i % C]! * mu + 0.5 * rng.normal());
}

describe('BIG detection — edge cases', () => {
  it.each([
    ['plateau reports its (left-biased) middle', [0, 1, 2, 2, 2, 2, 1, 0], [3]],
    ['end points are never peaks', [5, 1, 5], []],
    ['plateau touching the end is not a peak', [0, 1, 1], []],
    ['two simple peaks', [0, 2, 0, 3, 0], [1, 3]],
    ['flat signal', [1, 1, 1, 1], []],
    ['too short', [1], []],
  ])('localMaxima: %s', (_n, y, want) => {
    expect(Array.from(localMaxima(y))).toEqual(want);
  });
  it('distance suppression keeps the higher peak and later peaks win exact ties', () => {
    expect(Array.from(findPeaks([0, 3, 0, 5, 0, 1, 0], { distance: 3 }))).toEqual([3]);
    expect(Array.from(findPeaks([0, 4, 0, 4, 0], { distance: 3 }))).toEqual([3]);
  });
  it('height filter is inclusive', () => {
    expect(Array.from(findPeaks([0, 2, 0, 1, 0], { height: 1 }))).toEqual([1, 3]);
    expect(Array.from(findPeaks([0, 2, 0, 1, 0], { height: 1.5 }))).toEqual([1]);
  });
  it('linspace has exact end points', () => {
    const x = linspace(-1.3, 2.7, 128);
    expect(x[0]).toBe(-1.3);
    expect(x[127]).toBe(2.7);
  });
  it('constant keys are reported as not bimodal (no KDE bandwidth)', () => {
    const j = judgeBimodal(tensor([1, 4, 2], new Float32Array(8).fill(0.5)));
    expect(j.isBimodal).toBe(false);
  });
  it('an all-zero channel gets sign 0; signs are ±1 otherwise', () => {
    const k = tensor([1, 2, 3], Float32Array.of(1, 0, -2, 3, 0, 1));
    expect(Array.from(bigSigns(k))).toEqual([1, 0, -1]);
  });
  it.each([
    ['rank-2 keys', () => judgeBimodal(tensor([2, 3], new Float32Array(6)))],
    ['empty keys', () => bigSigns(tensor([0, 2, 3], new Float32Array(0)))],
    ['NaN keys', () => judgeBimodal(tensor([1, 1, 2], Float32Array.of(0, NaN)))],
    ['NaN signal', () => findPeaks([0, NaN, 0])],
    ['distance < 1', () => findPeaks([0, 1, 0], { distance: 0 })],
    ['KDE on constant data', () => gaussianKdeFit([2, 2, 2])],
    ['KDE on one point', () => gaussianKdeFit([2])],
    ['linspace num 1', () => linspace(0, 1, 1)],
  ])('rejects %s with SpecError', (_n, f) => {
    expect(f).toThrow(SpecError);
  });
});

describe('BIG detection — oracle', () => {
  it('KDE equals the naive mixture-of-Gaussians formula', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -500, max: 500 }).map((v) => v / 100), { minLength: 2, maxLength: 30 }), fc.double({ min: -6, max: 6, noNaN: true }), (data, x) => {
      fc.pre(new Set(data).size > 1);
      const n = data.length;
      const mean = data.reduce((a, b) => a + b, 0) / n;
      const varU = data.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
      const h2 = varU * n ** (-2 / 5);
      const want = data.reduce((a, d) => a + Math.exp(-((x - d) ** 2) / (2 * h2)), 0) / (n * Math.sqrt(2 * Math.PI * h2));
      const kde = gaussianKdeFit(data);
      const got = gaussianKdeEvaluate(data, kde, [x])[0]!;
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(want, 1e-300) + 1e-300); // fp64, different association
    }));
  });
});

describe('BIG detection — laws', () => {
  it('findPeaks finds constructed, well-separated peaks (and only those above the height)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1e6 }), (k, seed) => {
      const rng = createRng(seed);
      const centres = Array.from({ length: k }, (_, i) => 20 + 40 * i + rng.int(5));
      const heights = centres.map(() => 1 + rng.next());
      const y = bumps(128, centres, heights);
      expect(Array.from(findPeaks(y, { distance: 32 }))).toEqual(centres);
      const tallest = Math.max(...heights);
      expect(Array.from(findPeaks(y, { height: tallest * 0.999, distance: 32 }))).toEqual([centres[heights.indexOf(tallest)]!]);
    }));
  });
  it('peaks closer than the distance collapse to the higher one', () => {
    fc.assert(fc.property(fc.integer({ min: 10, max: 31 }), fc.double({ min: 0.1, max: 0.9, noNaN: true }), (gap, rel) => {
      const y = bumps(128, [40, 40 + gap], [1, rel], 2);
      expect(Array.from(findPeaks(y, { distance: 32 }))).toEqual([40]);
    }));
  });
  it('a symmetric ±μ mixture is bimodal for large μ and unimodal for μ = 0', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
      const far = judgeBimodal(tensor([1, 64, 16], mixtureKeys(seed, 1, 64, 16, 3)));
      const none = judgeBimodal(tensor([1, 64, 16], mixtureKeys(seed, 1, 64, 16, 0)));
      expect(far.isBimodal).toBe(true);
      expect(none.isBimodal).toBe(false);
    }), { numRuns: 10 });
  });
});

const BIG_DIR = 'fixtures/authors-reference/big';
describe.skipIf(!hasShared(BIG_DIR))('BIG detection — conformance (authors-reference; SciPy 1.10)', () => {
  it.each(['bimodal', 'unimodal', 'trimodal', 'close_modes_with_outliers', 'bimodal_zero_channel', 'bimodal_asymmetric', 'bimodal_minor_mode_below_height'])('%s: decision, peaks, signs, folds exact; KDE values ≤ 1e-12 relative', (name) => {
    const c = { ...JSON.parse(readFileSync(sharedPath(BIG_DIR, `${name}.json`), 'utf8')), dir: sharedPath(BIG_DIR) };
    const checks = checkBig(c);
    expect(checks.length).toBeGreaterThanOrEqual(9);
    for (const k of checks) expect(k.ok, `${k.name}: ${k.detail}`).toBe(true);
  });
});
