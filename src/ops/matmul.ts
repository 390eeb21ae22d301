/**
 * Matrix product with NumPy-style broadcasting of the leading (batch) dims.
 *
 * Legend: M rows of a, K reduction length, N columns of b; batch dims broadcast.
 */
import { numel, specRequire, type Tensor } from '../tensor';
import { broadcastIndex, broadcastShapes } from './broadcast';
import { requireInput, requireRank } from './check';

// MAIN

/**
 * GEMM kernel: `c[M, N] = bias + a[M, K] · b[K, N]` on flat row-major arrays at the given offsets.
 * Exported for linear/conv (not part of the op API).
 *
 * Blocking (for speed only; the arithmetic is the plain k-ascending fp64 sum): b is packed into
 * float64 column panels of 4, and each 4×4 output tile keeps its 16 accumulators in locals, so every
 * loaded a and b value feeds four products. Rows/columns beyond M/N are clamped reads / skipped writes.
 * @source PyTorch torch.addmm semantics (c = bias + a·b)
 * @equation c[i, j] = bias[j] + Σ_k a[i, k] · b[k, j]
 * @deviation none
 * @precision fp64-accumulate (from bias[j] or 0, then k ascending), fp32-store
 */
export function gemmInto(
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  M: number,
  K: number,
  N: number,
  bias?: Float32Array,
): void {
  // (1) pack b: panel jp holds columns 4·jp … 4·jp+3, k-major: bp[(jp·K + k)·4 + jj] = b[k, 4·jp + jj]
  const NP = Math.ceil(N / 4);
  const bp = new Float64Array(NP * K * 4);
  for (let k = 0; k < K; k++) {
    const row = bOff + k * N;
    for (let j = 0; j < N; j++) bp[((j >> 2) * K + k) * 4 + (j & 3)] = b[row + j]!;
  }
  const b0s = new Float64Array(NP * 4); // accumulator start values (bias or 0)
  if (bias !== undefined) for (let j = 0; j < N; j++) b0s[j] = bias[j]!;
  // (2) 4×4 output tiles
  for (let i0 = 0; i0 < M; i0 += 4) {
    const p0 = aOff + i0 * K; // row offsets of a (clamped to the last row past M)
    const p1 = aOff + Math.min(i0 + 1, M - 1) * K;
    const p2 = aOff + Math.min(i0 + 2, M - 1) * K;
    const p3 = aOff + Math.min(i0 + 3, M - 1) * K;
    for (let jp = 0; jp < NP; jp++) {
      const j0 = jp * 4;
      let c00 = b0s[j0]!, c01 = b0s[j0 + 1]!, c02 = b0s[j0 + 2]!, c03 = b0s[j0 + 3]!;
      let c10 = c00, c11 = c01, c12 = c02, c13 = c03;
      let c20 = c00, c21 = c01, c22 = c02, c23 = c03;
      let c30 = c00, c31 = c01, c32 = c02, c33 = c03;
      let q = jp * K * 4;
      for (let k = 0; k < K; k++, q += 4) {
        const y0 = bp[q]!, y1 = bp[q + 1]!, y2 = bp[q + 2]!, y3 = bp[q + 3]!;
        const x0 = a[p0 + k]!, x1 = a[p1 + k]!, x2 = a[p2 + k]!, x3 = a[p3 + k]!;
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      // (3) store the tile (fp32 rounding happens here); partial tiles at the M/N edges store only valid entries
      if (i0 + 4 <= M && j0 + 4 <= N) {
        let o = cOff + i0 * N + j0;
        c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += N;
        c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += N;
        c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += N;
        c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
      } else {
        const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        const cols = Math.min(4, N - j0);
        for (let r = 0; r < 4 && i0 + r < M; r++) {
          const o = cOff + (i0 + r) * N + j0;
          for (let jj = 0; jj < cols; jj++) c[o + jj] = tile[r * 4 + jj]!;
        }
      }
    }
  }
}

/** Geometry of a validated batched matmul: sizes, broadcast batch shape and per-product operand indices. */
export interface MatmulGeometry {
  readonly M: number; readonly K: number; readonly N: number;
  readonly aBatch: readonly number[]; readonly bBatch: readonly number[]; readonly batch: readonly number[];
  readonly nb: number; readonly ia: ArrayLike<number>; readonly ib: ArrayLike<number>;
}

/**
 * The preconditions of `matmul` (shared with every backend's matmul so errors are identical) and the
 * broadcast geometry they imply.
 * @source NumPy numpy.matmul (batch broadcasting)
 * @equation batch = broadcast(a.shape[:-2], b.shape[:-2]); a.shape[-1] = b.shape[-2] = K
 * @deviation none
 * @precision exact
 */
export function matmulGeometry(a: Tensor, b: Tensor): MatmulGeometry {
  const fn = 'matmul';
  requireInput(fn, 'a', a);
  requireInput(fn, 'b', b);
  requireRank(fn, 'a', a, 2, true);
  requireRank(fn, 'b', b, 2, true);
  const M = a.shape[a.shape.length - 2]!;
  const K = a.shape[a.shape.length - 1]!;
  const Kb = b.shape[b.shape.length - 2]!;
  const N = b.shape[b.shape.length - 1]!;
  specRequire(K === Kb, { fn, what: 'b.shape[-2]', rule: `equal a.shape[-1] = ${K}`, got: Kb });
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(fn, aBatch, bBatch);
  const nb = numel(batch);
  const ia = broadcastIndex(aBatch, batch);
  const ib = broadcastIndex(bBatch, batch);
  return { M, K, N, aBatch, bBatch, batch, nb, ia, ib };
}

/**
 * Matrix product `a @ b` of float32 tensors: [..., M, K] × [..., K, N] → [..., M, N], batch dims broadcast.
 * @source NumPy numpy.matmul / PyTorch torch.matmul (rank ≥ 2 operands)
 * @equation c[…, i, j] = Σ_k a[…, i, k] · b[…, k, j]
 * @deviation rank-1 operands (vector promotion) are not supported: both operands must have rank ≥ 2.
 *   NaN/±∞ propagate as in IEEE arithmetic.
 * @precision fp64-accumulate (k ascending), fp32-store
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const { M, K, N, batch, nb, ia, ib } = matmulGeometry(a, b);
  const out = new Float32Array(nb * M * N);
  for (let t = 0; t < nb; t++) {
    gemmInto(a.data, ia[t]! * M * K, b.data, ib[t]! * K * N, out, t * M * N, M, K, N);
  }
  return { dtype: 'float32', shape: [...batch, M, N], data: out }; // [..., M, N]
}
