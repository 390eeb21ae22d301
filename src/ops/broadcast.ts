/**
 * NumPy broadcasting of two shapes, and the element-wise binary driver used by add/sub/mul/div.
 *
 * Rule (NumPy "General broadcasting rules"): align shapes at the right; two dims are compatible
 * when equal or when one is 1; the result takes the larger.
 */
import { numel, specRequire, stridesOf, type Tensor } from '../tensor';
import { requireInput } from './check';

// MAIN

/**
 * The broadcast shape of `a` and `b` (NumPy rules).
 * @source NumPy numpy/doc "Broadcasting" (General broadcasting rules)
 * @equation out[i] = max(a'[i], b'[i]) where a', b' are left-padded with 1s; requires a'[i] = b'[i] or one of them 1
 * @deviation none
 * @precision exact
 */
export function broadcastShapes(fn: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    specRequire(da === db || da === 1 || db === 1, {
      fn,
      what: `shapes [${a.join(',')}] and [${b.join(',')}]`,
      rule: 'be broadcast-compatible (equal or 1 in every right-aligned dim)',
      got: `dim ${i}: ${da} vs ${db}`,
    });
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For each flat index of `outShape`, the flat index into a tensor of shape `inShape` broadcast to it.
 * @source NumPy broadcasting (a broadcast dim has stride 0)
 * @equation src(o) = Σ_d [inShape'[d] ≠ 1] · o_d · stride_in(d)
 * @deviation none
 * @precision exact
 */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const inStr = stridesOf(inShape);
  const stride = new Array<number>(rank).fill(0); // stride 0 on broadcast (or missing) dims
  for (let d = 0; d < rank; d++) {
    const k = inShape.length - rank + d;
    if (k >= 0 && inShape[k] !== 1) stride[d] = inStr[k]!;
  }
  const n = numel(outShape);
  const idx = new Int32Array(n);
  const pos = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < n; o++) {
    idx[o] = src;
    // odometer increment over outShape, updating src incrementally
    for (let d = rank - 1; d >= 0; d--) {
      pos[d]!++;
      src += stride[d]!;
      if (pos[d]! < outShape[d]!) break;
      src -= stride[d]! * outShape[d]!;
      pos[d] = 0;
    }
  }
  return idx;
}

/**
 * Apply `f` element-wise to `a` and `b` broadcast together; each result is rounded to float32.
 * @source NumPy broadcasting
 * @equation out[o] = f(a[srcA(o)], b[srcB(o)])
 * @deviation none
 * @precision one fp64 operation on float32 inputs, fp32-store (= IEEE float32 result for +,−,×,÷)
 */
export function binaryBroadcast(fn: string, a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  requireInput(fn, 'a', a);
  requireInput(fn, 'b', b);
  const shape = broadcastShapes(fn, a.shape, b.shape);
  const n = numel(shape);
  const out = new Float32Array(n);
  const ad = a.data;
  const bd = b.data;
  if (ad.length === n && bd.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(ad[i]!, bd[i]!);
  } else {
    const ia = broadcastIndex(a.shape, shape);
    const ib = broadcastIndex(b.shape, shape);
    for (let i = 0; i < n; i++) out[i] = f(ad[ia[i]!]!, bd[ib[i]!]!);
  }
  return { dtype: 'float32', shape, data: out };
}
