/**
 * The fast fused qkvAttention (src/kernels/attention.ts) against the reference op on random shapes,
 * including token counts and head dims that are not multiples of the 4×8 GEMM tile or of 4 (softmax
 * row padding), every bias suffix, both thread counts, and inside a resident scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, SpecError, type Tensor } from '../../src/tensor';
import { createFastBackend, referenceBackend, type FastBackend } from '../../src/kernels/backend';
import { matmul, permute, scale, slice, add, softmax } from '../../src/ops';
import { expectSameSpecError } from './same-error';

const U = 2 ** -24;

function rand(seed: number, shape: number[], amp = 1): Tensor {
  const rng = createRng(seed);
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = (rng.next() * 2 - 1) * amp;
  return { dtype: 'float32', shape, data: d };
}
const abs = (t: Tensor): Tensor => ({ ...t, data: t.data.map(Math.abs) });

/**
 * Bound of |fast − reference| per output element. Logits: the fast GEMM sums hd products in float32,
 * |Δl| ≤ δ = (hd + 4)·u·s·Σ|q·k|·1.01 + 2u·|l| (as attentionProbs in fused.spec.ts); P then moves by
 * ≤ εⱼ = pⱼ·(e^{2δ} − 1) + (|lⱼ − m| + N + 10)·u·pⱼ (softmax kernel, rows.spec.ts). O = Σ pⱼvⱼ in
 * float32: |ΔO| ≤ Σ εⱼ|vⱼ| + (N + 5)·u·Σ (pⱼ + εⱼ)|vⱼ| (GEMM bound + the reference's own O store).
 */
function expectClose(qkv: Tensor, s: number, bias: Tensor | undefined, fastY: Tensor, refY: Tensor): void {
  const [Bw, N, H, hd3] = qkv.shape as [number, number, number, number];
  const hd = hd3 / 3;
  const q = permute(slice(qkv, [0, 0, 0, 0], [Bw, N, H, hd]), [0, 2, 1, 3]);
  const kT = permute(slice(qkv, [0, 0, 0, hd], [Bw, N, H, 2 * hd]), [0, 2, 3, 1]);
  const v = permute(slice(qkv, [0, 0, 0, 2 * hd], [Bw, N, H, 3 * hd]), [0, 2, 1, 3]); // [Bw, H, N, hd]
  expectHeadsClose(q, kT, v, s, bias, fastY, refY);
}

/** The bound above for head-split operands q [Bn, H, Nq, d], kT [Bn, H, d, Nk], v [Bn, H, Nk, dv]; outputs [Bn, Nq, H·dv]. */
function expectHeadsClose(q: Tensor, kT: Tensor, v: Tensor, s: number, bias: Tensor | undefined, fastY: Tensor, refY: Tensor): void {
  const [Bw, H, N, hd] = q.shape as [number, number, number, number];
  const Nk = kT.shape[3]!;
  const dv = v.shape[3]!;
  expect(fastY.shape).toEqual(refY.shape);
  const sc = scale(matmul(q, kT), s);
  const logits = bias ? add(sc, bias) : sc;
  const p = softmax(logits, { axis: -1 });
  const absMm = matmul(abs(q), abs(kT));
  for (let b = 0; b < Bw; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < N; i++) {
        const r = ((b * H + h) * N + i) * Nk;
        let delta = 0;
        let m = -Infinity;
        for (let j = 0; j < Nk; j++) {
          delta = Math.max(delta, (hd + 4) * U * s * absMm.data[r + j]! * 1.01 + 2 * U * Math.abs(logits.data[r + j]!));
          m = Math.max(m, logits.data[r + j]!);
        }
        const eps: number[] = [];
        for (let j = 0; j < Nk; j++) {
          const pj = p.data[r + j]!;
          eps.push(1.01 * (pj * Math.expm1(2 * delta) + (Math.abs(logits.data[r + j]! - m) + Nk + 10) * U * pj) + 1e-37);
        }
        for (let d = 0; d < dv; d++) {
          let bound = 0;
          for (let j = 0; j < Nk; j++) {
            const vj = Math.abs(v.data[((b * H + h) * Nk + j) * dv + d]!);
            bound += eps[j]! * vj + (Nk + 5) * U * (p.data[r + j]! + eps[j]!) * vj;
          }
          bound = bound * 1.01 + 1e-30;
          const o = (b * N + i) * H * dv + h * dv + d;
          const err = Math.abs(fastY.data[o]! - refY.data[o]!);
          if (!(err <= bound)) expect.fail(`y[${o}] fast ${fastY.data[o]} vs reference ${refY.data[o]}: |Δ| = ${err} > ${bound}`);
        }
      }
    }
  }
}

let fast1: FastBackend;
let fast2: FastBackend;
beforeAll(async () => {
  fast1 = await createFastBackend({ threads: 1 });
  fast2 = await createFastBackend({ threads: 2 });
});
afterAll(async () => {
  await fast1.dispose();
  await fast2.dispose();
});

describe('qkvAttention (fast) — edge cases', () => {
  it.each([
    ['rank 3 qkv', (b: typeof referenceBackend) => b.qkvAttention(rand(1, [2, 3, 6]), 1)],
    ['last dim not 3·hd', (b: typeof referenceBackend) => b.qkvAttention(rand(1, [1, 3, 2, 4]), 1)],
    ['infinite scale', (b: typeof referenceBackend) => b.qkvAttention(rand(1, [1, 3, 2, 6]), Infinity)],
    ['bias not a suffix', (b: typeof referenceBackend) => b.qkvAttention(rand(1, [1, 3, 2, 6]), 1, rand(2, [3, 3, 3]))],
  ])('%s: the fast op throws the reference SpecError message', (_n, call) => {
    expectSameSpecError(call, fast1);
  });
  it('one token per item: the output is exactly v (softmax of one logit is exactly 1)', () => {
    const qkv = rand(5, [3, 1, 2, 9]);
    const y = fast2.qkvAttention(qkv, 0.3, rand(6, [2, 1, 1]));
    for (let b = 0; b < 3; b++) for (let h = 0; h < 2; h++) for (let d = 0; d < 3; d++) expect(y.data[(b * 2 + h) * 3 + d]).toBe(qkv.data[((b * 2 + h) * 3 + 2) * 3 + d]);
  });
});

describe('qkvAttention (fast) — oracle (reference op)', () => {
  it('random shapes (N, hd off the tile), every bias suffix, 1 and 2 threads', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 53 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.integer({ min: 0, max: 1 << 30 }),
        (Bw, N, H, hd, biasRank, two, seed) => {
          const qkv = rand(seed, [Bw, N, H, 3 * hd], 2);
          const bias = biasRank === 0 ? undefined : rand(seed + 1, [Bw, H, N, N].slice(4 - biasRank));
          const s = hd ** -0.5;
          expectClose(qkv, s, bias, (two ? fast2 : fast1).qkvAttention(qkv, s, bias), referenceBackend.qkvAttention(qkv, s, bias));
        }),
      { numRuns: 60 },
    );
  });
  it('TinyViT-sized windows (49 and 196 tokens, hd 32, many items: the GEMM batch is split by items over threads)', () => {
    for (const [Bw, N, H] of [[40, 49, 4], [3, 196, 5]] as const) {
      const qkv = rand(Bw * N, [Bw, N, H, 96], 2);
      const bias = rand(N, [H, N, N], 3);
      const s = 32 ** -0.5;
      expectClose(qkv, s, bias, fast2.qkvAttention(qkv, s, bias), referenceBackend.qkvAttention(qkv, s, bias));
    }
  });
});

describe('multiHeadAttention (fast) — oracle (reference op)', () => {
  it('random shapes (Nq ≠ Nk, d ≠ dv, off the tile), 1 and 2 threads', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 45 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 17 }), fc.boolean(), fc.integer({ min: 0, max: 1 << 30 }),
        (B, Nq, Nk, H, d, dv, two, seed) => {
          const q = rand(seed, [B, Nq, H * d], 2);
          const k = rand(seed + 1, [B, Nk, H * d], 2);
          const v = rand(seed + 2, [B, Nk, H * dv]);
          const s = d ** -0.5;
          const fastY = (two ? fast2 : fast1).multiHeadAttention(q, k, v, H, s);
          const refY = referenceBackend.multiHeadAttention(q, k, v, H, s);
          const qh = permute({ ...q, shape: [B, Nq, H, d] }, [0, 2, 1, 3]);
          const kT = permute({ ...k, shape: [B, Nk, H, d] }, [0, 2, 3, 1]);
          const vh = permute({ ...v, shape: [B, Nk, H, dv] }, [0, 2, 1, 3]);
          expectHeadsClose(qh, kT, vh, s, undefined, fastY, refY);
        }),
      { numRuns: 60 },
    );
  });
  it('SAM decoder shapes: 7 tokens × 4096 image keys and back (K = 4096 > one 256-step GEMM block), 8 heads of 16', () => {
    for (const [Nq, Nk] of [[7, 4096], [4096, 7]] as const) {
      const q = rand(Nq, [1, Nq, 128], 2);
      const k = rand(Nk, [1, Nk, 128], 2);
      const v = rand(3, [1, Nk, 128]);
      const qh = permute({ ...q, shape: [1, Nq, 8, 16] }, [0, 2, 1, 3]);
      const kT = permute({ ...k, shape: [1, Nk, 8, 16] }, [0, 2, 3, 1]);
      const vh = permute({ ...v, shape: [1, Nk, 8, 16] }, [0, 2, 1, 3]);
      expectHeadsClose(qh, kT, vh, 0.25, undefined, fast2.multiHeadAttention(q, k, v, 8, 0.25), referenceBackend.multiHeadAttention(q, k, v, 8, 0.25));
    }
  });
  it.each([
    ['heads not dividing', (b: typeof referenceBackend) => b.multiHeadAttention(rand(1, [1, 3, 6]), rand(2, [1, 3, 6]), rand(3, [1, 3, 6]), 4, 1)],
    ['k/v token mismatch', (b: typeof referenceBackend) => b.multiHeadAttention(rand(1, [1, 3, 4]), rand(2, [1, 5, 4]), rand(3, [1, 3, 4]), 2, 1)],
  ])('%s: the fast op throws the reference SpecError message', (_n, call) => {
    expectSameSpecError(call, fast1);
  });
});

describe('qkvAttention (fast) — laws', () => {
  it('inside a resident scope, bit-identical to outside; deterministic across calls', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1 << 30 }), (Bw, N, H, hd, seed) => {
        const qkv = rand(seed, [Bw, N, H, 3 * hd]);
        const bias = rand(seed + 1, [H, N, N]);
        const a = fast2.qkvAttention(qkv, 0.4, bias);
        const b = fast2.scoped!(() => fast2.qkvAttention(fast2.add(qkv, { ...qkv, data: new Float32Array(qkv.data.length) }), 0.4, bias));
        expect(Array.from(b.data)).toEqual(Array.from(a.data));
        expect(Array.from(fast2.qkvAttention(qkv, 0.4, bias).data)).toEqual(Array.from(a.data));
      }),
      { numRuns: 30 },
    );
  });
});
