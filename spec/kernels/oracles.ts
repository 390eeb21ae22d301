/**
 * Deliberately naive scalar loops used only by the kernel tests (share no code with src/kernels).
 */

/** C[i, j] = Σ_k A[i, k]·B[k, j] in float64, plus Σ_k |A[i,k]|·|B[k,j]| for error bounds. */
export function matmulLoop(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number): { c: Float64Array; absSum: Float64Array } {
  const c = new Float64Array(M * N);
  const absSum = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let t = 0;
      for (let k = 0; k < K; k++) {
        s += a[i * K + k]! * b[k * N + j]!;
        t += Math.abs(a[i * K + k]! * b[k * N + j]!);
      }
      c[i * N + j] = s;
      absSum[i * N + j] = t;
    }
  }
  return { c, absSum };
}

/** Integer C[i, j] = Σ_k (A[i, k] − za)·(B[k, j] − zb[j]), computed in plain JS numbers (exact < 2^53). */
export function matmulIntLoop(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number, za: number, zb: ArrayLike<number>): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (a[i * K + k]! - za) * (b[k * N + j]! - zb[j]!);
      c[i * N + j] = s;
    }
  }
  return c;
}

/** [N, K] → [K, N] transpose. */
export function transposeLoop(w: ArrayLike<number>, N: number, K: number): Float32Array {
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[k * N + n] = w[n * K + k]!;
  return out;
}
