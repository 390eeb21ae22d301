import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { kmeans } from '../../src/calib/kmeans';
import { SpecError, createRng, tensor, type Tensor } from '../../src/tensor';

function pts(n: number, d: number, v: number[]): Tensor<'float64'> {
  return tensor([n, d], Float64Array.from(v), 'float64');
}

/** Points [n, d] from a seed. */
const points = fc
  .record({ n: fc.integer({ min: 1, max: 40 }), d: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 0, max: 1e6 }) })
  .chain(({ n, d, seed }) => fc.record({ k: fc.integer({ min: 1, max: n }), x: fc.constant(n), d: fc.constant(d), seed: fc.constant(seed) }))
  .map(({ k, x: n, d, seed }) => {
    const rng = createRng(seed);
    return { k, x: pts(n, d, Array.from({ length: n * d }, () => rng.normal() * (1 + 10 * rng.next()))) };
  });

/** Naive Σ‖x − c_label‖² and nearest-centre check (oracle, no shared code). */
function naiveInertia(x: Tensor<'float64'>, centers: Float64Array, labels: Int32Array): number {
  const [n, d] = x.shape as [number, number];
  let s = 0;
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) s += (x.data[i * d + t]! - centers[labels[i]! * d + t]!) ** 2;
  return s;
}

describe('kmeans — edge cases', () => {
  it('k = 1: the centre is the mean and inertia the total sum of squares', () => {
    const r = kmeans(pts(4, 1, [1, 2, 3, 6]), { k: 1, seed: 0 });
    expect(r.centers[0]).toBe(3);
    expect(r.inertia).toBe(4 + 1 + 0 + 9);
  });
  it('k = n on distinct points: zero inertia, all labels distinct', () => {
    const r = kmeans(pts(3, 2, [0, 0, 5, 5, -3, 1]), { k: 3, seed: 1 });
    expect(r.inertia).toBe(0);
    expect(new Set(r.labels).size).toBe(3);
  });
  it('more clusters than distinct points does not crash or hang', () => {
    const r = kmeans(pts(5, 1, [1, 1, 1, 2, 2]), { k: 4, seed: 3 });
    expect(r.inertia).toBe(0);
    expect(r.labels.length).toBe(5);
  });
  it.each([
    ['k > n', pts(2, 1, [0, 1]), 3],
    ['k = 0', pts(2, 1, [0, 1]), 0],
    ['empty', tensor([0, 2], new Float64Array(0), 'float64'), 1],
    ['NaN', pts(2, 1, [0, NaN]), 1],
    ['rank 1 input', tensor([2], Float64Array.of(0, 1), 'float64'), 1],
  ])('rejects %s with SpecError', (_n, x, k) => {
    expect(() => kmeans(x as Tensor<'float64'>, { k, seed: 0 })).toThrow(SpecError);
  });
});

describe('kmeans — oracle', () => {
  it('reported inertia equals the naive sum; each point sits at its nearest centre', () => {
    fc.assert(fc.property(points, ({ k, x }) => {
      const r = kmeans(x, { k, seed: 0, nInit: 3 });
      expect(Math.abs(r.inertia - naiveInertia(x, r.centers, r.labels))).toBeLessThanOrEqual(1e-9 * Math.max(1, r.inertia)); // same sums, different order
      const [n, d] = x.shape as [number, number];
      for (let i = 0; i < n; i++) {
        const own = naiveInertia(pts(1, d, Array.from(x.data.subarray(i * d, i * d + d))), r.centers, Int32Array.of(r.labels[i]!));
        for (let j = 0; j < k; j++) {
          const other = naiveInertia(pts(1, d, Array.from(x.data.subarray(i * d, i * d + d))), r.centers, Int32Array.of(j));
          expect(own).toBeLessThanOrEqual(other + 1e-9 * Math.max(1, other)); // strict-convergence labels are Lloyd fixed points
        }
      }
    }));
  });
  it('recovers well-separated blobs exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 1e6 }), (k, seed) => {
      const rng = createRng(seed);
      const per = 6;
      const v: number[] = [];
      for (let g = 0; g < k; g++) for (let i = 0; i < per; i++) v.push(100 * g + rng.normal(), -50 * g + rng.normal());
      const r = kmeans(pts(k * per, 2, v), { k, seed });
      for (let g = 0; g < k; g++) for (let i = 1; i < per; i++) expect(r.labels[g * per + i]).toBe(r.labels[g * per]);
      expect(new Set(r.labels).size).toBe(k);
    }));
  });
});

describe('kmeans — laws', () => {
  it('is deterministic for a seed', () => {
    fc.assert(fc.property(points, fc.integer({ min: 0, max: 1000 }), ({ k, x }, seed) => {
      const a = kmeans(x, { k, seed }), b = kmeans(x, { k, seed });
      expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
      expect(Array.from(a.centers)).toEqual(Array.from(b.centers));
    }));
  });
  it('more restarts never give a higher inertia (best of a superset of runs)', () => {
    fc.assert(fc.property(points, ({ k, x }) => {
      const one = kmeans(x, { k, seed: 9, nInit: 1 }), many = kmeans(x, { k, seed: 9, nInit: 6 });
      return many.inertia <= one.inertia; // the first run of nInit=6 is the nInit=1 run (same stream)
    }));
  });
});

describe('kmeans — conformance', () => {
  it('matches scikit-learn 1.2 on a textbook case (two clear clusters)', () => {
    // X = [[1,2],[1,4],[1,0],[10,2],[10,4],[10,0]] → centres [10,2] and [1,2], inertia 16 (documented example)
    const r = kmeans(pts(6, 2, [1, 2, 1, 4, 1, 0, 10, 2, 10, 4, 10, 0]), { k: 2, seed: 0 });
    expect(r.inertia).toBe(16);
    const cs = [[r.centers[0], r.centers[1]], [r.centers[2], r.centers[3]]].sort((a, b) => a[0]! - b[0]!);
    expect(cs).toEqual([[1, 2], [10, 2]]);
  });
});
