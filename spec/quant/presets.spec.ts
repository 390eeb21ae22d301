import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { acnrStepsFor, methodPreset, requirePresetBits, type MethodName } from '../../src/quant/presets';
import { SpecError } from '../../src/tensor';

const METHODS: MethodName[] = ['RTN', 'PTQ4SAM', 'AHCPTQ', 'AHCQ-SAM'];

describe('method presets — edge cases', () => {
  it.each([3, 9, 4.5, NaN, -4])('rejects bits = %s with SpecError', (b) => {
    expect(() => methodPreset('AHCQ-SAM', b)).toThrow(SpecError);
    expect(() => requirePresetBits('t', b)).toThrow(SpecError);
  });
  it('rejects an unknown method and an unknown softmax quantizer', () => {
    expect(() => methodPreset('QDrop' as MethodName, 4)).toThrow(SpecError);
    expect(() => methodPreset('RTN', 4, { softmax: 'exp' as 'lnq' })).toThrow(SpecError);
  });
});

describe('method presets — oracle (METHOD.md §1, §5.2, §7)', () => {
  it.each([
    // method, big, acnr, hluq, cag, softmax, recon, weight rounding
    ['RTN', false, false, false, false, 'uniform', false, 'nearest'],
    ['PTQ4SAM', true, false, false, false, 'agq', true, 'adaround'],
    ['AHCPTQ', true, false, true, true, 'agq', true, 'adaround'],
    ['AHCQ-SAM', true, true, true, true, 'lnq', true, 'adaround'],
  ] as const)('%s', (m, big, acnr, hluq, cag, softmax, recon, rounding) => {
    const p = methodPreset(m, 4);
    expect(p.big !== null).toBe(big);
    expect(p.acnr !== null).toBe(acnr);
    expect(p.hluq).toBe(hluq);
    expect(p.cag !== null).toBe(cag);
    expect(p.softmax).toBe(softmax);
    expect(p.reconstruction !== null).toBe(recon);
    expect(p.weightRounding).toBe(rounding);
    expect(p.referenceCompat).toBe(false);
  });
  it('AHCQ-SAM hyper-parameters: K = 200 at W4/W5, 20 at W6; λ, β, split, skip; G = 4 with 8G→G; BIG 128/0.01/32', () => {
    expect([4, 5, 6].map((b) => methodPreset('AHCQ-SAM', b).acnr!.K)).toEqual([200, 200, 20]);
    const p = methodPreset('AHCQ-SAM', 5);
    expect(p.acnr).toMatchObject({ lambda: 0.003, beta: 0.001, energyThreshold: 0.8, skipBelowKappa: 100, samples: 32 });
    expect(p.cag).toMatchObject({ groups: 4, progressiveFactors: [8, 4, 2, 1], kmeansNInit: 10, kmeansSeed: 0 });
    expect(p.big).toEqual({ gridPoints: 128, peakHeight: 0.01, peakDistance: 32 });
    expect(p.reconstruction).toEqual({ iters: 20000, dropProb: 0.5 });
    expect(acnrStepsFor(8)).toBe(20);
  });
});

describe('method presets — laws', () => {
  it('every valid (method, bits) preset is frozen, keeps its bits, and ablating a component turns only it off', () => {
    fc.assert(fc.property(fc.constantFrom(...METHODS), fc.integer({ min: 4, max: 8 }), fc.constantFrom('big', 'acnr', 'hluq', 'cag', 'reconstruction'), (m, b, comp) => {
      const p = methodPreset(m, b);
      expect(Object.isFrozen(p)).toBe(true);
      expect(p.bits).toBe(b);
      const off = methodPreset(m, b, { [comp]: false });
      const val = (off as unknown as Record<string, unknown>)[comp];
      expect(val === null || val === false).toBe(true);
      for (const other of ['big', 'acnr', 'hluq', 'cag', 'reconstruction'] as const) if (other !== comp) expect(off[other]).toEqual(p[other]);
    }));
  });
  it('forcing ACNR on in a method without it uses the bit-dependent K', () => {
    fc.assert(fc.property(fc.integer({ min: 4, max: 8 }), (b) => methodPreset('AHCPTQ', b, { acnr: true }).acnr!.K === acnrStepsFor(b)));
  });
});

describe('method presets — conformance', () => {
  it('matches sam/exp/config{44,55,66}.yaml: same bits for weights and activations, only k differs', () => {
    const [p4, p5, p6] = [4, 5, 6].map((b) => methodPreset('AHCQ-SAM', b));
    expect({ ...p4, bits: 0, acnr: null }).toEqual({ ...p6, bits: 0, acnr: null });
    expect({ ...p4!.acnr, K: 0 }).toEqual({ ...p6!.acnr, K: 0 });
    expect(p5!.acnr!.K).toBe(200);
  });
});
