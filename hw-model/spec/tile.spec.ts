import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SpecError, tensor } from '../../src/tensor';
import { gemmUniform, gemmCag, gemmHluq, gemmLnqPv } from '../../src/int/gemm';
import { applyScale, saturate } from '../../src/int/fixed-point';
import { runTile, createEngine, enqueue, step, type EngineState } from '../src/tile';
import { tileCycles, computeCycles } from '../src/latency';
import { randomTileJob } from '../src/random-job';
import type { ArrayConfig, TileJob, TileMode, TileResult } from '../src/types';
import { naiveTile } from './oracle';

const MODES: TileMode[] = ['uniform', 'cag', 'hluq', 'lnq'];
const nbOf = (j: TileJob): number => (j.mode === 'cag' ? j.groups!.zeroPoints.length : j.mode === 'hluq' ? 2 : 1);

/** The specification's answer for a job, composed from src/int (GEMM kernel, then applyScale/saturate). */
function specTile(job: TileJob): { acc: Int32Array; y: number[] } {
  const { M, N, K } = job;
  const x = tensor([M, K], job.a, 'int32');
  const w = tensor([N, K], job.b, 'int32');
  let acc: Int32Array;
  if (job.mode === 'uniform') acc = gemmUniform({ x, w, zw: job.zb }, job.za!).data;
  else if (job.mode === 'cag') acc = gemmCag({ x, w, zw: job.zb }, job.groups!).data;
  else if (job.mode === 'hluq') {
    const r = gemmHluq({ x, w, zw: job.zb }, { bits: job.aBits, lLog: job.hluq!.lLog }, job.hluq!.guardBits);
    acc = new Int32Array([...r.accLog.data, ...r.accUni.data]);
  } else {
    // LNQ·V: P [M, T] codes, V [T, D]; the job's column operands are Vᵀ with zv per column (all equal).
    const v = new Int32Array(K * N);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) v[k * N + n] = job.b[n * K + k]!;
    const zv = job.zb[0]!;
    acc = gemmLnqPv(x, job.lnqTable!, tensor([K, N], v, 'int32'), zv).data;
  }
  const nb = nbOf(job), p = job.ppu!;
  const y: number[] = [];
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let comb = 0;
      for (let b = 0; b < nb; b++) comb += p.combine[b]! * acc[(b * M + m) * N + n]!;
      y.push(saturate(applyScale(comb + p.bias[n]!, p.scale[n]!) + p.zy, p.lo, p.hi));
    }
  }
  return { acc, y };
}

function lnqJob(seed: number, cfg: ArrayConfig, K: number): TileJob {
  // gemmLnqPv has one zero point for V: use the same zb in every column.
  const j = randomTileJob(seed, cfg, { mode: 'lnq', K });
  return { ...j, zb: new Int32Array(j.N).fill(j.zb[0]!) };
}

const cfgArb = fc.record({ rows: fc.integer({ min: 1, max: 6 }), cols: fc.integer({ min: 1, max: 6 }) });

describe('edge cases', () => {
  const cfg = { rows: 2, cols: 3 };
  const ok = randomTileJob(1, cfg, { mode: 'uniform', K: 4 });
  it('rejects shapes larger than the array, K < 1 and bad code ranges with SpecError naming the field', () => {
    expect(() => runTile(cfg, { ...ok, M: 3 })).toThrow(/job\.M must be an integer in \[1, R = 2\]/);
    expect(() => runTile(cfg, { ...ok, K: 0 })).toThrow(/job\.K/);
    const a = ok.a.slice(); a[0] = 16;
    expect(() => runTile(cfg, { ...ok, a })).toThrow(/job\.a must hold codes in \[0, 2\^4 − 1\]/);
    expect(() => runTile(cfg, { ...ok, za: undefined })).toThrow(/job\.za/);
    expect(() => runTile(cfg, { ...ok, aBits: 9 })).toThrow(SpecError);
    expect(() => runTile({ rows: 0, cols: 1 }, ok)).toThrow(SpecError);
  });
  it('rejects missing mode parameters and an accumulator that could overflow int32', () => {
    expect(() => runTile(cfg, { ...ok, mode: 'cag' })).toThrow(/job\.groups/);
    expect(() => runTile(cfg, { ...ok, mode: 'hluq' })).toThrow(/job\.hluq/);
    expect(() => runTile(cfg, { ...ok, mode: 'lnq' })).toThrow(/job\.lnqTable/);
    const K = 2 ** 16;
    const big: TileJob = { ...ok, M: 1, N: 1, K, a: new Int32Array(K), b: new Int32Array(K), zb: new Int32Array(1), ppu: undefined };
    expect(() => runTile(cfg, { ...big, aBits: 8, bBits: 8, za: 0 })).toThrow(/below 2\^31/);
  });
  it('CAG with empty groups (first, middle, last) and K = 1 on a 1 × 1 array', () => {
    const c1 = { rows: 1, cols: 1 };
    const j: TileJob = { ...randomTileJob(7, c1, { mode: 'cag', K: 5, groups: 4 }), groups: { starts: [0, 0, 3, 3, 5].slice(0, 5), zeroPoints: [1, 2, 3, 4] } };
    const r = runTile(c1, j);
    expect(Array.from(r.acc)).toEqual(naiveTile(j).acc);
    expect(r.cycles).toBe(tileCycles(c1, 5, 4));
    const k1 = randomTileJob(8, c1, { mode: 'uniform', K: 1 });
    expect(runTile(c1, k1).cycles).toBe(1 + 1 + 1 + 1 - 2 + 1 + 2);
  });
  it('partial tiles (M < R, N < C) give the same cycles as full tiles (physical array timing)', () => {
    const big = { rows: 5, cols: 4 };
    const j = randomTileJob(3, big, { mode: 'hluq', K: 7, M: 2, N: 1 });
    const r = runTile(big, j);
    expect(r.cycles).toBe(tileCycles(big, 7, 2));
    expect(Array.from(r.y)).toEqual(naiveTile(j).y);
  });
});

describe('oracle', () => {
  it('accumulators and requantised outputs equal src/int bit for bit on random tiles (all modes)', () => {
    fc.assert(fc.property(cfgArb, fc.constantFrom(...MODES), fc.integer({ min: 1, max: 40 }), fc.integer(), (cfg, mode, K, seed) => {
      const job = mode === 'lnq' ? lnqJob(seed, cfg, K) : randomTileJob(seed, cfg, { mode, K, groups: 1 + (seed >>> 0) % 5 });
      const got = runTile(cfg, job);
      const want = specTile(job);
      expect(Array.from(got.acc)).toEqual(Array.from(want.acc));
      expect(Array.from(got.y)).toEqual(want.y);
    }));
  });
  it('matches the naive BigInt oracle, including 8-bit codes and per-column LNQ zero points', () => {
    fc.assert(fc.property(cfgArb, fc.constantFrom(...MODES), fc.integer({ min: 1, max: 24 }), fc.integer(), (cfg, mode, K, seed) => {
      const job = randomTileJob(seed, cfg, { mode, K, aBits: 8, bBits: mode === 'lnq' ? 4 : 8, outBits: 8 });
      const got = runTile(cfg, job);
      const want = naiveTile(job);
      expect(Array.from(got.acc)).toEqual(want.acc);
      expect(Array.from(got.y)).toEqual(want.y);
    }));
  });
  it('without PPU parameters the outputs are the bank sums (identity requant)', () => {
    const cfg = { rows: 3, cols: 3 };
    const job = randomTileJob(11, cfg, { mode: 'cag', K: 9, ppu: false });
    expect(Array.from(runTile(cfg, job).y)).toEqual(naiveTile(job).y);
  });
});

// Model-based test: the model is the closed-form timing machine plus the naive oracle.
interface Model { pending: TileJob[]; cur: TileJob | null; left: number; stalls: number; expected: { job: TileJob; cycles: number }[] }
interface Real { s: EngineState; done: TileResult[] }

function tick(m: Model, r: Real, stall: boolean): void {
  const { outputs } = step(r.s, { stall });
  if (m.cur === null && !stall && m.pending.length > 0) {
    m.cur = m.pending.shift()!;
    m.left = tileCycles(r.s.cfg, m.cur.K, nbOf(m.cur));
    m.stalls = 0;
  }
  expect(outputs.busy).toBe(m.cur !== null);
  if (m.cur === null) return;
  if (stall) m.stalls++;
  else m.left--;
  if (m.left === 0) {
    expect(outputs.done).not.toBeNull();
    m.expected.push({ job: m.cur, cycles: tileCycles(r.s.cfg, m.cur.K, nbOf(m.cur)) + m.stalls });
    r.done.push(outputs.done!);
    m.cur = null;
  } else expect(outputs.done).toBeNull();
}

class PushTile implements fc.Command<Model, Real> {
  constructor(readonly seed: number, readonly mode: TileMode, readonly K: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const job = randomTileJob(this.seed, r.s.cfg, { mode: this.mode, K: this.K, groups: 3 });
    enqueue(r.s, job);
    m.pending.push(job);
  }
  toString = (): string => `PushTile(${this.seed}, ${this.mode}, K=${this.K})`;
}
class Tick implements fc.Command<Model, Real> {
  check = (): boolean => true;
  run(m: Model, r: Real): void { tick(m, r, false); }
  toString = (): string => 'Tick';
}
class Stall implements fc.Command<Model, Real> {
  check = (): boolean => true;
  run(m: Model, r: Real): void { tick(m, r, true); }
  toString = (): string => 'Stall';
}
class Drain implements fc.Command<Model, Real> {
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    while (m.cur !== null || m.pending.length > 0) tick(m, r, false);
    expect(r.done.length).toBe(m.expected.length);
    for (let i = 0; i < r.done.length; i++) {
      const want = naiveTile(m.expected[i]!.job);
      expect(r.done[i]!.cycles).toBe(m.expected[i]!.cycles);
      expect(Array.from(r.done[i]!.acc)).toEqual(want.acc);
      expect(Array.from(r.done[i]!.y)).toEqual(want.y);
    }
  }
  toString = (): string => 'Drain';
}

describe('laws', () => {
  it('stepped cycle count equals the closed form T_tile = 1 + K + R + C − 2 + G_b + R·nb + D_ppu', () => {
    fc.assert(fc.property(cfgArb, fc.constantFrom(...MODES), fc.integer({ min: 1, max: 30 }), fc.integer(), (cfg, mode, K, seed) => {
      const job = randomTileJob(seed, cfg, { mode, K, groups: 1 + (seed >>> 0) % 4 });
      const r = runTile(cfg, job);
      expect(r.cycles).toBe(tileCycles(cfg, K, r.nb));
      expect(r.cycles).toBe(1 + computeCycles(cfg, K) + cfg.rows * r.nb + 2);
    }));
  });
  it('model-based: PushTile / Tick / Stall / Drain sequences keep outputs exact and cycles = closed form + stalls', () => {
    const cmd = fc.oneof(
      fc.tuple(fc.integer(), fc.constantFrom(...MODES), fc.integer({ min: 1, max: 10 })).map(([s, mo, k]) => new PushTile(s, mo, k) as fc.Command<Model, Real>),
      fc.constant(new Tick()),
      fc.constant(new Stall()),
      fc.constant(new Drain()),
    );
    fc.assert(fc.property(cfgArb, fc.commands([cmd], { maxCommands: 60 }), (cfg, cmds) => {
      const setup = () => ({ model: { pending: [], cur: null, left: 0, stalls: 0, expected: [] } as Model, real: { s: createEngine(cfg, 4), done: [] } as Real });
      fc.modelRun(setup, [...cmds, new Drain()]);
    }), { numRuns: 30 });
  });
  it('CAG with one group equals uniform with that zero point (metamorphic)', () => {
    fc.assert(fc.property(cfgArb, fc.integer({ min: 1, max: 20 }), fc.integer(), (cfg, K, seed) => {
      const u = randomTileJob(seed, cfg, { mode: 'uniform', K, ppu: false });
      const c: TileJob = { ...u, mode: 'cag', za: undefined, groups: { starts: [0, K], zeroPoints: [u.za!] } };
      expect(Array.from(runTile(cfg, c).acc)).toEqual(Array.from(runTile(cfg, u).acc));
    }));
  });
  it('the result does not depend on the array size beyond the tile (same job on a bigger array)', () => {
    fc.assert(fc.property(cfgArb, fc.constantFrom(...MODES), fc.integer({ min: 1, max: 16 }), fc.integer(), (cfg, mode, K, seed) => {
      const job = randomTileJob(seed, cfg, { mode, K });
      const big = { rows: cfg.rows + 2, cols: cfg.cols + 1 };
      expect(Array.from(runTile(big, job).y)).toEqual(Array.from(runTile(cfg, job).y));
    }));
  });
});
