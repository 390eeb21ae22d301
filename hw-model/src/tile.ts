/**
 * Cycle-stepped model of the tile engine: controller + row/column feeders with decoders + R × C
 * output-stationary PE array + per-column requant pipeline (PPU). `step(state, inputs)` advances one
 * clock; `runTile` is a fold of `step` until the job's result appears.
 *
 * State discipline (two-phase): every clocked register has a current value; `step` computes all next
 * values from current values only, then commits. The operand registers are double-buffered (the next
 * values go to the spare buffer, then the buffers swap); an accumulator's next value depends only on
 * itself and on current operand registers, so it is committed in place; the PPU stages compute their
 * next values into locals and commit after. The state record is owned by the engine: it is mutated
 * only inside `step` and `enqueue` (documented exception to immutable records, for speed: a 32 × 32
 * array steps at tens of millions of PE-cycles per second).
 *
 * Modelling shortcut: the decoders are pure functions of (code, k); they are evaluated for the whole
 * job when the job is latched instead of on each buffer read. The values presented at the array edge
 * in each cycle are the same.
 *
 * @paper AHCQ-SAM:v4 §FPGA (project design; HARDWARE.md §4.1, §4.3 level 1)
 * @hardware fpga/rtl/ahcq_core.sv (same timeline, same perf counter)
 */
import { specRequire } from '../../src/tensor';
import { applyScale, saturate } from '../../src/int/fixed-point';
import { checkAccLoadJob, checkTileJob, decodeRow, identityPpu, HLUQ_LOG, HLUQ_UNI } from './decoders';
import { D_PPU, drainCycles } from './latency';
import type { AccLoadJob, ArrayConfig, PpuParams, TileJob, TileResult } from './types';

// TYPES

/** Per-job data latched in the START cycle. */
interface Latched {
  /** The GEMM job, or the drain-only job (then there is no compute phase: tDrain = 1). */
  readonly job: TileJob | AccLoadJob;
  readonly M: number;
  readonly N: number;
  readonly nb: number;
  readonly ppu: PpuParams;
  /** Decoded row operands [M, K] (value, tag) and column operands [N, K]. */
  readonly aVal: Int32Array;
  readonly aTag: Int8Array;
  readonly bVal: Int32Array;
  /** Last progress index of each phase boundary. */
  readonly tDrain: number;
  readonly tLast: number;
  readonly acc: Int32Array; // [nb, M, N] drained raw accumulators
  readonly y: Float64Array; // [M, N]
}

/** The engine's registers. Mutated only by `step` / `enqueue`. */
export interface EngineState {
  readonly cfg: ArrayConfig;
  /** Global clock count. */
  cycle: number;
  /** Host-side command FIFO (not clocked). */
  readonly queue: (TileJob | AccLoadJob)[];
  /** Current job or null when idle. */
  cur: Latched | null;
  /** Progress index within the job (advances only on non-stalled cycles; 0 = START). */
  t: number;
  /** Perf counter: cycles since START including stalls. */
  perf: number;
  // PE operand registers [R, C] (current and spare) and accumulators [R, C, nbMax].
  aVal: Int32Array;
  aTag: Int8Array;
  bVal: Int32Array;
  nAVal: Int32Array;
  nATag: Int8Array;
  nBVal: Int32Array;
  acc: Int32Array;
  // Array-edge operands of the current cycle (combinational feeder outputs).
  readonly edgeAVal: Int32Array;
  readonly edgeATag: Int8Array;
  readonly edgeB: Int32Array;
  // PPU registers per column: stage 1 (combine), stage 2 (scaled).
  readonly s1Valid: Uint8Array;
  readonly s1Row: Int32Array;
  readonly comb: Float64Array;
  readonly s2Valid: Uint8Array;
  readonly s2Row: Int32Array;
  readonly s2Val: Float64Array;
}

/** Inputs sampled in one cycle. */
export interface StepInputs {
  /** Clock-enable low: every register holds; only the perf counter of a running job advances. */
  readonly stall?: boolean;
}

/** Observable outputs of one cycle. */
export interface StepOutputs {
  /** True when a job occupied the engine in this cycle. */
  readonly busy: boolean;
  /** Number of output codes written in this cycle. */
  readonly writes: number;
  /** The finished job's result, in the cycle of its last write. */
  readonly done: TileResult | null;
}

// MAIN

/**
 * A fresh, idle engine for an R × C array with up to `maxBanks` accumulator banks per PE.
 * @precision exact
 */
export function createEngine(cfg: ArrayConfig, maxBanks = 16): EngineState {
  specRequire(Number.isInteger(cfg.rows) && cfg.rows >= 1 && cfg.rows <= 1024 && Number.isInteger(cfg.cols) && cfg.cols >= 1 && cfg.cols <= 1024, {
    fn: 'createEngine', what: 'cfg', rule: 'have integer rows, cols in [1, 1024]', got: [cfg.rows, cfg.cols],
  });
  const R = cfg.rows, C = cfg.cols, P = R * C;
  return {
    cfg, cycle: 0, queue: [], cur: null, t: 0, perf: 0,
    aVal: new Int32Array(P), aTag: new Int8Array(P), bVal: new Int32Array(P),
    nAVal: new Int32Array(P), nATag: new Int8Array(P), nBVal: new Int32Array(P),
    acc: new Int32Array(P * maxBanks),
    edgeAVal: new Int32Array(R), edgeATag: new Int8Array(R), edgeB: new Int32Array(C),
    s1Valid: new Uint8Array(C), s1Row: new Int32Array(C), comb: new Float64Array(C),
    s2Valid: new Uint8Array(C), s2Row: new Int32Array(C), s2Val: new Float64Array(C),
  };
}

/**
 * Queue a job (host command; no clock edge). Preconditions are checked here, before any cycle runs.
 * @precision exact
 */
export function enqueue(state: EngineState, job: TileJob | AccLoadJob): void {
  const nb = job.mode === 'accLoad' ? checkAccLoadJob('enqueue', state.cfg, job) : checkTileJob('enqueue', state.cfg, job);
  specRequire(nb * state.cfg.rows * state.cfg.cols <= state.acc.length, {
    fn: 'enqueue', what: 'banks', rule: `fit the engine's accumulator banks (${state.acc.length / (state.cfg.rows * state.cfg.cols)})`, got: nb,
  });
  state.queue.push(job);
}

function latchAccLoad(cfg: ArrayConfig, job: AccLoadJob): Latched {
  const nb = checkAccLoadJob('step', cfg, job);
  const { M, N } = job;
  const tDrain = 1; // no compute phase: the drain starts right after START
  return {
    job, M, N, nb, ppu: job.ppu ?? identityPpu(N, nb), aVal: new Int32Array(0), aTag: new Int8Array(0), bVal: new Int32Array(0),
    tDrain, tLast: tDrain + drainCycles(cfg, nb) - 1 + D_PPU, acc: new Int32Array(nb * M * N), y: new Float64Array(M * N),
  };
}

function latch(cfg: ArrayConfig, job: TileJob | AccLoadJob): Latched {
  if (job.mode === 'accLoad') return latchAccLoad(cfg, job);
  const nb = checkTileJob('step', cfg, job);
  const { M, N, K } = job;
  const aVal = new Int32Array(M * K), aTag = new Int8Array(M * K), bVal = new Int32Array(N * K);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const d = decodeRow(job, job.a[m * K + k]!, k);
      aVal[m * K + k] = d.value;
      aTag[m * K + k] = d.tag;
    }
  }
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) bVal[n * K + k] = job.b[n * K + k]! - job.zb[n]!;
  const tDrain = K + cfg.rows + cfg.cols - 1; // first drain cycle (= T_START + T_comp)
  const tLast = tDrain + drainCycles(cfg, nb) - 1 + D_PPU;
  return {
    job, M, N, nb, ppu: job.ppu ?? identityPpu(N, nb), aVal, aTag, bVal, tDrain, tLast,
    acc: new Int32Array(nb * M * N), y: new Float64Array(M * N),
  };
}

function feed(s: EngineState, L: Latched, job: TileJob, tc: number): void {
  const { M, N, K } = job;
  const R = s.cfg.rows, C = s.cfg.cols;
  for (let r = 0; r < R; r++) {
    const k = tc - r;
    const on = r < M && k >= 0 && k < K;
    s.edgeAVal[r] = on ? L.aVal[r * K + k]! : 0; // bubble = (0, 0)
    s.edgeATag[r] = on ? L.aTag[r * K + k]! : 0;
  }
  for (let c = 0; c < C; c++) {
    const k = tc - c;
    s.edgeB[c] = c < N && k >= 0 && k < K ? L.bVal[c * K + k]! : 0;
  }
}

/** One compute cycle of the array: operands move right/down, every PE accumulates. */
function computeArray(s: EngineState, L: Latched, job: TileJob): void {
  const R = s.cfg.rows, C = s.cfg.cols, nb = L.nb;
  const aV = s.aVal, aT = s.aTag, bV = s.bVal, nAV = s.nAVal, nAT = s.nATag, nBV = s.nBVal, acc = s.acc;
  const mode = job.mode;
  const gb = mode === 'hluq' ? job.hluq!.guardBits : 0;
  for (let r = 0; r < R; r++) {
    const row = r * C;
    for (let c = 0; c < C; c++) {
      const i = row + c;
      const av = c === 0 ? s.edgeAVal[r]! : aV[i - 1]!; // from the left neighbour / feeder
      const at = c === 0 ? s.edgeATag[r]! : aT[i - 1]!;
      const bv = r === 0 ? s.edgeB[c]! : bV[i - C]!; // from the upper neighbour / feeder
      nAV[i] = av;
      nAT[i] = at;
      nBV[i] = bv;
      if (mode === 'hluq') {
        if (at === HLUQ_LOG) acc[i * 2] = (acc[i * 2]! + ((bv << gb) >> (av > 31 ? 31 : av))) | 0; // ⌊W̃·2^gb / 2^e⌋ (|W̃·2^gb| < 2^31, so e ≥ 31 gives 0 or −1)
        else if (at === HLUQ_UNI) {
          acc[i * 2] = (acc[i * 2]! + (bv << gb)) | 0;
          acc[i * 2 + 1] = (acc[i * 2 + 1]! + bv * av) | 0;
        }
      } else {
        const j = i * nb + at; // bank = group tag (0 outside CAG)
        acc[j] = (acc[j]! + av * bv) | 0;
      }
    }
  }
  // commit: swap operand buffers
  s.aVal = nAV; s.nAVal = aV;
  s.aTag = nAT; s.nATag = aT;
  s.bVal = nBV; s.nBVal = bV;
}

/** One PPU cycle for every column; `d` is the drain read index or −1. Returns the writes. */
function ppuCycle(s: EngineState, L: Latched, d: number): number {
  const { M, N } = L;
  const C = s.cfg.cols, nb = L.nb, p = L.ppu;
  let writes = 0;
  for (let c = 0; c < C; c++) {
    // stage 3: + zp, saturate, write (from current stage-2 registers)
    if (s.s2Valid[c]) {
      L.y[s.s2Row[c]! * N + c] = saturate(s.s2Val[c]! + p.zy, p.lo, p.hi);
      writes++;
    }
    // stage 2: applyScale (from current stage-1 registers)
    const v2 = s.s1Valid[c] === 1;
    const r2 = s.s1Row[c]!;
    const val2 = v2 ? applyScale(s.comb[c]! + p.bias[c]!, p.scale[c]!) : 0;
    // stage 1: read accumulator (r, bank) and combine
    let v1 = 0, r1 = 0, comb1 = s.comb[c]!;
    if (d >= 0) {
      const r = Math.floor(d / nb), bank = d % nb;
      const value = s.acc[(r * C + c) * nb + bank]!;
      const used = r < M && c < N;
      if (used) L.acc[(bank * M + r) * N + c] = value;
      comb1 = (bank === 0 ? 0 : comb1) + p.combine[bank]! * value;
      v1 = used && bank === nb - 1 ? 1 : 0;
      r1 = r;
    }
    // commit
    s.s2Valid[c] = v2 ? 1 : 0;
    s.s2Row[c] = r2;
    s.s2Val[c] = val2;
    s.s1Valid[c] = v1;
    s.s1Row[c] = r1;
    s.comb[c] = comb1;
  }
  return writes;
}

/** The accumulator-load port: job.acc [nb, M, N] into the PE registers of rows < M, columns < N. */
function loadAccumulators(s: EngineState, job: AccLoadJob): void {
  const C = s.cfg.cols, { M, N, nb } = job;
  for (let b = 0; b < nb; b++) for (let r = 0; r < M; r++) for (let c = 0; c < N; c++) s.acc[(r * C + c) * nb + b] = job.acc[(b * M + r) * N + c]!;
}

function banksToAllocate(job: TileJob | AccLoadJob): number {
  if (job.mode === 'accLoad') return Math.max(1, job.nb);
  return Math.max(1, job.mode === 'cag' ? job.groups?.zeroPoints.length ?? 1 : 2);
}

const IDLE: StepOutputs = Object.freeze({ busy: false, writes: 0, done: null });

/**
 * Advance the engine by one clock cycle.
 * @equation state(t+1) = f(state(t), inputs(t)), all registers updated together
 * @deviation none (cycle semantics are the definition in latency.ts)
 * @precision exact (int32 wrap-around accumulators; preconditions exclude overflow)
 */
export function step(state: EngineState, inputs: StepInputs = {}): { state: EngineState; outputs: StepOutputs } {
  const s = state;
  s.cycle++;
  if (s.cur === null) {
    if (inputs.stall || s.queue.length === 0) return { state: s, outputs: IDLE };
    // START cycle: latch the job, clear accumulators and PPU (a drain-only job keeps the accumulators
    // written through the load port: acc[(r·C + c)·nb + bank] = job.acc[bank, r, c]).
    const L = latch(s.cfg, s.queue.shift()!);
    s.cur = L;
    s.t = 0;
    s.perf = 1;
    s.acc.fill(0);
    if (L.job.mode === 'accLoad') loadAccumulators(s, L.job);
    s.aVal.fill(0); s.aTag.fill(0); s.bVal.fill(0);
    s.s1Valid.fill(0); s.s2Valid.fill(0); s.comb.fill(0);
    return { state: s, outputs: { busy: true, writes: 0, done: null } };
  }
  const L = s.cur;
  s.perf++;
  if (inputs.stall) return { state: s, outputs: { busy: true, writes: 0, done: null } };
  const t = ++s.t;
  let writes = 0;
  if (t < L.tDrain) {
    const job = L.job as TileJob; // tDrain = 1 for a drain-only job: no compute cycle
    feed(s, L, job, t - 1);
    computeArray(s, L, job);
  } else {
    const d = t - L.tDrain;
    writes = ppuCycle(s, L, d < s.cfg.rows * L.nb ? d : -1);
  }
  if (t === L.tLast) {
    s.cur = null;
    return { state: s, outputs: { busy: true, writes, done: { acc: L.acc, y: L.y, cycles: s.perf, nb: L.nb } } };
  }
  return { state: s, outputs: { busy: true, writes, done: null } };
}

/**
 * Run one job to completion on a fresh engine: a fold of `step` from the START cycle to the last write.
 * A drain-only job (`mode: 'accLoad'`, the standalone requant) runs the same way without a compute phase.
 * @equation result = fold(step, createEngine(cfg) ⊕ job) until done;  result.cycles = tileCycles(cfg, K, nb) (accLoadCycles(cfg, nb) for a drain-only job)
 * @precision exact
 */
export function runTile(cfg: ArrayConfig, job: TileJob | AccLoadJob): TileResult {
  const s = createEngine(cfg, banksToAllocate(job));
  enqueue(s, job);
  for (;;) {
    const { outputs } = step(s);
    if (outputs.done) return outputs.done;
  }
}

/**
 * Run one job on a fresh engine with a stall pattern: cycle i (counted from the first cycle the job is
 * queued) is stalled when `stall[i]` is true; cycles past the pattern are not stalled. The RTL
 * testbench (fpga/rtl/tb/tb_core.sv, stall section of cfg.hex) drives the same pattern.
 * @equation result.cycles = tileCycles(cfg, K, nb) + #{stalled cycles after START}
 * @precision exact
 */
export function runTileWithStalls(cfg: ArrayConfig, job: TileJob | AccLoadJob, stall: readonly boolean[]): TileResult {
  const s = createEngine(cfg, banksToAllocate(job));
  enqueue(s, job);
  for (let i = 0; ; i++) {
    const { outputs } = step(s, { stall: stall[i] ?? false });
    if (outputs.done) return outputs.done;
  }
}
