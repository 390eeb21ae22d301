/**
 * Test oracle: deliberately naive matrix product with NumPy batch broadcasting (no code shared with src/ops).
 * Batch indices are recomputed from scratch per output matrix; the sum is a plain fp64 loop.
 */
import type { Tensor } from '../../src/tensor';

function prod(s: readonly number[]): number {
  return s.reduce((p, d) => p * d, 1);
}

/** out[..., i, j] = Σ_k a[..., i, k] b[..., k, j] (fp64 sum, fp32 store). */
export function matmulLoop(a: Tensor, b: Tensor): Tensor {
  const M = a.shape[a.shape.length - 2]!;
  const K = a.shape[a.shape.length - 1]!;
  const N = b.shape[b.shape.length - 1]!;
  const ab = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  const r = Math.max(ab.length, bb.length);
  const pa = [...new Array<number>(r - ab.length).fill(1), ...ab];
  const pb = [...new Array<number>(r - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const nb = prod(batch);
  const out = new Float32Array(nb * M * N);
  for (let t = 0; t < nb; t++) {
    // unravel t over batch, then ravel into a's and b's batch (index 0 on size-1 dims)
    let rem = t;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = r - 1; d >= 0; d--) {
      const idx = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
      ia += (pa[d] === 1 ? 0 : idx) * sa;
      ib += (pb[d] === 1 ? 0 : idx) * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ia * M * K + i * K + k]! * b.data[ib * K * N + k * N + j]!;
        out[t * M * N + i * N + j] = s;
      }
    }
  }
  return { dtype: 'float32', shape: [...batch, M, N], data: out };
}
