import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { conv2d, type Conv2dAttrs } from '../../src/ops/conv2d';
import { linear } from '../../src/ops/linear';
import { permute } from '../../src/ops/permute';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { conv2dLoop } from '../oracles/conv2d-loop';
import { expectClose } from '../helpers/close';

// vs oracle: both fp64 sums rounded once to fp32 → ≤ 1 ulp (2 ulp allowed) + fp64 order noise.
const REL = 2.4e-7;
const ABS = 1e-9;

const A = (o: Partial<Conv2dAttrs> = {}): Conv2dAttrs => ({ stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, ...o });

/** Random conv problem: (x, w, bias?, attrs) with a valid output size. */
const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    g: fc.integer({ min: 1, max: 3 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 3 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    extraH: fc.integer({ min: 0, max: 5 }),
    extraW: fc.integer({ min: 0, max: 5 }),
    withBias: fc.boolean(),
  })
  .chain((c) => {
    const H = Math.max(1, c.dh * (c.kh - 1) + 1 - 2 * c.ph) + c.extraH;
    const W = Math.max(1, c.dw * (c.kw - 1) + 1 - 2 * c.pw) + c.extraW;
    const attrs = A({ stride: [c.sh, c.sw], padding: [c.ph, c.pw], dilation: [c.dh, c.dw], groups: c.g });
    return fc.tuple(
      float32Tensor([c.n, c.g * c.cg, H, W]),
      float32Tensor([c.g * c.og, c.cg, c.kh, c.kw]),
      c.withBias ? float32Tensor([c.g * c.og]).map((b): Tensor | undefined => b) : fc.constant(undefined),
      fc.constant(attrs),
    );
  });

describe('conv2d — edge cases', () => {
  it('hand-computed 3×3 input, 2×2 kernel, padding 1', () => {
    const y = conv2d(fromArray([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]), fromArray([1, 1, 2, 2], [1, 0, 0, 1]), undefined, A({ padding: [1, 1] }));
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(y.data)).toEqual([1, 2, 3, 0, 4, 6, 8, 3, 7, 12, 14, 6, 0, 7, 8, 9]);
  });
  it('kernel equal to the input size gives 1×1', () => {
    expect(conv2d(fromArray([1, 1, 2, 2], [1, 2, 3, 4]), fromArray([1, 1, 2, 2], [1, 1, 1, 1]), fromArray([1], [0.5]), A()).data[0]).toBe(10.5);
  });
  it('NaN in x reaches only the outputs whose window covers it', () => {
    const x = fromArray([1, 1, 1, 3], [NaN, 1, 1]);
    const y = conv2d(x, fromArray([1, 1, 1, 1], [2]), undefined, A());
    expect(Number.isNaN(y.data[0]!)).toBe(true);
    expect(Array.from(y.data.subarray(1))).toEqual([2, 2]);
  });
  const x = fromArray([1, 2, 3, 3], new Array(18).fill(1));
  it.each([
    ['weight channels ≠ C/groups', fromArray([1, 1, 1, 1], [1]), A(), /weight.shape\[1\] must equal x.shape\[1\] \/ groups = 2/],
    ['groups not dividing C', fromArray([3, 1, 1, 1], [1, 1, 1]), A({ groups: 3 }), /x.shape\[1\] must be divisible by groups = 3/],
    ['stride 0', fromArray([1, 2, 1, 1], [1, 1]), A({ stride: [0, 1] }), /attrs.stride must be a pair of positive integers/],
    ['negative padding', fromArray([1, 2, 1, 1], [1, 1]), A({ padding: [-1, 0] }), /attrs.padding must be a pair of non-negative/],
    ['kernel larger than padded input', fromArray([1, 2, 4, 4], new Array(32).fill(1)), A(), /output size must be at least 1×1/],
  ])('%s → SpecError', (_n, w, attrs, msg) => {
    expect(() => conv2d(x, w, undefined, attrs)).toThrow(SpecError);
    expect(() => conv2d(x, w, undefined, attrs)).toThrow(msg);
  });
});

describe('conv2d — oracle', () => {
  it('matches the direct 7-loop definition (stride, padding, dilation, groups, bias)', () => {
    fc.assert(
      fc.property(convCase, ([x, w, b, attrs]) => {
        expectClose(conv2d(x, w, b, attrs), conv2dLoop(x, w, b, { ...attrs, stride: [...attrs.stride], padding: [...attrs.padding], dilation: [...attrs.dilation] }), ABS, REL);
      }),
    );
  });
});

describe('conv2d — laws', () => {
  it('a 1×1 convolution is a linear map over channels at every pixel (bit-exact)', () => {
    const arb = fc
      .record({ c: fc.integer({ min: 1, max: 6 }), o: fc.integer({ min: 1, max: 6 }), h: fc.integer({ min: 1, max: 4 }), w: fc.integer({ min: 1, max: 4 }) })
      .chain(({ c, o, h, w }) => fc.tuple(float32Tensor([1, c, h, w]), float32Tensor([o, c, 1, 1]), float32Tensor([o])));
    fc.assert(
      fc.property(arb, ([x, w, b]) => {
        const [O, C] = w.shape as [number, number];
        const viaConv = conv2d(x, w, b, A());
        const viaLinear = permute(linear(permute(x, [0, 2, 3, 1]), { ...w, shape: [O, C] }, b), [0, 3, 1, 2]);
        expect(Array.from(viaConv.data)).toEqual(Array.from(viaLinear.data));
      }),
    );
  });
  it('groups = G equals G independent convolutions concatenated', () => {
    const arb = fc.tuple(float32Tensor([1, 4, 3, 3]), float32Tensor([6, 2, 2, 2]));
    fc.assert(
      fc.property(arb, ([x, w]) => {
        const y = conv2d(x, w, undefined, A({ groups: 2 }));
        for (let g = 0; g < 2; g++) {
          const xg: Tensor = { dtype: 'float32', shape: [1, 2, 3, 3], data: x.data.slice(g * 18, (g + 1) * 18) };
          const wg: Tensor = { dtype: 'float32', shape: [3, 2, 2, 2], data: w.data.slice(g * 24, (g + 1) * 24) };
          const yg = conv2d(xg, wg, undefined, A());
          expect(Array.from(y.data.subarray(g * yg.data.length, (g + 1) * yg.data.length))).toEqual(Array.from(yg.data));
        }
      }),
    );
  });
});

describe('conv2d — conformance', () => {
  it('SAM patch embedding shape: 16×16 stride 16 turns 32×32 into a 2×2 grid', () => {
    const y = conv2d(fromArray([1, 3, 32, 32], new Array(3 * 32 * 32).fill(1)), fromArray([4, 3, 16, 16], new Array(4 * 3 * 256).fill(1)), undefined, A({ stride: [16, 16] }));
    expect(y.shape).toEqual([1, 4, 2, 2]);
    expect(y.data.every((v) => v === 768)).toBe(true); // 3·16·16 ones
  });
});
