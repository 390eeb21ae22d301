import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cagChannelParams, cagGroupPermutation, cagRegroupIterations, cagStageGroups, fakeQuantCag } from '../../src/quant/cag';
import { SpecError, roundHalfEven, tensor } from '../../src/tensor';
import { channelHeterogeneous } from '../arbitraries/matrices';

/** Naive grouped fake quant written from METHOD.md §3.3 (float32 emulated with Math.fround). */
function naiveCag(x: Float32Array, C: number, S: number[], Z: number[], labels: number[], bits: number): Float32Array {
  const qmax = 2 ** bits - 1;
  return x.map((v, i) => {
    const g = labels[i % C]!;
    const q = Math.min(qmax, Math.max(0, roundHalfEven(Math.fround(v / S[g]!)) + Z[g]!));
    return Math.fround((q - Z[g]!) * S[g]!);
  });
}

const grouped = channelHeterogeneous().chain((x) => {
  const C = x.shape[1]!;
  return fc.record({
    x: fc.constant(x),
    bits: fc.integer({ min: 2, max: 8 }),
    G: fc.integer({ min: 1, max: Math.min(C, 6) }),
  }).chain(({ x, bits, G }) => fc.record({
    x: fc.constant(x), bits: fc.constant(bits),
    S: fc.array(fc.float({ min: Math.fround(1e-3), max: 2, noNaN: true }), { minLength: G, maxLength: G }),
    Z: fc.array(fc.integer({ min: 0, max: 2 ** bits - 1 }), { minLength: G, maxLength: G }),
    labels: fc.array(fc.integer({ min: 0, max: G - 1 }), { minLength: C, maxLength: C }),
  }));
});

describe('CAG quantizer — edge cases', () => {
  it.each([
    [0, null], [0.19999, null], [0.2, 32], [0.39, 32], [0.4, 16], [0.6, 8], [0.79, 8], [0.8, 4], [1, 4],
  ])('progress %f → %s groups for G = 4 (null = per-channel, before the first regrouping)', (p, g) => {
    expect(cagStageGroups(p, 4)).toBe(g);
  });
  it('regroup iterations for T = 20000, G = 4 are 4000/8000/12000/16000 → 32/16/8/4', () => {
    expect(cagRegroupIterations(20000, 4)).toEqual([{ iter: 4000, groups: 32 }, { iter: 8000, groups: 16 }, { iter: 12000, groups: 8 }, { iter: 16000, groups: 4 }]);
  });
  it.each([
    ['label out of range', () => cagChannelParams({ bits: 4, groupScales: [1], groupZeroPoints: [0], labels: [1] })],
    ['zero point out of range', () => cagChannelParams({ bits: 4, groupScales: [1], groupZeroPoints: [16], labels: [0] })],
    ['non-positive scale', () => cagChannelParams({ bits: 4, groupScales: [0], groupZeroPoints: [0], labels: [0] })],
    ['NaN scale', () => cagChannelParams({ bits: 4, groupScales: [NaN], groupZeroPoints: [0], labels: [0] })],
    ['bits 1', () => cagChannelParams({ bits: 1, groupScales: [1], groupZeroPoints: [0], labels: [0] })],
    ['labels vs channels', () => fakeQuantCag(tensor([2, 3], new Float32Array(6)), { bits: 4, groupScales: [1], groupZeroPoints: [0], labels: [0, 0] })],
    ['empty x', () => fakeQuantCag(tensor([0, 2], new Float32Array(0)), { bits: 4, groupScales: [1], groupZeroPoints: [0], labels: [0, 0] })],
    ['progress > 1', () => cagStageGroups(1.5, 4)],
    ['G = 0', () => cagStageGroups(0.5, 0)],
    ['empty labels', () => cagGroupPermutation([])],
  ])('rejects %s with SpecError', (_n, f) => {
    expect(f).toThrow(SpecError);
  });
});

describe('CAG quantizer — oracle', () => {
  it('fakeQuantCag equals a naive per-channel loop with group parameters', () => {
    fc.assert(fc.property(grouped, ({ x, bits, S, Z, labels }) => {
      const y = fakeQuantCag(x, { bits, groupScales: S, groupZeroPoints: Z, labels });
      expect(Array.from(y.data)).toEqual(Array.from(naiveCag(x.data as Float32Array, x.shape[1]!, S, Z, labels, bits)));
    }));
  });
});

describe('CAG quantizer — laws', () => {
  it('group permutation: contiguous groups, stable within a group, inverse is the inverse', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 50 }), (labels) => {
      const { perm, inverse, offsets } = cagGroupPermutation(labels);
      for (let i = 0; i < perm.length; i++) expect(inverse[perm[i]!]).toBe(i);
      for (let i = 1; i < perm.length; i++) {
        const a = labels[perm[i - 1]!]!, b = labels[perm[i]!]!;
        expect(a <= b).toBe(true);
        if (a === b) expect(perm[i - 1]! < perm[i]!).toBe(true);
      }
      for (let g = 0; g + 1 < offsets.length; g++) for (let i = offsets[g]!; i < offsets[g + 1]!; i++) expect(labels[perm[i]!]).toBe(g);
    }));
  });
  it('uses at most G distinct (scale, zero point) pairs', () => {
    fc.assert(fc.property(grouped, ({ bits, S, Z, labels }) => {
      const { scales, zeroPoints } = cagChannelParams({ bits, groupScales: S, groupZeroPoints: Z, labels });
      return new Set(Array.from(scales, (s, c) => `${s}/${zeroPoints[c]}`)).size <= S.length;
    }));
  });
  it('is equivariant under channel permutation (labels permuted with the channels)', () => {
    fc.assert(fc.property(grouped, fc.integer({ min: 0, max: 1e6 }), ({ x, bits, S, Z, labels }, seed) => {
      const [rows, C] = x.shape as [number, number];
      const perm = Array.from({ length: C }, (_, c) => c).sort((a, b) => ((a * 7919 + seed) % C) - ((b * 7919 + seed) % C) || a - b);
      const xp = new Float32Array(rows * C);
      for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) xp[r * C + c] = x.data[r * C + perm[c]!]!;
      const y = fakeQuantCag(x, { bits, groupScales: S, groupZeroPoints: Z, labels });
      const yp = fakeQuantCag(tensor([rows, C], xp), { bits, groupScales: S, groupZeroPoints: Z, labels: perm.map((c) => labels[c]!) });
      for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) expect(yp.data[r * C + c]).toBe(y.data[r * C + perm[c]!]);
    }));
  });
});

describe('CAG quantizer — conformance', () => {
  it('a hand-computed 4-bit case: S = [0.5, 0.1], Z = [8, 0], labels [0, 1, 0]', () => {
    const y = fakeQuantCag(tensor([1, 3], Float32Array.of(1.25, 0.26, -10)), { bits: 4, groupScales: [0.5, Math.fround(0.1)], groupZeroPoints: [8, 0], labels: [0, 1, 0] });
    // 1.25/0.5 = 2.5 → 2 (half-even) → 1.0; 0.26/0.1 → 3 → 0.3 (f32); −10/0.5 = −20 → clamp(−12) → 0 − 8 → −4
    expect(Array.from(y.data)).toEqual([1, Math.fround(3 * Math.fround(0.1)), -4]);
  });
});
