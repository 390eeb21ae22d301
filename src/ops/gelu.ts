/**
 * Gaussian error linear unit: the exact erf form (SAM's nn.GELU()) and the tanh approximation.
 */
import erf from '@stdlib/math-base-special-erf';
import type { Tensor } from '../tensor';
import { requireInput } from './check';

// MAIN

/**
 * Exact GELU, element-wise.
 * @source PyTorch nn.GELU(approximate="none"); SAM-code@dca509f modeling/image_encoder.py (act_layer = nn.GELU)
 * @equation gelu(x) = ½ · x · (1 + erf(x / √2))
 * @deviation −∞ → −0 (the limit); evaluating the formula literally, as PyTorch does, gives −∞·0 = NaN. NaN → NaN, +∞ → +∞
 * @precision fp64 evaluation (@stdlib erf), fp32-store
 */
export function gelu(x: Tensor): Tensor {
  requireInput('gelu', 'x', x);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    out[i] = v === -Infinity ? -0 : 0.5 * v * (1 + erf(v * Math.SQRT1_2));
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU, tanh approximation, element-wise (not used by SAM; provided as a separately named variant).
 * @source PyTorch nn.GELU(approximate="tanh"); ONNX Gelu approximate="tanh"
 * @equation geluTanh(x) = ½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
 * @deviation −∞ → −0 (the limit; the literal formula gives NaN); NaN → NaN
 * @precision fp64 evaluation, fp32-store
 */
export function geluTanh(x: Tensor): Tensor {
  requireInput('geluTanh', 'x', x);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    out[i] = v === -Infinity ? -0 : 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}
