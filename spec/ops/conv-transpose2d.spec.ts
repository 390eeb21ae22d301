import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { convTranspose2d, type ConvTranspose2dAttrs } from '../../src/ops/conv-transpose2d';
import { conv2d } from '../../src/ops/conv2d';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { convTranspose2dLoop } from '../oracles/conv2d-loop';
import { expectClose } from '../helpers/close';

// vs oracle: both fp64 sums rounded once → ≤ 1 ulp (2 allowed).
const REL = 2.4e-7;
const ABS = 1e-9;

const T = (o: Partial<ConvTranspose2dAttrs> = {}): ConvTranspose2dAttrs => ({ stride: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1, ...o });

const params = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  g: fc.integer({ min: 1, max: 2 }),
  cg: fc.integer({ min: 1, max: 3 }),
  og: fc.integer({ min: 1, max: 3 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  ph: fc.integer({ min: 0, max: 1 }),
  pw: fc.integer({ min: 0, max: 1 }),
  dh: fc.integer({ min: 1, max: 2 }),
  dw: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 2, max: 5 }),
  w: fc.integer({ min: 2, max: 5 }),
});

describe('convTranspose2d — edge cases', () => {
  it('stride-2 2×2 kernel of ones tiles every input value into a 2×2 block (SAM output upscaling shape)', () => {
    const y = convTranspose2d(fromArray([1, 1, 2, 2], [1, 2, 3, 4]), fromArray([1, 1, 2, 2], [1, 1, 1, 1]), undefined, T({ stride: [2, 2] }));
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(y.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it('overlapping windows add (stride 1, 2×2 kernel, bias)', () => {
    const y = convTranspose2d(fromArray([1, 1, 1, 2], [1, 2]), fromArray([1, 1, 1, 2], [1, 1]), fromArray([1], [0.5]), T());
    expect(Array.from(y.data)).toEqual([1.5, 3.5, 2.5]);
  });
  it.each([
    ['weight.shape[0] ≠ C', fromArray([2, 1, 1, 1], [1, 1]), T(), /weight.shape\[0\] must equal x.shape\[1\] = 1/],
    ['outputPadding ≥ stride and dilation', fromArray([1, 1, 1, 1], [1]), T({ outputPadding: [1, 0] }), /attrs.outputPadding\[0\] must be < stride\[0\] or < dilation\[0\]/],
    ['padding too large', fromArray([1, 1, 1, 1], [1]), T({ padding: [2, 2] }), /output size must be at least 1×1/],
  ])('%s → SpecError', (_n, w, attrs, msg) => {
    const x = fromArray([1, 1, 2, 2], [1, 2, 3, 4]);
    expect(() => convTranspose2d(x, w, undefined, attrs)).toThrow(SpecError);
    expect(() => convTranspose2d(x, w, undefined, attrs)).toThrow(msg);
  });
});

describe('convTranspose2d — oracle', () => {
  it('matches the gather-form definition', () => {
    const arb = params.chain((p) => {
      const op = [fc.integer({ min: 0, max: Math.max(p.sh, p.dh) - 1 }), fc.integer({ min: 0, max: Math.max(p.sw, p.dw) - 1 })] as const;
      return fc.tuple(float32Tensor([p.n, p.g * p.cg, p.h, p.w]), float32Tensor([p.g * p.cg, p.og, p.kh, p.kw]), float32Tensor([p.g * p.og]), op[0], op[1], fc.constant(p));
    });
    fc.assert(
      fc.property(arb, ([x, w, b, oph, opw, p]) => {
        const attrs = { stride: [p.sh, p.sw] as [number, number], padding: [p.ph, p.pw] as [number, number], outputPadding: [oph, opw] as [number, number], dilation: [p.dh, p.dw] as [number, number], groups: p.g };
        const Ho = (p.h - 1) * p.sh - 2 * p.ph + p.dh * (p.kh - 1) + oph + 1;
        const Wo = (p.w - 1) * p.sw - 2 * p.pw + p.dw * (p.kw - 1) + opw + 1;
        if (Ho < 1 || Wo < 1) return true; // rejected input, covered by edge cases
        expectClose(convTranspose2d(x, w, b, attrs), convTranspose2dLoop(x, w, b, attrs), ABS, REL);
        return true;
      }),
    );
  });
});

describe('convTranspose2d — laws', () => {
  it('is the adjoint of conv2d: ⟨conv(x), y⟩ = ⟨x, convT(y)⟩ (same weight, matching output padding)', () => {
    const arb = params.chain((p) => {
      const H = Math.max(1, p.dh * (p.kh - 1) + 1 - 2 * p.ph) + p.h;
      const W = Math.max(1, p.dw * (p.kw - 1) + 1 - 2 * p.pw) + p.w;
      const Ho = Math.floor((H + 2 * p.ph - p.dh * (p.kh - 1) - 1) / p.sh) + 1;
      const Wo = Math.floor((W + 2 * p.pw - p.dw * (p.kw - 1) - 1) / p.sw) + 1;
      return fc.tuple(float32Tensor([p.n, p.g * p.cg, H, W]), float32Tensor([p.g * p.og, p.cg, p.kh, p.kw]), float32Tensor([p.n, p.g * p.og, Ho, Wo]), fc.constant(p));
    });
    fc.assert(
      fc.property(arb, ([x, w, y, p]) => {
        const H = x.shape[2]!;
        const W = x.shape[3]!;
        const Ho = y.shape[2]!;
        const Wo = y.shape[3]!;
        const cx = conv2d(x, w, undefined, { stride: [p.sh, p.sw], padding: [p.ph, p.pw], dilation: [p.dh, p.dw], groups: p.g });
        const oph = H - ((Ho - 1) * p.sh - 2 * p.ph + p.dh * (p.kh - 1) + 1);
        const opw = W - ((Wo - 1) * p.sw - 2 * p.pw + p.dw * (p.kw - 1) + 1);
        const ty = convTranspose2d(y, w, undefined, T({ stride: [p.sh, p.sw], padding: [p.ph, p.pw], outputPadding: [oph, opw], dilation: [p.dh, p.dw], groups: p.g }));
        expect(ty.shape).toEqual(x.shape);
        let lhs = 0;
        let rhs = 0;
        let mag = 0;
        for (let i = 0; i < cx.data.length; i++) {
          lhs += cx.data[i]! * y.data[i]!;
          mag += Math.abs(cx.data[i]! * y.data[i]!);
        }
        for (let i = 0; i < x.data.length; i++) {
          rhs += x.data[i]! * ty.data[i]!;
          mag += Math.abs(x.data[i]! * ty.data[i]!);
        }
        // each side's stored outputs carry ≤ ½ ulp (2^-24 relative) rounding: |lhs − rhs| ≤ 2^-24·Σ|terms| (we allow 2^-22)
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(2 ** -22 * mag + 1e-12);
      }),
    );
  });
});

describe('convTranspose2d — conformance', () => {
  it('PyTorch output size formula: (H − 1)·s − 2p + d·(k − 1) + op + 1', () => {
    const x: Tensor = fromArray([1, 1, 3, 4], new Array(12).fill(1));
    const y = convTranspose2d(x, fromArray([1, 2, 3, 2], new Array(12).fill(1)), undefined, T({ stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [1, 2] }));
    expect(y.shape).toEqual([1, 2, (3 - 1) * 2 - 2 + 2 + 1 + 1, (4 - 1) * 3 - 0 + 2 * 1 + 2 + 1]);
  });
});
