import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { layerCycles, runLayerStepped, scheduleCycles, tileSchedule, transferCycles, sliceTile, type DramConfig } from '../src/layer';
import { tileCycles } from '../src/latency';
import { randomTileJob } from '../src/random-job';
import type { TileMode } from '../src/types';
import { naiveTile } from './oracle';

const MODES: TileMode[] = ['uniform', 'cag', 'hluq', 'lnq'];
const dramArb = fc.record({ bytesPerCycle: fc.constantFrom(0.5, 1, 2, 3, 8), latency: fc.integer({ min: 0, max: 30 }) });

describe('edge cases', () => {
  const cfg = { rows: 2, cols: 2 };
  it('rejects bad DRAM parameters and shapes with SpecError', () => {
    const L = { M: 3, N: 3, K: 2, aBits: 4, bBits: 4, outBits: 4, nb: 1 };
    expect(() => layerCycles(cfg, { bytesPerCycle: 0, latency: 1 }, L)).toThrow(/dram\.bytesPerCycle/);
    expect(() => layerCycles(cfg, { bytesPerCycle: 1, latency: -1 }, L)).toThrow(/dram\.latency/);
    expect(() => layerCycles(cfg, { bytesPerCycle: 1, latency: 1 }, { ...L, M: 0 })).toThrow(/layer\.M/);
  });
  it('a transfer of 0 bytes costs nothing; otherwise latency + ⌈bytes / bandwidth⌉', () => {
    expect(transferCycles(0, { bytesPerCycle: 4, latency: 10 })).toBe(0);
    expect(transferCycles(9, { bytesPerCycle: 4, latency: 10 })).toBe(13);
  });
  it('a single-tile layer costs load + tile + store', () => {
    const d = { bytesPerCycle: 1, latency: 5 };
    const L = { M: 2, N: 2, K: 4, aBits: 4, bBits: 4, outBits: 4, nb: 1 };
    // load: A 2·4·4/8 = 4 B, W 4 B + 24 B params; store 2 B
    expect(layerCycles(cfg, d, L)).toBe(5 + 32 + tileCycles(cfg, 4, 1) + 5 + 2);
  });
});

describe('oracle', () => {
  it('the stepped layer (DMA + controller + tile engine) computes the whole GEMM bit-exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom(...MODES), dramArb, fc.integer(),
      (R, C, M, N, K, mode, dram, seed) => {
        const cfg = { rows: R, cols: C };
        const job = randomTileJob(seed, { rows: M, cols: N }, { mode, K, groups: 3 });
        const got = runLayerStepped(cfg, dram, job, 4);
        const want = naiveTile(job);
        expect(Array.from(got.y)).toEqual(want.y);
        expect(Array.from(got.acc)).toEqual(want.acc);
      }), { numRuns: 40 });
  });
});

describe('laws', () => {
  it('event-level model (layerCycles) equals the cycle-stepped layer exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 16 }), fc.constantFrom(...MODES), dramArb, fc.integer(),
      (R, C, M, N, K, mode, dram: DramConfig, seed) => {
        const cfg = { rows: R, cols: C };
        const job = randomTileJob(seed, { rows: M, cols: N }, { mode, K, groups: 2 });
        const nb = mode === 'cag' ? 2 : mode === 'hluq' ? 2 : 1;
        const stepped = runLayerStepped(cfg, dram, job, 4);
        expect(stepped.cycles).toBe(layerCycles(cfg, dram, { M, N, K, aBits: 4, bBits: 4, outBits: 4, nb }));
      }), { numRuns: 60 });
  });
  it('bounds: compute-only ≤ T_layer ≤ serial (load + compute + store for every tile)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 64 }), dramArb, (R, M, N, K, dram) => {
      const cfg = { rows: R, cols: R };
      const L = { M, N, K, aBits: 4, bBits: 4, outBits: 4, nb: 1 };
      const tiles = tileSchedule(cfg, L);
      const comp = tiles.reduce((s, t) => s + t.computeCycles, 0);
      const serial = tiles.reduce((s, t) => s + t.computeCycles + transferCycles(t.loadBytes, dram) + transferCycles(t.storeBytes, dram), 0);
      const T = scheduleCycles(tiles, dram);
      return comp <= T && T <= serial;
    }));
  });
  it('infinite bandwidth and zero latency leave only compute (the DMA is fully hidden)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 64 }), (R, M, N, K) => {
      const cfg = { rows: R, cols: R };
      const L = { M, N, K, aBits: 4, bBits: 4, outBits: 4, nb: 1 };
      const n = Math.ceil(M / R) * Math.ceil(N / R);
      return layerCycles(cfg, { bytesPerCycle: 1e12, latency: 0 }, L) === n * tileCycles(cfg, K, 1) + 2;
    }));
  });
  it('sliceTile keeps the tile\'s operands and per-column parameters', () => {
    const job = randomTileJob(5, { rows: 5, cols: 7 }, { mode: 'uniform', K: 3 });
    const t = sliceTile({ rows: 2, cols: 3 }, job, 4, 6);
    expect([t.M, t.N]).toEqual([1, 1]);
    expect(Array.from(t.a)).toEqual(Array.from(job.a.slice(12, 15)));
    expect(t.ppu!.scale[0]).toEqual(job.ppu!.scale[6]);
  });
});
