import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shape, tensor } from './tensor';

describe('arbitraries (meta) — distribution checks', () => {
  it('≥ 10 % of generated shapes have a dimension equal to 1; ranks span the requested range', () => {
    const xs = fc.sample(shape({ minRank: 1, maxRank: 4 }), { numRuns: 1000, seed: 42 });
    const withOne = xs.filter((s) => s.includes(1)).length / xs.length;
    expect(withOne).toBeGreaterThanOrEqual(0.1);
    expect(new Set(xs.map((s) => s.length))).toEqual(new Set([1, 2, 3, 4]));
  });
  it('tensor values are finite float32 within the requested bounds', () => {
    for (const t of fc.sample(tensor({ min: -2, max: 2 }), { numRuns: 200, seed: 7 })) {
      expect(t.data).toBeInstanceOf(Float32Array);
      expect(t.data.every((v) => Number.isFinite(v) && v >= -2 && v <= 2)).toBe(true);
      expect(t.data.length).toBe(t.shape.reduce((p, d) => p * d, 1));
    }
  });
});
