import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { windowPartition, windowUnpartition } from '../../src/nn/window-partition';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { hasShared, loadSharedNpy, missingShared } from '../helpers/shared';

const TINY = ['fixtures', 'sam-reference', 'vit-tiny'];

const arb = fc
  .record({ b: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 9 }), c: fc.integer({ min: 1, max: 3 }), ws: fc.integer({ min: 1, max: 5 }) })
  .chain(({ b, h, w, c, ws }) => fc.tuple(float32Tensor([b, h, w, c]), fc.constant(ws)));

describe('windowPartition / windowUnpartition — edge cases', () => {
  it('window larger than the map: one zero-padded window', () => {
    const { windows, padHw } = windowPartition(fromArray([1, 1, 2, 1], [1, 2]), 3);
    expect(padHw).toEqual([3, 3]);
    expect(windows.shape).toEqual([1, 3, 3, 1]);
    expect(Array.from(windows.data)).toEqual([1, 2, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('window size 1: every token is its own window', () => {
    expect(windowPartition(fromArray([1, 2, 2, 1], [1, 2, 3, 4]), 1).windows.shape).toEqual([4, 1, 1, 1]);
  });
  it.each([
    ['windowSize 0', () => windowPartition(fromArray([1, 1, 1, 1], [1]), 0), /windowSize must be a positive integer/],
    ['rank 3', () => windowPartition(fromArray([1, 1, 1], [1]), 1), /x.rank must be 4/],
    ['padHw not a multiple', () => windowUnpartition(fromArray([1, 2, 2, 1], [1, 2, 3, 4]), 2, [3, 2], [2, 2]), /padHw must be positive multiples of windowSize = 2/],
    ['hw larger than padHw', () => windowUnpartition(fromArray([1, 2, 2, 1], [1, 2, 3, 4]), 2, [2, 2], [3, 2]), /hw must be the unpadded size/],
  ])('%s → SpecError', (_n, call, msg) => {
    expect(call).toThrow(SpecError);
    expect(call).toThrow(msg);
  });
});

describe('windowPartition / windowUnpartition — oracle', () => {
  it('windows[b·nW + wy·nWx + wx, i, j] = x[b, wy·ws + i, wx·ws + j] (0 outside)', () => {
    fc.assert(
      fc.property(arb, ([x, ws]) => {
        const [B, H, W, C] = x.shape as [number, number, number, number];
        const { windows, padHw } = windowPartition(x, ws);
        const nWy = padHw[0] / ws;
        const nWx = padHw[1] / ws;
        expect(windows.shape).toEqual([B * nWy * nWx, ws, ws, C]);
        for (let b = 0; b < B; b++)
          for (let wy = 0; wy < nWy; wy++)
            for (let wx = 0; wx < nWx; wx++)
              for (let i = 0; i < ws; i++)
                for (let j = 0; j < ws; j++)
                  for (let c = 0; c < C; c++) {
                    const y = wy * ws + i;
                    const z = wx * ws + j;
                    const expected = y < H && z < W ? x.data[((b * H + y) * W + z) * C + c]! : 0;
                    expect(windows.data[((((b * nWy + wy) * nWx + wx) * ws + i) * ws + j) * C + c]).toBe(expected);
                  }
      }),
    );
  });
});

describe('windowPartition / windowUnpartition — laws', () => {
  it('unpartition ∘ partition = identity (bit-exact)', () => {
    fc.assert(
      fc.property(arb, ([x, ws]) => {
        const { windows, padHw } = windowPartition(x, ws);
        const back = windowUnpartition(windows, ws, padHw, [x.shape[1]!, x.shape[2]!]);
        expect(back.shape).toEqual(x.shape);
        expect(Array.from(back.data)).toEqual(Array.from(x.data));
      }),
    );
  });
  it('padHw is the smallest multiple of ws covering the map', () => {
    fc.assert(
      fc.property(arb, ([x, ws]) => {
        const { padHw } = windowPartition(x, ws);
        for (const [p, n] of [[padHw[0], x.shape[1]!], [padHw[1], x.shape[2]!]] as const) {
          expect(p % ws).toBe(0);
          expect(p >= n && p - n < ws).toBe(true);
        }
      }),
    );
  });
});

describe.skipIf(!hasShared(...TINY))('windowPartition / windowUnpartition — conformance', () => {
  if (!hasShared(...TINY)) console.warn(missingShared(...TINY));
  it('vit-tiny block 0: windowPartition(norm1) equals the official attn_in (20×20 → 4 windows of 14×14) bit-exactly', () => {
    const norm1 = loadSharedNpy(...TINY, 'act', 'blocks.0.norm1.npy') as Tensor;
    const attnIn = loadSharedNpy(...TINY, 'act', 'blocks.0.attn_in.npy') as Tensor;
    const { windows, padHw } = windowPartition(norm1, 14);
    expect(padHw).toEqual([28, 28]);
    expect(windows.shape).toEqual(attnIn.shape);
    expect(Array.from(windows.data)).toEqual(Array.from(attnIn.data));
  });
});
