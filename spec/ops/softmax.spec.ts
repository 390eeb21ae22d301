import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { softmax } from '../../src/ops/softmax';
import { permute } from '../../src/ops/permute';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor, tensor } from '../arbitraries/tensor';
import { softmaxLastLoop } from '../oracles/norm-loop';
import { expectClose } from '../helpers/close';

// vs oracle: same fp64 formula, one fp32 rounding → ≤ 1 ulp of p ≤ 1 (6e-8); 1.2e-7 abs allowed.
const ABS = 1.2e-7;

describe('softmax — edge cases', () => {
  it.each([
    ['single element', [5], [1]],
    ['all equal', [3, 3, 3, 3], [0.25, 0.25, 0.25, 0.25]],
    ['huge logits do not overflow', [1e30, 1e30], [0.5, 0.5]],
    ['huge negative logits do not underflow to NaN', [-1e30, -1e30 + 1e24], [0, 1]],
    ['−∞ gets probability 0', [-Infinity, 0], [0, 1]],
  ])('%s', (_n, x, p) => {
    expect(Array.from(softmax(fromArray([x.length], x)).data)).toEqual(p);
  });
  it.each([
    ['NaN', [NaN, 0]],
    ['+∞ (∞ − ∞)', [Infinity, 0]],
    ['all −∞', [-Infinity, -Infinity]],
  ])('%s makes the slice NaN (documented policy, as PyTorch)', (_n, x) => {
    expect(Array.from(softmax(fromArray([x.length], x)).data).every(Number.isNaN)).toBe(true);
  });
  it('a NaN row does not leak into other rows', () => {
    const p = softmax(fromArray([2, 2], [NaN, 0, 0, 0]));
    expect(Array.from(p.data.subarray(2))).toEqual([0.5, 0.5]);
  });
  it('axis out of range → SpecError', () => {
    expect(() => softmax(fromArray([2, 2], [0, 0, 0, 0]), { axis: 2 })).toThrow(SpecError);
    expect(() => softmax(fromArray([2, 2], [0, 0, 0, 0]), { axis: 2 })).toThrow(/attrs.axis must be an integer in \[-2, 1\]/);
  });
});

describe('softmax — oracle', () => {
  it('last axis matches exp(x − max)/Σ', () => {
    fc.assert(
      fc.property(tensor({ min: -30, max: 30 }), (x) => {
        expectClose(softmax(x), softmaxLastLoop(x), ABS, 0);
      }),
    );
  });
});

describe('softmax — laws', () => {
  it('every slice sums to 1 (within L·2^-24 from fp32 storage)', () => {
    fc.assert(
      fc.property(tensor({ min: -50, max: 50 }), (x) => {
        const L = x.shape[x.shape.length - 1]!;
        const p = softmax(x);
        for (let r = 0; r < p.data.length / L; r++) {
          let s = 0;
          for (let l = 0; l < L; l++) s += p.data[r * L + l]!;
          expect(Math.abs(s - 1)).toBeLessThanOrEqual(L * 2 ** -24 + 1e-12);
        }
      }),
    );
  });
  it('invariant to adding a constant per slice (bit-exact when x + c is exact: 1/64 grid, integer c)', () => {
    const arb = fc.record({ r: fc.integer({ min: 1, max: 3 }), l: fc.integer({ min: 1, max: 8 }) }).chain(({ r, l }) =>
      fc.tuple(fc.array(fc.integer({ min: -512, max: 512 }), { minLength: r * l, maxLength: r * l }).map((v): Tensor => fromArray([r, l], v.map((z) => z / 64))), fc.integer({ min: -100, max: 100 })),
    );
    fc.assert(
      fc.property(arb, ([x, c]) => {
        const shifted = fromArray(x.shape, Array.from(x.data, (v) => v + c));
        expect(Array.from(softmax(shifted).data)).toEqual(Array.from(softmax(x).data));
      }),
    );
  });
  it('softmax along axis k equals softmax on the last axis of the permuted tensor', () => {
    const arb = fc.tuple(float32Tensor([2, 3, 4]), fc.integer({ min: 0, max: 2 }));
    fc.assert(
      fc.property(arb, ([x, axis]) => {
        const perm = [0, 1, 2].filter((d) => d !== axis).concat([axis]);
        const inv = perm.map((_, i) => perm.indexOf(i));
        expect(Array.from(softmax(x, { axis }).data)).toEqual(Array.from(permute(softmax(permute(x, perm)), inv).data));
      }),
    );
  });
});

describe('softmax — conformance', () => {
  it('torch.softmax([1, 2, 3]) = [0.09003057, 0.24472847, 0.66524096]', () => {
    // reference values printed to 8 decimals → tolerance ½·1e-8 rounding + 1 fp32 ulp (6e-8)
    expectClose(softmax(fromArray([3], [1, 2, 3])), { shape: [3], data: [0.09003057, 0.24472847, 0.66524096] }, 1.2e-7, 0);
  });
});
