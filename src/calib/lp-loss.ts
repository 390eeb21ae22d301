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
  for (let t = 0; t < batch; t++) {
    const ao = t * n * k;
    const bo = t * k * d;
    const oo = t * n * d;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++) acc += aData[ao + i * k + kk]! * b.data[bo + kk * d + j]!;
        out[oo + i * d + j] = acc;
      }
    }
  }
  return out;
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
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let acc = bias ? bias.data[o]! : 0;
      for (let i = 0; i < inFeatures; i++) acc += xData[r * inFeatures + i]! * weight.data[o * inFeatures + i]!;
      y[r * out + o] = acc;
    }
  }
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
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    specRequire(Number.isFinite(v), { fn, what: `batch[${i}]`, rule: 'be finite', got: v });
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return { min: mn, max: mx };
}
