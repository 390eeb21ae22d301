import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { linear } from '../../src/ops/linear';
import { add } from '../../src/ops/add';
import { matmul } from '../../src/ops/matmul';
import { permute } from '../../src/ops/permute';
import { fromArray, SpecError } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { matmulLoop } from '../oracles/matmul-loop';
import { expectClose } from '../helpers/close';

// linear rounds once (bias inside the fp64 sum); x·Wᵀ then + b rounds twice: ≤ 1.5 ulp apart → 3e-7 relative
// of the magnitude (the abs term covers cancellation to ~0: |terms| ≤ 16·K ≤ 160 → 1 ulp ≈ 1.5e-5).
const ABS = 2e-5;
const REL = 3e-7;

const dims = fc.record({ r: fc.integer({ min: 1, max: 7 }), i: fc.integer({ min: 1, max: 9 }), o: fc.integer({ min: 1, max: 9 }) });

describe('linear — edge cases', () => {
  it('hand-computed with bias', () => {
    const y = linear(fromArray([1, 2], [1, 2]), fromArray([3, 2], [1, 0, 0, 1, 1, 1]), fromArray([3], [10, 20, 30]));
    expect(Array.from(y.data)).toEqual([11, 22, 33]);
  });
  it('1-D input [in] → [out]', () => {
    expect(linear(fromArray([2], [1, 2]), fromArray([1, 2], [3, 4])).shape).toEqual([1]);
  });
  it.each([
    ['weight in ≠ x in', [2, 3], [4, 2], undefined, /weight.shape\[1\] must equal x.shape\[-1\] = 3/],
    ['bias wrong length', [2, 3], [4, 3], [3], /bias.shape must be \[4\]/],
    ['weight rank 1', [2, 3], [3], undefined, /weight.rank must be 2/],
  ])('%s → SpecError', (_n, sx, sw, sb, msg) => {
    const t = (s: number[]) => fromArray(s, new Array(s.reduce((p, d) => p * d, 1)).fill(1));
    const call = () => linear(t(sx as number[]), t(sw as number[]), sb ? t(sb as number[]) : undefined);
    expect(call).toThrow(SpecError);
    expect(call).toThrow(msg);
  });
});

describe('linear — oracle', () => {
  it('equals x·Wᵀ (naive loop) + b', () => {
    const arb = dims.chain(({ r, i, o }) => fc.tuple(float32Tensor([2, r, i]), float32Tensor([o, i]), float32Tensor([o])));
    fc.assert(
      fc.property(arb, ([x, w, b]) => {
        const xw = matmulLoop(x, permute(w, [1, 0]));
        const expected = xw.data.map((v, idx) => v + b.data[idx % b.data.length]!);
        expectClose(linear(x, w, b), { shape: xw.shape, data: expected }, ABS, REL);
      }),
    );
  });
});

describe('linear — laws', () => {
  it('without bias equals matmul(x, Wᵀ) bit-exactly', () => {
    const arb = dims.chain(({ r, i, o }) => fc.tuple(float32Tensor([r, i]), float32Tensor([o, i])));
    fc.assert(
      fc.property(arb, ([x, w]) => {
        expect(Array.from(linear(x, w).data)).toEqual(Array.from(matmul(x, permute(w, [1, 0])).data));
      }),
    );
  });
  it('additive in the bias: linear(x, W, b) ≈ linear(x, W) + b', () => {
    const arb = dims.chain(({ r, i, o }) => fc.tuple(float32Tensor([r, i]), float32Tensor([o, i]), float32Tensor([o])));
    fc.assert(
      fc.property(arb, ([x, w, b]) => {
        expectClose(linear(x, w, b), add(linear(x, w), b), ABS, REL);
      }),
    );
  });
});

describe('linear — conformance', () => {
  it('PyTorch layout: weight [out, in] (row o is the o-th output unit)', () => {
    // F.linear(x=[1, 2, 3], W=[[1,1,1],[0,0,1]]) = [6, 3]
    expect(Array.from(linear(fromArray([3], [1, 2, 3]), fromArray([2, 3], [1, 1, 1, 0, 0, 1])).data)).toEqual([6, 3]);
  });
});
