/**
 * Records shared by the cycle model: the array geometry, one tile job (operand codes, decoder and
 * requant parameters) and its result. Plain readonly data; no behaviour.
 *
 * Legend: R × C physical PE array; a tile multiplies row operands A [M, K] (M ≤ R) by column operands
 * B [N, K] (N ≤ C) into acc [nb, M, N] (nb accumulator banks per PE) and requantised codes y [M, N].
 */
import type { FixedScale } from '../../src/int/fixed-point';

// TYPES

/** Physical geometry of the output-stationary array. */
export interface ArrayConfig {
  /** PE rows R (one per output row of a tile). */
  readonly rows: number;
  /** PE columns C (one per output column of a tile). */
  readonly cols: number;
}

/**
 * Decoding mode of the row feeders (and thus the PE datapath):
 * - `uniform`: a = X − zx, one bank.
 * - `cag`: a = X − Z_g(k), tag g selects one of G banks (channels already permuted into contiguous groups).
 * - `hluq`: code 0 → nothing; log code → shift path into bank 0; uniform code → bank 0 (offset) and bank 1 (multiply).
 * - `lnq`: a = D[P] (decoder table), one bank; the column operands are V − zv.
 */
export type TileMode = 'uniform' | 'cag' | 'hluq' | 'lnq';

/** Per-column requantisation (PPU) parameters; `nb` combine multipliers, one per accumulator bank. */
export interface PpuParams {
  /** Integer bank-combine multipliers gm[bank] (CAG group ratios M_g, HLUQ M_log/M_uni; |gm| ≤ 2^20); length nb. */
  readonly combine: readonly number[];
  /** Bias per output column in wide-accumulator units (integers, |bias| ≤ 2^36), length N. */
  readonly bias: ArrayLike<number>;
  /** Output scale per column, length N. */
  readonly scale: readonly FixedScale[];
  /** Output zero point. */
  readonly zy: number;
  /** Saturation range of the output code. */
  readonly lo: number;
  readonly hi: number;
}

/** One tile of work for the array. Codes are non-negative integers below 2^bits. */
export interface TileJob {
  readonly mode: TileMode;
  /** Code width of the row operands A (activations, HLUQ codes or LNQ attention codes), 1..8. */
  readonly aBits: number;
  /** Code width of the column operands B (weights, or V for LNQ), 1..8. */
  readonly bBits: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Row operand codes [M, K]. */
  readonly a: Int32Array;
  /** Column operand codes [N, K] (W in PyTorch Linear layout; Vᵀ for LNQ). */
  readonly b: Int32Array;
  /** Column zero point per output column (zw[n]; zv repeated for LNQ), length N. */
  readonly zb: Int32Array;
  /** uniform: activation zero point. */
  readonly za?: number;
  /** cag: contiguous channel groups (G + 1 offsets from 0 to K) and their zero points. */
  readonly groups?: { readonly starts: readonly number[]; readonly zeroPoints: readonly number[] };
  /** hluq: number of log-region codes (incl. code 0) and guard bits of the log path. */
  readonly hluq?: { readonly lLog: number; readonly guardBits: number };
  /** lnq: decoder table D[q] (fixed point), length 2^aBits. */
  readonly lnqTable?: Int32Array;
  /** Requant parameters; absent → identity (gm = 1, bias 0, scale 2^15·2^−15, no saturation). */
  readonly ppu?: PpuParams;
}

/**
 * A drain-only job (standalone requantisation): the accumulators of an M × N tile are written through
 * the accumulator-load port instead of being computed, then drained through the PPU. No compute phase.
 */
export interface AccLoadJob {
  readonly mode: 'accLoad';
  readonly M: number;
  readonly N: number;
  /** Accumulator banks per PE used by the drain (1 for a plain requant). */
  readonly nb: number;
  /** Loaded accumulators [nb, M, N] (int32). */
  readonly acc: Int32Array;
  /** Requant parameters; absent → identity. */
  readonly ppu?: PpuParams;
}

/** What a finished tile produced. */
export interface TileResult {
  /** Raw accumulators as drained, [nb, M, N] (bank-major like `gemmCag`'s [G, M, N]). */
  readonly acc: Int32Array;
  /** Requantised outputs [M, N] (float64 storage: the identity PPU may exceed int32 code ranges). */
  readonly y: Float64Array;
  /** Cycles from the start cycle to the last output write, inclusive (the perf counter). */
  readonly cycles: number;
  readonly nb: number;
}
