/**
 * Layer level: a GEMM larger than the array is cut into R × C output tiles (full K each), scheduled
 * with double-buffered (ping-pong) operand buffers over one DMA channel to an idealised DRAM with a
 * fixed latency and a fixed bandwidth. Two views that must agree exactly:
 *   - `layerCycles`: the event-level model (phase-by-phase formula, HARDWARE.md §4.3 level 2);
 *   - `runLayerStepped`: a cycle-stepped simulation of DMA + controller + the tile engine (tile.ts).
 * The DRAM model is NOT validated against a real DDR4 controller (no refresh, no bank conflicts,
 * no read/write turnaround).
 *
 * Protocol (phase-synchronous): phase −1 loads tile 0. Phase i (0 ≤ i < n) starts tile i on the array
 * and, on the DMA channel, stores tile i−1's outputs then loads tile i+1's operands; phase i ends when
 * both are finished. A final phase stores tile n−1. Transfers on the channel are serial; each costs
 * T_xfer(bytes) = L_dram + ⌈bytes / B_dram⌉ (0 when bytes = 0).
 * Tile order is n-tile outer, m-tile inner, so a weight tile (and its per-column parameters) is
 * loaded only when the column block changes (weights stationary over the m loop).
 */
import { specRequire } from '../../src/tensor';
import { createEngine, enqueue, step } from './tile';
import { tileCycles } from './latency';
import { banksOf } from './decoders';
import type { ArrayConfig, TileJob } from './types';

// TYPES

/** Idealised DRAM channel. */
export interface DramConfig {
  /** Bytes per cycle (B_dram). */
  readonly bytesPerCycle: number;
  /** Cycles of fixed latency per transfer (L_dram). */
  readonly latency: number;
}

/** Shape-level description of one GEMM layer (enough for timing). */
export interface LayerShape {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly aBits: number;
  readonly bBits: number;
  readonly outBits: number;
  /** Accumulator banks per PE (CAG groups, 2 for HLUQ, else 1). */
  readonly nb: number;
  /** Extra cycles per tile beyond `tileCycles` (e.g. a pipelined FP adder's latency); default 0. */
  readonly extraTileCycles?: number;
}

/** One scheduled tile: its origin, used extent and DMA volumes. */
export interface TileSlot {
  readonly m0: number;
  readonly n0: number;
  readonly rows: number;
  readonly cols: number;
  readonly loadBytes: number;
  readonly storeBytes: number;
  readonly computeCycles: number;
}

// CONSTANTS

/** Per-output-column parameter bytes loaded with a weight tile: zb 1, bias 8, mult 2, shift 1. */
export const PARAM_BYTES_PER_COLUMN = 12;

// MAIN

/**
 * DMA cost of one transfer on the idealised channel.
 * @equation T_xfer(b) = 0 if b = 0, else L_dram + ⌈b / B_dram⌉
 * @precision exact
 */
export function transferCycles(bytes: number, dram: DramConfig): number {
  return bytes <= 0 ? 0 : dram.latency + Math.ceil(bytes / dram.bytesPerCycle);
}

function checkLayer(fn: string, cfg: ArrayConfig, dram: DramConfig, L: LayerShape): void {
  for (const k of ['M', 'N', 'K', 'nb'] as const) specRequire(Number.isInteger(L[k]) && L[k] >= 1, { fn, what: `layer.${k}`, rule: 'be an integer ≥ 1', got: L[k] });
  for (const k of ['aBits', 'bBits', 'outBits'] as const) specRequire(Number.isInteger(L[k]) && L[k] >= 1 && L[k] <= 32, { fn, what: `layer.${k}`, rule: 'be an integer in [1, 32]', got: L[k] });
  specRequire(dram.bytesPerCycle > 0 && Number.isFinite(dram.bytesPerCycle), { fn, what: 'dram.bytesPerCycle', rule: 'be finite and > 0', got: dram.bytesPerCycle });
  specRequire(Number.isInteger(dram.latency) && dram.latency >= 0, { fn, what: 'dram.latency', rule: 'be an integer ≥ 0', got: dram.latency });
  specRequire(Number.isInteger(cfg.rows) && cfg.rows >= 1 && Number.isInteger(cfg.cols) && cfg.cols >= 1, { fn, what: 'cfg', rule: 'have integer rows, cols ≥ 1', got: cfg });
}

/**
 * The tile schedule of a layer (n-tile outer, m-tile inner) with each tile's DMA volumes.
 * @equation load(i) = ⌈rows·K·aBits/8⌉ + [column block changed]·(⌈cols·K·bBits/8⌉ + 12·cols);  store(i) = ⌈rows·cols·outBits/8⌉
 * @precision exact
 */
export function tileSchedule(cfg: ArrayConfig, L: LayerShape): TileSlot[] {
  const R = cfg.rows, C = cfg.cols;
  const T = tileCycles(cfg, L.K, L.nb) + (L.extraTileCycles ?? 0);
  const out: TileSlot[] = [];
  for (let n0 = 0; n0 < L.N; n0 += C) {
    const cols = Math.min(C, L.N - n0);
    for (let m0 = 0; m0 < L.M; m0 += R) {
      const rows = Math.min(R, L.M - m0);
      const wBytes = m0 === 0 ? Math.ceil((cols * L.K * L.bBits) / 8) + PARAM_BYTES_PER_COLUMN * cols : 0;
      out.push({
        m0, n0, rows, cols,
        loadBytes: Math.ceil((rows * L.K * L.aBits) / 8) + wBytes,
        storeBytes: Math.ceil((rows * cols * L.outBits) / 8),
        computeCycles: T,
      });
    }
  }
  return out;
}

/**
 * Event-level latency of a layer with double buffering.
 * @paper AHCQ-SAM:v4 §FPGA (DDR4 buffering; the schedule is the project's own design)
 * @equation T_layer = T_load(0) + Σ_{i=0}^{n−1} max(T_tile(i), T_store(i−1) + T_load(i+1)) + T_store(n−1),  T_store(−1) = T_load(n) = 0
 * @deviation HARDWARE.md §4.3 writes the last compute phase as T_comp(last) alone; here it also hides
 *   T_store(n−2) (the store of the previous tile still has to happen)
 * @precision exact
 */
export function layerCycles(cfg: ArrayConfig, dram: DramConfig, L: LayerShape): number {
  checkLayer('layerCycles', cfg, dram, L);
  return scheduleCycles(tileSchedule(cfg, L), dram);
}

/** The same formula over an explicit schedule. */
export function scheduleCycles(tiles: readonly TileSlot[], dram: DramConfig): number {
  const n = tiles.length;
  if (n === 0) return 0;
  let t = transferCycles(tiles[0]!.loadBytes, dram);
  for (let i = 0; i < n; i++) {
    const dma = (i > 0 ? transferCycles(tiles[i - 1]!.storeBytes, dram) : 0) + (i + 1 < n ? transferCycles(tiles[i + 1]!.loadBytes, dram) : 0);
    t += Math.max(tiles[i]!.computeCycles, dma);
  }
  return t + transferCycles(tiles[n - 1]!.storeBytes, dram);
}

/**
 * Cut a layer-sized job (M, N arbitrary; same fields as a tile job) into the tile at (m0, n0).
 * @precision exact
 */
export function sliceTile(cfg: ArrayConfig, job: TileJob, m0: number, n0: number): TileJob {
  const rows = Math.min(cfg.rows, job.M - m0), cols = Math.min(cfg.cols, job.N - n0), K = job.K;
  const a = job.a.slice(m0 * K, (m0 + rows) * K);
  const b = job.b.slice(n0 * K, (n0 + cols) * K);
  const zb = job.zb.slice(n0, n0 + cols);
  const ppu = job.ppu && {
    ...job.ppu,
    bias: Array.from({ length: cols }, (_, j) => job.ppu!.bias[n0 + j]!),
    scale: job.ppu.scale.slice(n0, n0 + cols),
  };
  return { ...job, M: rows, N: cols, a, b, zb, ...(ppu ? { ppu } : {}) };
}

/**
 * Cycle-stepped simulation of a whole layer: DMA channel + phase controller + the tile engine,
 * advanced one clock at a time. Returns the assembled outputs [M, N], raw accumulators [nb, M, N]
 * and the total cycles.
 * @equation cycles = layerCycles(cfg, dram, shape)   (checked by tests)
 * @precision exact
 */
export function runLayerStepped(cfg: ArrayConfig, dram: DramConfig, job: TileJob, outBits: number): { y: Float64Array; acc: Int32Array; cycles: number } {
  const fn = 'runLayerStepped';
  const nb = banksOf(job);
  const shape: LayerShape = { M: job.M, N: job.N, K: job.K, aBits: job.aBits, bBits: job.bBits, outBits, nb };
  checkLayer(fn, cfg, dram, shape);
  const tiles = tileSchedule(cfg, shape);
  const n = tiles.length;
  const eng = createEngine(cfg, Math.max(nb, 1));
  const y = new Float64Array(job.M * job.N), acc = new Int32Array(nb * job.M * job.N);
  // DMA channel state: FIFO of pending transfer lengths (cycles) and the remaining cycles of the active one.
  const dmaQueue: number[] = [];
  let dmaLeft = 0;
  let phase = -1; // −1: initial load; 0..n−1: compute phases; n: final store; n+1: done
  let phaseStarted = false;
  let tileDone = true;
  let cycles = 0;
  const issue = (bytes: number): void => { const c = transferCycles(bytes, dram); if (c > 0) dmaQueue.push(c); };
  while (phase <= n) {
    cycles++;
    if (!phaseStarted) {
      phaseStarted = true;
      if (phase === -1) issue(tiles[0]!.loadBytes);
      else if (phase < n) {
        enqueue(eng, sliceTile(cfg, job, tiles[phase]!.m0, tiles[phase]!.n0));
        tileDone = false;
        if (phase > 0) issue(tiles[phase - 1]!.storeBytes);
        if (phase + 1 < n) issue(tiles[phase + 1]!.loadBytes);
      } else issue(tiles[n - 1]!.storeBytes);
    }
    // DMA channel: one cycle of the active transfer (a queued one becomes active in this cycle).
    if (dmaLeft === 0 && dmaQueue.length > 0) dmaLeft = dmaQueue.shift()!;
    if (dmaLeft > 0) dmaLeft--;
    // Tile engine: one clock.
    const { outputs } = step(eng);
    if (outputs.done) {
      const t = tiles[phase]!;
      const r = outputs.done;
      for (let i = 0; i < t.rows; i++) {
        for (let j = 0; j < t.cols; j++) {
          y[(t.m0 + i) * job.N + t.n0 + j] = r.y[i * t.cols + j]!;
          for (let b = 0; b < nb; b++) acc[(b * job.M + t.m0 + i) * job.N + t.n0 + j] = r.acc[(b * t.rows + i) * t.cols + j]!;
        }
      }
      tileDone = true;
    }
    if (tileDone && dmaLeft === 0 && dmaQueue.length === 0) {
      phase++;
      phaseStarted = false;
    }
  }
  return { y, acc, cycles };
}
