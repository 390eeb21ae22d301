import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { layerNorm, type LayerNormAttrs } from '../../src/ops/layer-norm';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { layerNormLoop } from '../oracles/norm-loop';
import { expectClose } from '../helpers/close';
import { SAM_DECODER_LN_EPS, SAM_ENCODER_LN_EPS } from '../../src/sam/config';

// vs oracle: same fp64 math in another order, one fp32 rounding → ≤ 1 ulp of |y| ≤ ~8 (≈ 1e-6); 2e-6 allowed.
const ABS = 2e-6;
const REL = 2.4e-7;

/** Values on a 1/64 grid, so a·x + c with a = 2^k and small integer c is exact in float32. */
const gridRow = (r: number, c: number) => fc.array(fc.integer({ min: -256, max: 256 }), { minLength: r * c, maxLength: r * c }).map((v): Tensor => fromArray([r, c], v.map((z) => z / 64)));
const ones = (c: number) => fromArray([c], new Array(c).fill(1));
const zeros = (c: number) => fromArray([c], new Array(c).fill(0));

describe('layerNorm — edge cases', () => {
  it('C = 1 gives β (x − μ = 0)', () => {
    expect(Array.from(layerNorm(fromArray([3, 1], [5, -2, 7]), fromArray([1], [3]), fromArray([1], [0.25]), { epsilon: 1e-6 }).data)).toEqual([0.25, 0.25, 0.25]);
  });
  it('a constant row gives β', () => {
    expect(Array.from(layerNorm(fromArray([1, 4], [2, 2, 2, 2]), ones(4), fromArray([4], [1, 2, 3, 4]), { epsilon: 1e-5 }).data)).toEqual([1, 2, 3, 4]);
  });
  it('hand-computed: [1, 3] → [−1, 1]·(1/√(1 + ε))', () => {
    const y = layerNorm(fromArray([2], [1, 3]), ones(2), zeros(2), { epsilon: 1e-6 });
    expect(y.data[0]).toBe(Math.fround(-1 / Math.sqrt(1 + 1e-6)));
    expect(y.data[1]).toBe(Math.fround(1 / Math.sqrt(1 + 1e-6)));
  });
  it('NaN in a row makes only that row NaN', () => {
    const y = layerNorm(fromArray([2, 2], [NaN, 1, 1, 3]), ones(2), zeros(2), { epsilon: 1e-6 });
    expect(Number.isNaN(y.data[0]!) && Number.isNaN(y.data[1]!)).toBe(true);
    expect(Number.isFinite(y.data[2]!) && Number.isFinite(y.data[3]!)).toBe(true);
  });
  it.each([
    ['missing attrs', undefined],
    ['missing epsilon', {}],
    ['epsilon 0', { epsilon: 0 }],
    ['epsilon NaN', { epsilon: NaN }],
  ])('epsilon is required: %s → SpecError', (_n, attrs) => {
    const call = () => layerNorm(fromArray([2], [1, 2]), ones(2), zeros(2), attrs as unknown as LayerNormAttrs);
    expect(call).toThrow(SpecError);
    expect(call).toThrow(/attrs.epsilon must be given explicitly/);
  });
  it('gamma of the wrong length → SpecError naming gamma', () => {
    expect(() => layerNorm(fromArray([2], [1, 2]), ones(3), zeros(2), { epsilon: 1e-6 })).toThrow(/gamma.shape must be \[2\]/);
  });
});

describe('layerNorm — oracle', () => {
  it('matches the textbook formula', () => {
    const arb = fc.record({ r: fc.integer({ min: 1, max: 4 }), c: fc.integer({ min: 1, max: 12 }) }).chain(({ r, c }) => fc.tuple(float32Tensor([r, c]), float32Tensor([c]), float32Tensor([c])));
    fc.assert(
      fc.property(arb, fc.constantFrom(SAM_ENCODER_LN_EPS, SAM_DECODER_LN_EPS), ([x, g, b], eps) => {
        expectClose(layerNorm(x, g, b, { epsilon: eps }), layerNormLoop(x, g, b, eps), ABS, REL);
      }),
    );
  });
});

describe('layerNorm — laws', () => {
  it('invariant to x → a·x + c (a = 2^k > 0) up to ε effects', () => {
    const arb = fc.record({ r: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 2, max: 10 }) }).chain(({ r, c }) => fc.tuple(gridRow(r, c), fc.integer({ min: -2, max: 3 }), fc.integer({ min: -8, max: 8 })));
    fc.assert(
      fc.property(arb, ([x, k, c]) => {
        const C = x.shape[1]!;
        const a = 2 ** k;
        const y = fromArray(x.shape, Array.from(x.data, (v) => a * v + c)); // exact on the 1/64 grid
        // ε = 1e-12 → relative effect ε/(2σ²) < 1e-7 for σ² ≥ (1/64)²/4; plus 1 ulp rounding of |ŷ| ≤ √C ≈ 3.2
        expectClose(layerNorm(y, ones(C), zeros(C), { epsilon: 1e-12 }), layerNorm(x, ones(C), zeros(C), { epsilon: 1e-12 }), 2e-6, 0);
      }),
    );
  });
  it('with γ = 1, β = 0 each non-constant row has mean ≈ 0 and biased variance ≈ 1', () => {
    const arb = fc.integer({ min: 2, max: 16 }).chain((c) => gridRow(1, c));
    fc.assert(
      fc.property(arb, (x) => {
        const C = x.shape[1]!;
        fc.pre(new Set(x.data).size > 1);
        const y = layerNorm(x, ones(C), zeros(C), { epsilon: 1e-12 });
        const mean = y.data.reduce((s, v) => s + v, 0) / C;
        const v = y.data.reduce((s, z) => s + (z - mean) ** 2, 0) / C;
        // fp32 storage of each ŷ (|ŷ| ≤ √C = 4) contributes ≤ 2.4e-7 each
        expect(Math.abs(mean)).toBeLessThan(1e-6);
        expect(Math.abs(v - 1)).toBeLessThan(1e-5);
      }),
    );
  });
});

describe('layerNorm — conformance', () => {
  it('SAM epsilons are named constants: encoder 1e-6, decoder 1e-5', () => {
    expect(SAM_ENCODER_LN_EPS).toBe(1e-6);
    expect(SAM_DECODER_LN_EPS).toBe(1e-5);
  });
  it('ε enters inside the square root, with the biased variance (PyTorch nn.LayerNorm)', () => {
    // x = [0, 2]: μ = 1, σ² (biased) = 1; with ε = 1: ŷ = ±1/√2 (unbiased σ² = 2 would give ±1/√3)
    const y = layerNorm(fromArray([2], [0, 2]), ones(2), zeros(2), { epsilon: 1 });
    expect(y.data[1]).toBe(Math.fround(Math.SQRT1_2));
  });
});
