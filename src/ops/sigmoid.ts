/**
 * Logistic sigmoid, evaluated without overflow.
 */
import type { Tensor } from '../tensor';
import { requireInput } from './check';

// MAIN

/**
 * Logistic sigmoid, element-wise, numerically safe for large |x|.
 * @source PyTorch torch.sigmoid
 * @equation σ(x) = 1 / (1 + e^(−x)), evaluated as e^x / (1 + e^x) for x < 0 so e^(−x) never overflows
 * @deviation none; σ(+∞) = 1, σ(−∞) = 0, NaN → NaN
 * @precision fp64 evaluation, fp32-store
 */
export function sigmoid(x: Tensor): Tensor {
  requireInput('sigmoid', 'x', x);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    if (v >= 0) {
      out[i] = 1 / (1 + Math.exp(-v));
    } else {
      const e = Math.exp(v);
      out[i] = e / (1 + e);
    }
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}
