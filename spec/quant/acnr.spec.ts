import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ACNR_DEFAULTS, acnrEnergyCutoff, acnrProximalStep } from '../../src/quant/acnr';
import { SpecError } from '../../src/tensor';

/** Naive oracle written from METHOD.md §3.1, sharing no code with src. */
function naiveStep(sigma: number[], c: number[], lambda = 0.003, beta = 0.001): number[] {
  const t = sigma.reduce((a, b) => a + b, 0) / sigma.length;
  const total = sigma.reduce((a, b) => a + b * b, 0);
  let k = sigma.length - 1;
  let cum = 0;
  for (let i = 0; i < sigma.length; i++) { cum += sigma[i]! ** 2; if (cum > 0.8 * total) { k = i; break; } }
  return sigma.map((s, i) => (i <= k ? s : Math.max(s, (s + 2 * lambda * t) / (1 + 2 * lambda + 2 * beta * c[i]!))));
}

/** Descending spectra with energies C ≥ 0. */
const spectrum = fc
  .array(fc.double({ min: 1e-6, max: 10, noNaN: true }), { minLength: 1, maxLength: 24 })
  .chain((s) => fc.tuple(fc.constant(s.sort((a, b) => b - a)), fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: s.length, maxLength: s.length })));

describe('acnrProximalStep — edge cases', () => {
  it('defaults are the reference values', () => {
    expect(ACNR_DEFAULTS).toEqual({ lambda: 0.003, beta: 0.001, energyThreshold: 0.8, skipBelowKappa: 100 });
  });
  it.each([
    ['single value: k* = 0, unchanged', [2], [1], [2], 0],
    ['all energy in σ₀', [10, 1e-3, 1e-4], [0, 0, 0], null, 0],
    ['equal values: cutoff where cumulative energy first exceeds 80 %', [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], 4],
  ])('%s', (_n, s, c, expected, cutoff) => {
    const r = acnrProximalStep(s, c);
    expect(r.cutoff).toBe(cutoff);
    if (expected) expect(Array.from(r.sigma)).toEqual(expected);
    expect(Array.from(r.sigma)).toEqual(naiveStep(s, c));
  });
  it('energy cutoff defaults to r − 1 when no prefix exceeds the threshold', () => {
    expect(acnrEnergyCutoff([0, 0, 0])).toBe(2);
    expect(acnrEnergyCutoff([3, 4], 1)).toBe(1);
  });
  it.each([
    ['ascending σ', [1, 2], [0, 0]],
    ['negative σ', [1, -1], [0, 0]],
    ['NaN σ', [NaN], [0]],
    ['length mismatch', [2, 1], [0]],
    ['negative C', [2, 1], [0, -1]],
    ['empty', [], []],
  ])('rejects %s', (_n, s, c) => {
    expect(() => acnrProximalStep(s, c)).toThrow(SpecError);
  });
  it('rejects an energy threshold outside (0, 1]', () => {
    expect(() => acnrEnergyCutoff([1], 0)).toThrow(SpecError);
    expect(() => acnrEnergyCutoff([1], 1.5)).toThrow(SpecError);
  });
});

describe('acnrProximalStep — oracle', () => {
  it('equals the naive per-value formula', () => {
    fc.assert(fc.property(spectrum, ([s, c]) => {
      const got = Array.from(acnrProximalStep(s, c).sigma);
      // same formula in the same order of operations: exact equality expected
      expect(got).toEqual(naiveStep(s, c));
    }));
  });
});

describe('acnrProximalStep — laws', () => {
  it('never lowers a singular value; the head 0..k* is unchanged', () => {
    fc.assert(fc.property(spectrum, ([s, c]) => {
      const r = acnrProximalStep(s, c);
      for (let i = 0; i < s.length; i++) {
        expect(r.sigma[i]!).toBeGreaterThanOrEqual(s[i]!);
        if (i <= r.cutoff) expect(r.sigma[i]).toBe(s[i]);
      }
    }));
  });
  it('never raises σ_max/σ_min (tail values rise toward the mean, never past σ₀)', () => {
    fc.assert(fc.property(spectrum, ([s, c]) => {
      const out = Array.from(acnrProximalStep(s, c).sigma);
      const before = s[0]! / s[s.length - 1]!;
      const after = Math.max(...out) / Math.min(...out);
      return after <= before * (1 + 1e-12); // 1e-12: rounding of the ratio only
    }));
  });
  it('σ̃ is the minimiser of ½(σ − σᵢ)² + λ(σ − t)² + βCᵢσ² (derivative zero)', () => {
    fc.assert(fc.property(spectrum, ([s, c]) => {
      const lam = 0.003, beta = 0.001;
      const t = s.reduce((a, b) => a + b, 0) / s.length;
      const r = acnrProximalStep(s, c);
      for (let i = r.cutoff + 1; i < s.length; i++) {
        if (r.sigma[i] === s[i]) continue; // candidate below σᵢ: max() kept σᵢ
        const x = r.sigma[i]!;
        const grad = x - s[i]! + 2 * lam * (x - t) + 2 * beta * c[i]! * x;
        expect(Math.abs(grad)).toBeLessThanOrEqual(1e-12 * Math.max(1, s[0]!, c[i]! * x)); // fp64 rounding of the closed form
      }
    }));
  });
  it('larger activation error Cᵢ never inflates a tail value more', () => {
    fc.assert(fc.property(spectrum, fc.double({ min: 0, max: 100, noNaN: true }), ([s, c], extra) => {
      const a = acnrProximalStep(s, c).sigma, b = acnrProximalStep(s, c.map((v) => v + extra)).sigma;
      for (let i = 0; i < s.length; i++) expect(b[i]!).toBeLessThanOrEqual(a[i]!);
    }));
  });
});
