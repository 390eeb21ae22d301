import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addDecomposedRelPos, getRelPos } from '../../src/nn/rel-pos';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { interpolateBilinearLoop } from '../oracles/interpolate-loop';
import { expectClose } from '../helpers/close';

describe('getRelPos / addDecomposedRelPos — edge cases', () => {
  it('q = k = 1: the single table entry', () => {
    expect(Array.from(getRelPos(1, 1, fromArray([1, 2], [5, 6])).data)).toEqual([5, 6]);
  });
  it('q ≠ k: q = 2, k = 4 uses coordinates 2i − j + 3 (official scaling by max(k/q, 1))', () => {
    const table = fromArray([7, 1], [0, 1, 2, 3, 4, 5, 6]);
    const r = getRelPos(2, 4, table);
    expect(r.shape).toEqual([2, 4, 1]);
    expect(Array.from(r.data)).toEqual([3, 2, 1, 0, 5, 4, 3, 2]);
  });
  it.each([
    ['qSize 0', () => getRelPos(0, 1, fromArray([1, 1], [0])), /qSize must be a positive integer/],
    ['attn shape mismatch', () => addDecomposedRelPos(fromArray([1, 4, 3], new Array(12).fill(0)), fromArray([1, 4, 2], new Array(8).fill(0)), fromArray([3, 2], new Array(6).fill(0)), fromArray([3, 2], new Array(6).fill(0)), [2, 2], [2, 2]), /attn.shape must be \[1,4,4\]/],
    ['head dim mismatch', () => addDecomposedRelPos(fromArray([1, 4, 4], new Array(16).fill(0)), fromArray([1, 4, 2], new Array(8).fill(0)), fromArray([3, 3], new Array(9).fill(0)), fromArray([3, 2], new Array(6).fill(0)), [2, 2], [2, 2]), /relPosH.shape\[1\] must equal q.shape\[2\] = 2/],
  ])('%s → SpecError', (_n, call, msg) => {
    expect(call).toThrow(SpecError);
    expect(call).toThrow(msg);
  });
});

describe('getRelPos / addDecomposedRelPos — oracle', () => {
  it('q = k = S: out[i, j] = table[i − j + S − 1] exactly', () => {
    const arb = fc.record({ s: fc.integer({ min: 1, max: 8 }), c: fc.integer({ min: 1, max: 4 }) }).chain(({ s, c }) => float32Tensor([2 * s - 1, c]));
    fc.assert(
      fc.property(arb, (t) => {
        const S = (t.shape[0]! + 1) / 2;
        const C = t.shape[1]!;
        const r = getRelPos(S, S, t);
        for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) for (let c = 0; c < C; c++) expect(r.data[(i * S + j) * C + c]).toBe(t.data[(i - j + S - 1) * C + c]);
      }),
    );
  });
  it('table of another length is linearly resized (align_corners=False) to 2S − 1 first', () => {
    const arb = fc.record({ l: fc.integer({ min: 1, max: 9 }), s: fc.integer({ min: 1, max: 7 }), c: fc.integer({ min: 1, max: 3 }) }).chain(({ l, s, c }) => fc.tuple(float32Tensor([l, c]), fc.constant(s)));
    fc.assert(
      fc.property(arb, ([t, S]) => {
        const [L, C] = t.shape as [number, number];
        const D = 2 * S - 1;
        // oracle: treat the table as a [1, C, 1, L] image resized to [1, D] (height 1 → pure 1-D linear)
        const img: Tensor = { dtype: 'float32', shape: [1, C, 1, L], data: Float32Array.from({ length: C * L }, (_, k) => t.data[(k % L) * C + Math.floor(k / L)]!) };
        const rs = interpolateBilinearLoop(img, 1, D);
        const expected = new Float32Array(S * S * C);
        for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) for (let c = 0; c < C; c++) expected[(i * S + j) * C + c] = rs.data[c * D + (i - j + S - 1)]!;
        // float32 (src, as PyTorch) vs fp64 (oracle) source coordinates: scale rounding (6e-8 rel × o ≤ 13) plus
        // two roundings of src < 16 (≤ 4.8e-7 each) → |Δλ| ≤ 2e-6; × |t[i1] − t[i0]| ≤ 8 → 1.6e-5 (2e-5 allowed)
        expectClose(getRelPos(S, S, t), { shape: [S, S, C], data: expected }, 2e-5, 0);
      }),
    );
  });
  it('addDecomposedRelPos adds q·Rh[qy − ky + S − 1] + q·Rw[qx − kx + S − 1] per element', () => {
    const arb = fc
      .record({ b: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 3 }), w: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 4 }) })
      .chain(({ b, h, w, c }) => fc.tuple(float32Tensor([b, h * w, h * w]), float32Tensor([b, h * w, c]), float32Tensor([2 * h - 1, c]), float32Tensor([2 * w - 1, c]), fc.constant([h, w] as [number, number])));
    fc.assert(
      fc.property(arb, ([attn, q, rh, rw, [H, W]]) => {
        const B = q.shape[0]!;
        const C = q.shape[2]!;
        const N = H * W;
        const expected = new Float32Array(attn.data.length);
        for (let b = 0; b < B; b++)
          for (let t = 0; t < N; t++)
            for (let u = 0; u < N; u++) {
              const [ty, tx, uy, ux] = [Math.floor(t / W), t % W, Math.floor(u / W), u % W];
              let sh = 0;
              let sw = 0;
              for (let c = 0; c < C; c++) {
                sh += q.data[(b * N + t) * C + c]! * rh.data[(ty - uy + H - 1) * C + c]!;
                sw += q.data[(b * N + t) * C + c]! * rw.data[(tx - ux + W - 1) * C + c]!;
              }
              expected[(b * N + t) * N + u] = attn.data[(b * N + t) * N + u]! + sh + sw;
            }
        // oracle adds in fp64 once; src rounds relH, relW, attn + relH to fp32 (as PyTorch): ≤ 3 roundings of
        // magnitude ≤ 4 + 2·16·C ≤ 132 → 3·ulp(128)/2 ≈ 2.3e-5 (3e-5 allowed)
        expectClose(addDecomposedRelPos(attn, q, rh, rw, [H, W], [H, W]), { shape: attn.shape, data: expected }, 3e-5, 0);
      }),
    );
  });
});

describe('getRelPos / addDecomposedRelPos — laws', () => {
  it('Toeplitz: out[i, j] depends only on i − j when q = k', () => {
    const arb = fc.record({ s: fc.integer({ min: 2, max: 6 }) }).chain(({ s }) => float32Tensor([2 * s - 1, 2]));
    fc.assert(
      fc.property(arb, (t) => {
        const S = (t.shape[0]! + 1) / 2;
        const r = getRelPos(S, S, t);
        for (let i = 1; i < S; i++) for (let j = 1; j < S; j++) for (let c = 0; c < 2; c++) expect(r.data[(i * S + j) * 2 + c]).toBe(r.data[((i - 1) * S + j - 1) * 2 + c]);
      }),
    );
  });
  it('zero tables leave the logits unchanged', () => {
    const arb = fc.tuple(float32Tensor([1, 4, 4]), float32Tensor([1, 4, 3]));
    fc.assert(
      fc.property(arb, ([attn, q]) => {
        const z = fromArray([3, 3], new Array(9).fill(0));
        const y = addDecomposedRelPos(attn, q, z, z, [2, 2], [2, 2]);
        expect(y.data.every((v, i) => v === attn.data[i])).toBe(true);
      }),
    );
  });
});

describe('getRelPos / addDecomposedRelPos — conformance', () => {
  it('covered end-to-end by the vit-tiny fixture (spec/nn/attention.spec.ts, spec/sam/image-encoder-vit.spec.ts): rel_pos tables [27,16] and [39,16]', () => {
    // official shapes: 2·14 − 1 = 27 (windowed), 2·20 − 1 = 39 (global, 20×20 tokens) → no resize path
    expect(getRelPos(14, 14, fromArray([27, 1], new Array(27).fill(0))).shape).toEqual([14, 14, 1]);
    expect(getRelPos(20, 20, fromArray([39, 1], new Array(39).fill(0))).shape).toEqual([20, 20, 1]);
  });
});
