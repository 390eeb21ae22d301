/**
 * Multiplication of every element by a scalar.
 */
import { specRequire, type Tensor } from '../tensor';
import { requireInput } from './check';

// MAIN

/**
 * Multiply every element of `x` by the scalar `s` (e.g. attention's head_dim^−½).
 * @source PyTorch `x * s` with a Python float
 * @equation y = s · x
 * @deviation none; `s` must be finite. PyTorch multiplies by float32(s); here fp64 `s` is rounded to float32 first, identically.
 * @precision IEEE float32 result
 */
export function scale(x: Tensor, s: number): Tensor {
  requireInput('scale', 'x', x);
  specRequire(typeof s === 'number' && Number.isFinite(s), { fn: 'scale', what: 's', rule: 'be a finite number', got: s });
  const sf = Math.fround(s);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[i]! * sf;
  return { dtype: 'float32', shape: [...x.shape], data: out };
}
