/**
 * Closed-form latencies of the units of the modelled accelerator (project design, HARDWARE.md §4; not
 * the paper's unpublished micro-architecture). Every term is defined here and reproduced cycle for cycle
 * by the stepped model (`tile.ts`) and the RTL perf counter (`fpga/rtl/ahcq_core.sv`).
 *
 * Tile timeline (R × C output-stationary array, reduction length K, nb accumulator banks per PE):
 *   cycle 0                         START: the controller latches the job (the "1").
 *   cycles 1 … K+R+C−2              COMPUTE: row r is fed A[r, t−r], column c is fed B[c, t−c] at
 *                                   compute cycle t; PE(r, c) performs MAC k = t − r − c; the last MAC
 *                                   is PE(R−1, C−1) at t = K+R+C−3.
 *   next R·nb cycles                DRAIN (D_drain): each column reads its R·nb accumulators
 *                                   (row-major, bank-minor) into its PPU, one per cycle; not overlapped
 *                                   with compute (single accumulator set).
 *   next 2 cycles                   PPU (D_ppu): stage 2 applyScale, stage 3 + zp, saturate, write.
 *   G_b = 0                         group boundaries cost nothing: the group tag travels with the
 *                                   operand and selects the bank.
 */
import { specRequire } from '../../src/tensor';
import type { ArrayConfig } from './types';

// CONSTANTS

/** Cycles of the start (job latch) state. */
export const T_START = 1;
/** PPU pipeline stages after the drain read cycle (applyScale; zp + saturate + write). */
export const D_PPU = 2;
/** Group-boundary cycles per tile in this design (bank-select by tag). */
export const G_B = 0;

// MAIN

/**
 * Compute-phase length of a tile: skewed feeding of K operands through an R × C array.
 * @source SCALE-Sim v2 scalesim/compute/systolic_compute_os.py (OS fill/drain skew; facts only)
 * @equation T_comp = K + R + C − 2
 * @precision exact
 */
export function computeCycles(cfg: ArrayConfig, K: number): number {
  return K + cfg.rows + cfg.cols - 2;
}

/**
 * Drain length: R·nb accumulator reads per column (columns in parallel).
 * @equation D_drain = R · nb
 * @precision exact
 */
export function drainCycles(cfg: ArrayConfig, nb: number): number {
  return cfg.rows * nb;
}

/**
 * Closed-form latency of one tile, start cycle to last output write inclusive.
 * @paper AHCQ-SAM:v4 §FPGA (design is the project's own; HARDWARE.md §4.3 level 1)
 * @equation T_tile = 1 + K + R + C − 2 + G_b + D_drain + D_ppu,  G_b = 0, D_drain = R·nb, D_ppu = 2
 * @deviation none (this is the definition the stepped model and the RTL are checked against)
 * @precision exact
 */
export function tileCycles(cfg: ArrayConfig, K: number, nb: number): number {
  specRequire(Number.isInteger(K) && K >= 1, { fn: 'tileCycles', what: 'K', rule: 'be an integer ≥ 1', got: K });
  specRequire(Number.isInteger(nb) && nb >= 1, { fn: 'tileCycles', what: 'nb', rule: 'be an integer ≥ 1', got: nb });
  return T_START + computeCycles(cfg, K) + G_B + drainCycles(cfg, nb) + D_PPU;
}

/**
 * Closed-form latency of a drain-only (accumulator-load) job on the core: the standalone requant.
 * The accumulators are written through the accumulator-load port before START (not counted, like the
 * operand loads of a GEMM tile); START does not clear them and the drain begins in the next cycle.
 * @equation T_acc = 1 + D_drain + D_ppu = 1 + R·nb + 2
 * @deviation none (the definition the stepped model and the RTL are checked against)
 * @precision exact
 */
export function accLoadCycles(cfg: ArrayConfig, nb: number): number {
  specRequire(Number.isInteger(nb) && nb >= 1, { fn: 'accLoadCycles', what: 'nb', rule: 'be an integer ≥ 1', got: nb });
  return T_START + drainCycles(cfg, nb) + D_PPU;
}

/**
 * Latency of the pipelined threshold encoder unit (hw-model/src/encoder.ts, fpga/rtl/ahcq_encoder.sv)
 * for a stream of n values and L codes (L − 1 thresholds), start cycle to last code write inclusive.
 * Timeline: cycle 0 START (latch n and the table); in cycle t = 1 … n value x[t−1] is read from the
 * input buffer and passes comparator level 1; level j is applied in cycle t + j − 1, one level per
 * cycle (binary search, D = ⌈log2 L⌉ levels); the code register is written at the end of the cycle of
 * level D, i.e. cycle t + D − 1. The last write is in cycle n + D − 1.
 * @equation T_enc(n, L) = 1 + n + D − 1 = n + ⌈log2 L⌉,  L ≥ 2
 * @deviation none (the definition the stepped encoder model and the RTL are checked against)
 * @precision exact
 */
export function encoderCycles(n: number, levels: number): number {
  specRequire(Number.isInteger(n) && n >= 1, { fn: 'encoderCycles', what: 'n', rule: 'be an integer ≥ 1', got: n });
  specRequire(Number.isInteger(levels) && levels >= 2, { fn: 'encoderCycles', what: 'levels', rule: 'be an integer ≥ 2 (a quantizer has at least two codes)', got: levels });
  return n + encoderDepth(levels);
}

/**
 * Pipeline depth (comparator levels) of the threshold encoder: ⌈log2 L⌉.
 * @equation D(L) = ⌈log2 L⌉
 * @precision exact
 */
export function encoderDepth(levels: number): number {
  specRequire(Number.isInteger(levels) && levels >= 1, { fn: 'encoderDepth', what: 'levels', rule: 'be an integer ≥ 1', got: levels });
  let d = 0;
  while (2 ** d < levels) d++;
  return d;
}
