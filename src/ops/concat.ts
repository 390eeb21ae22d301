/**
 * Concatenation along one axis.
 */
import { numel, specRequire, type Tensor } from '../tensor';
import { normalizeAxis, requireInput } from './check';

// MAIN

/**
 * Join tensors along `axis`; all other dims must agree.
 * @source PyTorch torch.cat
 * @equation out[…, Σ_{t<s} n_t + j, …] = xs[s][…, j, …]
 * @deviation none (negative axis allowed)
 * @precision exact
 */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const fn = 'concat';
  specRequire(Array.isArray(xs) && xs.length >= 1, { fn, what: 'xs.length', rule: 'be ≥ 1', got: xs?.length });
  xs.forEach((t, i) => requireInput(fn, `xs[${i}]`, t));
  const first = xs[0]!;
  const rank = first.shape.length;
  specRequire(rank >= 1, { fn, what: 'xs[0].rank', rule: 'be ≥ 1', got: rank });
  const ax = normalizeAxis(fn, 'axis', axis, rank);
  xs.forEach((t, i) =>
    specRequire(t.shape.length === rank && t.shape.every((d: number, k: number) => k === ax || d === first.shape[k]), {
      fn,
      what: `xs[${i}].shape`,
      rule: `match xs[0].shape [${first.shape.join(',')}] except on axis ${ax}`,
      got: t.shape,
    }),
  );
  let outer = 1;
  for (let d = 0; d < ax; d++) outer *= first.shape[d]!;
  let inner = 1;
  for (let d = ax + 1; d < rank; d++) inner *= first.shape[d]!;
  const total = xs.reduce((s, t) => s + t.shape[ax]!, 0);
  const shape = [...first.shape];
  shape[ax] = total;
  const out = new Float32Array(numel(shape));
  for (let o = 0; o < outer; o++) {
    let dst = o * total * inner;
    for (const t of xs) {
      const len = t.shape[ax]! * inner; // one contiguous block per input per outer index
      out.set(t.data.subarray(o * len, (o + 1) * len), dst);
      dst += len;
    }
  }
  return { dtype: 'float32', shape, data: out };
}
