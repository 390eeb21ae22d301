/**
 * Seeded random tile jobs for the hardware checks (TS model, RTL, HLS C-sim all replay the same jobs).
 * Same seed and options → the same job on every platform (xoshiro128** from src/tensor/rng).
 */
import { createRng, specRequire, type Rng } from '../../src/tensor';
import { quantizeMultiplier } from '../../src/int/fixed-point';
import type { ArrayConfig, PpuParams, TileJob, TileMode } from './types';

// TYPES

export interface RandomJobOptions {
  readonly mode: TileMode;
  readonly K: number;
  /** Rows/columns used (default: the full array). */
  readonly M?: number;
  readonly N?: number;
  readonly aBits?: number;
  readonly bBits?: number;
  /** Number of CAG groups (cag mode), default 4; some may be empty. */
  readonly groups?: number;
  /** Attach random requant parameters (default true). */
  readonly ppu?: boolean;
  /** Output code width of the requant (default 4). */
  readonly outBits?: number;
}

// HELPERS

function codes(rng: Rng, n: number, bits: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(2 ** bits);
  return out;
}

function randomPpu(rng: Rng, N: number, nb: number, outBits: number): PpuParams {
  const combine: number[] = [];
  for (let b = 0; b < nb; b++) combine.push(1 + rng.int(2 ** 12 - 1));
  const bias = new Float64Array(N);
  const scale = [];
  for (let n = 0; n < N; n++) {
    bias[n] = (rng.int(2 ** 16) - 2 ** 15) * 2 ** rng.int(17); // |bias| < 2^31: exercises the 64-bit bias path
    scale.push(quantizeMultiplier(2 ** -(4 + 12 * rng.next()))); // scales in (2^−16, 2^−4]
  }
  return { combine, bias, scale, zy: rng.int(2 ** outBits), lo: 0, hi: 2 ** outBits - 1 };
}

// MAIN

/**
 * A seeded random job that satisfies every precondition of `checkTileJob`.
 * @precision exact (deterministic integer draws)
 */
export function randomTileJob(seed: number, cfg: ArrayConfig, o: RandomJobOptions): TileJob {
  const rng = createRng(seed);
  const M = o.M ?? cfg.rows, N = o.N ?? cfg.cols, K = o.K;
  const aBits = o.aBits ?? 4, bBits = o.bBits ?? 4;
  specRequire(Number.isInteger(K) && K >= 1, { fn: 'randomTileJob', what: 'K', rule: 'be an integer ≥ 1', got: K });
  const a = codes(rng, M * K, aBits), b = codes(rng, N * K, bBits), zb = codes(rng, N, bBits);
  const base = { mode: o.mode, aBits, bBits, M, N, K, a, b, zb };
  let job: TileJob;
  let nb = 1;
  switch (o.mode) {
    case 'uniform':
      job = { ...base, za: rng.int(2 ** aBits) };
      break;
    case 'cag': {
      const G = o.groups ?? 4;
      const cuts = Array.from({ length: G - 1 }, () => rng.int(K + 1)).sort((x, y) => x - y);
      const starts = [0, ...cuts, K];
      job = { ...base, groups: { starts, zeroPoints: Array.from({ length: G }, () => rng.int(2 ** aBits)) } };
      nb = G;
      break;
    }
    case 'hluq': {
      const lLog = 1 + rng.int(2 ** aBits - 1);
      job = { ...base, hluq: { lLog, guardBits: Math.min(lLog - 1, 8) } };
      nb = 2;
      break;
    }
    case 'lnq': {
      const table = new Int32Array(2 ** aBits);
      let v = 0;
      for (let q = 1; q < table.length; q++) {
        v = Math.min(2 ** 15, v + 1 + rng.int(2 ** 15 / table.length));
        table[q] = v; // monotone like p̂_q·2^15
      }
      job = { ...base, lnqTable: table };
      break;
    }
  }
  return o.ppu === false ? job : { ...job, ppu: randomPpu(rng, N, nb, o.outBits ?? 4) };
}
