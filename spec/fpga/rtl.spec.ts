/**
 * RTL core (fpga/rtl/ahcq_core.sv) vs the cycle-stepped hw-model (GEMM jobs of every mode and drain-only
 * jobs on the accumulator-load path): outputs bit-exact and the design's
 * cycle counter equal to hw-model's cycles (and to the closed form), zero tolerance, under both
 * Verilator and Icarus Verilog. Skips with a message when a simulator is not installed.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTile, runTileWithStalls } from '../../hw-model/src/tile';
import { createRng } from '../../src/tensor';
import { accLoadCycles, tileCycles } from '../../hw-model/src/latency';
import { randomTileJob } from '../../hw-model/src/random-job';
import { parseRtlOutput, rtlConfigHex } from '../../hw-model/src/rtl-vectors';
import type { AccLoadJob, ArrayConfig, TileJob, TileMode } from '../../hw-model/src/types';
import { buildSim, hasTool, runRtl, type RtlParams, type Simulator } from '../../hw-model/spec/rtl-sim';

const CONFIGS: RtlParams[] = [
  { R: 4, C: 4, KMAX: 64, NBMAX: 4 },
  { R: 8, C: 8, KMAX: 64, NBMAX: 4 },
];
const MODES: TileMode[] = ['uniform', 'cag', 'hluq', 'lnq'];

/** A drain-only job (accumulator-load path): full-range int32 accumulators in nb banks, small combine multipliers (|wide| ≤ 2^35). */
function accLoadJob(seed: number, cfg: ArrayConfig, M: number, N: number, nb: number): AccLoadJob {
  const rng = createRng(seed);
  const acc = Int32Array.from({ length: nb * M * N }, () => rng.nextU32() | 0);
  const bias = Float64Array.from({ length: N }, () => rng.int(2 ** 20) - 2 ** 19);
  const scale = Array.from({ length: N }, () => ({ mult: 2 ** 15 + rng.int(2 ** 15), shift: 20 + rng.int(20) }));
  return { mode: 'accLoad', M, N, nb, acc, ppu: { combine: Array.from({ length: nb }, () => 1 + rng.int(4)), bias, scale, zy: rng.int(256), lo: 0, hi: 255 } };
}
const closedFormOf = (cfg: ArrayConfig, job: TileJob | AccLoadJob, nb: number): number => (job.mode === 'accLoad' ? accLoadCycles(cfg, nb) : tileCycles(cfg, job.K, nb));

/** Jobs per configuration: every mode, full and partial tiles, K = 1 and K = KMAX, 8-bit codes; drain-only jobs with 1 and NBMAX banks. */
function jobsFor(p: RtlParams): { name: string; job: TileJob | AccLoadJob }[] {
  const cfg = { rows: p.R, cols: p.C };
  const out: { name: string; job: TileJob | AccLoadJob }[] = [];
  out.push({ name: 'accload-full-nb1', job: accLoadJob(500, cfg, p.R, p.C, 1) });
  out.push({ name: `accload-partial-nb${p.NBMAX}`, job: accLoadJob(501, cfg, Math.max(1, p.R - 1), Math.max(1, p.C - 2), p.NBMAX) });
  MODES.forEach((mode, mi) => {
    out.push({ name: `${mode}-full`, job: randomTileJob(100 + mi, cfg, { mode, K: 23 }) });
    out.push({ name: `${mode}-partial`, job: randomTileJob(200 + mi, cfg, { mode, K: 5, M: Math.max(1, p.R - 1), N: Math.max(1, p.C - 2) }) });
    out.push({ name: `${mode}-k1`, job: randomTileJob(300 + mi, cfg, { mode, K: 1 }) });
    out.push({ name: `${mode}-kmax-8bit`, job: randomTileJob(400 + mi, cfg, { mode, K: p.KMAX, aBits: 8, bBits: mode === 'lnq' ? 4 : 8, outBits: 8 }) });
  });
  return out;
}

describe('edge cases', () => {
  const job = randomTileJob(1, { rows: 2, cols: 2 }, { mode: 'cag', K: 3 });
  it('rtlConfigHex rejects K > KMAX and too many banks', () => {
    expect(() => rtlConfigHex(job, 2, 4)).toThrow(/KMAX/);
    expect(() => rtlConfigHex(job, 64, 2)).toThrow(/NBMAX/);
  });
  it('parseRtlOutput rejects a log without CYCLES, duplicates and unknown lines (FormatError)', () => {
    expect(() => parseRtlOutput('TIMEOUT\n', job)).toThrow(/unexpected line/);
    expect(() => parseRtlOutput('Y 0 0 1\n', job)).toThrow(/no CYCLES/);
    expect(() => parseRtlOutput('Y 0 0 1\nY 0 0 1\nCYCLES 3\n', job)).toThrow(/twice/);
  });
});

for (const sim of ['iverilog', 'verilator'] as Simulator[]) {
  const have = hasTool(sim) && (sim !== 'iverilog' || hasTool('vvp'));
  const title = have ? `conformance: ${sim}` : `conformance: ${sim} — SKIPPED: '${sim}' is not installed (apt-get install -y verilator iverilog)`;
  describe.skipIf(!have)(title, () => {
    for (const p of CONFIGS) {
      it(`${p.R}×${p.C} core: outputs, drained accumulators and cycle counter equal hw-model for every mode and for drain-only (accumulator-load) jobs`, () => {
        const cmd = buildSim(sim, p);
        const dir = mkdtempSync(path.join(tmpdir(), `ahcq-rtl-${sim}-`));
        try {
          for (const { name, job } of jobsFor(p)) {
            const cfg = { rows: p.R, cols: p.C };
            const want = runTile(cfg, job);
            const got = runRtl(cmd, p, job, path.join(dir, name));
            expect(Array.from(got.acc), `${name} acc`).toEqual(Array.from(want.acc));
            expect(Array.from(got.y), `${name} y`).toEqual(Array.from(want.y));
            expect(got.cycles, `${name} cycles`).toBe(want.cycles);
            expect(got.cycles, `${name} closed form`).toBe(closedFormOf(cfg, job, want.nb));
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }, 300_000);
    }
    it(`4×4 core with random stalls (30 %): outputs, accumulators and counter equal hw-model's step({stall}) with the same pattern; counter = closed form + stalls`, () => {
      const p = CONFIGS[0]!;
      const cmd = buildSim(sim, p);
      const cfg = { rows: p.R, cols: p.C };
      const dir = mkdtempSync(path.join(tmpdir(), `ahcq-rtl-stall-${sim}-`));
      try {
        let total = 0;
        jobsFor(p).forEach(({ name, job }, i) => {
          const rng = createRng(9000 + i);
          const stall = Array.from({ length: 400 }, () => rng.int(100) < 30);
          stall[0] = true; // the START cycle itself is stalled: the job must wait
          const want = runTileWithStalls(cfg, job, stall);
          const got = runRtl(cmd, p, job, path.join(dir, name), stall);
          expect(Array.from(got.acc), `${name} acc`).toEqual(Array.from(want.acc));
          expect(Array.from(got.y), `${name} y`).toEqual(Array.from(want.y));
          expect(got.cycles, `${name} cycles vs hw-model`).toBe(want.cycles);
          expect(got.stalls, `${name} stalls`).toBeGreaterThan(0);
          expect(got.cycles, `${name} closed form + stalls`).toBe(closedFormOf(cfg, job, want.nb) + got.stalls);
          total += got.stalls;
        });
        expect(total).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  });
}
