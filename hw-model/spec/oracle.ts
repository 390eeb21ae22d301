/**
 * Deliberately naive oracle of one tile (accumulators + requant), written from docs/integer-datapath.md
 * with BigInt arithmetic. Shares no code with src/ or hw-model/src (used only by tests).
 */
import type { TileJob } from '../src/types';

/** Raw accumulators [nb, M, N] and requantised outputs [M, N] of a job, by the textbook formulas. */
export function naiveTile(job: TileJob): { acc: number[]; y: number[]; nb: number } {
  const { M, N, K } = job;
  const nb = job.mode === 'cag' ? job.groups!.zeroPoints.length : job.mode === 'hluq' ? 2 : 1;
  const acc: number[] = new Array(nb * M * N).fill(0);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const x = job.a[m * K + k]!;
        const w = job.b[n * K + k]! - job.zb[n]!;
        if (job.mode === 'uniform') acc[m * N + n] += w * (x - job.za!);
        else if (job.mode === 'lnq') acc[m * N + n] += job.lnqTable![x]! * w;
        else if (job.mode === 'cag') {
          let g = 0;
          while (!(k >= job.groups!.starts[g]! && k < job.groups!.starts[g + 1]!)) g++;
          acc[(g * M + m) * N + n] += w * (x - job.groups!.zeroPoints[g]!);
        } else {
          const { lLog, guardBits } = job.hluq!;
          if (x === 0) continue;
          if (x < lLog) acc[m * N + n] += Math.floor((w * 2 ** guardBits) / 2 ** (lLog - x));
          else {
            acc[m * N + n] += w * 2 ** guardBits;
            acc[(M + m) * N + n] += w * (x - lLog);
          }
        }
      }
    }
  }
  const y: number[] = new Array(M * N).fill(0);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let comb = 0n;
      for (let b = 0; b < nb; b++) comb += BigInt(job.ppu ? job.ppu.combine[b]! : 1) * BigInt(acc[(b * M + m) * N + n]!);
      if (!job.ppu) { y[m * N + n] = Number(comb); continue; }
      const p = job.ppu;
      const { mult, shift } = p.scale[n]!;
      const scaled = ((comb + BigInt(p.bias[n]!)) * BigInt(mult) + (1n << BigInt(shift - 1))) >> BigInt(shift); // BigInt >> is floor
      const v = Number(scaled) + p.zy;
      y[m * N + n] = Math.min(p.hi, Math.max(p.lo, v));
    }
  }
  return { acc, y, nb };
}

/**
 * Code of a float32 value under a threshold table, by the definition: count every threshold the value
 * reaches (IEEE `>=`, so NaN reaches none and −0 equals +0). No search, no ordering assumption.
 */
export function naiveThresholdCode(x: number, thresholds: ArrayLike<number>): number {
  let c = 0;
  for (let k = 0; k < thresholds.length; k++) if (x >= thresholds[k]!) c++;
  return c;
}

/** Requantised code of one accumulator, by the textbook formula with BigInt (round half up, clamp). */
export function naiveRequant(acc: number, mult: number, shift: number, zero: number, lo: number, hi: number): number {
  const v = Number(((BigInt(acc) * BigInt(mult)) + (1n << BigInt(shift - 1))) >> BigInt(shift)) + zero;
  return Math.min(hi, Math.max(lo, v));
}
