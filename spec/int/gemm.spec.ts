import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { gemmUniform, gemmCag, gemmHluq, weightRowSums } from '../../src/int/gemm';
import { SpecError, type Tensor } from '../../src/tensor';

const i32 = (shape: number[], v: number[]): Tensor<'int32'> => ({ dtype: 'int32', shape, data: Int32Array.from(v) });

/** Arbitrary GEMM operands: codes in [0, 2^b), weight zero points per row. */
const operands = fc
  .record({ M: fc.integer({ min: 1, max: 5 }), K: fc.integer({ min: 1, max: 13 }), N: fc.integer({ min: 1, max: 6 }), b: fc.integer({ min: 2, max: 8 }) })
  .chain(({ M, K, N, b }) =>
    fc.record({
      M: fc.constant(M), K: fc.constant(K), N: fc.constant(N), b: fc.constant(b),
      x: fc.array(fc.integer({ min: 0, max: 2 ** b - 1 }), { minLength: M * K, maxLength: M * K }),
      w: fc.array(fc.integer({ min: 0, max: 2 ** b - 1 }), { minLength: N * K, maxLength: N * K }),
      zw: fc.array(fc.integer({ min: 0, max: 2 ** b - 1 }), { minLength: N, maxLength: N }),
      zx: fc.integer({ min: 0, max: 2 ** b - 1 }),
    }),
  );

describe('integer GEMMs — exact', () => {
  describe('edge cases', () => {
    it('rejects mismatched K and wrong zero-point length', () => {
      expect(() => gemmUniform({ x: i32([1, 2], [1, 2]), w: i32([1, 3], [1, 2, 3]), zw: Int32Array.of(0) }, 0)).toThrow(SpecError);
      expect(() => gemmUniform({ x: i32([1, 2], [1, 2]), w: i32([1, 2], [1, 2]), zw: Int32Array.of(0, 1) }, 0)).toThrow(/zw.length/);
    });
    it('zero codes at the zero point contribute nothing', () => {
      const acc = gemmUniform({ x: i32([1, 3], [5, 5, 5]), w: i32([2, 3], [1, 2, 3, 4, 5, 6]), zw: Int32Array.of(0, 0) }, 5);
      expect(Array.from(acc.data)).toEqual([0, 0]);
    });
  });
  describe('laws', () => {
    it('CAG with one group equals the uniform GEMM; with G groups the partial sums add up to the uniform GEMM when all Z_g are equal', () => {
      fc.assert(
        fc.property(operands, fc.integer({ min: 1, max: 4 }), (o, G) => {
          const x = i32([o.M, o.K], o.x), w = i32([o.N, o.K], o.w), zw = Int32Array.from(o.zw);
          const uni = gemmUniform({ x, w, zw }, o.zx);
          const one = gemmCag({ x, w, zw }, { starts: [0, o.K], zeroPoints: [o.zx] });
          expect(Array.from(one.data)).toEqual(Array.from(uni.data));
          const starts = [0];
          for (let g = 1; g < G; g++) starts.push(Math.floor((g * o.K) / G));
          starts.push(o.K);
          const parts = gemmCag({ x, w, zw }, { starts, zeroPoints: new Array(G).fill(o.zx) });
          const sum = new Array(o.M * o.N).fill(0);
          for (let g = 0; g < G; g++) for (let i = 0; i < o.M * o.N; i++) sum[i] += parts.data[g * o.M * o.N + i]!;
          expect(sum).toEqual(Array.from(uni.data));
        }),
      );
    });
    it('HLUQ accumulators reproduce Σ W̃·value(code) exactly (value in units of s_log·2^−(Llog−1) and s_uni)', () => {
      fc.assert(
        fc.property(operands, fc.integer({ min: 1, max: 3 }), (o, gsel) => {
          const lLog = 2 ** o.b / 2 ** gsel; // g = 1/2, 1/4, 1/8
          fc.pre(lLog >= 1 && lLog <= 16);
          const x = i32([o.M, o.K], o.x), w = i32([o.N, o.K], o.w), zw = Int32Array.from(o.zw);
          const sLog = 0.75, sUni = 0.1; // any reals: the identity is linear in them
          const { accLog, accUni } = gemmHluq({ x, w, zw }, { bits: o.b, lLog });
          for (let m = 0; m < o.M; m++) for (let n = 0; n < o.N; n++) {
            let ref = 0;
            for (let k = 0; k < o.K; k++) {
              const c = o.x[m * o.K + k]!;
              const val = c === 0 ? 0 : c < lLog ? sLog * 2 ** -(lLog - c) : sLog + (c - lLog) * sUni;
              ref += (o.w[n * o.K + k]! - o.zw[n]!) * val;
            }
            const got = sLog * 2 ** -(lLog - 1) * accLog.data[m * o.N + n]! + sUni * accUni.data[m * o.N + n]!;
            expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(ref)));
          }
        }),
      );
    });
    it('row sums fold an activation offset: Σ W̃·(x + c) = Σ W̃·x + c·ΣW̃', () => {
      fc.assert(
        fc.property(operands, (o) => {
          const x = i32([o.M, o.K], o.x), w = i32([o.N, o.K], o.w), zw = Int32Array.from(o.zw);
          const a = gemmUniform({ x, w, zw }, o.zx);
          const b = gemmUniform({ x, w, zw }, 0);
          const rs = weightRowSums(w, zw);
          for (let m = 0; m < o.M; m++) for (let n = 0; n < o.N; n++) {
            if (a.data[m * o.N + n] !== b.data[m * o.N + n]! - o.zx * rs[n]!) return false;
          }
          return true;
        }),
      );
    });
  });
});

import { gemmLnqPv, lnqDecodeFixed } from '../../src/int/gemm';

describe('LNQ attention-value product — exact', () => {
  it('equals Σ D[p]·(v − zv) computed naively, and the fixed table is within 2^−(F+1) of p̂', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (M, T, D, vals, zv, seed) => {
          const table = lnqDecodeFixed(vals, 15);
          for (let q = 0; q < 16; q++) expect(Math.abs(table[q]! * 2 ** -15 - vals[q]!)).toBeLessThanOrEqual(2 ** -16);
          let s = seed >>> 0;
          const rnd = (n: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % n; };
          const p = Int32Array.from({ length: M * T }, () => rnd(16));
          const v = Int32Array.from({ length: T * D }, () => rnd(16));
          const acc = gemmLnqPv({ dtype: 'int32', shape: [M, T], data: p }, table, { dtype: 'int32', shape: [T, D], data: v }, zv);
          for (let m = 0; m < M; m++) for (let d = 0; d < D; d++) {
            let ref = 0;
            for (let t = 0; t < T; t++) ref += table[p[m * T + t]!]! * (v[t * D + d]! - zv);
            if (acc.data[m * D + d] !== ref) return false;
          }
          return true;
        },
      ),
    );
  });
  it('rejects codes outside the table', () => {
    expect(() => gemmLnqPv({ dtype: 'int32', shape: [1, 1], data: Int32Array.of(16) }, new Int32Array(16), { dtype: 'int32', shape: [1, 1], data: Int32Array.of(0) }, 0)).toThrow(/be a code in \[0, 15\]/);
  });
});
