import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { permute } from '../../src/ops/permute';
import { pad } from '../../src/ops/pad';
import { slice } from '../../src/ops/slice';
import { concat } from '../../src/ops/concat';
import { fromArray, SpecError } from '../../src/tensor';
import { float32Tensor, shape, tensor } from '../arbitraries/tensor';

const withPerm = tensor({ maxRank: 5, maxDim: 4 }).chain((x) =>
  fc.tuple(fc.constant(x), fc.shuffledSubarray([...x.shape.keys()], { minLength: x.shape.length, maxLength: x.shape.length })),
);

describe('permute/pad/slice/concat — edge cases', () => {
  it('permute hand-computed transpose', () => {
    const y = permute(fromArray([2, 3], [1, 2, 3, 4, 5, 6]), [1, 0]);
    expect(y.shape).toEqual([3, 2]);
    expect(Array.from(y.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });
  it('permute keeps dtype (int32)', () => {
    expect(permute({ dtype: 'int32', shape: [2, 1], data: new Int32Array([7, 8]) }, [1, 0]).data).toBeInstanceOf(Int32Array);
  });
  it('pad hand-computed with a value', () => {
    expect(Array.from(pad(fromArray([2], [1, 2]), [[1, 2]], -1).data)).toEqual([-1, 1, 2, -1, -1]);
  });
  it.each([
    ['permute: not a permutation', () => permute(fromArray([2, 2], [0, 0, 0, 0]), [0, 0]), /perm must be a permutation of 0..1/],
    ['pad: negative', () => pad(fromArray([2], [0, 0]), [[-1, 0]]), /pads\[0\] must be a pair/],
    ['slice: empty range', () => slice(fromArray([2], [0, 0]), [1], [1]), /must satisfy 0 ≤ start < end ≤ 2/],
    ['slice: past the end', () => slice(fromArray([2], [0, 0]), [0], [3]), /must satisfy 0 ≤ start < end ≤ 2/],
    ['concat: mismatched dims', () => concat([fromArray([1, 2], [0, 0]), fromArray([1, 3], [0, 0, 0])], 0), /xs\[1\].shape must match/],
    ['concat: empty list', () => concat([], 0), /xs.length must be ≥ 1/],
  ])('%s → SpecError', (_n, call, msg) => {
    expect(call).toThrow(SpecError);
    expect(call).toThrow(msg);
  });
});

describe('permute/pad/slice/concat — oracle', () => {
  it('permute: out[j] = x[k] with k[perm[i]] = j[i] (index-by-index)', () => {
    fc.assert(
      fc.property(withPerm, ([x, perm]) => {
        const y = permute(x, perm);
        const r = x.shape.length;
        const idx = new Array<number>(r).fill(0);
        for (let o = 0; o < y.data.length; o++) {
          const k = new Array<number>(r);
          perm.forEach((p, i) => (k[p] = idx[i]!));
          let flat = 0;
          for (let d = 0; d < r; d++) flat = flat * x.shape[d]! + k[d]!;
          expect(y.data[o]).toBe(x.data[flat]);
          for (let d = r - 1; d >= 0; d--) {
            if (++idx[d]! < y.shape[d]!) break;
            idx[d] = 0;
          }
        }
      }),
    );
  });
});

describe('permute/pad/slice/concat — laws', () => {
  it('permute by p then by p⁻¹ is the identity', () => {
    fc.assert(
      fc.property(withPerm, ([x, perm]) => {
        const inv = perm.map((_, i) => perm.indexOf(i));
        const back = permute(permute(x, perm), inv);
        expect(back.shape).toEqual(x.shape);
        expect(Array.from(back.data)).toEqual(Array.from(x.data));
      }),
    );
  });
  it('slice ∘ pad is the identity, and the padding holds the value', () => {
    const arb = shape({ maxRank: 4, maxDim: 4 }).chain((s) => fc.tuple(float32Tensor(s), fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: s.length, maxLength: s.length })));
    fc.assert(
      fc.property(arb, ([x, pads]) => {
        const p = pad(x, pads, 7);
        const back = slice(p, pads.map(([b]) => b), pads.map(([b], d) => b + x.shape[d]!));
        expect(Array.from(back.data)).toEqual(Array.from(x.data));
        const count7 = Array.from(p.data).filter((v) => v === 7).length - Array.from(x.data).filter((v) => v === 7).length;
        expect(count7).toBe(p.data.length - x.data.length);
      }),
    );
  });
  it('concat then slice recovers every part', () => {
    const arb = fc.tuple(shape({ minRank: 1, maxRank: 3, maxDim: 3 }), fc.nat(2), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 })).chain(([s, a, lens]) => {
      const axis = a % s.length;
      return fc.tuple(fc.constant(axis), fc.tuple(...lens.map((l) => float32Tensor(s.map((d, i) => (i === axis ? l : d))))));
    });
    fc.assert(
      fc.property(arb, ([axis, xs]) => {
        const y = concat(xs, axis);
        let start = 0;
        for (const x of xs) {
          const starts = x.shape.map((_, d) => (d === axis ? start : 0));
          const ends = x.shape.map((n, d) => (d === axis ? start + n : n));
          expect(Array.from(slice(y, starts, ends).data)).toEqual(Array.from(x.data));
          start += x.shape[axis]!;
        }
      }),
    );
  });
});

describe('permute/pad/slice/concat — conformance', () => {
  it('torch.cat([[1,2]], [[3,4]]], dim=-1) = [[1,2,3,4]] (negative axis)', () => {
    expect(Array.from(concat([fromArray([1, 2], [1, 2]), fromArray([1, 2], [3, 4])], -1).data)).toEqual([1, 2, 3, 4]);
  });
});
