/**
 * Element-wise sum with NumPy broadcasting.
 */
import type { Tensor } from '../tensor';
import { binaryBroadcast } from './broadcast';

// MAIN

/**
 * Element-wise sum `a + b` of two float32 tensors, broadcast NumPy-style.
 * @source NumPy broadcasting; PyTorch torch.add
 * @equation out[o] = a + b (operands broadcast to the common shape)
 * @deviation none; NaN/±∞ follow IEEE-754 (NaN propagates)
 * @precision IEEE float32 result (one fp64 op, rounded once to float32)
 */
export function add(a: Tensor, b: Tensor): Tensor {
  return binaryBroadcast('add', a, b, (x, y) => x + y);
}
