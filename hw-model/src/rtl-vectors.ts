/**
 * Vector text formats exchanged with the RTL testbench (fpga/rtl/tb/tb_core.sv): a tile job becomes
 * a `$readmemh` list of configuration writes, and the testbench's output log is parsed back into a
 * `TileResult`. Pure text ↔ record functions (the caller does the file I/O).
 */
import { FormatError, specRequire } from '../../src/tensor';
import { identityPpu, banksOf } from './decoders';
import type { AccLoadJob, TileJob, TileResult } from './types';

// TYPES

/** A tile result as reported by the RTL testbench, with the number of stalled busy cycles it saw. */
export interface RtlTileResult extends TileResult {
  readonly stalls: number;
}

// CONSTANTS

const MODE_CODE = { uniform: 0, cag: 1, hluq: 2, lnq: 3 } as const;
const REG = 0x20000;

// MAIN

/**
 * The configuration writes of a job for `ahcq_core` (address map in fpga/rtl/ahcq_core.sv), as
 * `$readmemh` text: one 64-bit word {addr, data} per line, word 0 = number of writes.
 * @precision exact (data are 32-bit two's complement)
 */
export function rtlConfigHex(job: TileJob | AccLoadJob, kmax: number, nbmax: number, cols = 0): string {
  const fn = 'rtlConfigHex';
  if (job.mode === 'accLoad') return accLoadConfigHex(job, nbmax, cols);
  const nb = banksOf(job);
  specRequire(job.K <= kmax, { fn, what: 'job.K', rule: `be ≤ KMAX = ${kmax}`, got: job.K });
  specRequire(nb <= nbmax, { fn, what: 'banks', rule: `be ≤ NBMAX = ${nbmax}`, got: nb });
  const p = job.ppu ?? identityPpu(job.N, nb);
  specRequire(p.lo >= -(2 ** 31) && p.hi < 2 ** 31, { fn, what: 'job.ppu.lo/hi', rule: 'fit int32 (the RTL output port)', got: [p.lo, p.hi] });
  const w: [number, number][] = [];
  for (let m = 0; m < job.M; m++) for (let k = 0; k < job.K; k++) w.push([m * kmax + k, job.a[m * job.K + k]!]);
  for (let n = 0; n < job.N; n++) for (let k = 0; k < job.K; k++) w.push([0x10000 + n * kmax + k, job.b[n * job.K + k]!]);
  const regs = [MODE_CODE[job.mode], job.K, job.M, job.N, job.za ?? 0, job.hluq?.lLog ?? 0, job.hluq?.guardBits ?? 0, nb, p.zy, p.lo, p.hi];
  regs.forEach((v, i) => w.push([REG + i, v]));
  if (job.groups) {
    job.groups.starts.forEach((v, g) => w.push([REG + 0x100 + g, v]));
    job.groups.zeroPoints.forEach((v, g) => w.push([REG + 0x200 + g, v]));
  }
  p.combine.forEach((v, b) => w.push([REG + 0x300 + b, v]));
  for (let n = 0; n < job.N; n++) {
    const bias = p.bias[n]!;
    const hi = Math.floor(bias / 2 ** 32);
    w.push([REG + 0x400 + n, job.zb[n]!], [REG + 0x500 + n, bias - hi * 2 ** 32], [REG + 0x900 + n, hi], [REG + 0x600 + n, p.scale[n]!.mult], [REG + 0x700 + n, p.scale[n]!.shift]);
  }
  if (job.lnqTable) job.lnqTable.forEach((v, q) => w.push([REG + 0x800 + q, v]));
  const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
  return [hex(0) + hex(w.length), ...w.map(([a, d]) => hex(a) + hex(d))].join('\n') + '\n';
}

/**
 * The configuration writes of a drain-only job: acc_only = 1, the PPU registers, and the accumulators
 * through the load port 0x30000 + (r·C + c)·NBMAX + b (C = the core's column count `cols`).
 * @precision exact
 */
function accLoadConfigHex(job: AccLoadJob, nbmax: number, cols: number): string {
  const fn = 'rtlConfigHex';
  specRequire(Number.isInteger(cols) && cols >= job.N, { fn, what: 'cols', rule: `be the core's column count C ≥ job.N = ${job.N}`, got: cols });
  specRequire(job.nb <= nbmax, { fn, what: 'banks', rule: `be ≤ NBMAX = ${nbmax}`, got: job.nb });
  const p = job.ppu ?? identityPpu(job.N, job.nb);
  specRequire(p.lo >= -(2 ** 31) && p.hi < 2 ** 31, { fn, what: 'job.ppu.lo/hi', rule: 'fit int32 (the RTL output port)', got: [p.lo, p.hi] });
  const w: [number, number][] = [];
  const regs = [0, 0, job.M, job.N, 0, 0, 0, job.nb, p.zy, p.lo, p.hi, 1];
  regs.forEach((v, i) => w.push([REG + i, v]));
  p.combine.forEach((v, b) => w.push([REG + 0x300 + b, v]));
  for (let n = 0; n < job.N; n++) {
    const bias = p.bias[n]!;
    const hi = Math.floor(bias / 2 ** 32);
    w.push([REG + 0x400 + n, 0], [REG + 0x500 + n, bias - hi * 2 ** 32], [REG + 0x900 + n, hi], [REG + 0x600 + n, p.scale[n]!.mult], [REG + 0x700 + n, p.scale[n]!.shift]);
  }
  for (let b = 0; b < job.nb; b++) {
    for (let r = 0; r < job.M; r++) for (let c = 0; c < job.N; c++) w.push([0x30000 + (r * cols + c) * nbmax + b, job.acc[(b * job.M + r) * job.N + c]!]);
  }
  const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
  return [hex(0) + hex(w.length), ...w.map(([a, d]) => hex(a) + hex(d))].join('\n') + '\n';
}

/**
 * The optional stall section appended to `rtlConfigHex`'s text: S, then stall[i] for the cycles
 * i = 0 … S−1 counted from the first cycle `start` is asserted (the cycle index of hw-model's
 * `step(state, {stall})` when the job is queued before cycle 0).
 * @precision exact
 */
export function rtlStallHex(stall: readonly boolean[]): string {
  const hex = (v: number): string => v.toString(16).padStart(16, '0');
  return [hex(stall.length), ...stall.map((b) => hex(b ? 1 : 0))].join('\n') + '\n';
}

/**
 * Parse the testbench log (`A bank row col value`, `Y row col code`, optional `STALLS s`, `CYCLES n`)
 * into a result.
 * Every drained accumulator and every output must appear exactly once.
 * @precision exact
 */
export function parseRtlOutput(text: string, job: TileJob | AccLoadJob, source = 'rtl_out.txt'): RtlTileResult {
  const nb = job.mode === 'accLoad' ? job.nb : banksOf(job);
  const { M, N } = job;
  const acc = new Int32Array(nb * M * N), y = new Float64Array(M * N);
  const seenA = new Uint8Array(nb * M * N), seenY = new Uint8Array(M * N);
  let cycles = -1, stalls = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === '') continue;
    const v = f.slice(1).map(Number);
    if (f[0] === 'A' && v.length === 4 && v.every(Number.isInteger)) {
      const [b, r, c, val] = v as [number, number, number, number];
      if (b >= nb || r >= M || c >= N) throw new FormatError(source, `drain index out of range: ${line}`);
      const i = (b * M + r) * N + c;
      if (seenA[i]) throw new FormatError(source, `accumulator drained twice: ${line}`);
      seenA[i] = 1;
      acc[i] = val;
    } else if (f[0] === 'Y' && v.length === 3 && v.every(Number.isInteger)) {
      const [r, c, val] = v as [number, number, number];
      if (r >= M || c >= N) throw new FormatError(source, `output index out of range: ${line}`);
      if (seenY[r * N + c]) throw new FormatError(source, `output written twice: ${line}`);
      seenY[r * N + c] = 1;
      y[r * N + c] = val;
    } else if (f[0] === 'CYCLES' && v.length === 1 && Number.isInteger(v[0])) cycles = v[0]!;
    else if (f[0] === 'STALLS' && v.length === 1 && Number.isInteger(v[0])) stalls = v[0]!;
    else throw new FormatError(source, `unexpected line: ${line}`);
  }
  if (cycles < 0) throw new FormatError(source, 'no CYCLES line (simulation timed out or crashed)');
  if (!seenA.every((s) => s === 1) || !seenY.every((s) => s === 1)) throw new FormatError(source, 'missing accumulators or outputs');
  return { acc, y, cycles, nb, stalls };
}
