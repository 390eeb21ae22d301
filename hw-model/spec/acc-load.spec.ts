/**
 * The core's accumulator-load path (drain-only jobs, hw-model/src/tile.ts with mode 'accLoad'): the
 * standalone requant. Outputs equal a naive BigInt requant and src/int's requantize; the drained
 * accumulators equal the loaded ones; cycles equal the closed form T_acc = 1 + R·nb + 2 (plus the
 * stalled cycles); golden requant cases replay bit-exactly.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRng, tensor } from '../../src/tensor';
import { requantize } from '../../src/int/compile';
import { findGoldenCaseDirs, readGoldenCase } from '../../src/golden/reader';
import { createEngine, enqueue, runTile, runTileWithStalls, step } from '../src/tile';
import { accLoadCycles, tileCycles } from '../src/latency';
import { randomTileJob } from '../src/random-job';
import { goldenRequantJobs, replayGoldenUnit } from '../src/golden-adapter';
import type { AccLoadJob, ArrayConfig } from '../src/types';
import { naiveRequant } from './oracle';

const GOLDEN = path.resolve(__dirname, '../../fixtures/golden');
const haveGolden = existsSync(GOLDEN);
const cfgArb = fc.record({ rows: fc.integer({ min: 1, max: 6 }), cols: fc.integer({ min: 1, max: 6 }) });

/** A random drain-only requant job: accumulators within ±2^31, 16-bit multipliers, shifts 1 … 40. */
function randomAccJob(seed: number, cfg: ArrayConfig, bits = 4): AccLoadJob {
  const rng = createRng(seed);
  const M = 1 + rng.int(cfg.rows), N = 1 + rng.int(cfg.cols);
  const acc = new Int32Array(M * N);
  for (let i = 0; i < acc.length; i++) acc[i] = rng.nextU32() | 0;
  const scale = Array.from({ length: N }, () => ({ mult: 2 ** 15 + rng.int(2 ** 15), shift: 1 + rng.int(40) }));
  return { mode: 'accLoad', M, N, nb: 1, acc, ppu: { combine: [1], bias: new Float64Array(N), scale, zy: rng.int(2 ** bits), lo: 0, hi: 2 ** bits - 1 } };
}

describe('edge cases', () => {
  const cfg = { rows: 2, cols: 3 };
  const ok = randomAccJob(1, cfg);
  it('rejects shapes beyond the array, a wrong accumulator count and bad bank counts (SpecError naming the field)', () => {
    expect(() => runTile(cfg, { ...ok, M: 3, acc: new Int32Array(3 * ok.N) })).toThrow(/job\.M must be an integer in \[1, R = 2\]/);
    expect(() => runTile(cfg, { ...ok, acc: new Int32Array(1 + ok.M * ok.N) })).toThrow(/job\.acc must be an Int32Array/);
    expect(() => runTile(cfg, { ...ok, nb: 0 })).toThrow(/job\.nb/);
    expect(() => runTile(cfg, { ...ok, ppu: { ...ok.ppu!, combine: [1, 1] } })).toThrow(/combine\.length/);
  });
  it('1 × 1 array, one accumulator: 1 + 1 + 2 cycles; the extremes of int32 requantise exactly', () => {
    const c1 = { rows: 1, cols: 1 };
    for (const a of [-(2 ** 31), 2 ** 31 - 1, 0, -1]) {
      const job: AccLoadJob = { mode: 'accLoad', M: 1, N: 1, nb: 1, acc: Int32Array.of(a), ppu: { combine: [1], bias: new Float64Array(1), scale: [{ mult: 65535, shift: 33 }], zy: 7, lo: 0, hi: 15 } };
      const r = runTile(c1, job);
      expect(r.cycles).toBe(4);
      expect(r.y[0]).toBe(naiveRequant(a, 65535, 33, 7, 0, 15));
    }
  });
  it('a drain-only job after a GEMM job on the same engine does not see the GEMM accumulators (and vice versa)', () => {
    const cfg2 = { rows: 3, cols: 3 };
    const g = randomTileJob(5, cfg2, { mode: 'uniform', K: 6 });
    const a = randomAccJob(6, cfg2);
    const s = createEngine(cfg2, 2);
    enqueue(s, g); enqueue(s, a); enqueue(s, g);
    const done = [];
    while (done.length < 3) { const { outputs } = step(s); if (outputs.done) done.push(outputs.done); }
    expect(Array.from(done[1]!.y)).toEqual(Array.from(runTile(cfg2, a).y));
    expect(Array.from(done[2]!.y)).toEqual(Array.from(done[0]!.y));
    expect(done.map((d) => d.cycles)).toEqual([tileCycles(cfg2, 6, 1), accLoadCycles(cfg2, 1), tileCycles(cfg2, 6, 1)]);
  });
});

describe('oracle', () => {
  it('outputs equal the naive BigInt requant and src/int requantize; drained accumulators equal the loaded ones', () => {
    fc.assert(fc.property(cfgArb, fc.integer(), fc.integer({ min: 2, max: 8 }), (cfg, seed, bits) => {
      const job = randomAccJob(seed, cfg, bits);
      const r = runTile(cfg, job);
      const p = job.ppu!;
      const want = Array.from(job.acc, (a, i) => naiveRequant(a, p.scale[i % job.N]!.mult, p.scale[i % job.N]!.shift, p.zy, 0, 2 ** bits - 1));
      expect(Array.from(r.y)).toEqual(want);
      expect(Array.from(requantize(tensor([job.M, job.N], job.acc, 'int32'), p.scale, p.zy, bits).data)).toEqual(want);
      expect(Array.from(r.acc)).toEqual(Array.from(job.acc));
    }));
  });
});

describe('laws', () => {
  it('cycles = closed form 1 + R·nb + 2 for any bank count, and + the stalled cycles under a stall pattern', () => {
    fc.assert(fc.property(cfgArb, fc.integer(), fc.integer({ min: 1, max: 4 }), fc.array(fc.boolean(), { maxLength: 60 }), (cfg, seed, nb, stall) => {
      const base = randomAccJob(seed, cfg);
      const rng = createRng(seed ^ 0x5a5a);
      const acc = Int32Array.from({ length: nb * base.M * base.N }, () => rng.int(2 ** 20) - 2 ** 19);
      const job: AccLoadJob = { ...base, nb, acc, ppu: { ...base.ppu!, combine: Array.from({ length: nb }, (_, b) => b + 1) } };
      const free = runTile(cfg, job);
      expect(free.cycles).toBe(accLoadCycles(cfg, nb));
      expect(free.cycles).toBe(1 + cfg.rows * nb + 2);
      const r = runTileWithStalls(cfg, job, stall);
      expect(Array.from(r.y)).toEqual(Array.from(free.y));
      const i0 = stall.findIndex((s) => !s);
      let stalls = 0;
      for (let i = (i0 < 0 ? stall.length : i0) + 1, left = free.cycles - 1; left > 0; i++) { if (stall[i]) stalls++; else left--; }
      expect(r.cycles).toBe(free.cycles + stalls);
    }));
  });
});

describe.skipIf(!haveGolden)(`conformance${haveGolden ? '' : ' — SKIPPED: fixtures/golden is absent (run the golden export)'}`, () => {
  it('every golden requant case: y bit-exact on the stepped core (accumulator-load tiles), Σ cycles = tiles × (1 + R + 2)', () => {
    let n = 0;
    for (const dir of findGoldenCaseDirs(GOLDEN)) {
      const c = readGoldenCase(dir);
      if (c.desc.op !== 'requant') continue;
      const r = replayGoldenUnit(c)!;
      expect(r.unit).toBe('core-accload');
      expect(Array.from(r.outputs.get('y')!), c.desc.id).toEqual(Array.from(c.outputs.get('y')!.tensor.data));
      const nt = goldenRequantJobs(c)!.tiles.length;
      expect(r.cycles, c.desc.id).toEqual({ tiles: nt * (1 + c.desc.arch.R + 2) });
      n++;
    }
    expect(n).toBe(2);
  });
});
