/**
 * Element-wise difference with NumPy broadcasting.
 */
import type { Tensor } from '../tensor';
import { binaryBroadcast } from './broadcast';

// MAIN

/**
 * Element-wise difference `a − b` of two float32 tensors, broadcast NumPy-style.
 * @source NumPy broadcasting; PyTorch torch.sub
 * @equation out[o] = a − b (operands broadcast to the common shape)
 * @deviation none; NaN/±∞ follow IEEE-754 (NaN propagates)
 * @precision IEEE float32 result (one fp64 op, rounded once to float32)
 */
export function sub(a: Tensor, b: Tensor): Tensor {
  return binaryBroadcast('sub', a, b, (x, y) => x - y);
}
