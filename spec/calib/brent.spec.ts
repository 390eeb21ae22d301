import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError } from '../../src/tensor';
import { brentBounded } from '../../src/calib/brent';

describe('brentBounded — SciPy fminbound semantics (METHOD.md §12)', () => {
  describe('edge cases', () => {
    it.each([
      ['non-finite lower bound', -Infinity, 1],
      ['NaN upper bound', 0, NaN],
      ['lo > hi', 2, 1],
    ])('%s → SpecError', (_n, lo, hi) => {
      expect(() => brentBounded((x) => x * x, lo, hi)).toThrow(SpecError);
    });
    it('first evaluation is at a + (3 − √5)/2·(b − a)', () => {
      const seen: number[] = [];
      brentBounded((x) => (seen.push(x), (x - 0.3) ** 2), 0, 1);
      expect(seen[0]).toBe(0 + 0.5 * (3 - Math.sqrt(5)) * 1);
    });
    it('a degenerate bracket returns immediately', () => {
      const r = brentBounded((x) => x, 2, 2);
      expect(r).toMatchObject({ x: 2, nfev: 1, status: 0 });
    });
    it('maxiter stops the search with status 1', () => {
      const r = brentBounded((x) => Math.sin(50 * x), 0, 10, { maxiter: 3 });
      expect(r.nfev).toBe(3);
      expect(r.status).toBe(1);
    });
    it('a known SciPy result: minimize_scalar((x−2)², bounds=(0, 5), method="bounded") → x ≈ 2 in ~5–8 evaluations', () => {
      const r = brentBounded((x) => (x - 2) ** 2, 0, 5);
      expect(Math.abs(r.x - 2)).toBeLessThan(1e-5);
      expect(r.nfev).toBeLessThanOrEqual(10);
    });
  });

  describe('laws', () => {
    it('finds the minimum of convex functions within its tolerance (xatol = 1e-5)', () => {
      fc.assert(
        fc.property(
          fc.double({ min: -10, max: 10, noNaN: true }),
          fc.double({ min: 0.1, max: 20, noNaN: true }),
          fc.double({ min: 0.01, max: 100, noNaN: true }),
          fc.constantFrom(2, 4, 1.5),
          (c, width, k, pw) => {
            const lo = c - width * 0.3;
            const hi = c + width;
            const r = brentBounded((x) => k * Math.abs(x - c) ** pw, lo, hi);
            // stopping rule: |x − m| ≤ 2·tol1 − (b−a)/2 ⇒ the true minimiser is within ~2·tol1 = 2(√ε|x| + xatol/3) of x;
            // flat objectives (p = 4) lose accuracy to float64 evaluation noise near the minimum, hence the 1e-3·|c| slack
            expect(Math.abs(r.x - c)).toBeLessThanOrEqual(3e-5 + 3e-8 * Math.abs(c) + (pw === 4 ? 2e-3 : 0));
            expect(r.status).toBe(0);
          },
        ),
      );
    });
    it('a minimum at a bound is approached to within the tolerance', () => {
      fc.assert(
        fc.property(fc.double({ min: 0.5, max: 10, noNaN: true }), (hi) => {
          const r = brentBounded((x) => x, 0.1, hi);
          return r.x - 0.1 <= 1e-4 && r.x >= 0.1;
        }),
      );
    });
    it('deterministic: the same objective gives the same path', () => {
      const f = (x: number): number => Math.cos(3 * x) + 0.1 * x;
      expect(brentBounded(f, 0, 4)).toEqual(brentBounded(f, 0, 4));
    });
  });
});
