/**
 * The fast inner loops of the calibration searches (issue 7) compute the SAME numbers as plain loops:
 * the batched matmul (i-k-j order, zero rows of Q(P) skipped), the register-blocked linear layer, and the
 * LNQ search with its per-α numerators and per-clip dequantization table. Every comparison is exact
 * (toEqual on float32 arrays / identical float64 search results): the rewrites keep each output's float64
 * summation order, so no tolerance is needed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { linearF32, lpLossMean, matmulBatchedF32 } from '../../src/calib/lp-loss';
import { initLogTransform, observeLogTransform } from '../../src/calib/log-transform';
import { brentBounded } from '../../src/calib/brent';
import { fakeQuantLnq } from '../../src/quant/lnq';
import { SpecError, createRng, f32, tensor, type Tensor } from '../../src/tensor';
import { matmulLoop } from '../oracles/matmul-loop';

/** Naive y[r, o] = b[o] + Σ_i x[r, i]·W[o, i] (fp64 sum in i order, fp32 store). */
function linearLoop(x: Float32Array, inF: number, w: Tensor, b: Tensor | null): Float32Array {
  const out = w.shape[0]!, rows = x.length / inF;
  const y = new Float32Array(rows * out);
  for (let r = 0; r < rows; r++) for (let o = 0; o < out; o++) {
    let acc = b ? b.data[o]! : 0;
    for (let i = 0; i < inF; i++) acc += x[r * inF + i]! * w.data[o * inF + i]!;
    y[r * out + o] = acc;
  }
  return y;
}

/** Random float32 data with a share of exact zeros (and negative zeros), as quantized attention rows have. */
function sparse(seed: number, n: number, zeroShare: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng.next() < zeroShare ? (rng.next() < 0.5 ? 0 : -0) : f32(rng.normal())));
}

const dims = fc.record({ batch: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 9 }), k: fc.integer({ min: 1, max: 9 }), d: fc.integer({ min: 1, max: 7 }), seed: fc.integer({ min: 0, max: 1e6 }), zeros: fc.double({ min: 0, max: 1, noNaN: true }) });

describe('calibration search kernels — edge cases', () => {
  it('an all-zero Q(P) gives +0 outputs (never −0), as a plain loop started at +0 does', () => {
    const P = tensor([1, 2, 3], Float32Array.of(0, -0, 0, -0, 0, 0));
    const V = tensor([1, 3, 2], Float32Array.of(-1, 2, -3, 4, -5, 6));
    const out = matmulBatchedF32(P.data, P.shape, V);
    for (const v of out) expect(Object.is(v, 0)).toBe(true);
  });

  it('linearF32 handles row counts and output sizes that are not multiples of the 4×2 block', () => {
    for (const [rows, inF, out] of [[1, 1, 1], [3, 5, 1], [5, 2, 3], [9, 7, 5]] as const) {
      const x = sparse(rows * 100 + out, rows * inF, 0.2);
      const w = tensor([out, inF], sparse(inF + 7, out * inF, 0));
      const b = tensor([out], sparse(out + 3, out, 0));
      expect(linearF32(x, inF, w, b)).toEqual(linearLoop(x, inF, w, b));
      expect(linearF32(x, inF, w, null)).toEqual(linearLoop(x, inF, w, null));
    }
  });

  it('mismatched shapes and non-finite batches are SpecErrors', () => {
    const V = tensor([1, 3, 2], new Float32Array(6));
    expect(() => matmulBatchedF32(new Float32Array(4), [1, 2, 2], V)).toThrow(SpecError);
    expect(() => linearF32(new Float32Array(5), 2, tensor([3, 2], new Float32Array(6)), null)).toThrow(SpecError);
    const P = tensor([1, 2, 3], Float32Array.of(0.5, 0.5, NaN, 0.2, 0.3, 0.5));
    expect(() => observeLogTransform(initLogTransform({ bits: 4 }), P, V, { bits: 4 })).toThrow(SpecError);
  });
});

describe('calibration search kernels — oracle', () => {
  it('matmulBatchedF32 equals the naive matmul loop bit for bit (any share of zeros in A)', () => {
    fc.assert(
      fc.property(dims, ({ batch, n, k, d, seed, zeros }) => {
        const a = tensor([batch, n, k], sparse(seed, batch * n * k, zeros));
        const b = tensor([batch, k, d], sparse(seed + 1, batch * k * d, 0));
        expect(matmulBatchedF32(a.data, a.shape, b)).toEqual(matmulLoop(a, b).data);
      }),
    );
  });

  it('linearF32 equals the naive linear loop bit for bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 1e6 }), fc.boolean(), (rows, inF, out, seed, withBias) => {
        const x = sparse(seed, rows * inF, 0.3);
        const w = tensor([out, inF], sparse(seed + 1, out * inF, 0));
        const b = withBias ? tensor([out], sparse(seed + 2, out, 0)) : null;
        expect(linearF32(x, inF, w, b)).toEqual(linearLoop(x, inF, w, b));
      }),
    );
  });

  it('the LNQ search equals a naive search built from fakeQuantLnq per element (same Brent path, same scales)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 1e6 }), fc.constantFrom(3, 4, 6), (batch, n, m, seed, bits) => {
        const rng = createRng(seed);
        // softmax rows with a few exact zeros and some values at the row maximum
        const p = new Float32Array(batch * n * m);
        for (let r = 0; r < batch * n; r++) {
          const e = Array.from({ length: m }, () => (rng.next() < 0.2 ? 0 : Math.exp(3 * rng.normal())));
          const s = e.reduce((a, v) => a + v, 0) || 1;
          e.forEach((v, j) => { p[r * m + j] = f32(v / s); });
        }
        const P = tensor([batch, n, m], p);
        const V = tensor([batch, m, 3], sparse(seed + 5, batch * m * 3, 0));
        const alphas = [0.1, 5, 100];
        const got = observeLogTransform(initLogTransform({ bits, alphas }), P, V, { bits, alphas });
        const ref = matmulLoop(P, V).data;
        let xmax = -Infinity;
        for (const v of p) xmax = Math.max(xmax, v);
        if (!(xmax > 0)) return true; // an all-zero P is rejected by the observer (edge case above covers errors)
        const lo = Math.max(1e-4, 0.1 * xmax);
        alphas.forEach((alpha, j) => {
          const naive = brentBounded((sv) => {
            const q = Float32Array.from(p, (x) => fakeQuantLnq(x, { bits, s: f32(sv), alpha }));
            return lpLossMean(matmulLoop(tensor(P.shape, q), V).data, ref, 2.4);
          }, lo, xmax);
          expect(got.searches[0]![j]!.x).toBe(naive.x);
          expect(got.searches[0]![j]!.fun).toBe(naive.fun);
          expect(got.searches[0]![j]!.nfev).toBe(naive.nfev);
        });
        return true;
      }),
      { numRuns: 25 },
    );
  });
});

describe('calibration search kernels — laws', () => {
  it('linearF32 is row-permutation equivariant (exactly: rows are independent)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1e6 }), (rows, inF, out, seed) => {
        const x = sparse(seed, rows * inF, 0.1);
        const w = tensor([out, inF], sparse(seed + 1, out * inF, 0));
        const perm = Array.from({ length: rows }, (_, i) => (i * 5 + 3) % rows);
        if (new Set(perm).size !== rows) return true; // not a permutation for this row count
        const xp = new Float32Array(x.length);
        perm.forEach((src, r) => xp.set(x.subarray(src * inF, (src + 1) * inF), r * inF));
        const y = linearF32(x, inF, w, null), yp = linearF32(xp, inF, w, null);
        perm.forEach((src, r) => expect(Array.from(yp.subarray(r * out, (r + 1) * out))).toEqual(Array.from(y.subarray(src * out, (src + 1) * out))));
        return true;
      }),
    );
  });

  it('matmulBatchedF32: batches are independent (batch t of the output only depends on batch t)', () => {
    fc.assert(
      fc.property(dims, ({ batch, n, k, d, seed, zeros }) => {
        const a = sparse(seed, batch * n * k, zeros), b = sparse(seed + 1, batch * k * d, 0);
        const full = matmulBatchedF32(a, [batch, n, k], tensor([batch, k, d], b));
        for (let t = 0; t < batch; t++) {
          const one = matmulBatchedF32(a.subarray(t * n * k, (t + 1) * n * k), [1, n, k], tensor([1, k, d], b.subarray(t * k * d, (t + 1) * k * d)));
          expect(Array.from(full.subarray(t * n * d, (t + 1) * n * d))).toEqual(Array.from(one));
        }
      }),
    );
  });
});

// conformance: the LNQ / HLUQ / AGQ searches against the authors-reference observer vectors run in
// spec/calib/observers.spec.ts and spec/conformance (unchanged by these kernels; they still pass).
