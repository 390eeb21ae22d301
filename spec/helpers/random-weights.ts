/**
 * Seeded random weights and tensors for the small SAM-decoder models the specs build, and a
 * length-checked max |Δ|. One definition shared by the decoder spec files.
 */
import { expect } from 'vitest';
import type { Rng, Tensor } from '../../src/tensor';

/**
 * A state dict with every key of `shapes`: LayerNorm weights 1 + N(0, 0.1²); other 1-D tensors
 * (biases, embeddings of one row) N(0, 0.1²); matrices and kernels N(0, 1/fan_in). Draws in `shapes` order.
 */
export function randomStateDict(rng: Rng, shapes: Iterable<readonly [string, readonly number[]]>): Record<string, Tensor> {
  const w: Record<string, Tensor> = {};
  for (const [key, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? n / shape[0]! : 1;
    const isNormGamma = shape.length === 1 && key.endsWith('.weight');
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      data[i] = isNormGamma ? 1 + 0.1 * z : shape.length === 1 ? 0.1 * z : z / Math.sqrt(fanIn);
    }
    w[key] = { dtype: 'float32', shape: [...shape], data };
  }
  return w;
}

/** A float32 tensor of N(0, s²) values. */
export function randomTensor(rng: Rng, shape: number[], s = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = s * rng.normal();
  return { dtype: 'float32', shape, data };
}

/** max_i |a_i − b_i|, asserting equal lengths first. */
export function maxAbsDiffChecked(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
