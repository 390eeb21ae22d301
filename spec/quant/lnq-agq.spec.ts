import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, f32, tensor } from '../../src/tensor';
import { dequantizeLnq, fakeQuantLnq, fakeQuantLnqTensor, lnqDecodeTable, lnqThresholds, quantizeLnq, quantizeLnqTensor, type LnqParams } from '../../src/quant/lnq';
import { dequantizeAgq, fakeQuantAgq, fakeQuantAgqTensor, quantizeAgq } from '../../src/quant/agq';
import { softmaxRows } from '../arbitraries/quant';
import { naiveAgq, naiveLnqCode64 } from './oracles';
import { VECTORS_PRESENT, caseNames, expectCasePasses } from '../conformance/helpers';

const lnqArb: fc.Arbitrary<LnqParams> = fc.record({
  bits: fc.integer({ min: 2, max: 8 }),
  s: fc.float({ min: Math.fround(0.05), max: 1, noNaN: true }).map(f32),
  alpha: fc.constantFrom(0.001, 0.1, 1, 5, 10, 20, 50, 100, 200).map(f32),
});

/**
 * Float32 error budget of LNQ (test helper; a = f32(α), s = f32(s), t ≤ 1 after the clamp to s).
 * u = 2⁻²⁴ (relative rounding of float32), m = a·p ≤ a·s, c = ln(1 + a·s):
 * - Numerator N = f32(ln(f32(1 + f32(a·p)))): the product is off by ≤ u·m and the sum by ≤ u(1 + m), so the
 *   log argument is off by ≤ u(1 + 2m), i.e. ln by ≤ u(1 + 2m)/(1 + m); f32(ln) adds ≤ u·ln(1 + m). Both grow
 *   with m, so |N − ln(1 + m)| ≤ e_in := u((1 + 2a·s)/(1 + a·s) + ln(1 + a·s)); the denominator D likewise.
 *   (For small a·s this is ≈ u: it is an ABSOLUTE error against values ≈ a·p, i.e. relative u/(a·p).)
 * - t = N/D is off by ≤ (|ΔN| + t|ΔD|)/D ≤ 2e_in/(c − e_in); rounding N/D and t·N_q adds ≤ 2u·N_q codes:
 *   δ_code = N_q·(2e_in/(c − e_in) + 2u)  (codes; O(u²) terms and float64 log/exp errors ≈ 1e-16 neglected).
 * A computed code can differ from the exact ⌊N_q·t⌉ only where N_q·t is within δ_code of a half-integer.
 */
function lnqCodeNoise(a: number, s: number, nq: number): number {
  const u = 2 ** -24, as = a * s, c = Math.log1p(as);
  const eIn = u * ((1 + 2 * as) / (1 + as) + c);
  return nq * ((2 * eIn) / (c - eIn) + 2 * u);
}

/**
 * Error budget of float32 LNQ against uniform quantization with step s/N_q, for small a·s (≤ 0.01 here,
 * so exp stays in [1, 2)). With g(p) = s·ln(1 + a·p)/c mapping [0, s] onto itself:
 * - Real arithmetic. g⁻¹(y) = ((1 + a·s)^{y/s} − 1)/a has slope (c/(a·s))·e^{c·y/s} ≤ 1 + a·s, and
 *   h = g⁻¹(y) − y vanishes at 0 and s with |h″| ≤ (c/s)²(1 + a·s)/a ≤ a(1 + a·s), so |h| ≤ a(1 + a·s)·s²/8.
 *   Levels are g⁻¹(k·step) and decision boundaries g⁻¹((k − ½)·step).
 * - Encoder: δ_code of lnqCodeNoise.
 * - Decoder. The exponent f32(f32(q/N_q)·D) is off by ≤ e_in + 2u·c, exp (slope ≤ 1 + a·s) and its f32 in
 *   [1, 2) add ≤ (1 + a·s)(that) + u, E − 1 is exact (Sterbenz), /a adds ≤ u·s(1 + a·s):
 *   δ_p = (u + (1 + a·s)(e_in + 2u·c))/a + u·s(1 + a·s).
 * Hence (value) |p̂ − x| ≤ (1 + a·s)·step·(½ + δ_code) + δ_p; (margin) if x is farther than
 * a(1 + a·s)s²/8 + (1 + a·s)·step·δ_code from every (k − ½)·step, the code is the uniform one; (level) that
 * code's value is within a(1 + a·s)s²/8 + δ_p of k·step. At a = 1e-4, s = 0.1, N_q = 63 the float32 terms
 * are ≈ 0.75 step each (natural log/exp as the reference, not log1p/expm1, lose a·s relative to u).
 */
function lnqUniformBounds(a: number, s: number, nq: number): { value: number; margin: number; level: number } {
  const u = 2 ** -24, as = a * s, c = Math.log1p(as), step = s / nq;
  const eIn = u * ((1 + 2 * as) / (1 + as) + c);
  const dCode = lnqCodeNoise(a, s, nq);
  const dP = (u + (1 + as) * (eIn + 2 * u * c)) / a + u * s * (1 + as);
  const bend = (a * (1 + as) * s * s) / 8;
  return { value: (1 + as) * step * (0.5 + dCode) + dP, margin: bend + (1 + as) * step * dCode, level: bend + dP };
}

describe('LNQ — AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)', () => {
  describe('edge cases', () => {
    const p: LnqParams = { bits: 4, s: 0.5, alpha: 10 };
    it.each([
      ['p = 0 → code 0, value 0', 0, 0],
      ['p = 1e-30 → code 0', 1e-30, 0],
      ['p = s → top code N_q = 15', 0.5, 15],
      ['p = 1 > s clamps to N_q', 1, 15],
    ])('%s', (_n, x, q) => {
      expect(quantizeLnq(x, p)).toBe(q);
    });
    it('referenceCompat uses N_q = 2^b (codes 0..16 for b = 4); default N_q = 2^b − 1', () => {
      expect(quantizeLnq(0.5, p, { referenceCompat: true })).toBe(16);
      expect(lnqDecodeTable(p).length).toBe(16);
      expect(lnqDecodeTable(p, { referenceCompat: true }).length).toBe(17);
      expect(dequantizeLnq(0, p)).toBe(0);
    });
    it('rejects bad parameters with SpecErrors naming them', () => {
      expect(() => quantizeLnq(0.1, { ...p, bits: 17 })).toThrow(/bits must be an integer in \[2, 16\]/);
      expect(() => quantizeLnq(0.1, { ...p, alpha: 0 })).toThrow(/p\.alpha must be finite and > 0/);
      expect(() => quantizeLnq(0.1, { ...p, s: NaN })).toThrow(/p\.s must be finite and > 0/);
      expect(() => quantizeLnq(NaN, p)).toThrow(SpecError);
      expect(() => dequantizeLnq(16, p)).toThrow(/q must be an integer in \[0, 15\]/);
      expect(() => fakeQuantLnqTensor(tensor([0], new Float32Array(0)), p)).toThrow(/x must be non-empty/);
    });
  });

  describe('oracle', () => {
    it('codes equal the float64 formula except within float32 rounding of a decision boundary', () => {
      fc.assert(
        fc.property(lnqArb, softmaxRows(4, 9), (p, P) => {
          const nq = 2 ** p.bits - 1;
          const dCode = lnqCodeNoise(p.alpha, p.s, nq);
          const q = quantizeLnqTensor(P, p).data;
          for (let i = 0; i < q.length; i++) {
            const x = P.data[i]!;
            const pc = Math.min(Math.max(x, 1e-20), p.s);
            const t = (nq * Math.log(1 + p.alpha * pc)) / Math.log(1 + p.alpha * p.s);
            // near t = k + ½ the float32 pipeline may round the other way: within δ_code (lnqCodeNoise), which
            // is an absolute ≈ u error on ln(1 + αp) divided by ln(1 + αs) ≈ αs — NOT a relative 1e-5 for small αs
            if (Math.abs(t - Math.floor(t) - 0.5) <= dCode) continue;
            expect(q[i]).toBe(naiveLnqCode64(x, p.s, p.alpha, nq));
          }
        }),
        // regression (CI): α = 0.001, s = 0.0548, b = 5 has δ_code ≈ 0.07 codes; x = 0.02915 gave 17 vs 16
        { examples: [[{ bits: 5, s: 0.054761696606874466, alpha: 0.0010000000474974513 }, tensor([1, 3], Float32Array.of(0.029146669432520866, 0.029146671295166016, 0.028608178719878197))]] },
      );
    });
  });

  describe('laws', () => {
    it('monotone: p ≤ p′ ⇒ q(p) ≤ q(p′), codes in [0, N_q]', () => {
      fc.assert(
        fc.property(lnqArb, softmaxRows(3, 8), fc.boolean(), (p, P, referenceCompat) => {
          const nq = referenceCompat ? 2 ** p.bits : 2 ** p.bits - 1;
          const s = Float32Array.from(P.data).sort();
          const q = quantizeLnqTensor(tensor([s.length], s), p, { referenceCompat }).data;
          for (let i = 0; i < q.length; i++) {
            expect(q[i]).toBeGreaterThanOrEqual(0);
            expect(q[i]).toBeLessThanOrEqual(nq);
            if (i > 0) expect(q[i]!).toBeGreaterThanOrEqual(q[i - 1]!);
          }
        }),
      );
    });
    it('idempotence: fq(fq(p)) = fq(p)', () => {
      fc.assert(
        fc.property(lnqArb, softmaxRows(3, 8), (p, P) => {
          const y = fakeQuantLnqTensor(P, p);
          expect(Array.from(fakeQuantLnqTensor(y, p).data)).toEqual(Array.from(y.data));
        }),
      );
    });
    it('thresholds: q = #{k : p ≥ θ_k} equals the direct formula away from the thresholds', () => {
      // Ties: exactly at θ_k the count gives k while round-half-even may give the even neighbour, and
      // the float32 encoder may flip a code within δ_code (lnqCodeNoise) of a decision boundary: points with
      // N_q·t within δ_code of a half-integer are skipped (θ_k is exactly where N_q·t = k − ½; float64
      // evaluation of t and θ_k adds ≈ 1e-13 codes, hence the 1e-9 floor).
      fc.assert(
        fc.property(lnqArb, fc.float({ min: 0, max: 1, noNaN: true }), (p, u) => {
          const th = lnqThresholds(p);
          const x = f32(u * p.s);
          const nq = th.length;
          const t = (nq * Math.log1p(p.alpha * Math.max(x, 1e-20))) / Math.log1p(p.alpha * p.s);
          if (Math.abs(t - Math.floor(t) - 0.5) <= lnqCodeNoise(p.alpha, p.s, nq) + 1e-9) return true;
          let count = 0;
          for (const t of th) if (x >= t) count++;
          return count === quantizeLnq(x, p);
        }),
      );
    });
    it('α → 0 tends to uniform quantization on [0, s] (up to float32 resolution)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 2, max: 6 }), fc.float({ min: Math.fround(0.1), max: 1, noNaN: true }), fc.float({ min: 0, max: 1, noNaN: true }), fc.constantFrom(1e-4, 1e-3, 1e-2), (bits, s, u, alpha) => {
          const p = { bits, s: f32(s), alpha };
          const nq = 2 ** bits - 1;
          const x = f32(u * p.s);
          const step = p.s / nq;
          const b = lnqUniformBounds(f32(alpha), p.s, nq);
          const y = fakeQuantLnq(x, p);
          // (A) the error is half a step, stretched by ≤ (1 + αs), plus the float32 terms
          expect(Math.abs(y - x)).toBeLessThanOrEqual(b.value);
          // (B) away from the uniform decision boundaries the code is the uniform one, and its level is
          // the uniform level up to the O(α·s²) bend of the curve plus the decoder's float32 noise
          const k = Math.floor(x / step + 0.5); // x ≤ s, so k ≤ N_q; ties (x/step = j + ½) lie inside the margin
          if (Math.abs(x / step - Math.floor(x / step) - 0.5) * step <= b.margin) return;
          expect(quantizeLnq(x, p)).toBe(k);
          expect(Math.abs(y - k * step)).toBeLessThanOrEqual(b.level);
        }),
        // regression (CI): at α = 1e-4, s = 0.1, b = 6 the float32 pipeline resolves ln(1 + αp) only in
        // steps of N_q·2⁻²³/(α·s) ≈ 0.75 codes (natural log of f32(1 + αp), as the reference; not log1p),
        // so x ≈ 1.13 steps gets code 2 and value 2.25 steps; the old fixed bound (0.6 step, claiming
        // float32 noise ≤ 1e-2 step) was wrong for small α·s and large N_q.
        { examples: [[6, 0.10000000149011612, 0.017881393432617188, 1e-4]] },
      );
    });
    it('regression: α = 1e-4, s = 0.1, b = 6, x ≈ 1.13 steps is within the float32-aware bound, not the old 0.6 step', () => {
      const p = { bits: 6, s: f32(0.1), alpha: 1e-4 };
      const x = f32(0.017881393432617188 * p.s), step = p.s / 63;
      const y = fakeQuantLnq(x, p);
      const b = lnqUniformBounds(f32(1e-4), p.s, 63);
      expect(Math.abs(y - x)).toBeLessThanOrEqual(b.value);
      // the float32 noise here is most of a step, so the failure was the old bound, not the quantizer
      expect(Math.abs(y - x)).toBeGreaterThan(0.6 * step);
      expect(b.value).toBeGreaterThan(1.5 * step);
    });
  });

  describe.skipIf(!VECTORS_PRESENT)('conformance (authors-reference forward cases: codes exact, values lnq-ulp:2)', () => {
    it.each(caseNames('lnq', 'forward_'))('%s', (name) => expectCasePasses('lnq', name));
  });
});

describe('AGQ — AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)', () => {
  const p = { bits: 4, s: 0.9, tau: 2 };
  describe('edge cases', () => {
    it.each([
      ['p = 0 underflows → code L, value 0', 0, 16, 0],
      ['p = 1 > s clamps to e = 0 → s', 1, 0, f32(0.9)],
      ['p = s → e = 0', f32(0.9), 0, f32(0.9)],
      ['p = s/√2 → e = 1 (τ = 2)', f32(0.9 / Math.SQRT2), 1, f32(f32(0.9) * f32(Math.SQRT1_2))],
    ])('%s', (_n, x, e, y) => {
      expect(quantizeAgq(x, p)).toBe(e);
      expect(fakeQuantAgq(x, p)).toBe(y);
    });
    it('rejects bad parameters', () => {
      expect(() => quantizeAgq(0.1, { ...p, tau: 1.5 })).toThrow(/p\.tau must be a positive integer/);
      expect(() => quantizeAgq(0.1, { ...p, bits: 1 })).toThrow(/bits must be an integer/);
      expect(() => dequantizeAgq(17, p)).toThrow(/e must be an integer in \[0, 16\]/);
      expect(() => fakeQuantAgq(Infinity, p)).toThrow(SpecError);
    });
  });
  describe('oracle', () => {
    it('equals the naive definition', () => {
      fc.assert(
        fc.property(fc.integer({ min: 2, max: 8 }), fc.constantFrom(1, 2, 4), fc.float({ min: Math.fround(0.05), max: 1, noNaN: true }), softmaxRows(3, 7), (bits, tau, s, P) => {
          const y = fakeQuantAgqTensor(P, { bits, s: f32(s), tau });
          for (let i = 0; i < y.data.length; i++) expect(y.data[i]).toBe(naiveAgq(P.data[i]!, f32(s), tau, bits));
        }),
      );
    });
  });
  describe('laws', () => {
    it('monotone values and idempotence', () => {
      fc.assert(
        fc.property(fc.integer({ min: 2, max: 8 }), fc.constantFrom(1, 2, 4), softmaxRows(3, 7), (bits, tau, P) => {
          const q = { bits, s: 0.8, tau };
          const sorted = Float32Array.from(P.data).sort();
          const y = fakeQuantAgqTensor(tensor([sorted.length], sorted), q).data;
          for (let i = 1; i < y.length; i++) expect(y[i]!).toBeGreaterThanOrEqual(y[i - 1]!);
          expect(Array.from(fakeQuantAgqTensor(tensor([y.length], y), q).data)).toEqual(Array.from(y));
        }),
      );
    });
  });
  describe.skipIf(!VECTORS_PRESENT)('conformance (authors-reference forward cases, exact)', () => {
    it.each(caseNames('agq', 'forward_'))('%s', (name) => expectCasePasses('agq', name));
  });
});
