import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { cagChannelQParams, cagGroupChannels, canonicalLabels, float32Centroids } from '../../src/calib/cag';
import { checkCag } from '../../src/conformance/cag';
import { SpecError } from '../../src/tensor';
import { channelHeterogeneous } from '../arbitraries/matrices';
import { hasShared, sharedPath } from '../helpers/shared';

/** Per-channel (s, z) of heterogeneous activations, via per-channel min/max. */
const channelParams = fc.record({ x: channelHeterogeneous(), bits: fc.integer({ min: 4, max: 8 }) }).map(({ x, bits }) => {
  const [rows, C] = x.shape as [number, number];
  const mn = new Float64Array(C).fill(Infinity), mx = new Float64Array(C).fill(-Infinity);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) { mn[c] = Math.min(mn[c]!, x.data[r * C + c]!); mx[c] = Math.max(mx[c]!, x.data[r * C + c]!); }
  return { bits, C, ...cagChannelQParams(mn, mx, bits) };
});

describe('CAG grouping — edge cases', () => {
  it('G = C with distinct channels keeps every channel alone (zero inertia)', () => {
    const st = cagGroupChannels([0.1, 0.2, 0.3], [1, 2, 3], { bits: 4, stages: [3] })[0]!;
    expect(st.inertia).toBe(0);
    expect(new Set(Array.from(st.params.labels)).size).toBe(3);
  });
  it('zero-point ties round half to even (centroid 2.5 → 2)', () => {
    const st = cagGroupChannels([0.1, 0.1], [2, 3], { bits: 4, stages: [1] })[0]!;
    expect(Array.from(st.params.groupZeroPoints)).toEqual([2]);
  });
  it.each([
    ['G larger than the channel count', () => cagGroupChannels([0.1, 0.2], [0, 1], { bits: 4, stages: [3] })],
    ['no stages', () => cagGroupChannels([0.1], [0], { bits: 4, stages: [] })],
    ['empty channels', () => cagGroupChannels([], [], { bits: 4, stages: [1] })],
    ['NaN scale', () => cagGroupChannels([NaN, 0.1], [0, 0], { bits: 4, stages: [1] })],
    ['non-integer zero point', () => cagGroupChannels([0.1, 0.1], [0.5, 0], { bits: 4, stages: [1] })],
    ['length mismatch', () => cagChannelQParams([0, 1], [1], 4)],
    ['bits out of range', () => cagChannelQParams([0], [1], 1)],
  ])('rejects %s with SpecError', (_n, f) => {
    expect(f).toThrow(SpecError);
  });
});

describe('CAG grouping — oracle', () => {
  it('group values are the float32 centroid of their channels and the rounded mean zero point', () => {
    fc.assert(fc.property(channelParams, fc.integer({ min: 1, max: 4 }), ({ bits, C, scales, zeroPoints }, G) => {
      const st = cagGroupChannels(scales, zeroPoints, { bits, stages: [Math.min(G, C)] })[0]!;
      const k = st.params.groupScales.length;
      for (let g = 0; g < k; g++) {
        const members = Array.from(st.params.labels).flatMap((l, c) => (l === g ? [c] : []));
        if (members.length === 0) continue;
        const ms = members.reduce((a, c) => a + scales[c]!, 0) / members.length;
        const mz = members.reduce((a, c) => a + zeroPoints[c]!, 0) / members.length;
        // float32 centroid vs fp64 mean: ≤ a few float32 ulps (2^-21 relative covers sum+scale rounding)
        expect(Math.abs(st.params.groupScales[g]! - ms)).toBeLessThanOrEqual(ms * 2 ** -20);
        expect(Math.abs(st.params.groupZeroPoints[g]! - mz)).toBeLessThanOrEqual(0.5 + 1e-6);
      }
    }));
  });
  it('float32Centroids of one cluster is the float32 mean', () => {
    expect(Array.from(float32Centroids([1, 2, 3, 4], [0, 0], 1, 2))).toEqual([2, 3]);
  });
});

describe('CAG grouping — laws', () => {
  it('uses at most G distinct (scale, zero point) pairs, and stages are nested', () => {
    fc.assert(fc.property(channelParams, ({ bits, C, scales, zeroPoints }) => {
      const stages = [8, 4, 2, 1].map((f) => Math.min(C, f * 2));
      const out = cagGroupChannels(scales, zeroPoints, { bits, stages });
      out.forEach((st, i) => {
        const pairs = new Set(Array.from(st.params.labels, (l) => `${st.params.groupScales[l]}/${st.params.groupZeroPoints[l]}`));
        expect(pairs.size).toBeLessThanOrEqual(st.K);
        if (i > 0) {
          // nested: channels sharing a group in stage i−1 share a group in stage i
          const prev = out[i - 1]!.params.labels;
          for (let a = 0; a < C; a++) for (let b = a + 1; b < C; b++) if (prev[a] === prev[b]) expect(st.params.labels[a]).toBe(st.params.labels[b]);
        }
      });
    }), { numRuns: 25 });
  });
  it('is equivariant under channel permutation', () => {
    fc.assert(fc.property(channelParams, fc.integer({ min: 1, max: 1e6 }), ({ bits, C, scales, zeroPoints }, seed) => {
      const perm = Array.from({ length: C }, (_, c) => c).sort((a, b) => ((a * 7919 + seed) % C) - ((b * 7919 + seed) % C) || a - b);
      const K = Math.min(4, C);
      const a = cagGroupChannels(scales, zeroPoints, { bits, stages: [K] })[0]!;
      const b = cagGroupChannels(perm.map((c) => scales[c]!), perm.map((c) => zeroPoints[c]!), { bits, stages: [K] })[0]!;
      for (let i = 0; i < C; i++) {
        const la = a.params.labels[perm[i]!]!, lb = b.params.labels[i]!;
        expect(b.params.groupZeroPoints[lb]).toBe(a.params.groupZeroPoints[la]);
        // scales: same members, but the float32 centroid (scikit-learn emulation) sums the members in
        // channel order, so a permutation can move it by a few float32 ulps (≤ 8 ulp = 2^-20 relative)
        expect(Math.abs(b.params.groupScales[lb]! - a.params.groupScales[la]!)).toBeLessThanOrEqual(a.params.groupScales[la]! * 2 ** -20);
      }
      expect(Array.from(canonicalLabels(perm.map((c) => a.params.labels[c]!)))).toEqual(Array.from(canonicalLabels(b.params.labels)));
    }), { numRuns: 30 });
  });
  it('is deterministic for a seed', () => {
    fc.assert(fc.property(channelParams, ({ bits, C, scales, zeroPoints }) => {
      const a = cagGroupChannels(scales, zeroPoints, { bits, stages: [Math.min(3, C)], seed: 5 });
      const b = cagGroupChannels(scales, zeroPoints, { bits, stages: [Math.min(3, C)], seed: 5 });
      expect(Array.from(a[0]!.params.labels)).toEqual(Array.from(b[0]!.params.labels));
    }), { numRuns: 20 });
  });
});

const CAG_DIR = 'fixtures/authors-reference/cag';
describe.skipIf(!hasShared(CAG_DIR))('CAG grouping — conformance (authors-reference, scikit-learn 1.2.1 KMeans)', () => {
  const load = (name: string) => ({ ...JSON.parse(readFileSync(sharedPath(CAG_DIR, `${name}.json`), 'utf8')), dir: sharedPath(CAG_DIR) });
  it.each(['group4_b4_C64', 'group4_b6_C48', 'group4_b8_C40'])('%s: per-channel params, y_test, and each stage pass the checker', (name) => {
    for (const k of checkCag(load(name))) expect(k.ok, `${k.name}: ${k.detail}`).toBe(true);
  });
  it.each(['progressive_b5_C96', 'progressive_b4_C128'])('%s: every stage passes with the default 100 k-means starts', (name) => {
    for (const k of checkCag(load(name))) expect(k.ok, `${k.name}: ${k.detail}`).toBe(true);
  });
  it('with the reference\'s 10 starts our stream lands in a worse optimum at K=16 of progressive_b5_C96 (why the default is 100)', () => {
    const c = load('progressive_b5_C96');
    const s0 = c.outputs.stages[0];
    const labels = s0.labels.data as number[], S = s0.group_scales.data as number[], Z = s0.group_zero_points.data as number[];
    const st = cagGroupChannels(labels.map((l) => S[l]!), labels.map((l) => Z[l]!), { bits: 5, stages: [16], nInit: 10 })[0]!;
    expect(st.inertia).toBeGreaterThan(c.outputs.stages[1].inertia * (1 + 1e-6));
  });
  it('with more k-means restarts the K=16 stage of progressive_b5_C96 reaches the reference inertia or lower', () => {
    const c = load('progressive_b5_C96');
    const s0 = c.outputs.stages[0];
    const labels = s0.labels.data as number[], S = s0.group_scales.data as number[], Z = s0.group_zero_points.data as number[];
    const st = cagGroupChannels(labels.map((l) => S[l]!), labels.map((l) => Z[l]!), { bits: 5, stages: [16], nInit: 100 })[0]!;
    expect(st.inertia).toBeLessThanOrEqual(c.outputs.stages[1].inertia * (1 + 1e-6)); // 1e-6: reference inertia is float32
  });
});
