import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { add } from '../../src/ops/add';
import { sub } from '../../src/ops/sub';
import { mul } from '../../src/ops/mul';
import { div } from '../../src/ops/div';
import { scale } from '../../src/ops/scale';
import { broadcastShapes } from '../../src/ops/broadcast';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor, shape } from '../arbitraries/tensor';

/** Naive broadcast read: element of t at output multi-index idx (right-aligned, size-1 dims repeat). */
function at(t: Tensor, idx: number[]): number {
  const off = idx.length - t.shape.length;
  let flat = 0;
  for (let d = 0; d < t.shape.length; d++) flat = flat * t.shape[d]! + (t.shape[d] === 1 ? 0 : idx[off + d]!);
  return t.data[flat]!;
}

/** Two shapes that broadcast: b is a with some dims set to 1 and possibly leading dims dropped. */
const pair = shape({ maxRank: 4, maxDim: 4 }).chain((sa) =>
  fc.tuple(fc.constant(sa), fc.array(fc.boolean(), { minLength: sa.length, maxLength: sa.length }), fc.integer({ min: 0, max: sa.length - 1 })).chain(([s, ones, drop]) => {
    const sb = s.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
    return fc.tuple(float32Tensor(s), float32Tensor(sb), fc.boolean());
  }),
);

const OPS = [
  ['add', add, (x: number, y: number) => x + y],
  ['sub', sub, (x: number, y: number) => x - y],
  ['mul', mul, (x: number, y: number) => x * y],
  ['div', div, (x: number, y: number) => x / y],
] as const;

describe('add/sub/mul/div/scale — edge cases', () => {
  it('scalar (rank 0) broadcasts against anything', () => {
    expect(Array.from(add(fromArray([2], [1, 2]), fromArray([], [10])).data)).toEqual([11, 12]);
  });
  it('[3,1] × [1,4] → [3,4]', () => {
    expect(mul(fromArray([3, 1], [1, 2, 3]), fromArray([1, 4], [1, 10, 100, 1000])).shape).toEqual([3, 4]);
  });
  it('IEEE specials: 1/0 = ∞, 0/0 = NaN, NaN + 1 = NaN', () => {
    const y = div(fromArray([2], [1, 0]), fromArray([2], [0, 0]));
    expect(y.data[0]).toBe(Infinity);
    expect(Number.isNaN(y.data[1]!)).toBe(true);
    expect(Number.isNaN(add(fromArray([1], [NaN]), fromArray([1], [1])).data[0]!)).toBe(true);
  });
  it('float32 result: 1 + 2^-24 rounds to 1 (ties-to-even)', () => {
    expect(add(fromArray([1], [1]), fromArray([1], [2 ** -24])).data[0]).toBe(1);
  });
  it('incompatible shapes → SpecError naming both shapes', () => {
    expect(() => add(fromArray([2, 3], new Array(6).fill(0)), fromArray([2], [0, 0]))).toThrow(SpecError);
    expect(() => add(fromArray([2, 3], new Array(6).fill(0)), fromArray([2], [0, 0]))).toThrow(/shapes \[2,3\] and \[2\] must be broadcast-compatible/);
  });
  it('scale rejects a non-finite factor', () => {
    expect(() => scale(fromArray([1], [1]), NaN)).toThrow(/s must be a finite number/);
  });
});

describe('add/sub/mul/div/scale — oracle', () => {
  it.each(OPS)('%s matches the naive multi-index broadcast (float32 of the exact result)', (_n, op, f) => {
    fc.assert(
      fc.property(pair, ([a, b, swap]) => {
        const [x, y] = swap ? [b, a] : [a, b];
        const out = op(x, y);
        expect(out.shape).toEqual(broadcastShapes('test', x.shape, y.shape));
        const idx = new Array<number>(out.shape.length).fill(0);
        for (let o = 0; o < out.data.length; o++) {
          const e = Math.fround(f(at(x, idx), at(y, idx)));
          expect(Object.is(out.data[o], e) || (Number.isNaN(out.data[o]!) && Number.isNaN(e)) || out.data[o] === e).toBe(true);
          for (let d = idx.length - 1; d >= 0; d--) {
            if (++idx[d]! < out.shape[d]!) break;
            idx[d] = 0;
          }
        }
      }),
    );
  });
});

describe('add/sub/mul/div/scale — laws', () => {
  it('add and mul commute bit-exactly', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(Array.from(add(a, b).data)).toEqual(Array.from(add(b, a).data));
        expect(Array.from(mul(a, b).data)).toEqual(Array.from(mul(b, a).data));
      }),
    );
  });
  it('sub(a, b) = add(a, −b) bit-exactly', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const nb = fromArray(b.shape, Array.from(b.data, (v) => -v));
        expect(Array.from(sub(a, b).data)).toEqual(Array.from(add(a, nb).data));
      }),
    );
  });
  it('scale(x, s) = mul(x, [s]) bit-exactly', () => {
    fc.assert(
      fc.property(pair, fc.double({ min: -10, max: 10, noNaN: true }), ([a], s) => {
        expect(Array.from(scale(a, s).data)).toEqual(Array.from(mul(a, fromArray([1], [s])).data));
      }),
    );
  });
});

describe('add/sub/mul/div/scale — conformance', () => {
  it('NumPy broadcasting example: [8,1,6,1] with [7,1,5] → [8,7,6,5]', () => {
    expect(broadcastShapes('test', [8, 1, 6, 1], [7, 1, 5])).toEqual([8, 7, 6, 5]);
  });
});
