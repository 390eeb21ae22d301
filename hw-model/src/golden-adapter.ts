/**
 * Replay golden GEMM cases (fixtures/golden, format ahcq-golden/1 by src/golden) on the hardware model:
 * a case's integer parameters become one layer-sized job, which the cycle-stepped layer simulation
 * (DMA + controller + tile engine) runs on the case's arch (R × C). CAG inputs are gathered through
 * `perm` (a host/DMA address permutation) and the group zero points are already folded into the bias,
 * so the row decoders subtract 0; HLUQ and uniform map one to one.
 */
import { FormatError, type Tensor } from '../../src/tensor';
import { findGoldenCaseDirs, readGoldenCase, type GoldenCaseRead } from '../../src/golden/reader';
import { setExpectedCycles } from '../../src/golden/writer';
import { paramsReader } from '../../src/golden/ops';
import { runLayerStepped, layerCycles, type DramConfig } from './layer';
import { accLoadCycles, encoderCycles, tileCycles } from './latency';
import { runTile } from './tile';
import { runEncoder } from './encoder';
import { banksOf } from './decoders';
import { DRAM_BYTES_PER_CYCLE, DRAM_LATENCY_CYCLES } from './params';
import type { AccLoadJob, ArrayConfig, PpuParams, TileJob } from './types';

// TYPES

export interface GoldenReplay {
  /** Model outputs keyed like the case's outputs (only those the hardware produces). */
  readonly outputs: ReadonlyMap<string, Int32Array>;
  /** Cycle figures: tiles = Σ T_tile (compute only); layer = DMA-inclusive stepped layer cycles. */
  readonly cycles: { readonly tiles: number; readonly layer: number };
}

/** The expected-cycles record of a case: GEMM {tiles, layer}, requant {tiles}, encode {encoder}. */
export type ExpectedCycles = { readonly tiles: number; readonly layer: number } | { readonly tiles: number } | { readonly encoder: number };

/** A golden case run on a single unit: the core's accumulator-load path (requant) or the encoder unit. */
export interface GoldenUnitReplay {
  readonly unit: 'core-accload' | 'encoder';
  readonly outputs: ReadonlyMap<string, Int32Array>;
  /** requant: {tiles: Σ T_acc over the R × C tiles}; encode: {encoder: T_enc}. */
  readonly cycles: { readonly tiles: number } | { readonly encoder: number };
}

/** The drain-only tiles of a requant case and the case's figures. */
export interface GoldenRequantJobs {
  /** Tiles in schedule order (column blocks outer, row blocks inner), with their origin. */
  readonly tiles: readonly { readonly m0: number; readonly n0: number; readonly job: AccLoadJob }[];
  readonly M: number;
  readonly N: number;
}

// CONSTANTS

/** Ops the tile engine executes as one GEMM layer. */
export const HW_GEMM_OPS = ['gemm_uniform', 'gemm_cag', 'gemm_hluq'] as const;

/** The default DRAM channel of the system model (params.ts). */
export const GOLDEN_DRAM: DramConfig = { bytesPerCycle: DRAM_BYTES_PER_CYCLE, latency: DRAM_LATENCY_CYCLES };

// HELPERS

type P = Record<string, unknown>;
function ints(src: string, p: P, k: string): number[] {
  const v = p[k];
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) throw new FormatError(src, `params.${k} must be an array of integers`);
  return v as number[];
}
function int(src: string, p: P, k: string): number {
  const v = p[k];
  if (!Number.isSafeInteger(v)) throw new FormatError(src, `params.${k} must be an integer`);
  return v as number;
}

// MAIN

/**
 * Build the layer job of a golden GEMM case, or null when the op is not a hardware GEMM.
 * @precision exact
 */
export function goldenToJob(c: GoldenCaseRead): { job: TileJob; requant: boolean; outBits: number } | null {
  const src = `${c.dir}/desc.json`;
  const op = c.desc.op;
  if (!(HW_GEMM_OPS as readonly string[]).includes(op)) return null;
  const x = c.inputs.get('x')?.tensor, w = c.inputs.get('w')?.tensor;
  if (!x || !w || x.dtype !== 'int32' || w.dtype !== 'int32') throw new FormatError(src, 'inputs x and w must be integer tensors');
  return gemmJobFromParams(op as (typeof HW_GEMM_OPS)[number], c.desc.params as P, x as Tensor<'int32'>, w as Tensor<'int32'>, src);
}

/**
 * Build the layer job of a hardware GEMM from its golden params (the `gemm_uniform` / `gemm_cag` /
 * `gemm_hluq` field set, also used by the stages of a `tinyvit_block` case) and its operands
 * x [M, K] (original channel order; CAG rows are gathered through `perm` here) and w [N, K].
 * @precision exact
 */
export function gemmJobFromParams(op: (typeof HW_GEMM_OPS)[number], p: Record<string, unknown>, x: Tensor<'int32'>, w: Tensor<'int32'>, src: string): { job: TileJob; requant: boolean; outBits: number } {
  if (x.shape.length !== 2 || w.shape.length !== 2 || x.shape[1] !== w.shape[1]) throw new FormatError(src, `x [M, K] and w [N, K] must agree on K (got [${x.shape.join(', ')}] and [${w.shape.join(', ')}])`);
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  const bits = int(src, p, 'bits');
  const out = p['out'] as P;
  if (out === null || typeof out !== 'object') throw new FormatError(src, 'params.out must be an object');
  const requant = out['mode'] === 'requant';
  const outBits = requant ? int(src, out, 'bits') : 32;
  const ppu: PpuParams | undefined = requant ? {
    combine: op === 'gemm_cag' ? ints(src, p, 'group_mult') : op === 'gemm_hluq' ? [int(src, p, 'mult_log'), int(src, p, 'mult_uni')] : [1],
    bias: ints(src, p, 'bias'),
    scale: ints(src, out, 'mult').map((m, n) => ({ mult: m, shift: ints(src, out, 'shift')[n]! })),
    zy: int(src, out, 'zero'), lo: 0, hi: 2 ** outBits - 1,
  } : undefined;
  let a = x.data;
  if (op === 'gemm_cag') {
    const perm = ints(src, p, 'perm');
    if (perm.length !== K) throw new FormatError(src, `params.perm must have K = ${K} entries`);
    a = new Int32Array(M * K); // [M, K] gathered
    for (let m = 0; m < M; m++) for (let j = 0; j < K; j++) a[m * K + j] = x.data[m * K + perm[j]!]!;
  }
  const base = { aBits: op === 'gemm_hluq' ? int(src, p, 'act_bits') : bits, bBits: bits, M, N, K, a, b: w.data, zb: Int32Array.from(ints(src, p, 'zw')), ...(ppu ? { ppu } : {}) };
  const job: TileJob = op === 'gemm_uniform' ? { ...base, mode: 'uniform', za: int(src, p, 'zx') }
    : op === 'gemm_cag' ? { ...base, mode: 'cag', groups: { starts: ints(src, p, 'starts'), zeroPoints: ints(src, p, 'group_mult').map(() => 0) } }
    : { ...base, mode: 'hluq', hluq: { lLog: int(src, p, 'l_log'), guardBits: int(src, p, 'guard_bits') } };
  return { job, requant, outBits };
}

/**
 * Replay a golden GEMM case on the cycle-stepped layer model.
 * @precision exact
 */
export function replayGolden(c: GoldenCaseRead, dram: DramConfig = GOLDEN_DRAM): GoldenReplay | null {
  const g = goldenToJob(c);
  if (!g) return null;
  const cfg: ArrayConfig = { rows: c.desc.arch.R, cols: c.desc.arch.C };
  const r = runLayerStepped(cfg, dram, g.job, g.outBits);
  const { M, N, K } = g.job;
  const nb = banksOf(g.job);
  const outputs = new Map<string, Int32Array>();
  if (c.desc.op === 'gemm_hluq') {
    outputs.set('acc_log', r.acc.slice(0, M * N));
    outputs.set('acc_uni', r.acc.slice(M * N, 2 * M * N));
  } else outputs.set('acc', r.acc);
  if (g.requant) outputs.set('y', Int32Array.from(r.y));
  const nTiles = Math.ceil(M / cfg.rows) * Math.ceil(N / cfg.cols);
  const layer = layerCycles(cfg, dram, { M, N, K, aBits: g.job.aBits, bBits: g.job.bBits, outBits: g.outBits, nb });
  if (layer !== r.cycles) throw new Error(`replayGolden: stepped ${r.cycles} ≠ event model ${layer} (a model bug)`);
  return { outputs, cycles: { tiles: nTiles * tileCycles(cfg, K, nb), layer: r.cycles } };
}

/**
 * Expected cycles of every hardware case (GEMM, requant on the accumulator-load path, encode on the
 * encoder unit) under `root`, keyed by case id (what
 * hw-model/expected-cycles.json stores and what `setExpectedCycles` writes into desc.json).
 * @precision exact
 */
export function collectExpectedCycles(caseDirs: readonly string[], read: (dir: string) => GoldenCaseRead): Record<string, ExpectedCycles> {
  const out: Record<string, ExpectedCycles> = {};
  for (const dir of caseDirs) {
    const c = read(dir);
    const r = replayGolden(c);
    if (r) out[c.desc.id] = { tiles: r.cycles.tiles, layer: r.cycles.layer };
    const u = r ? null : replayGoldenUnit(c);
    if (u) out[c.desc.id] = u.cycles;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Write the model's cycles into each hardware GEMM case's desc.json (expected.cycles = {tiles, layer})
 * through the golden writer's `setExpectedCycles`. Run by whoever owns fixtures/golden
 * (e.g. `tsx -e "import('./hw-model/src/golden-adapter.ts').then(m => m.fillGoldenExpectedCycles('fixtures/golden'))"`).
 * @precision exact
 */
export function fillGoldenExpectedCycles(root: string): number {
  const dirs = findGoldenCaseDirs(root);
  let n = 0;
  for (const dir of dirs) {
    const c = readGoldenCase(dir);
    const r = replayGolden(c);
    if (r) { setExpectedCycles(dir, { tiles: r.cycles.tiles, layer: r.cycles.layer }); n++; continue; }
    const u = replayGoldenUnit(c);
    if (u) { setExpectedCycles(dir, u.cycles); n++; }
  }
  return n;
}

/**
 * The drain-only tiles of a golden `requant` case on its arch (R × C): y = clamp_b(applyScale(acc, mult[n], shift[n]) + zero)
 * is the PPU with gm = [1] and bias 0, fed through the accumulator-load port. Null for any other op.
 * @precision exact
 */
export function goldenRequantJobs(c: GoldenCaseRead): GoldenRequantJobs | null {
  if (c.desc.op !== 'requant') return null;
  const src = `${c.dir}/desc.json`;
  const a = c.inputs.get('acc')?.tensor;
  if (!a || a.dtype !== 'int32' || a.shape.length !== 2) throw new FormatError(src, 'input acc must be an int32 [M, N] tensor');
  const [M, N] = a.shape as [number, number];
  const p = c.desc.params as P;
  const mult = ints(src, p, 'mult'), shift = ints(src, p, 'shift');
  if (mult.length !== N || shift.length !== N) throw new FormatError(src, `params.mult and params.shift must have N = ${N} entries`);
  const bits = int(src, p, 'bits');
  const R = c.desc.arch.R, C = c.desc.arch.C;
  const tiles: { m0: number; n0: number; job: AccLoadJob }[] = [];
  for (let n0 = 0; n0 < N; n0 += C) {
    const tn = Math.min(C, N - n0);
    const ppu: PpuParams = {
      combine: [1], bias: new Float64Array(tn), zy: int(src, p, 'zero'), lo: 0, hi: 2 ** bits - 1,
      scale: Array.from({ length: tn }, (_, c2) => ({ mult: mult[n0 + c2]!, shift: shift[n0 + c2]! })),
    };
    for (let m0 = 0; m0 < M; m0 += R) {
      const tm = Math.min(R, M - m0);
      const acc = new Int32Array(tm * tn);
      for (let r = 0; r < tm; r++) for (let c2 = 0; c2 < tn; c2++) acc[r * tn + c2] = (a.data as Int32Array)[(m0 + r) * N + n0 + c2]!;
      tiles.push({ m0, n0, job: { mode: 'accLoad', M: tm, N: tn, nb: 1, acc, ppu } });
    }
  }
  return { tiles, M, N };
}

/**
 * The encoder job of a golden `encode` case (thresholds from params.thresholds_f32), or null for any other op.
 * @precision exact
 */
export function goldenEncoderJob(c: GoldenCaseRead): { x: Float32Array; thresholds: Float32Array } | null {
  if (c.desc.op !== 'encode') return null;
  const src = `${c.dir}/desc.json`;
  const x = c.inputs.get('x')?.tensor;
  if (!x || x.dtype !== 'float32') throw new FormatError(src, 'input x must be a float32 tensor');
  return { x: x.data as Float32Array, thresholds: paramsReader(c.desc.params, src).f32s('thresholds_f32') };
}

/**
 * Replay a golden `requant` case on the stepped core (accumulator-load tiles) or an `encode` case on
 * the stepped encoder unit; null for any other op.
 * @equation requant: cycles.tiles = Σ_tiles accLoadCycles(cfg, 1);  encode: cycles.encoder = encoderCycles(n, L)
 * @precision exact
 */
export function replayGoldenUnit(c: GoldenCaseRead): GoldenUnitReplay | null {
  const rq = goldenRequantJobs(c);
  if (rq) {
    const cfg: ArrayConfig = { rows: c.desc.arch.R, cols: c.desc.arch.C };
    const y = new Int32Array(rq.M * rq.N);
    let cycles = 0;
    for (const { m0, n0, job } of rq.tiles) {
      const r = runTile(cfg, job);
      for (let m = 0; m < job.M; m++) for (let n = 0; n < job.N; n++) y[(m0 + m) * rq.N + n0 + n] = r.y[m * job.N + n]!;
      if (r.cycles !== accLoadCycles(cfg, 1)) throw new Error(`replayGoldenUnit: stepped ${r.cycles} ≠ closed form ${accLoadCycles(cfg, 1)} (a model bug)`);
      cycles += r.cycles;
    }
    return { unit: 'core-accload', outputs: new Map([['y', y]]), cycles: { tiles: cycles } };
  }
  const ej = goldenEncoderJob(c);
  if (ej) {
    const r = runEncoder(ej);
    const closed = encoderCycles(ej.x.length, ej.thresholds.length + 1);
    if (r.cycles !== closed) throw new Error(`replayGoldenUnit: stepped ${r.cycles} ≠ closed form ${closed} (a model bug)`);
    return { unit: 'encoder', outputs: new Map([['q', r.codes]]), cycles: { encoder: r.cycles } };
  }
  return null;
}
