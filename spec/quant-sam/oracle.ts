/**
 * Deliberately naive oracles for spec/quant-sam (share no code with src/quant-sam): plain loops over the
 * definitions, Math.* only, round-half-even written out.
 */

/** round half to even, written from the definition */
export function naiveRound(x: number): number {
  const lo = Math.floor(x);
  const frac = x - lo;
  if (frac > 0.5) return lo + 1;
  if (frac < 0.5) return lo;
  return lo % 2 === 0 ? lo : lo + 1;
}

/** asymmetric per-row fake quantization of w [rows, n] with min-max ranges (0 included), b bits, float32 */
export function naiveMinMaxFakeQuant(w: Float32Array, rows: number, bits: number): Float32Array {
  const n = w.length / rows;
  const out = new Float32Array(w.length);
  const qmax = 2 ** bits - 1;
  for (let r = 0; r < rows; r++) {
    let mn = 0, mx = 0;
    for (let k = 0; k < n; k++) {
      mn = Math.min(mn, w[r * n + k]!);
      mx = Math.max(mx, w[r * n + k]!);
    }
    const s = Math.max(Math.fround(Math.fround(mx - mn) / qmax), Math.fround(1e-8));
    const z = Math.min(qmax, Math.max(0, 0 - naiveRound(Math.fround(mn / s))));
    for (let k = 0; k < n; k++) {
      const q = Math.min(qmax, Math.max(0, naiveRound(Math.fround(w[r * n + k]! / s)) + z));
      out[r * n + k] = Math.fround((q - z) * s);
    }
  }
  return out;
}

/** IoU of two logit arrays thresholded at 0 */
export function naiveIoU(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0, u = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k]! > 0 && b[k]! > 0) i++;
    if (a[k]! > 0 || b[k]! > 0) u++;
  }
  return u === 0 ? 1 : i / u;
}

/** mean |fq(w) − w|^p of one row given its fake-quantized values */
export function naiveScore(w: ArrayLike<number>, fq: ArrayLike<number>, p: number): number {
  let acc = 0;
  for (let k = 0; k < w.length; k++) acc += Math.abs(fq[k]! - w[k]!) ** p;
  return acc / w.length;
}
