import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { matmul } from '../../src/ops/matmul';
import { permute } from '../../src/ops/permute';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { matmulLoop } from '../oracles/matmul-loop';
import { expectClose } from '../helpers/close';

// Tolerance vs the oracle: both sum in fp64 and round once to fp32, so they differ by at most 1 ulp
// of the result (2^-23 relative, we allow 2) plus fp64 order effects (< 1e-12 absolute here).
const REL = 2.4e-7;
const ABS = 1e-9;

const mkn = fc.record({ m: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 1, max: 9 }), n: fc.integer({ min: 1, max: 9 }) });

describe('matmul — edge cases', () => {
  it('1×1 · 1×1', () => {
    expect(Array.from(matmul(fromArray([1, 1], [3]), fromArray([1, 1], [-2])).data)).toEqual([-6]);
  });
  it('hand-computed 2×3 · 3×2', () => {
    const c = matmul(fromArray([2, 3], [1, 2, 3, 4, 5, 6]), fromArray([3, 2], [7, 8, 9, 10, 11, 12]));
    expect(c.shape).toEqual([2, 2]);
    expect(Array.from(c.data)).toEqual([58, 64, 139, 154]);
  });
  it('NaN propagates to its row and column only', () => {
    const c = matmul(fromArray([2, 2], [NaN, 0, 1, 1]), fromArray([2, 2], [1, 2, 3, 4]));
    expect(Number.isNaN(c.data[0]!) && Number.isNaN(c.data[1]!)).toBe(true);
    expect(Array.from(c.data.subarray(2))).toEqual([4, 6]);
  });
  it.each([
    ['inner dims differ', [2, 3], [2, 2], /b.shape\[-2\] must equal a.shape\[-1\] = 3/],
    ['rank 1 operand', [3], [3, 1], /a.rank must be ≥ 2/],
    ['batch not broadcastable', [2, 1, 1], [3, 1, 1], /broadcast-compatible/],
    ['empty dim', [0, 2], [2, 2], /every dim ≥ 1/],
  ])('%s → SpecError', (_n, sa, sb, msg) => {
    const t = (s: number[]): Tensor => ({ dtype: 'float32', shape: s, data: new Float32Array(s.reduce((p, d) => p * d, 1)) });
    expect(() => matmul(t(sa as number[]), t(sb as number[]))).toThrow(SpecError);
    expect(() => matmul(t(sa as number[]), t(sb as number[]))).toThrow(msg);
  });
  it('rejects non-float32 input', () => {
    expect(() => matmul({ dtype: 'int32', shape: [1, 1], data: new Int32Array(1) } as unknown as Tensor, fromArray([1, 1], [1]))).toThrow(/a.dtype must be float32/);
  });
});

describe('matmul — oracle', () => {
  it('2-D matches the naive triple loop', () => {
    const arb = mkn.chain(({ m, k, n }) => fc.tuple(float32Tensor([m, k]), float32Tensor([k, n])));
    fc.assert(
      fc.property(arb, ([a, b]) => {
        expectClose(matmul(a, b), matmulLoop(a, b), ABS, REL);
      }),
    );
  });
  it('batched with broadcast leading dims matches the naive loop', () => {
    const arb = fc
      .record({ m: fc.integer({ min: 1, max: 5 }), k: fc.integer({ min: 1, max: 5 }), n: fc.integer({ min: 1, max: 5 }), ba: fc.constantFrom([1], [3], [2, 1], [2, 3]), bb: fc.constantFrom([], [1], [3], [2, 3], [1, 3]) })
      .chain(({ m, k, n, ba, bb }) => fc.tuple(float32Tensor([...ba, m, k]), float32Tensor([...bb, k, n])));
    fc.assert(
      fc.property(arb, ([a, b]) => {
        expectClose(matmul(a, b), matmulLoop(a, b), ABS, REL);
      }),
    );
  });
  it('tile edges: M, N not multiples of 4 and larger K', () => {
    const arb = fc.tuple(float32Tensor([13, 37]), float32Tensor([37, 7]));
    fc.assert(
      fc.property(arb, ([a, b]) => {
        expectClose(matmul(a, b), matmulLoop(a, b), ABS, REL);
      }),
      { numRuns: 10 },
    );
  });
});

describe('matmul — laws', () => {
  it('(A·B)ᵀ = Bᵀ·Aᵀ bit-exactly (same products, same k order)', () => {
    const arb = mkn.chain(({ m, k, n }) => fc.tuple(float32Tensor([m, k]), float32Tensor([k, n])));
    fc.assert(
      fc.property(arb, ([a, b]) => {
        const lhs = permute(matmul(a, b), [1, 0]);
        const rhs = matmul(permute(b, [1, 0]), permute(a, [1, 0]));
        expect(Array.from(lhs.data)).toEqual(Array.from(rhs.data));
      }),
    );
  });
  it('A·I = A exactly (as values: −0 becomes +0 because the sum starts at +0)', () => {
    const arb = mkn.chain(({ m, k }) => float32Tensor([m, k]));
    fc.assert(
      fc.property(arb, (a) => {
        const k = a.shape[1]!;
        const eye = new Float32Array(k * k);
        for (let i = 0; i < k; i++) eye[i * k + i] = 1;
        const c = matmul(a, { dtype: 'float32', shape: [k, k], data: eye });
        expect(c.data.every((v, i) => v === a.data[i])).toBe(true);
      }),
    );
  });
  it('a batch broadcast over b equals per-batch products', () => {
    const arb = mkn.chain(({ m, k, n }) => fc.tuple(float32Tensor([3, m, k]), float32Tensor([k, n])));
    fc.assert(
      fc.property(arb, ([a, b]) => {
        const [, m, k] = a.shape as [number, number, number];
        const all = matmul(a, b);
        for (let t = 0; t < 3; t++) {
          const at: Tensor = { dtype: 'float32', shape: [m, k], data: a.data.slice(t * m * k, (t + 1) * m * k) };
          const part = matmul(at, b);
          expect(Array.from(all.data.subarray(t * part.data.length, (t + 1) * part.data.length))).toEqual(Array.from(part.data));
        }
      }),
    );
  });
});

describe('matmul — conformance', () => {
  it('float32 storage: 2^24 + 1 is not representable, fp64 accumulation then one rounding', () => {
    // Σ = 2^24 + 1 + 1 = 16777218 exactly in fp64 (representable in fp32); fp32 left-to-right accumulation would give 16777216
    const c = matmul(fromArray([1, 3], [16777216, 1, 1]), fromArray([3, 1], [1, 1, 1]));
    expect(c.data[0]).toBe(16777218);
  });
});
