/**
 * The reference qkvAttention op (src/ops/qkv-attention.ts): against a deliberately naive per-element
 * loop (written here, sharing no code with src), its algebraic laws, and bit-identity with the
 * attentionProbs composition TinyViT used before the op existed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, SpecError, view, type Tensor } from '../../src/tensor';
import { qkvAttention } from '../../src/ops/qkv-attention';
import { attentionProbs, referenceBackend } from '../../src/ops/backend';
import { matmul, permute, slice } from '../../src/ops';

const U = 2 ** -24;

function rand(seed: number, shape: number[], amp = 1): Tensor {
  const rng = createRng(seed);
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = (rng.next() * 2 - 1) * amp;
  return { dtype: 'float32', shape, data: d };
}

/** Naive oracle: float64 throughout, one index formula per element, bias by explicit suffix indexing. */
function naive(qkv: Tensor, s: number, bias?: Tensor): Float64Array {
  const [Bw, N, H, hd3] = qkv.shape as [number, number, number, number];
  const hd = hd3 / 3;
  const x = qkv.data;
  const at = (b: number, t: number, h: number, part: number, d: number): number => x[(((b * N + t) * H + h) * 3 + part) * hd + d]!;
  const out = new Float64Array(Bw * N * H * hd);
  for (let b = 0; b < Bw; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < N; i++) {
        const logit: number[] = [];
        for (let j = 0; j < N; j++) {
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += at(b, i, h, 0, d) * at(b, j, h, 1, d);
          let bv = 0;
          if (bias) {
            const full = [b, h, i, j];
            const r = bias.shape.length;
            let idx = 0;
            for (let a = 0; a < r; a++) idx = idx * bias.shape[a]! + full[4 - r + a]!;
            bv = bias.data[idx]!;
          }
          logit.push(dot * s + bv);
        }
        const m = Math.max(...logit);
        const e = logit.map((l) => Math.exp(l - m));
        const z = e.reduce((p, c) => p + c, 0);
        for (let d = 0; d < hd; d++) {
          let o = 0;
          for (let j = 0; j < N; j++) o += (e[j]! / z) * at(b, j, h, 2, d);
          out[(b * N + i) * H * hd + h * hd + d] = o;
        }
      }
    }
  }
  return out;
}

describe('qkvAttention (reference) — edge cases', () => {
  it.each([
    ['rank 3 qkv', () => qkvAttention(rand(1, [2, 3, 6]), 1)],
    ['last dim not 3·hd', () => qkvAttention(rand(1, [1, 3, 2, 4]), 1)],
    ['non-finite scale', () => qkvAttention(rand(1, [1, 3, 2, 6]), Number.NaN)],
    ['bias not a suffix', () => qkvAttention(rand(1, [1, 3, 2, 6]), 1, rand(2, [2, 3, 4]))],
    ['bias of wrong batch', () => qkvAttention(rand(1, [1, 3, 2, 6]), 1, rand(2, [2, 2, 3, 3]))],
    ['empty qkv', () => qkvAttention({ dtype: 'float32', shape: [0, 3, 2, 6], data: new Float32Array(0) }, 1)],
  ])('%s: SpecError', (_n, call) => {
    expect(call).toThrow(SpecError);
  });
  it('one token: the output is that token’s v (softmax of one logit is 1)', () => {
    const qkv = rand(3, [2, 1, 3, 12]);
    const y = qkvAttention(qkv, 0.7, rand(4, [3, 1, 1]));
    for (let b = 0; b < 2; b++) for (let h = 0; h < 3; h++) for (let d = 0; d < 4; d++) expect(y.data[(b * 3 + h) * 4 + d]).toBe(qkv.data[((b * 3 + h) * 3 + 2) * 4 + d]);
  });
});

describe('qkvAttention (reference) — oracle', () => {
  // |ref − naive| ≤ (N + hd + 8)·u·max|v|·4: the reference rounds logits, P and O to float32 (a
  // relative u each on inputs of size ≤ hd·s + |bias| ≤ 3 here, which moves each pᵢ by ≤ pᵢ·(2·3·u + 2u)),
  // then sums P·v in float64: |ΔO| ≤ Σ |Δpⱼ|·|vⱼ| + u·|O| ≤ (8·3 + 1)·u·max|v|. The stated bound is looser.
  it('matches the naive float64 loop on random shapes and bias suffixes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 1 << 30 }),
        (Bw, N, H, hd, biasRank, seed) => {
          const qkv = rand(seed, [Bw, N, H, 3 * hd]);
          const full = [Bw, H, N, N];
          const bias = biasRank === 0 ? undefined : rand(seed + 1, full.slice(4 - biasRank));
          const s = 1 / Math.sqrt(hd);
          const y = qkvAttention(qkv, s, bias);
          expect(y.shape).toEqual([Bw, N, H * hd]);
          const o = naive(qkv, s, bias);
          const bound = 64 * U;
          for (let i = 0; i < o.length; i++) if (!(Math.abs(y.data[i]! - o[i]!) <= bound)) expect.fail(`y[${i}] ${y.data[i]} vs naive ${o[i]} (> ${bound})`);
        }),
    );
  });
});

describe('qkvAttention (reference) — laws', () => {
  it('permuting the key/value tokens together leaves the output unchanged up to summation order (bias permuted alike)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1 << 30 }), (N, H, hd, seed) => {
        const rng = createRng(seed);
        const perm = Array.from({ length: N }, (_, i) => i);
        for (let i = N - 1; i > 0; i--) { const j = rng.int(i + 1); [perm[i], perm[j]] = [perm[j]!, perm[i]!]; }
        const qkv = rand(seed, [1, N, H, 3 * hd]);
        const bias = rand(seed + 1, [H, N, N]);
        // permuted copy: token j's k and v move to slot perm[j]; queries stay; bias columns follow
        const q2 = Float32Array.from(qkv.data);
        for (let t = 0; t < N; t++) for (let h = 0; h < H; h++) for (let d = hd; d < 3 * hd; d++) q2[((perm[t]! * H) + h) * 3 * hd + d] = qkv.data[(t * H + h) * 3 * hd + d]!;
        const b2 = new Float32Array(bias.data.length);
        for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) b2[(h * N + i) * N + perm[j]!] = bias.data[(h * N + i) * N + j]!;
        const y1 = qkvAttention(qkv, 0.5, bias);
        const y2 = qkvAttention({ ...qkv, data: q2 }, 0.5, { ...bias, data: b2 });
        // same terms in another order: float64 sums of float32 products, then one float32 rounding → ≤ 1 ulp apart (+ softmax sum reorder 2u)
        for (let i = 0; i < y1.data.length; i++) expect(Math.abs(y1.data[i]! - y2.data[i]!)).toBeLessThanOrEqual(8 * U);
      }),
    );
  });
});

describe('qkvAttention (reference) — conformance with the pre-op TinyViT composition', () => {
  it('bit-identical to slice/permute/attentionProbs/matmul/permute', () => {
    const qkv = rand(9, [3, 10, 2, 15]);
    const bias = rand(10, [2, 10, 10]);
    const [Bw, N, H, hd] = [3, 10, 2, 5];
    const q = permute(slice(qkv, [0, 0, 0, 0], [Bw, N, H, hd]), [0, 2, 1, 3]);
    const kT = permute(slice(qkv, [0, 0, 0, hd], [Bw, N, H, 2 * hd]), [0, 2, 3, 1]);
    const v = permute(slice(qkv, [0, 0, 0, 2 * hd], [Bw, N, H, 3 * hd]), [0, 2, 1, 3]);
    const before = view(permute(matmul(attentionProbs(q, kT, hd ** -0.5, bias), v), [0, 2, 1, 3]), [Bw, N, H * hd]);
    expect(qkvAttention(qkv, hd ** -0.5, bias)).toEqual(before);
    expect(referenceBackend.qkvAttention(qkv, hd ** -0.5, bias)).toEqual(before);
  });
});
