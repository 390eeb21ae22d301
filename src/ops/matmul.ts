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
 * Row-block GEMM kernel: `c[M, N] = a[M, K] · b[K, N]` on flat arrays at the given offsets,
 * accumulated in float64 and stored as float32. i-k-j order over 4 rows at a time, so each
 * loaded b element feeds four accumulators. When `bias` [N] is given the accumulators start at it.
 * Exported for linear/conv (not part of the op API).
 * @precision fp64-accumulate (k ascending), fp32-store
 */
export function gemmInto(
  a: ArrayLike<number>,
  aOff: number,
  b: ArrayLike<number>,
  bOff: number,
  c: Float32Array,
  cOff: number,
  M: number,
  K: number,
  N: number,
  bias?: ArrayLike<number>,
): void {
  const acc = new Float64Array(4 * N);
  for (let i0 = 0; i0 < M; i0 += 4) {
    const rows = Math.min(4, M - i0);
    if (bias === undefined) acc.fill(0);
    else for (let r = 0; r < 4; r++) for (let j = 0; j < N; j++) acc[r * N + j] = bias[j]!;
    const a0 = aOff + i0 * K; // row offsets of the (up to) four a rows
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    for (let k = 0; k < K; k++) {
      const bRow = bOff + k * N;
      if (rows === 4) {
        const x0 = a[a0 + k]!;
        const x1 = a[a1 + k]!;
        const x2 = a[a2 + k]!;
        const x3 = a[a3 + k]!;
        for (let j = 0; j < N; j++) {
          const bj = b[bRow + j]!;
          acc[j] += x0 * bj;
          acc[N + j] += x1 * bj;
          acc[2 * N + j] += x2 * bj;
          acc[3 * N + j] += x3 * bj;
        }
      } else {
        for (let r = 0; r < rows; r++) {
          const x = a[a0 + r * K + k]!;
          const accRow = r * N;
          for (let j = 0; j < N; j++) acc[accRow + j] += x * b[bRow + j]!;
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      const cRow = cOff + (i0 + r) * N;
      for (let j = 0; j < N; j++) c[cRow + j] = acc[r * N + j]!;
    }
  }
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
  const out = new Float32Array(nb * M * N);
  for (let t = 0; t < nb; t++) {
    gemmInto(a.data, ia[t]! * M * K, b.data, ib[t]! * K * N, out, t * M * N, M, K, N);
  }
  return { dtype: 'float32', shape: [...batch, M, N], data: out }; // [..., M, N]
}
