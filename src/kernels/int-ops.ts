/**
 * Drivers of the integer-inference elementwise kernels (src/kernels/int-kernel.ts): preconditions,
 * the few tail elements a SIMD block does not cover (computed with the JS reference kernels
 * themselves), threshold tables derived from the reference code functions, and resident-aware
 * outputs. The kernels run on the calling thread over the runtime's shared memory.
 *
 * Legend: x float32 input, n elements, s / z / qmin / qmax uniform quantizer, θ thresholds,
 * L levels, G accumulator groups, N output columns.
 */
import { requireFinite, specRequire, numel, f32, type Tensor } from '../tensor';
import { alloc, f32At, i32At, mark, release, u8At } from './arena';
import { inputAddress, produceF32 } from './resident';
import { wasm } from './wasm-api';
import { MAX_PAGES } from './arena';
import { emitIntModule } from './int-kernel';
import type { KernelRuntime } from './runtime';
import { fakeQuantKernel, quantizeKernel } from '../quant/uniform';
import { hluqCodeKernel, hluqLevelSplit, type HluqParams } from '../quant/hluq';
import { lnqCodeKernel, lnqDecodeTable, lnqSteps, type LnqParams } from '../quant/lnq';
import { thresholdsFromMonotone } from '../int/threshold-encoder';

// TYPES

type I = number;
/** The instantiated kernels of one runtime (main-thread instance on `rt.arena.memory`). */
export interface IntKernels {
  readonly rt: KernelRuntime;
  readonly uqFake: (x: I, n4: I, s: number, z: number, qmin: number, qmax: number, y: I) => I;
  readonly uqCode: (x: I, n4: I, s: number, z: number, qmin: number, qmax: number, q: I) => I;
  readonly uqCodeCols: (x: I, rows: I, K: I, perm: I, sc: I, zp: I, qmin: number, qmax: number, q: I) => I;
  readonly thrTab16: (x: I, n16: I, thr: I, nthr: I, tc: number, cc: I, t1: I, t2: I, q1: I, q2: I, qc: I) => I;
  readonly thrLutF32: (x: I, n4: I, thr: I, nthr: I, table: I, y: I) => I;
  readonly rescale: (acc: I, gstride: I, G: I, rows: I, N: I, sc: I, ob: I, y: I) => void;
}

/** A uniform (per-tensor) quantizer. */
export interface UniformQ {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly qmin: number;
  readonly qmax: number;
}

/** HLUQ as a threshold table: code = #{k : x ≥ θ_k}, except code = cc where x ≥ tc (reference-compat mask). */
export interface HluqThresholds {
  readonly thr: Float32Array;
  /** +∞ unless referenceCompat. */
  readonly tc: number;
  readonly cc: number;
}

/** LNQ fake quantization as a threshold table and its decode table. */
export interface LnqThresholds {
  readonly thr: Float32Array;
  readonly table: Float32Array;
}

// CONSTANTS

const F32_MAX = 3.4028234663852886e38;

// HELPERS

/** Copy a small JS array into arena scratch (the caller holds a mark). */
function scratchF64(rt: KernelRuntime, a: Float64Array): number {
  const p = alloc(rt.arena, a.length * 8, 16);
  new Float64Array(rt.arena.memory.buffer, p, a.length).set(a);
  return p;
}
function scratchF32(rt: KernelRuntime, a: Float32Array): number {
  const p = alloc(rt.arena, a.length * 4, 16);
  f32At(rt.arena, p, a.length).set(a);
  return p;
}
function scratchI32(rt: KernelRuntime, a: Int32Array): number {
  const p = alloc(rt.arena, a.length * 4, 16);
  i32At(rt.arena, p, a.length).set(a);
  return p;
}
function scratchU8(rt: KernelRuntime, a: Uint8Array): number {
  const p = alloc(rt.arena, a.length, 16);
  u8At(rt.arena, p, a.length).set(a);
  return p;
}

function requireUniform(fn: string, q: UniformQ): void {
  specRequire(Number.isFinite(q.scale) && q.scale > 0, { fn, what: 'scale', rule: 'be finite and > 0', got: q.scale });
  specRequire(Number.isInteger(q.qmin) && Number.isInteger(q.qmax) && q.qmin < q.qmax, { fn, what: 'qmin, qmax', rule: 'be integers with qmin < qmax', got: [q.qmin, q.qmax] });
  specRequire(Number.isInteger(q.zeroPoint), { fn, what: 'zeroPoint', rule: 'be an integer', got: q.zeroPoint });
}

/** Index of the first non-finite element of f32At(ptr, n), or −1. */
export function firstNonFinite(rt: KernelRuntime, ptr: number, n: number): number {
  const v = f32At(rt.arena, ptr, n);
  for (let i = 0; i < n; i++) if (v[i]! - v[i]! !== 0) return i;
  return -1;
}

// MAIN

/**
 * Compile and instantiate the integer elementwise module on the runtime's memory (calling thread).
 * @source PERFORMANCE.md "Recommendation"; src/kernels/int-kernel.ts
 * @deviation none
 * @precision exact
 */
export function createIntKernels(rt: KernelRuntime): IntKernels {
  const m = new wasm.Module(emitIntModule({ min: 1, max: MAX_PAGES }));
  const e = new wasm.Instance(m, { env: { memory: rt.arena.memory } }).exports as Record<string, (...a: number[]) => number>;
  return {
    rt,
    uqFake: e.uq_fake!, uqCode: e.uq_code!, uqCodeCols: e.uq_code_cols!, thrTab16: e.thr_tab16!, thrLutF32: e.thr_lut_f32!,
    rescale: e.rescale as IntKernels['rescale'],
  };
}

/**
 * Per-tensor uniform fake quantization on the wasm kernel (the LSQ conv-input taps).
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @source src/quant/uniform.ts#fakeQuantPerTensor (same preconditions, same bits)
 * @equation x̂ᵢ = f32((clamp(⌊f32(xᵢ/s)⌉ + z, qmin, qmax) − z)·s)
 * @deviation none
 * @precision bit-identical to fakeQuantPerTensor
 */
export function fakeQuantUniformFast(k: IntKernels, x: Tensor, q: UniformQ): Tensor<'float32'> {
  const fn = 'fakeQuantUniformFast';
  requireUniform(fn, q);
  specRequire(x.dtype === 'float32', { fn, what: 'x.dtype', rule: "be 'float32'", got: x.dtype });
  const n = numel(x.shape);
  specRequire(n > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  const rt = k.rt;
  const data = x.data as Float32Array;
  let bad = 0;
  const y = produceF32(rt, n, (yp) => {
    const xp = inputAddress(rt, data);
    const n4 = n >> 2;
    bad = k.uqFake(xp, n4, q.scale, q.zeroPoint, q.qmin, q.qmax, yp);
    const yv = f32At(rt.arena, yp, n);
    for (let i = n4 * 4; i < n; i++) {
      const v = data[i]!;
      if (v - v !== 0) bad = 1;
      yv[i] = fakeQuantKernel(v, q.scale, q.zeroPoint, q.qmin, q.qmax);
    }
  });
  if (bad) requireFinite(fn, 'x', data);
  return { dtype: 'float32', shape: x.shape, data: y };
}

/**
 * Threshold table of an HLUQ quantizer (exact by construction: bisection over float32 with the
 * reference code function), for the 16-level table kernel.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @source src/int/threshold-encoder.ts#thresholdsFromMonotone; src/quant/hluq.ts#hluqCodeKernel
 * @equation θ_k = min{x ∈ F32 : code(x) ≥ k};  tc = min{x : f32(x − m) ≥ L_log ∧ f32(x − m) > s_log} (compat, else +∞)
 * @deviation none (the compat override is the reference's underflow mask, applied after the count)
 * @precision exact
 */
export function hluqThresholds(p: HluqParams, referenceCompat: boolean): HluqThresholds {
  const { L, lLog, lUni } = hluqLevelSplit(p, 'hluqThresholds');
  const thr = thresholdsFromMonotone((x) => hluqCodeKernel(x, p, lLog, lUni, false), L, -F32_MAX, F32_MAX);
  let tc = Infinity;
  if (referenceCompat) {
    const cond = (x: number): number => {
      const xs = f32(x - p.m);
      return xs > p.sLog && xs >= lLog ? 1 : 0;
    };
    tc = thresholdsFromMonotone(cond, 2, -F32_MAX, F32_MAX)[0]!;
  }
  return { thr, tc, cc: lLog };
}

/**
 * Encode n float32 values at `xp` with an HLUQ threshold table into two byte planes q1[i] = t1[c],
 * q2[i] = t2[c] (and the codes c when `qc` ≠ 0); L ≤ 16. Returns the index of the first non-finite
 * input, or −1.
 * @paper AHCQ-SAM:v4 §HLUQ
 * @source src/quant/hluq.ts#hluqCodeKernel (tails); src/int/threshold-encoder.ts#encodeByThresholds
 * @equation c = #{k : x ≥ θ_k} (x ≥ tc ⇒ c = cc)
 * @deviation none
 * @precision exact
 */
export function encodeHluqTable(k: IntKernels, h: HluqThresholds, p: HluqParams, compat: boolean, xp: number, n: number, t1: Uint8Array, t2: Uint8Array, q1: number, q2: number, qc: number): number {
  const fn = 'encodeHluqTable';
  specRequire(h.thr.length <= 15 && t1.length === h.thr.length + 1 && t2.length === t1.length, { fn, what: 'tables', rule: 'have L ≤ 16 levels (L − 1 thresholds, L-entry tables)', got: [h.thr.length, t1.length, t2.length] });
  const rt = k.rt;
  const m0 = mark(rt.arena);
  let bad = 0;
  try {
    const t16a = new Uint8Array(16), t16b = new Uint8Array(16);
    t16a.set(t1);
    t16b.set(t2);
    const n16 = n >> 4;
    bad = k.thrTab16(xp, n16, scratchF32(rt, h.thr), h.thr.length, h.tc, h.cc, scratchU8(rt, t16a), scratchU8(rt, t16b), q1, q2, qc);
    const { lLog, lUni } = hluqLevelSplit(p, fn);
    const xv = f32At(rt.arena, xp, n);
    const a = u8At(rt.arena, q1, n), b = u8At(rt.arena, q2, n), cv = qc ? u8At(rt.arena, qc, n) : null;
    for (let i = n16 * 16; i < n; i++) {
      const v = xv[i]!;
      if (v - v !== 0) {
        bad = 1;
        continue;
      }
      const c = hluqCodeKernel(v, p, lLog, lUni, compat);
      a[i] = t1[c]!;
      b[i] = t2[c]!;
      if (cv) cv[i] = c;
    }
  } finally {
    release(rt.arena, m0);
  }
  return bad ? firstNonFinite(rt, xp, n) : -1;
}

/**
 * Uniform codes of n contiguous float32 values at `xp` as bytes at `qp` (per-tensor quantizer,
 * codes in [0, 255]). Returns the index of the first non-finite input, or −1.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @source src/quant/uniform.ts#quantizeKernel
 * @equation qᵢ = clamp(⌊f32(xᵢ/s)⌉ + z, qmin, qmax)
 * @deviation none
 * @precision exact
 */
export function encodeUniform(k: IntKernels, q: UniformQ, xp: number, n: number, qp: number): number {
  const fn = 'encodeUniform';
  requireUniform(fn, q);
  specRequire(q.qmin >= 0 && q.qmax <= 255, { fn, what: 'qmin, qmax', rule: 'lie in [0, 255] (byte codes)', got: [q.qmin, q.qmax] });
  const rt = k.rt;
  const n4 = n >> 2;
  let bad = k.uqCode(xp, n4, q.scale, q.zeroPoint, q.qmin, q.qmax, qp);
  const xv = f32At(rt.arena, xp, n), qv = u8At(rt.arena, qp, n);
  for (let i = n4 * 4; i < n; i++) {
    const v = xv[i]!;
    if (v - v !== 0) bad = 1;
    else qv[i] = quantizeKernel(v, q.scale, q.zeroPoint, q.qmin, q.qmax);
  }
  return bad ? firstNonFinite(rt, xp, n) : -1;
}

/**
 * Per-column uniform codes with a column gather (CAG in group order): q[r, j] = code(x[r, perm[j]];
 * scale[j], zeroPoint[j]), bytes. Returns the index (in x) of the first non-finite input, or −1.
 * @paper AHCQ-SAM:v4 §3.3 (CAG after channel reordering)
 * @source src/quant/uniform.ts#quantizeKernel
 * @equation q[r, j] = clamp(⌊f32(x[r, perm[j]]/s_j)⌉ + z_j, qmin, qmax)
 * @deviation none
 * @precision exact
 */
export function encodeUniformCols(k: IntKernels, xp: number, rows: number, perm: Int32Array, scales: Float64Array, zeroPoints: Float32Array, qmin: number, qmax: number, qp: number): number {
  const fn = 'encodeUniformCols';
  const K = perm.length;
  specRequire(scales.length === K && zeroPoints.length === K, { fn, what: 'scales, zeroPoints', rule: `have K = ${K} entries`, got: [scales.length, zeroPoints.length] });
  specRequire(qmin >= 0 && qmax <= 255 && qmin < qmax, { fn, what: 'qmin, qmax', rule: 'lie in [0, 255] with qmin < qmax', got: [qmin, qmax] });
  const rt = k.rt;
  const m0 = mark(rt.arena);
  let bad = 0;
  try {
    bad = k.uqCodeCols(xp, rows, K, scratchI32(rt, perm), scratchF64(rt, scales), scratchF32(rt, zeroPoints), qmin, qmax, qp);
  } finally {
    release(rt.arena, m0);
  }
  return bad ? firstNonFinite(rt, xp, rows * K) : -1;
}

/**
 * LNQ fake quantization as a threshold table (exact by construction) and the reference decode table.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @source src/quant/lnq.ts#lnqCodeKernel, #lnqDecodeTable; src/int/threshold-encoder.ts
 * @equation θ_k = min{x ∈ F32 : q(x) ≥ k}, k = 1..N_q;  T = lnqDecodeTable
 * @deviation none
 * @precision exact
 */
export function lnqThresholdTable(p: LnqParams, referenceCompat: boolean): LnqThresholds {
  const nq = lnqSteps(p, { referenceCompat }, 'lnqThresholdTable');
  const s = f32(p.s), a = f32(p.alpha);
  const den = f32(Math.log(f32(1 + f32(a * s)))); // the normaliser of src/quant/lnq.ts
  const thr = thresholdsFromMonotone((x) => lnqCodeKernel(x, s, a, nq, den), nq + 1, -F32_MAX, F32_MAX);
  return { thr, table: lnqDecodeTable(p, { referenceCompat }) };
}

/**
 * LNQ fake quantization of a tensor on the wasm threshold kernel (the attention-probability taps).
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @source src/quant/lnq.ts#fakeQuantLnqTensor (same preconditions, same bits)
 * @equation p̂ᵢ = T[#{k : pᵢ ≥ θ_k}]
 * @deviation none
 * @precision bit-identical to fakeQuantLnqTensor
 */
export function fakeQuantLnqFast(k: IntKernels, x: Tensor, t: LnqThresholds): Tensor<'float32'> {
  const fn = 'fakeQuantLnqFast';
  specRequire(x.dtype === 'float32', { fn, what: 'x.dtype', rule: "be 'float32'", got: x.dtype });
  const n = numel(x.shape);
  specRequire(n > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  specRequire(t.table.length === t.thr.length + 1, { fn, what: 't.table.length', rule: `equal thresholds + 1 = ${t.thr.length + 1}`, got: t.table.length });
  const rt = k.rt;
  const data = x.data as Float32Array;
  let bad = 0;
  const y = produceF32(rt, n, (yp) => {
    const xp = inputAddress(rt, data);
    const n4 = n >> 2;
    bad = k.thrLutF32(xp, n4, scratchF32(rt, t.thr), t.thr.length, scratchF32(rt, t.table), yp);
    const yv = f32At(rt.arena, yp, n);
    for (let i = n4 * 4; i < n; i++) {
      const v = data[i]!;
      if (v - v !== 0) {
        bad = 1;
        continue;
      }
      let c = 0;
      while (c < t.thr.length && v >= t.thr[c]!) c++;
      yv[i] = t.table[c]!;
    }
  });
  if (bad) requireFinite(fn, 'x', data);
  return { dtype: 'float32', shape: x.shape, data: y };
}

/**
 * Rescale int32 accumulators of G groups to float32: y[r, n] = f32(ob[n] + Σ_g sc[g·N + n]·acc_g[r, n])
 * (float64 products and sums in g order, one rounding). `y` may equal `acc` (in place over group 0).
 * @paper AHCQ-SAM:v4 §3.3 (CAG: G partial sums combined per output), §3.2 (HLUQ two paths)
 * @source src/quant-sam/int-layer.ts#intLinearForward (the rescale it replaces)
 * @equation y = f32(ob[n] + Σ_g sc[g, n]·acc_g[r, n]),  acc_g at acc + g·gstride bytes, [rows, N] each
 * @deviation none
 * @precision float64 products and sums, one float32 rounding (bit-identical to the JS loop)
 */
export function rescaleAccumulators(k: IntKernels, acc: number, gstride: number, G: number, rows: number, N: number, sc: Float64Array, ob: Float64Array, y: number): void {
  const fn = 'rescaleAccumulators';
  specRequire(Number.isInteger(G) && G >= 1 && sc.length === G * N && ob.length === N, { fn, what: 'sc, ob', rule: `hold G·N = ${G * N} and N = ${N} values (G ≥ 1)`, got: [G, sc.length, ob.length] });
  specRequire(gstride >= rows * N * 4 || G === 1, { fn, what: 'gstride', rule: `be ≥ rows·N·4 = ${rows * N * 4} bytes`, got: gstride });
  const rt = k.rt;
  const m0 = mark(rt.arena);
  try {
    k.rescale(acc, gstride, G, rows, N, scratchF64(rt, sc), scratchF64(rt, ob), y);
  } finally {
    release(rt.arena, m0);
  }
}
