/**
 * The reference multiHeadAttention op (src/ops/multi-head-attention.ts): against a naive float64 loop
 * written here, a law (key/value permutation), and bit-identity with the composition SAM's decoder
 * attention used before the op existed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, SpecError, view, type Tensor } from '../../src/tensor';
import { multiHeadAttention } from '../../src/ops/multi-head-attention';
import { attentionProbs, referenceBackend } from '../../src/ops/backend';
import { matmul, permute } from '../../src/ops';

const U = 2 ** -24;

function rand(seed: number, shape: number[]): Tensor {
  const rng = createRng(seed);
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.next() * 2 - 1;
  return { dtype: 'float32', shape, data: d };
}

/** Naive oracle: float64, one index formula per element. */
function naive(q: Tensor, k: Tensor, v: Tensor, H: number, s: number): Float64Array {
  const [B, Nq, C] = q.shape as [number, number, number];
  const [, Nk, Cv] = v.shape as [number, number, number];
  const d = C / H;
  const dv = Cv / H;
  const out = new Float64Array(B * Nq * Cv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Nq; i++) {
        const l: number[] = [];
        for (let j = 0; j < Nk; j++) {
          let dot = 0;
          for (let e = 0; e < d; e++) dot += q.data[(b * Nq + i) * C + h * d + e]! * k.data[(b * Nk + j) * C + h * d + e]!;
          l.push(dot * s);
        }
        const m = Math.max(...l);
        const ex = l.map((x) => Math.exp(x - m));
        const z = ex.reduce((a, c) => a + c, 0);
        for (let e = 0; e < dv; e++) {
          let o = 0;
          for (let j = 0; j < Nk; j++) o += (ex[j]! / z) * v.data[(b * Nk + j) * Cv + h * dv + e]!;
          out[(b * Nq + i) * Cv + h * dv + e] = o;
        }
      }
    }
  }
  return out;
}

describe('multiHeadAttention (reference) — edge cases', () => {
  it.each([
    ['rank 2 q', () => multiHeadAttention(rand(1, [3, 4]), rand(2, [1, 3, 4]), rand(3, [1, 3, 4]), 2, 1)],
    ['heads not dividing', () => multiHeadAttention(rand(1, [1, 3, 6]), rand(2, [1, 3, 6]), rand(3, [1, 3, 6]), 4, 1)],
    ['k/v token mismatch', () => multiHeadAttention(rand(1, [1, 3, 4]), rand(2, [1, 5, 4]), rand(3, [1, 3, 4]), 2, 1)],
    ['k width mismatch', () => multiHeadAttention(rand(1, [1, 3, 4]), rand(2, [1, 3, 6]), rand(3, [1, 3, 4]), 2, 1)],
    ['batch mismatch', () => multiHeadAttention(rand(1, [2, 3, 4]), rand(2, [1, 3, 4]), rand(3, [1, 3, 4]), 2, 1)],
    ['non-finite scale', () => multiHeadAttention(rand(1, [1, 3, 4]), rand(2, [1, 3, 4]), rand(3, [1, 3, 4]), 2, Infinity)],
  ])('%s: SpecError', (_n, call) => {
    expect(call).toThrow(SpecError);
  });
  it('one key: every query gets that key’s v', () => {
    const v = rand(3, [2, 1, 6]);
    const y = multiHeadAttention(rand(1, [2, 5, 4]), rand(2, [2, 1, 4]), v, 2, 0.5);
    for (let b = 0; b < 2; b++) for (let i = 0; i < 5; i++) for (let e = 0; e < 6; e++) expect(y.data[(b * 5 + i) * 6 + e]).toBe(v.data[b * 6 + e]);
  });
});

describe('multiHeadAttention (reference) — oracle', () => {
  // logits |l| ≤ d·s ≤ √5 < 3: the float32 stores of logits, P and Y move Y by ≤ (2·2·3 + 1 + 1)·u·max|v| = 14u (|v| ≤ 1); bound 64u.
  it('matches the naive float64 loop (Nq ≠ Nk, d ≠ dv)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1 << 30 }),
        (B, Nq, Nk, H, d, dv, seed) => {
          const q = rand(seed, [B, Nq, H * d]);
          const k = rand(seed + 1, [B, Nk, H * d]);
          const v = rand(seed + 2, [B, Nk, H * dv]);
          const s = 1 / Math.sqrt(d);
          const y = multiHeadAttention(q, k, v, H, s);
          expect(y.shape).toEqual([B, Nq, H * dv]);
          const o = naive(q, k, v, H, s);
          for (let i = 0; i < o.length; i++) if (!(Math.abs(y.data[i]! - o[i]!) <= 64 * U)) expect.fail(`y[${i}] ${y.data[i]} vs naive ${o[i]}`);
        }),
    );
  });
});

describe('multiHeadAttention (reference) — laws', () => {
  it('permuting keys and values together changes the output by summation order only (≤ 8u)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1 << 30 }), (Nk, H, seed) => {
        const rng = createRng(seed);
        const perm = Array.from({ length: Nk }, (_, i) => i);
        for (let i = Nk - 1; i > 0; i--) { const j = rng.int(i + 1); [perm[i], perm[j]] = [perm[j]!, perm[i]!]; }
        const C = 2 * H;
        const q = rand(seed, [1, 4, C]);
        const k = rand(seed + 1, [1, Nk, C]);
        const v = rand(seed + 2, [1, Nk, C]);
        const k2 = new Float32Array(k.data.length);
        const v2 = new Float32Array(v.data.length);
        for (let t = 0; t < Nk; t++) {
          k2.set(k.data.subarray(t * C, (t + 1) * C), perm[t]! * C);
          v2.set(v.data.subarray(t * C, (t + 1) * C), perm[t]! * C);
        }
        const y1 = multiHeadAttention(q, k, v, H, 0.7);
        const y2 = multiHeadAttention(q, { ...k, data: k2 }, { ...v, data: v2 }, H, 0.7);
        for (let i = 0; i < y1.data.length; i++) expect(Math.abs(y1.data[i]! - y2.data[i]!)).toBeLessThanOrEqual(8 * U);
      }),
    );
  });
});

describe('multiHeadAttention (reference) — conformance with the pre-op decoder composition', () => {
  it('bit-identical to permute/attentionProbs/matmul/permute', () => {
    const [B, Nq, Nk, H, d] = [2, 7, 13, 4, 4];
    const q = rand(1, [B, Nq, H * d]);
    const k = rand(2, [B, Nk, H * d]);
    const v = rand(3, [B, Nk, H * d]);
    const qh = permute(view(q, [B, Nq, H, d]), [0, 2, 1, 3]);
    const kt = permute(view(k, [B, Nk, H, d]), [0, 2, 3, 1]);
    const vh = permute(view(v, [B, Nk, H, d]), [0, 2, 1, 3]);
    const before = view(permute(matmul(attentionProbs(qh, kt, 1 / Math.sqrt(d)), vh), [0, 2, 1, 3]), [B, Nq, H * d]);
    expect(multiHeadAttention(q, k, v, H, 1 / Math.sqrt(d))).toEqual(before);
    expect(referenceBackend.multiHeadAttention(q, k, v, H, 1 / Math.sqrt(d))).toEqual(before);
  });
});
