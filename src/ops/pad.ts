/**
 * Constant padding of every axis.
 */
import { numel, specRequire, stridesOf, type Tensor } from '../tensor';
import { requireInput } from './check';

// MAIN

/**
 * Pad x with `value`: axis d gets pads[d][0] entries before and pads[d][1] after.
 * @source PyTorch torch.nn.functional.pad(mode="constant") (pads listed per axis, outermost first, not PyTorch's reversed flat list)
 * @equation out[j] = x[j − before] if 0 ≤ j_d − before_d < x.shape[d] for all d, else value
 * @deviation negative pads (cropping) are not supported
 * @precision exact (value rounded to float32)
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const fn = 'pad';
  requireInput(fn, 'x', x);
  const rank = x.shape.length;
  specRequire(Array.isArray(pads) && pads.length === rank, { fn, what: 'pads.length', rule: `equal x rank ${rank}`, got: pads?.length });
  pads.forEach((p, d) =>
    specRequire(Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0), {
      fn,
      what: `pads[${d}]`,
      rule: 'be a pair [before, after] of non-negative integers',
      got: p,
    }),
  );
  specRequire(typeof value === 'number' && !Number.isNaN(value), { fn, what: 'value', rule: 'be a number (not NaN)', got: value });
  const shape = x.shape.map((s, d) => s + pads[d]![0] + pads[d]![1]);
  const out = new Float32Array(numel(shape)).fill(value);
  const outStr = stridesOf(shape);
  const n = x.data.length;
  const pos = new Array<number>(rank).fill(0);
  let dst = 0;
  for (let d = 0; d < rank; d++) dst += pads[d]![0] * outStr[d]!;
  for (let i = 0; i < n; i++) {
    out[dst] = x.data[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      pos[d]!++;
      dst += outStr[d]!;
      if (pos[d]! < x.shape[d]!) break;
      dst -= outStr[d]! * x.shape[d]!;
      pos[d] = 0;
    }
  }
  return { dtype: 'float32', shape, data: out };
}
