/**
 * The threshold encoder unit (hw-model/src/encoder.ts): codes equal src/int's encodeByThresholds and a
 * naive counting oracle on every float32 input class (±0, ±∞, NaN, subnormals, exact thresholds and
 * their float32 neighbours); the stepped cycle count equals the closed form T_enc = n + ⌈log2 L⌉ (plus
 * the stalled cycles under a stall pattern); golden encode cases replay bit-exactly.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../src/tensor';
import { encodeByThresholds, float32FromKey, float32Key } from '../../src/int/threshold-encoder';
import { findGoldenCaseDirs, readGoldenCase } from '../../src/golden/reader';
import { createEncoder, enqueueEncode, runEncoder, stepEncoder } from '../src/encoder';
import { encoderCycles, encoderDepth } from '../src/latency';
import { replayGoldenUnit } from '../src/golden-adapter';
import { naiveThresholdCode } from './oracle';

const GOLDEN = path.resolve(__dirname, '../../fixtures/golden');
const haveGolden = existsSync(GOLDEN);

/** A sorted float32 table of `len` thresholds drawn from finite float32 values (duplicates allowed), optionally ending in +∞. */
const tableArb = fc.tuple(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 }), fc.nat({ max: 3 }))
  .map(([v, inf]) => {
    const t = Float32Array.from(v).sort();
    for (let i = 0; i < Math.min(inf, t.length - 1); i++) t[t.length - 1 - i] = Infinity;
    return t;
  });
/** Inputs that hit every class: the thresholds, their float32 neighbours, specials and random values. */
function probes(th: Float32Array, extra: number[]): Float32Array {
  const v: number[] = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, ...extra];
  for (const t of th) {
    if (!Number.isFinite(t)) continue;
    const k = float32Key(t);
    v.push(t, float32FromKey(k - 1), float32FromKey(k + 1));
  }
  return Float32Array.from(v);
}

describe('edge cases', () => {
  const th = Float32Array.from([-1, 0, 1]);
  it('rejects an empty stream, an empty or oversized table, a decreasing table and NaN thresholds (SpecError naming the field)', () => {
    expect(() => runEncoder({ x: new Float32Array(0), thresholds: th })).toThrow(/job\.x must be a non-empty Float32Array/);
    expect(() => runEncoder({ x: Float32Array.of(1), thresholds: new Float32Array(0) })).toThrow(/job\.thresholds/);
    expect(() => runEncoder({ x: Float32Array.of(1), thresholds: Float32Array.of(1, 0) })).toThrow(/job\.thresholds\[1\] must be non-decreasing/);
    expect(() => runEncoder({ x: Float32Array.of(1), thresholds: Float32Array.of(0, NaN) })).toThrow(SpecError);
    const s = createEncoder(2); // capacity 3 thresholds
    expect(() => enqueueEncode(s, { x: Float32Array.of(1), thresholds: new Float32Array(4) })).toThrow(/1 … 3 thresholds/);
    expect(() => createEncoder(0)).toThrow(/maxDepth/);
    expect(() => encoderCycles(3, 1)).toThrow(/levels/);
    expect(() => encoderCycles(0, 4)).toThrow(/n must be/);
  });
  it('NaN reaches no threshold, −0 equals +0, +∞ reaches a +∞ threshold, −∞ reaches none', () => {
    const t = Float32Array.of(-0, 0, Infinity);
    const r = runEncoder({ x: Float32Array.of(NaN, -0, 0, -Infinity, Infinity, 1e-45), thresholds: t });
    expect(Array.from(r.codes)).toEqual([0, 2, 2, 0, 3, 2]);
  });
  it('one threshold (L = 2, one level) and a full 255-entry table (L = 256, eight levels)', () => {
    expect(runEncoder({ x: Float32Array.of(-1, 0.5, 2), thresholds: Float32Array.of(0.5) })).toEqual({ codes: Int32Array.of(0, 1, 1), cycles: 3 + 1 });
    const big = Float32Array.from({ length: 255 }, (_, k) => k);
    const x = Float32Array.from({ length: 300 }, (_, i) => i - 20.5);
    const r = runEncoder({ x, thresholds: big });
    expect(r.cycles).toBe(300 + 8);
    expect(Array.from(r.codes)).toEqual(Array.from(x, (v) => naiveThresholdCode(v, big)));
  });
});

describe('oracle', () => {
  it('codes equal the naive count and src/int encodeByThresholds on thresholds, neighbours, specials and random values', () => {
    fc.assert(fc.property(tableArb, fc.array(fc.float(), { maxLength: 30 }), (th, extra) => {
      const x = probes(th, extra);
      const got = runEncoder({ x, thresholds: th }).codes;
      expect(Array.from(got)).toEqual(Array.from(x, (v) => naiveThresholdCode(v, th)));
      expect(Array.from(got)).toEqual(Array.from(x, (v) => encodeByThresholds(v, th)));
    }));
  });
});

describe('laws', () => {
  it('stepped cycles = closed form n + ⌈log2 L⌉, one write per value, in input order', () => {
    fc.assert(fc.property(tableArb, fc.integer({ min: 1, max: 60 }), (th, n) => {
      const x = Float32Array.from({ length: n }, (_, i) => th[i % th.length]!);
      const s = createEncoder(8);
      enqueueEncode(s, { x, thresholds: th });
      let writes = 0, cycles = 0;
      for (let i = 0; i < 10_000; i++) {
        const { outputs } = stepEncoder(s);
        writes += outputs.writes;
        if (outputs.done) { cycles = outputs.done.cycles; break; }
      }
      expect(writes).toBe(n);
      expect(cycles).toBe(encoderCycles(n, th.length + 1));
      expect(cycles).toBe(n + encoderDepth(th.length + 1));
    }));
  });
  it('under a stall pattern: same codes, cycles = closed form + stalled cycles after START', () => {
    fc.assert(fc.property(tableArb, fc.integer({ min: 1, max: 40 }), fc.array(fc.boolean(), { maxLength: 120 }), (th, n, stall) => {
      const x = Float32Array.from({ length: n }, (_, i) => (i % 7) - 3 + th[i % th.length]!);
      const free = runEncoder({ x, thresholds: th });
      const r = runEncoder({ x, thresholds: th }, stall);
      expect(Array.from(r.codes)).toEqual(Array.from(free.codes));
      // the job starts in the first non-stalled cycle i0; every stalled cycle after it adds one
      const i0 = stall.findIndex((s) => !s);
      const start = i0 < 0 ? stall.length : i0;
      let stalls = 0;
      for (let i = start + 1, left = free.cycles - 1; left > 0; i++) { if (stall[i]) stalls++; else left--; }
      expect(r.cycles).toBe(free.cycles + stalls);
    }));
  });
  it('monotone: x ≤ y ⇒ code(x) ≤ code(y) (a threshold table encodes a monotone quantizer)', () => {
    fc.assert(fc.property(tableArb, fc.float({ noNaN: true }), fc.float({ noNaN: true }), (th, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const c = runEncoder({ x: Float32Array.of(lo, hi), thresholds: th }).codes;
      return c[0]! <= c[1]!;
    }));
  });
});

describe.skipIf(!haveGolden)(`conformance${haveGolden ? '' : ' — SKIPPED: fixtures/golden is absent (run the golden export)'}`, () => {
  it('every golden encode case: codes bit-exact on the stepped encoder, cycles = closed form', () => {
    let n = 0;
    for (const dir of findGoldenCaseDirs(GOLDEN)) {
      const c = readGoldenCase(dir);
      if (c.desc.op !== 'encode') continue;
      const r = replayGoldenUnit(c)!;
      expect(r.unit).toBe('encoder');
      expect(Array.from(r.outputs.get('q')!), c.desc.id).toEqual(Array.from(c.outputs.get('q')!.tensor.data));
      const x = c.inputs.get('x')!.tensor;
      const L = 2 ** (c.desc.params['bits'] as number);
      expect(r.cycles, c.desc.id).toEqual({ encoder: x.data.length + Math.log2(L) }); // L = 2^bits codes → ⌈log2 L⌉ = bits levels
      n++;
    }
    expect(n).toBe(4);
  });
});
