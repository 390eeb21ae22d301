import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { layerNorm2d } from '../../src/ops/layer-norm-2d';
import { layerNorm } from '../../src/ops/layer-norm';
import { permute } from '../../src/ops/permute';
import { fromArray, SpecError } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { layerNorm2dLoop } from '../oracles/norm-loop';
import { expectClose } from '../helpers/close';
import { SAM_LAYERNORM2D_EPS } from '../../src/sam/config';

// ≤ 1 ulp of |y| ≤ ~8 between two fp64 evaluations rounded once (2e-6 allowed).
const ABS = 2e-6;
const REL = 2.4e-7;

const nchw = fc
  .record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 6 }), h: fc.integer({ min: 1, max: 4 }), w: fc.integer({ min: 1, max: 4 }) })
  .chain(({ n, c, h, w }) => fc.tuple(float32Tensor([n, c, h, w]), float32Tensor([c]), float32Tensor([c])));

describe('layerNorm2d — edge cases', () => {
  it('C = 1 gives β everywhere', () => {
    expect(Array.from(layerNorm2d(fromArray([1, 1, 2, 1], [3, -4]), fromArray([1], [2]), fromArray([1], [0.5]), { epsilon: 1e-6 }).data)).toEqual([0.5, 0.5]);
  });
  it('requires epsilon and rank 4', () => {
    const g = fromArray([1], [1]);
    expect(() => layerNorm2d(fromArray([1, 1, 1, 1], [1]), g, g, {} as never)).toThrow(SpecError);
    expect(() => layerNorm2d(fromArray([1, 1, 1], [1]), g, g, { epsilon: 1e-6 })).toThrow(/x.rank must be 4/);
  });
});

describe('layerNorm2d — oracle', () => {
  it('matches the per-position loop', () => {
    fc.assert(
      fc.property(nchw, ([x, g, b]) => {
        expectClose(layerNorm2d(x, g, b, { epsilon: SAM_LAYERNORM2D_EPS }), layerNorm2dLoop(x, g, b, SAM_LAYERNORM2D_EPS), ABS, REL);
      }),
    );
  });
});

describe('layerNorm2d — laws', () => {
  it('equals layerNorm over the last axis of the NHWC permutation (bit-exact: same sums)', () => {
    fc.assert(
      fc.property(nchw, ([x, g, b]) => {
        const viaLn = permute(layerNorm(permute(x, [0, 2, 3, 1]), g, b, { epsilon: 1e-6 }), [0, 3, 1, 2]);
        expectClose(layerNorm2d(x, g, b, { epsilon: 1e-6 }), viaLn, 0, 0);
      }),
    );
  });
});

describe('layerNorm2d — conformance', () => {
  it('SAM LayerNorm2d ε is 1e-6', () => {
    expect(SAM_LAYERNORM2D_EPS).toBe(1e-6);
  });
});
