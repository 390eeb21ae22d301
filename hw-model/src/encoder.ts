/**
 * Cycle-stepped model of the threshold encoder unit: a pipelined binary search over a float32
 * threshold table, one comparator level per stage, one value per cycle. It encodes any monotone
 * scalar quantizer (uniform, HLUQ, LNQ) given as thresholds θ_0 ≤ … ≤ θ_{L−2}:
 * code(x) = #{k : x ≥ θ_k} (IEEE `>=`: −0 equals +0, NaN reaches no threshold), the rule of
 * src/int/threshold-encoder.ts#encodeByThresholds.
 *
 * Pipeline (D = ⌈log2 L⌉ levels; registers S_1 … S_D, each (valid, x, lo, idx)):
 *   cycle 0            START: the job (n values, table) is latched.
 *   cycle t = 1 … n    x[t−1] is read from the input buffer and passes level 1 into S_1.
 *   level j (1 … D)    b = D − j; probe = lo + 2^b − 1; if probe < L − 1 and x ≥ θ[probe] then lo += 2^b.
 *   S_D                the code register: its write (code lo for element idx) is the unit's output.
 * Hence the last write is in cycle n + D − 1 and the perf counter reads n + D (latency.ts#encoderCycles).
 * Stall = clock enable low, as in the tile engine: every register holds, nothing is written, only the
 * perf counter of a running job advances.
 *
 * State discipline: two-phase; `stepEncoder` computes every next register value from current values
 * (levels evaluated from the last stage back to the first), then commits. The state is owned by the
 * unit and mutated only inside `stepEncoder` / `enqueueEncode`.
 *
 * @paper AHCQ-SAM:v4 §HLUQ, §LNQ (encoders as threshold tables: project design, HARDWARE.md §1.3, §4.1)
 * @hardware fpga/rtl/ahcq_encoder.sv (same timeline, same perf counter); fpga/hls ahcq::encode_threshold
 */
import { specRequire } from '../../src/tensor';
import { encoderDepth } from './latency';

// TYPES

/** One encoder job: a stream of float32 values and the quantizer's threshold table. */
export interface EncoderJob {
  /** Input values (float32), n ≥ 1. */
  readonly x: Float32Array;
  /** Non-decreasing float32 thresholds θ_0 … θ_{L−2} (L ≥ 2 codes); +∞ marks a code never reached. */
  readonly thresholds: Float32Array;
}

/** What a finished encoder job produced. */
export interface EncoderResult {
  /** Codes, one per input value, in [0, L − 1]. */
  readonly codes: Int32Array;
  /** Cycles from START to the last code write, inclusive (the perf counter). */
  readonly cycles: number;
}

interface LatchedEnc {
  readonly job: EncoderJob;
  readonly depth: number;
  readonly tLast: number;
  readonly codes: Int32Array;
}

/** The unit's registers. Mutated only by `stepEncoder` / `enqueueEncode`. */
export interface EncoderState {
  /** Largest pipeline depth the unit is built for (table capacity 2^maxDepth − 1). */
  readonly maxDepth: number;
  cycle: number;
  readonly queue: EncoderJob[];
  cur: LatchedEnc | null;
  /** Progress index (advances only on non-stalled cycles; 0 = START). */
  t: number;
  /** Perf counter: cycles since START including stalls. */
  perf: number;
  // Stage registers S_1 … S_maxDepth (index j − 1).
  readonly valid: Uint8Array;
  readonly xs: Float32Array;
  readonly lo: Int32Array;
  readonly idx: Int32Array;
}

/** Observable outputs of one cycle. */
export interface EncoderStepOutputs {
  readonly busy: boolean;
  /** Number of codes written in this cycle (0 or 1). */
  readonly writes: number;
  readonly done: EncoderResult | null;
}

// MAIN

/**
 * A fresh, idle encoder unit with comparator levels for tables of up to 2^maxDepth − 1 thresholds.
 * @precision exact
 */
export function createEncoder(maxDepth = 8): EncoderState {
  specRequire(Number.isInteger(maxDepth) && maxDepth >= 1 && maxDepth <= 16, { fn: 'createEncoder', what: 'maxDepth', rule: 'be an integer in [1, 16]', got: maxDepth });
  return {
    maxDepth, cycle: 0, queue: [], cur: null, t: 0, perf: 0,
    valid: new Uint8Array(maxDepth), xs: new Float32Array(maxDepth), lo: new Int32Array(maxDepth), idx: new Int32Array(maxDepth),
  };
}

/**
 * Check an encoder job's preconditions: n ≥ 1 values, 1 … 2^maxDepth − 1 thresholds, non-decreasing and not NaN.
 * @precision exact
 */
export function checkEncoderJob(fn: string, maxDepth: number, job: EncoderJob): number {
  specRequire(job.x instanceof Float32Array && job.x.length >= 1, { fn, what: 'job.x', rule: 'be a non-empty Float32Array', got: job.x?.length });
  const th = job.thresholds;
  specRequire(th instanceof Float32Array && th.length >= 1 && th.length <= 2 ** maxDepth - 1, {
    fn, what: 'job.thresholds', rule: `be a Float32Array of 1 … ${2 ** maxDepth - 1} thresholds (L ≥ 2 codes)`, got: th?.length,
  });
  for (let k = 0; k < th.length; k++) {
    specRequire(!Number.isNaN(th[k]) && (k === 0 || th[k]! >= th[k - 1]!), { fn, what: `job.thresholds[${k}]`, rule: 'be non-decreasing and not NaN', got: th[k] });
  }
  return encoderDepth(th.length + 1);
}

/**
 * Queue a job (host command; no clock edge). Preconditions are checked here.
 * @precision exact
 */
export function enqueueEncode(state: EncoderState, job: EncoderJob): void {
  checkEncoderJob('enqueueEncode', state.maxDepth, job);
  state.queue.push(job);
}

/** One comparator level: b = D − j; take the upper half when x reaches θ[lo + 2^b − 1]. */
function level(th: Float32Array, depth: number, j: number, x: number, lo: number): number {
  const half = 2 ** (depth - j);
  const probe = lo + half - 1;
  return probe < th.length && x >= th[probe]! ? lo + half : lo;
}

const IDLE: EncoderStepOutputs = Object.freeze({ busy: false, writes: 0, done: null });

/**
 * Advance the encoder unit by one clock cycle.
 * @equation state(t+1) = f(state(t), inputs(t)); S_j ← level_j(S_{j−1}), S_1 ← level_1(x[t−1])
 * @deviation none (cycle semantics are the definition in latency.ts#encoderCycles)
 * @precision exact (IEEE float32 comparisons)
 */
export function stepEncoder(state: EncoderState, inputs: { readonly stall?: boolean } = {}): { state: EncoderState; outputs: EncoderStepOutputs } {
  const s = state;
  s.cycle++;
  if (s.cur === null) {
    if (inputs.stall || s.queue.length === 0) return { state: s, outputs: IDLE };
    const job = s.queue.shift()!;
    const depth = checkEncoderJob('stepEncoder', s.maxDepth, job);
    s.cur = { job, depth, tLast: job.x.length + depth - 1, codes: new Int32Array(job.x.length) };
    s.t = 0;
    s.perf = 1;
    s.valid.fill(0);
    return { state: s, outputs: { busy: true, writes: 0, done: null } };
  }
  const L = s.cur;
  s.perf++;
  if (inputs.stall) return { state: s, outputs: { busy: true, writes: 0, done: null } };
  const t = ++s.t;
  const D = L.depth, th = L.job.thresholds, n = L.job.x.length;
  // next values from the last stage back to the first: S_j reads the current S_{j−1} before it is overwritten
  for (let j = D; j >= 2; j--) {
    const p = j - 2, q = j - 1;
    s.valid[q] = s.valid[p]!;
    if (s.valid[p]) {
      s.xs[q] = s.xs[p]!;
      s.idx[q] = s.idx[p]!;
      s.lo[q] = level(th, D, j, s.xs[p]!, s.lo[p]!);
    }
  }
  const read = t >= 1 && t <= n;
  s.valid[0] = read ? 1 : 0;
  if (read) {
    const x = L.job.x[t - 1]!;
    s.xs[0] = x;
    s.idx[0] = t - 1;
    s.lo[0] = level(th, D, 1, x, 0);
  }
  let writes = 0;
  if (s.valid[D - 1]) {
    L.codes[s.idx[D - 1]!] = s.lo[D - 1]!;
    writes = 1;
  }
  if (t === L.tLast) {
    s.cur = null;
    return { state: s, outputs: { busy: true, writes, done: { codes: L.codes, cycles: s.perf } } };
  }
  return { state: s, outputs: { busy: true, writes, done: null } };
}

/**
 * Run one encoder job to completion on a fresh unit, optionally under a stall pattern (cycle i,
 * counted from the first cycle with the job queued, is stalled when stall[i] is true).
 * @equation result.cycles = encoderCycles(n, L) + #{stalled cycles after START}
 * @precision exact
 */
export function runEncoder(job: EncoderJob, stall: readonly boolean[] = []): EncoderResult {
  const s = createEncoder(Math.max(1, encoderDepthOf(job)));
  enqueueEncode(s, job);
  for (let i = 0; ; i++) {
    const { outputs } = stepEncoder(s, { stall: stall[i] ?? false });
    if (outputs.done) return outputs.done;
  }
}

function encoderDepthOf(job: EncoderJob): number {
  specRequire(job.thresholds instanceof Float32Array && job.thresholds.length >= 1, {
    fn: 'runEncoder', what: 'job.thresholds', rule: 'be a non-empty Float32Array (L ≥ 2 codes)', got: job.thresholds?.length,
  });
  return Math.min(16, encoderDepth(job.thresholds.length + 1));
}
