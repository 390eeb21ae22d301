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
 * Latency of the pipelined threshold encoder (binary search, one comparator level per stage) for a
 * stream of n values: fill plus one value per cycle.
 * @equation T_enc(n, L) = n + ⌈log2 L⌉   (L = number of codes; 0 stages when L = 1)
 * @precision exact
 */
export function encoderCycles(n: number, levels: number): number {
  return n + encoderDepth(levels);
}

/** Pipeline depth of the threshold encoder: ⌈log2 L⌉. */
export function encoderDepth(levels: number): number {
  specRequire(Number.isInteger(levels) && levels >= 1, { fn: 'encoderDepth', what: 'levels', rule: 'be an integer ≥ 1', got: levels });
  let d = 0;
  while (2 ** d < levels) d++;
  return d;
}
