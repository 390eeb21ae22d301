/**
 * spec/calib/cag-cover: group parameters that cover their members' calibrated ranges (the calibration-only
 * pipeline's CAG group rule; docs/deviations.md "CAG group range").
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError } from '../../src/tensor';
import { cagCoverGroups } from '../../src/calib/cag';
import { calcQParams } from '../../src/quant/uniform';
import { fakeQuantCag } from '../../src/quant/cag';

/** Channels with ranges [mn, mx] (mn ≤ mx) and labels in [0, G) where every group is used. */
const arbSetup = fc.integer({ min: 1, max: 4 }).chain((G) =>
  fc.array(fc.tuple(fc.float({ min: -50, max: 50, noNaN: true }), fc.float({ min: 0, max: 60, noNaN: true }), fc.nat(G - 1)), { minLength: G, maxLength: 24 }).map((ch) => {
    const mn = Float32Array.from(ch, (c) => c[0]);
    const mx = Float32Array.from(ch, (c) => Math.fround(c[0] + c[1]));
    const labels = Int32Array.from(ch, (c, i) => (i < G ? i : c[2]));
    return { G, mn, mx, labels };
  }),
);

describe('edge cases', () => {
  it('mismatched lengths, out-of-range labels, empty groups, bad bits, mn > mx are SpecErrors', () => {
    const mn = [0, 1], mx = [1, 2];
    expect(() => cagCoverGroups(mn, [1], [0, 0], 1, 4)).toThrow(SpecError);
    expect(() => cagCoverGroups(mn, mx, [0, 2], 2, 4)).toThrow(/labels\[1\]/);
    expect(() => cagCoverGroups(mn, mx, [0, 0], 2, 4)).toThrow(/group 1/);
    expect(() => cagCoverGroups(mn, mx, [0, 0], 1, 1)).toThrow(SpecError);
    expect(() => cagCoverGroups([2], [1], [0], 1, 4)).toThrow(/mn ≤ mx/);
  });
});

describe('oracle', () => {
  it('one group is calc_qparams of the union range; one channel per group is per-channel calc_qparams', () => {
    const mn = [-0.5, 0.25, -3], mx = [1, 0.75, 2];
    const one = cagCoverGroups(mn, mx, [0, 0, 0], 1, 4);
    const u = calcQParams(-3, 2, { bits: 4 });
    expect([one.groupScales[0], one.groupZeroPoints[0]]).toEqual([u.scale, u.zeroPoint]);
    const pc = cagCoverGroups(mn, mx, [0, 1, 2], 3, 4);
    for (let c = 0; c < 3; c++) {
      const q = calcQParams(mn[c]!, mx[c]!, { bits: 4 });
      expect([pc.groupScales[c], pc.groupZeroPoints[c]]).toEqual([q.scale, q.zeroPoint]);
    }
  });
});

describe('laws', () => {
  it('no member is clipped: every value in a member\'s calibrated range quantizes within S_g/2 (+ float32 slack)', () => {
    fc.assert(fc.property(arbSetup, fc.integer({ min: 2, max: 8 }), ({ G, mn, mx, labels }, bits) => {
      const p = cagCoverGroups(mn, mx, labels, G, bits);
      const C = mn.length;
      // three probes per channel: both ends and the midpoint
      const x = new Float32Array(3 * C);
      for (let c = 0; c < C; c++) { x[c] = mn[c]!; x[C + c] = mx[c]!; x[2 * C + c] = Math.fround((mn[c]! + mx[c]!) / 2); }
      const q = fakeQuantCag({ dtype: 'float32', shape: [3, C], data: x }, p).data;
      for (let i = 0; i < x.length; i++) {
        const s = p.groupScales[labels[i % C]!]!;
        // half a step, plus float32 rounding of (x/s, ·s) on values up to |x| ≤ 110: 4 ulp(110) ≈ 3.1e-5
        if (!(Math.abs(q[i]! - x[i]!) <= s / 2 + 3.1e-5)) return false;
      }
      return true;
    }));
  });
  it('a group\'s step never exceeds the step of one group over all channels (its range is a subset)', () => {
    fc.assert(fc.property(arbSetup, ({ G, mn, mx, labels }) => {
      const p = cagCoverGroups(mn, mx, labels, G, 4);
      const all = cagCoverGroups(mn, mx, new Int32Array(mn.length), 1, 4);
      return Array.from(p.groupScales).every((s) => s <= all.groupScales[0]!);
    }));
  });
});
