import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { foldBigSigns } from '../../src/quant/big';
import { SpecError, createRng, tensor } from '../../src/tensor';

function proj(seed: number, C: number, inDim: number) {
  const rng = createRng(seed);
  return {
    weight: tensor([C, inDim], Float32Array.from({ length: C * inDim }, () => rng.normal())),
    bias: tensor([C], Float32Array.from({ length: C }, () => rng.normal())),
  };
}

/** Naive q = W x + b in float64 (oracle). */
function apply(p: { weight: { data: ArrayLike<number> }; bias: { data: ArrayLike<number> } }, x: number[], C: number): number[] {
  return Array.from({ length: C }, (_, c) => x.reduce((a, v, j) => a + p.weight.data[c * x.length + j]! * v, p.bias.data[c]!));
}

describe('foldBigSigns — edge cases', () => {
  it('sign 0 zeroes the row in both projections; sign 1 keeps it bit-identical', () => {
    const q = proj(1, 2, 3), k = proj(2, 2, 3);
    const f = foldBigSigns(q, k, [1, 0]);
    expect(Array.from(f.qProj.weight.data.slice(0, 3))).toEqual(Array.from(q.weight.data.slice(0, 3)));
    expect(Array.from(f.kProj.weight.data.slice(3)).map((v) => v + 0)).toEqual([0, 0, 0]);
    expect(f.qProj.bias.data[1]! + 0).toBe(0);
  });
  it.each([
    ['sign 2', [2, 1]],
    ['NaN sign', [NaN, 1]],
    ['length mismatch', [1]],
    ['empty', []],
  ])('rejects %s with SpecError', (_n, s) => {
    expect(() => foldBigSigns(proj(1, 2, 3), proj(2, 2, 3), s)).toThrow(SpecError);
  });
  it('rejects q/k projections of different output width', () => {
    expect(() => foldBigSigns(proj(1, 2, 3), proj(2, 3, 3), [1, 1])).toThrow(SpecError);
  });
});

describe('foldBigSigns — oracle', () => {
  it('row c of weight and bias is multiplied by sign_c (naive loop)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1e6 }), (C, inDim, seed) => {
      const rng = createRng(seed + 1);
      const signs = Array.from({ length: C }, () => [-1, 0, 1][rng.int(3)]!);
      const q = proj(seed, C, inDim), k = proj(seed + 2, C, inDim);
      const f = foldBigSigns(q, k, signs);
      for (let c = 0; c < C; c++) for (let j = 0; j < inDim; j++) {
        expect(f.qProj.weight.data[c * inDim + j]).toBe(Math.fround(q.weight.data[c * inDim + j]! * signs[c]!));
        expect(f.kProj.weight.data[c * inDim + j]).toBe(Math.fround(k.weight.data[c * inDim + j]! * signs[c]!));
      }
    }));
  });
});

describe('foldBigSigns — laws', () => {
  it('q·k is exactly unchanged for ±1 signs (per-channel products are identical)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1e6 }), (C, inDim, seed) => {
      const rng = createRng(seed + 7);
      const signs = Array.from({ length: C }, () => (rng.next() < 0.5 ? -1 : 1));
      const q = proj(seed, C, inDim), k = proj(seed + 3, C, inDim);
      const f = foldBigSigns(q, k, signs);
      const xq = Array.from({ length: inDim }, () => rng.normal()), xk = Array.from({ length: inDim }, () => rng.normal());
      const a = apply(q, xq, C), b = apply(k, xk, C), fa = apply(f.qProj, xq, C), fb = apply(f.kProj, xk, C);
      // each term q_c·k_c is bit-identical ((−x)(−y) = xy exactly), so the sums match exactly
      let s0 = 0, s1 = 0;
      for (let c = 0; c < C; c++) { s0 += a[c]! * b[c]!; s1 += fa[c]! * fb[c]!; }
      expect(s1).toBe(s0);
    }));
  });
  it('folding twice with the same ±1 signs is the identity', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1e6 }), (C, seed) => {
      const rng = createRng(seed);
      const signs = Array.from({ length: C }, () => (rng.next() < 0.5 ? -1 : 1));
      const q = proj(seed, C, 3), k = proj(seed + 1, C, 3);
      const once = foldBigSigns(q, k, signs);
      const twice = foldBigSigns(once.qProj, once.kProj, signs);
      expect(Array.from(twice.qProj.weight.data)).toEqual(Array.from(q.weight.data));
      expect(Array.from(twice.kProj.bias.data)).toEqual(Array.from(k.bias.data));
    }));
  });
});

describe('foldBigSigns — conformance', () => {
  it('hand example: signs [−1, 1] flip only the first row', () => {
    const q = { weight: tensor([2, 2], Float32Array.of(1, 2, 3, 4)), bias: tensor([2], Float32Array.of(5, 6)) };
    const f = foldBigSigns(q, q, [-1, 1]);
    expect(Array.from(f.qProj.weight.data)).toEqual([-1, -2, 3, 4]);
    expect(Array.from(f.kProj.bias.data)).toEqual([-5, 6]);
  });
});
