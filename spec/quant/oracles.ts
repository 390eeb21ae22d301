/**
 * Deliberately naive oracles for the quantizer tests, written directly from METHOD.md's pseudocode.
 * They share no code with src/quant (only Math.fround for float32 steps) — fast-check's advice:
 * never test code by comparing it with itself.
 */

const fr = Math.fround;

/** Round half to even, the slow obvious way. */
export function naiveRoundHalfEven(v: number): number {
  const lo = Math.floor(v);
  const hi = lo + 1;
  if (v - lo < hi - v) return lo;
  if (hi - v < v - lo) return hi;
  return lo % 2 === 0 ? lo : hi;
}

/** METHOD.md §2.2: q = clamp(round(x/s) + z), x̂ = (q − z)·s, float32 steps. */
export function naiveFakeQuant(x: number, s: number, z: number, qmin: number, qmax: number): { q: number; y: number } {
  let q = naiveRoundHalfEven(fr(x / s)) + z;
  if (q < qmin) q = qmin;
  if (q > qmax) q = qmax;
  return { q, y: fr((q - z) * s) };
}

/** METHOD.md §3.2 intended HLUQ, returning the dequantized value (float32 steps). */
export function naiveHluq(x: number, m: number, sLog: number, sUni: number, bits: number, g: number): number {
  const L = Math.pow(2, bits);
  const lLog = L * g;
  const lUni = L - lLog;
  const xs = fr(x - m);
  let v: number;
  if (xs <= sLog) {
    const e = naiveRoundHalfEven(-fr(Math.log2(fr(Math.max(xs, fr(1e-20)) / sLog))));
    if (e >= lLog) v = 0;
    else v = fr(sLog * Math.pow(2, -Math.min(Math.max(e, 0), lLog - 1)));
  } else {
    const u = Math.min(Math.max(naiveRoundHalfEven(fr(fr(xs - sLog) / sUni)), 0), lUni - 1);
    v = fr(fr(u * sUni) + sLog);
  }
  return fr(v + m);
}

/** METHOD.md §3.4 LNQ code (float64, no float32 emulation): round(N_q·ln(1+α·p_c)/ln(1+α·s)). */
export function naiveLnqCode64(p: number, s: number, alpha: number, nq: number): number {
  const pc = Math.min(Math.max(p, 1e-20), s);
  return Math.min(Math.max(naiveRoundHalfEven((nq * Math.log(1 + alpha * pc)) / Math.log(1 + alpha * s)), 0), nq);
}

/** METHOD.md §4.2 AGQ value (float32 steps). */
export function naiveAgq(p: number, s: number, tau: number, bits: number): number {
  const L = Math.pow(2, bits);
  const e = naiveRoundHalfEven(fr(-fr(Math.log2(fr(Math.max(p, fr(1e-20)) / s))) * tau));
  if (e >= L) return 0;
  return fr(s * fr(Math.pow(2, fr(-Math.min(Math.max(e, 0), L - 1) / tau))));
}
