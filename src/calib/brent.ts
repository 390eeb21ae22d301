/**
 * Bounded scalar minimisation by Brent's method (golden-section steps plus parabolic interpolation),
 * reproducing the behaviour of SciPy's `minimize_scalar(method='Bounded')` (`fminbound`), which every
 * Brent-based observer of the reference code calls with its defaults (METHOD.md §12).
 *
 * Re-derived from the published algorithm (Brent 1973, ch. 5; Forsythe, Malcolm & Moler 1977,
 * `fmin`) and SciPy's documented behaviour:
 *  - first evaluation at x = a + c·(b − a), c = (3 − √5)/2;
 *  - tolerance tol1 = √ε·|x| + xatol/3 with √ε = √(2.2e−16) (not the exact machine ε), tol2 = 2·tol1;
 *  - stop when |x − m| ≤ tol2 − (b − a)/2, m = (a + b)/2, or after `maxiter` evaluations;
 *  - a parabolic step is tried when the step before last exceeded tol1 and is accepted only if it
 *    lands inside (a, b) and is shorter than half of that step; otherwise a golden-section step
 *    into the larger part; steps are never shorter than tol1, and a parabolic point closer than
 *    tol2 to a bound is replaced by a step of tol1 towards the midpoint;
 *  - the returned x is the best point seen (ties: the later point wins, `f(u) ≤ f(x)`).
 * The arithmetic is float64 in the same order, so the search path is reproduced exactly whenever the
 * objective returns the same values.
 *
 * Legend: `a, b` bracket, `x` best point, `w` second best, `v` previous w, `d` current step,
 * `e` step before last, `u` new trial point.
 */
import { specRequire } from '../tensor';

// TYPES

export interface BrentOptions {
  /** Absolute x tolerance (SciPy default 1e-5). */
  readonly xatol?: number;
  /** Maximum number of function evaluations (SciPy default 500). */
  readonly maxiter?: number;
}

export interface BrentResult {
  readonly x: number;
  readonly fun: number;
  /** Number of objective evaluations (SciPy's nfev = nit). */
  readonly nfev: number;
  /** 0 converged, 1 maxiter reached, 2 NaN encountered (SciPy status codes). */
  readonly status: 0 | 1 | 2;
}

// CONSTANTS

const GOLDEN = 0.5 * (3.0 - Math.sqrt(5.0));
const SQRT_EPS = Math.sqrt(2.2e-16);

// MAIN

/**
 * Minimise `f` on [lo, hi] with bounded Brent (SciPy `fminbound` semantics).
 * @paper AHCQ-SAM:v4 §Calibration (METHOD.md §12 "Scalar minimisation")
 * @source SciPy@1.10.1 scipy/optimize/_optimize.py#_minimize_scalar_bounded
 * @equation x* ≈ argmin_{x∈[lo,hi]} f(x), stop when |x − (a+b)/2| ≤ 2·tol1 − (b − a)/2, tol1 = √ε|x| + xatol/3
 * @deviation none (re-derived; the same float64 operation order)
 * @precision float64
 */
export function brentBounded(f: (x: number) => number, lo: number, hi: number, opts: BrentOptions = {}): BrentResult {
  const fn = 'brentBounded';
  const xatol = opts.xatol ?? 1e-5;
  const maxiter = opts.maxiter ?? 500;
  specRequire(Number.isFinite(lo), { fn, what: 'lo', rule: 'be finite', got: lo });
  specRequire(Number.isFinite(hi), { fn, what: 'hi', rule: 'be finite', got: hi });
  specRequire(lo <= hi, { fn, what: 'lo', rule: 'be ≤ hi', got: [lo, hi] });
  specRequire(Number.isFinite(xatol) && xatol > 0, { fn, what: 'xatol', rule: 'be finite and > 0', got: xatol });
  specRequire(Number.isInteger(maxiter) && maxiter >= 1, { fn, what: 'maxiter', rule: 'be a positive integer', got: maxiter });

  let a = lo;
  let b = hi;
  // (1) first point: golden section of the bracket; v = w = x
  let x = a + GOLDEN * (b - a);
  let w = x;
  let v = x;
  let fx = f(x);
  let fw = fx;
  let fv = fx;
  let fu = Infinity;
  let d = 0.0;
  let e = 0.0;
  let nfev = 1;
  let status: 0 | 1 | 2 = 0;

  let m = 0.5 * (a + b);
  let tol1 = SQRT_EPS * Math.abs(x) + xatol / 3.0;
  let tol2 = 2.0 * tol1;

  while (Math.abs(x - m) > tol2 - 0.5 * (b - a)) {
    let useGolden = true;
    // (2) try a parabola through (x, fx), (w, fw), (v, fv) when the step before last was big enough
    if (Math.abs(e) > tol1) {
      useGolden = false;
      let r = (x - w) * (fx - fv);
      let q = (x - v) * (fx - fw);
      let p = (x - v) * q - (x - w) * r;
      q = 2.0 * (q - r);
      if (q > 0.0) p = -p;
      q = Math.abs(q);
      r = e;
      e = d;
      if (Math.abs(p) < Math.abs(0.5 * q * r) && p > q * (a - x) && p < q * (b - x)) {
        d = (p + 0.0) / q;
        const u = x + d;
        // not too close to a bound: step tol1 towards the midpoint instead
        if (u - a < tol2 || b - u < tol2) {
          const sgn = Math.sign(m - x) + (m - x === 0 ? 1 : 0);
          d = tol1 * sgn;
        }
      } else {
        useGolden = true;
      }
    }
    // (3) golden-section step into the larger part of the bracket
    if (useGolden) {
      e = x >= m ? a - x : b - x;
      d = GOLDEN * e;
    }
    // (4) evaluate at least tol1 away from x
    const sd = Math.sign(d) + (d === 0 ? 1 : 0);
    const u = x + sd * Math.max(Math.abs(d), tol1);
    fu = f(u);
    nfev += 1;
    // (5) update the bracket and the three best points
    if (fu <= fx) {
      if (u >= x) a = x;
      else b = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      if (u < x) a = u;
      else b = u;
      if (fu <= fw || w === x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v === x || v === w) {
        v = u;
        fv = fu;
      }
    }
    m = 0.5 * (a + b);
    tol1 = SQRT_EPS * Math.abs(x) + xatol / 3.0;
    tol2 = 2.0 * tol1;
    if (nfev >= maxiter) {
      status = 1;
      break;
    }
  }
  if (Number.isNaN(x) || Number.isNaN(fx) || Number.isNaN(fu)) status = 2;
  return { x, fun: fx, nfev, status };
}
