/**
 * Rectified linear unit.
 */
import type { Tensor } from '../tensor';
import { requireInput } from './check';

// MAIN

/**
 * ReLU, element-wise.
 * @source PyTorch nn.ReLU (SAM-code@dca509f modeling/transformer.py MLP activation default)
 * @equation relu(x) = max(x, 0)
 * @deviation none; NaN → NaN (as torch.relu), −0 → 0
 * @precision exact
 */
export function relu(x: Tensor): Tensor {
  requireInput('relu', 'x', x);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    out[i] = v > 0 ? v : Number.isNaN(v) ? NaN : 0;
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}
