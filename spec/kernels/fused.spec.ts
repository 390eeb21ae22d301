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
