/**
 * Objective building blocks shared by the calibration searches: the reference's float32 `lp_loss`
 * (`mean(|ŷ − y|^p)`), a batched float32 matrix product for the attention objectives (`Q(P) @ V`),
 * a linear layer for the HLUQ objective, and min/max of a batch.
 *
 * Summation: float64 accumulation rounded once to float32. PyTorch sums float32 in float32 with its own
 * (cascade, vectorised) order, so sums can differ in the last bits (authors-reference README, Numerics).
 * The private matrix helpers exist here because the searches need them and `src/ops` belongs to another
 * area; they can be replaced by `src/ops/matmul` once it exists.
 */
import { type Tensor, specRequire, f32, numel } from '../tensor';

// MAIN

/**
 * Mean p-th power error between two float32 arrays (the reference's `lp_loss`, reduction = mean).
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §2.4, §2.5)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#lp_loss
 * @equation L = (1/N)·Σᵢ |ŷᵢ − yᵢ|^p
 * @deviation none
 * @precision elements float32, fp64-accumulate, one float32 store of the sum and of the mean
 */
export function lpLossMean(yq: ArrayLike<number>, y: ArrayLike<number>, p: number): number {
  specRequire(yq.length === y.length && y.length > 0, { fn: 'lpLossMean', what: 'yq.length', rule: `equal y.length > 0`, got: [yq.length, y.length] });
  let acc = 0;
  if (p === 2) {
    for (let i = 0; i < y.length; i++) {
      const d = f32(yq[i]! - y[i]!);
      acc += f32(d * d);
    }
  } else {
    for (let i = 0; i < y.length; i++) acc += f32(Math.pow(Math.abs(f32(yq[i]! - y[i]!)), p));
  }
  return f32(f32(acc) / y.length);
}

/**
 * Batched float32 matrix product over matching leading dimensions.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4: "the matmul is batched over heads and windows")
 * @equation C[…, i, j] = Σ_k A[…, i, k]·B[…, k, j]
 * @deviation none
 * @precision fp64-accumulate, fp32-store
 */
export function matmulBatchedF32(aData: ArrayLike<number>, aShape: readonly number[], b: Tensor): Float32Array {
  const fn = 'matmulBatchedF32';
  specRequire(aShape.length >= 2 && b.shape.length === aShape.length, { fn, what: 'rank', rule: 'be ≥ 2 and equal for both operands', got: [aShape.length, b.shape.length] });
  const r = aShape.length;
  const n = aShape[r - 2]!;
  const k = aShape[r - 1]!;
  const d = b.shape[r - 1]!;
  specRequire(b.shape[r - 2] === k, { fn, what: 'b.shape[-2]', rule: `equal a.shape[-1] = ${k}`, got: b.shape });
  for (let i = 0; i < r - 2; i++) specRequire(aShape[i] === b.shape[i], { fn, what: `b.shape[${i}]`, rule: `equal a.shape[${i}]`, got: b.shape });
  const batch = numel(aShape.slice(0, r - 2));
  const out = new Float32Array(batch * n * d); // [batch, N, D]
  const acc = new Float64Array(d);
  const bd = b.data;
  for (let t = 0; t < batch; t++) {
    const ao = t * n * k;
    const bo = t * k * d;
    const oo = t * n * d;
    for (let i = 0; i < n; i++) {
      // row i: acc[j] += a[i, kk]·b[kk, j] for kk = 0, 1, … (the same per-element order as a k-inner loop);
      // a zero a[i, kk] adds ±0, which leaves every accumulator (started at +0) unchanged, so it is skipped
      acc.fill(0);
      for (let kk = 0; kk < k; kk++) {
        const av = aData[ao + i * k + kk]!;
        if (av === 0) continue;
        const br = bo + kk * d;
        for (let j = 0; j < d; j++) acc[j] = acc[j]! + av * bd[br + j]!;
      }
      for (let j = 0; j < d; j++) out[oo + i * d + j] = acc[j]!;
    }
  }
  return out;
}

/** start + Σ_i a[ao + i]·b[bo + i], i = 0 … K−1 in order (float64). */
function dotRow(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, K: number, start: number): number {
  let acc = start;
  for (let i = 0; i < K; i++) acc += a[ao + i]! * b[bo + i]!;
  return acc;
}

/**
 * A linear layer y = x·Wᵀ + b over the last axis of x.
 * @source PyTorch torch.nn.functional.linear
 * @equation y[…, o] = Σ_i x[…, i]·W[o, i] + b[o]
 * @deviation none
 * @precision fp64-accumulate, fp32-store
 */
export function linearF32(xData: ArrayLike<number>, inFeatures: number, weight: Tensor, bias: Tensor | null): Float32Array {
  const fn = 'linearF32';
  specRequire(weight.shape.length === 2 && weight.shape[1] === inFeatures, { fn, what: 'weight.shape', rule: `be [out, ${inFeatures}]`, got: weight.shape });
  const out = weight.shape[0]!;
  specRequire(bias === null || (bias.shape.length === 1 && bias.shape[0] === out), { fn, what: 'bias.shape', rule: `be [${out}]`, got: bias?.shape });
  specRequire(xData.length % inFeatures === 0, { fn, what: 'x.length', rule: `be a multiple of ${inFeatures}`, got: xData.length });
  const rows = xData.length / inFeatures;
  const y = new Float32Array(rows * out); // [rows, out]
  const x = xData, w = weight.data, K = inFeatures;
  // register blocking: 4 rows × 2 outputs share their loads; every accumulator still starts at the bias and
  // adds x[r, i]·W[o, i] for i = 0, 1, … in order, so each output is the same float64 sum as a plain loop
  const r4 = rows - (rows % 4), o2 = out - (out % 2);
  for (let r = 0; r < r4; r += 4) {
    const x0 = r * K, x1 = x0 + K, x2 = x1 + K, x3 = x2 + K;
    for (let o = 0; o < o2; o += 2) {
      const w0 = o * K, w1 = w0 + K;
      const b0 = bias ? bias.data[o]! : 0, b1 = bias ? bias.data[o + 1]! : 0;
      let a00 = b0, a10 = b0, a20 = b0, a30 = b0, a01 = b1, a11 = b1, a21 = b1, a31 = b1;
      for (let i = 0; i < K; i++) {
        const u = w[w0 + i]!, v = w[w1 + i]!;
        const p0 = x[x0 + i]!, p1 = x[x1 + i]!, p2 = x[x2 + i]!, p3 = x[x3 + i]!;
        a00 += p0 * u; a10 += p1 * u; a20 += p2 * u; a30 += p3 * u;
        a01 += p0 * v; a11 += p1 * v; a21 += p2 * v; a31 += p3 * v;
      }
      y[r * out + o] = a00; y[(r + 1) * out + o] = a10; y[(r + 2) * out + o] = a20; y[(r + 3) * out + o] = a30;
      y[r * out + o + 1] = a01; y[(r + 1) * out + o + 1] = a11; y[(r + 2) * out + o + 1] = a21; y[(r + 3) * out + o + 1] = a31;
    }
    for (let o = o2; o < out; o++) for (let rr = r; rr < r + 4; rr++) y[rr * out + o] = dotRow(x, rr * K, w, o * K, K, bias ? bias.data[o]! : 0);
  }
  for (let r = r4; r < rows; r++) for (let o = 0; o < out; o++) y[r * out + o] = dotRow(x, r * K, w, o * K, K, bias ? bias.data[o]! : 0);
  return y;
}

/**
 * Minimum and maximum of a non-empty finite batch.
 * @source PyTorch torch.aminmax
 * @equation (min_i xᵢ, max_i xᵢ)
 * @deviation none
 * @precision exact
 */
export function batchMinMax(fn: string, x: Tensor): { min: number; max: number } {
  specRequire(numel(x.shape) > 0, { fn, what: 'batch', rule: 'be non-empty', got: x.shape });
  let mn = Infinity;
  let mx = -Infinity;
  const d = x.data;
  let finite = true;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v - v !== 0) { finite = false; break; } // NaN or ±Infinity (the error is built only on failure)
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  if (!finite) {
    let i = 0;
    while (Number.isFinite(d[i]!)) i++;
    specRequire(false, { fn, what: `batch[${i}]`, rule: 'be finite', got: d[i] });
  }
  return { min: mn, max: mx };
}
