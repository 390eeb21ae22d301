import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, type Tensor } from '../../src/tensor';
import { createFastBackend, referenceBackend, type FastBackend } from '../../src/kernels/backend';
import type { Conv2dAttrs } from '../../src/ops';

// Bound of a fused fast op gelu(op(x)) against the reference gelu(op(x)):
//  - the pre-activation differs by at most e₁ = (K + 4)·u·S (fp32 GEMM summation bound, see
//    backend.spec.ts; S = Σ|a·b| + |bias| computed by the reference op on absolute values);
//  - GELU is Lipschitz with constant max|gelu'| = 1.1289, so that becomes ≤ 1.13·e₁;
//  - the f32x4 erf-form kernel adds ≤ 4e-7·|x| + 1e-37 (rows.ts), and the reference's own fp32
//    store of gelu a relative u.
const U = 2 ** -24;
function expectGeluClose(fast: Tensor, ref: Tensor, pre: Tensor, absPre: Tensor, K: number): void {
  expect(fast.shape).toEqual(ref.shape);
  for (let i = 0; i < ref.data.length; i++) {
    const e1 = (K + 4) * U * absPre.data[i]! * 1.01;
    const bound = 1.13 * e1 + 4e-7 * (Math.abs(pre.data[i]!) + e1) + U * Math.abs(ref.data[i]!) + 1e-30;
    const err = Math.abs(fast.data[i]! - ref.data[i]!);
    if (!(err <= bound)) expect.fail(`out[${i}] fast ${fast.data[i]} vs reference ${ref.data[i]}: |Δ| = ${err} > ${bound}`);
  }
}
function rand(rng: ReturnType<typeof createRng>, shape: number[]): Tensor {
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.next() * 4 - 2;
  return { dtype: 'float32', shape, data: d };
}
const abs = (t: Tensor): Tensor => ({ dtype: 'float32', shape: t.shape, data: t.data.map(Math.abs) });

let fast: FastBackend;
beforeAll(async () => {
  fast = await createFastBackend({ threads: 2 });
});
afterAll(async () => {
  await fast.dispose();
});

describe('fused linearGelu / conv2dGelu — edge cases', () => {
  it('the reference backend’s fused ops are exactly gelu ∘ op', () => {
    const rng = createRng(4);
    const x = rand(rng, [3, 5]);
    const w = rand(rng, [4, 5]);
    expect(referenceBackend.linearGelu(x, w).data).toEqual(referenceBackend.gelu(referenceBackend.linear(x, w)).data);
  });
  it('errors are the unfused op’s', () => {
    const rng = createRng(5);
    expect(() => fast.linearGelu(rand(rng, [2, 3]), rand(rng, [4, 5]))).toThrow(/weight\.shape\[1\]/);
  });
});

describe('denseImagePe (cached) — oracle (reference op, bit-identical)', () => {
  it('equals the reference on repeated calls and sizes, and each call returns a fresh array', () => {
    const g = rand(createRng(9), [2, 8]);
    for (const size of [[4, 4], [3, 5], [4, 4]] as [number, number][]) {
      const f = fast.denseImagePe(g, size);
      expect(f.shape).toEqual(referenceBackend.denseImagePe(g, size).shape);
      expect(Buffer.from(f.data.buffer).equals(Buffer.from(referenceBackend.denseImagePe(g, size).data.buffer))).toBe(true);
      f.data[0] = 123; // a caller mutating its copy must not affect later calls
    }
    expect(fast.denseImagePe(g, [4, 4]).data[0]).toBe(referenceBackend.denseImagePe(g, [4, 4]).data[0]);
  });
});

describe('attentionProbs — oracle (reference softmax(scale·(q·kT) + bias))', () => {
  // Per row, the logits differ by at most δ = max_j [(K + 4)·u·|s|·S_j·1.01 + 2u·|logit_j|] (fp32 GEMM
  // bound, see backend.spec.ts; the scale and bias roundings may then land one ulp apart each), so
  // softmax moves by at most pᵢ·(e^{2δ} − 1); the f32x4 softmax kernel adds (|xᵢ − m| + C + 10)·u·pᵢ
  // (rows.spec.ts); 1.01 covers the first-order use of the reference pᵢ.
  it('matches the reference with and without a suffix bias, and with a general-broadcast bias (fallback)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom('none', 'suffix', 'general'), fc.integer({ min: 0, max: 1 << 30 }),
        (B, Hh, M, K, N, biasKind, seed) => {
          const rng = createRng(seed);
          const q = rand(rng, [B, Hh, M, K]);
          const kT = rand(rng, [B, Hh, K, N]);
          const bias = biasKind === 'none' ? undefined : biasKind === 'suffix' ? rand(rng, [Hh, M, N]) : rand(rng, [B, 1, M, N]);
          const s = 0.25 + rng.next();
          const ref = referenceBackend.attentionProbs(q, kT, s, bias);
          const fastP = fast.attentionProbs(q, kT, s, bias);
          expect(fastP.shape).toEqual(ref.shape);
          const mm = referenceBackend.matmul(q, kT);
          const absMm = referenceBackend.matmul(abs(q), abs(kT));
          const sc = referenceBackend.scale(mm, s);
          const logits = bias ? referenceBackend.add(sc, bias) : sc;
          for (let r = 0; r < ref.data.length / N; r++) {
            let delta = 0;
            let m = -Infinity;
            for (let j = 0; j < N; j++) {
              const i = r * N + j;
              delta = Math.max(delta, (K + 4) * U * s * absMm.data[i]! * 1.01 + 2 * U * Math.abs(logits.data[i]!));
              m = Math.max(m, logits.data[i]!);
            }
            for (let j = 0; j < N; j++) {
              const i = r * N + j;
              const p = ref.data[i]!;
              const bound = 1.01 * (p * Math.expm1(2 * delta) + (Math.abs(logits.data[i]! - m) + N + 10) * U * p) + 1e-37;
              const err = Math.abs(fastP.data[i]! - p);
              if (!(err <= bound)) expect.fail(`P[${i}] fast ${fastP.data[i]} vs ${p}: |Δ| = ${err} > ${bound}`);
            }
          }
        }),
    );
  });
  it('reference attentionProbs is bit-identical to the composition the models used before', () => {
    const rng = createRng(12);
    const q = rand(rng, [2, 5, 4]);
    const kT = rand(rng, [2, 4, 6]);
    const b = rand(rng, [5, 6]);
    const r = referenceBackend;
    expect(r.attentionProbs(q, kT, 0.5, b).data).toEqual(r.softmax(r.add(r.scale(r.matmul(q, kT), 0.5), b), { axis: -1 }).data);
    expect(r.attentionProbs(q, kT, 0.5).data).toEqual(r.softmax(r.scale(r.matmul(q, kT), 0.5), { axis: -1 }).data);
  });
});

describe('fused linearGelu / conv2dGelu — oracle (reference gelu ∘ op)', () => {
  it('linearGelu', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), fc.integer({ min: 0, max: 1 << 30 }), (M, K, N, withBias, seed) => {
        const rng = createRng(seed);
        const x = rand(rng, [M, K]);
        const w = rand(rng, [N, K]);
        const b = withBias ? rand(rng, [N]) : undefined;
        const pre = referenceBackend.linear(x, w, b);
        expectGeluClose(fast.linearGelu(x, w, b), referenceBackend.linearGelu(x, w, b), pre, referenceBackend.linear(abs(x), abs(w), b && abs(b)), K);
      }),
    );
  });
  it('conv2dGelu: groups 1 (GEMM), depthwise stride 1 (wasm), depthwise stride 2 (JS + gelu)', () => {
    fc.assert(
      fc.property(
        fc.record({ C: fc.integer({ min: 1, max: 6 }), O: fc.integer({ min: 1, max: 6 }), H: fc.integer({ min: 3, max: 12 }), W: fc.integer({ min: 3, max: 12 }), k: fc.constantFrom(1, 3), s: fc.constantFrom(1, 2), depthwise: fc.boolean(), withBias: fc.boolean(), seed: fc.integer({ min: 0, max: 1 << 30 }) }),
        ({ C, O, H, W, k, s, depthwise, withBias, seed }) => {
          const rng = createRng(seed);
          const o = depthwise ? C : O;
          const attrs: Conv2dAttrs = { stride: [s, s], padding: [(k - 1) / 2, (k - 1) / 2], dilation: [1, 1], groups: depthwise ? C : 1 };
          const x = rand(rng, [2, C, H, W]);
          const w = rand(rng, [o, depthwise ? 1 : C, k, k]);
          const b = withBias ? rand(rng, [o]) : undefined;
          const pre = referenceBackend.conv2d(x, w, b, attrs);
          const absPre = referenceBackend.conv2d(abs(x), abs(w), b && abs(b), attrs);
          expectGeluClose(fast.conv2dGelu(x, w, b, attrs), referenceBackend.conv2dGelu(x, w, b, attrs), pre, absPre, (depthwise ? 1 : C) * k * k);
        },
      ),
    );
  });
});
