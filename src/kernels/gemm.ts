/**
 * GEMM drivers over the kernel runtime's shared memory: B packing (once for weights, per call for
 * activations), A read in place, row/batch splitting over the pool's threads, and the integer
 * zero-point correction terms. Pointers are byte addresses in `rt.arena.memory`; leading
 * dimensions (`lda`, `ldc`) are in elements.
 *
 * Legend: A [M, K] row-major at `a` (stride lda), B [K, N] (or its transpose [N, K] for PyTorch
 * weights, `layout: 'nk'`), C [M, N] at `c` (stride ldc). Panels: ⌈N/8⌉ k-major NR = 8 column panels.
 */
import { specRequire } from '../tensor';
import { alloc, f32At, i32At, mark, release, u8At } from './arena';
import { GEMM_CALL_WORDS, GEMM_MR, GEMM_NR, PANEL_STEP_BYTES } from './gemm-kernel';
import type { PoolCall } from './pool';
import { runOnThreads, type KernelRuntime, type KernelName } from './runtime';

// TYPES

/** Layout of the B operand handed to a packer: [K, N] row-major, or [N, K] (PyTorch Linear weight). */
export type BLayout = 'kn' | 'nk';

/** fp32 B packed into k-major panels in the arena (plus an optional panel-padded bias). */
export interface PackedF32 {
  readonly kind: 'f32';
  readonly ptr: number;
  readonly K: number;
  readonly N: number;
  readonly panels: number;
  /** Byte address of the bias padded to panels·8 floats, or 0 for none. */
  readonly biasPtr: number;
}

/** int8 (or int4-in-int8) B codes packed as i16 k-pairs, with per-column zero points and sums. */
export interface PackedInt {
  readonly kind: 'int';
  readonly ptr: number;
  readonly K: number;
  readonly N: number;
  readonly panels: number;
  /** Per-column zero points zb[n] (length N). */
  readonly zb: Int32Array;
  /** Per-column code sums Σ_k B[k, n] (length N). */
  readonly colSum: Float64Array;
  /** Byte address of zb padded to panels·8 int32. */
  readonly zbPtr: number;
}

/** Cache-blocking sizes: `kc` k-steps per K block, `nc` panels per N block. */
export interface GemmBlocking {
  readonly kc: number;
  readonly nc: number;
}

/** One fp32 product of a batch: C[m, :] (+)= A[m, :]·B for m < M. */
export interface GemmF32Task {
  readonly a: number;
  readonly lda: number;
  readonly packed: PackedF32;
  readonly c: number;
  readonly ldc: number;
  readonly m: number;
  /** C += A·B instead of C = A·B (+ bias). */
  readonly accumulate?: boolean;
}

// CONSTANTS

/** Default blocking: 256 k-steps × 32 panels keeps one B block (256 KiB) in a Zen 3 L2. */
export const DEFAULT_BLOCKING: GemmBlocking = { kc: 256, nc: 32 };
/** Below this many multiply-adds a product runs on the calling thread only (pool latency ≈ 10–50 µs). */
export const PARALLEL_MIN_MACS = 1 << 17;
const MAX_K_INT = 32768;

// MAIN: packing

function checkDims(fn: string, K: number, N: number, len: number): void {
  specRequire(Number.isInteger(K) && K >= 0, { fn, what: 'K', rule: 'be a non-negative integer', got: K });
  specRequire(Number.isInteger(N) && N >= 0, { fn, what: 'N', rule: 'be a non-negative integer', got: N });
  specRequire(len === K * N, { fn, what: 'b.length', rule: `equal K·N = ${K * N}`, got: len });
}

/**
 * Pack fp32 B (and an optional bias of length N) into the arena as k-major NR = 8 panels.
 * @source PERFORMANCE.md (B prepacked into k-major NR=8 panels, as onnxruntime prepacks initializers)
 * @equation P[p][k][c] = B[k, 8p + c] if 8p + c < N else 0
 * @deviation none
 * @precision exact (copy)
 */
export function packF32(rt: KernelRuntime, b: Float32Array, K: number, N: number, layout: BLayout, bias?: Float32Array): PackedF32 {
  const fn = 'packF32';
  checkDims(fn, K, N, b.length);
  if (bias) specRequire(bias.length === N, { fn, what: 'bias.length', rule: `equal N = ${N}`, got: bias.length });
  const panels = Math.ceil(N / GEMM_NR);
  const ptr = alloc(rt.arena, panels * K * PANEL_STEP_BYTES);
  const dst = f32At(rt.arena, ptr, panels * K * GEMM_NR);
  if (layout === 'kn') {
    // row k of B holds 8-float runs for consecutive panels: copy them with unrolled moves; only the
    // last, partial panel needs zero columns
    const full = Math.floor(N / GEMM_NR);
    if (full < panels) dst.fill(0, full * K * GEMM_NR);
    for (let k = 0; k < K; k++) {
      const row = k * N;
      for (let p = 0; p < full; p++) {
        const o = (p * K + k) * GEMM_NR;
        const s = row + p * GEMM_NR;
        dst[o] = b[s]!; dst[o + 1] = b[s + 1]!; dst[o + 2] = b[s + 2]!; dst[o + 3] = b[s + 3]!;
        dst[o + 4] = b[s + 4]!; dst[o + 5] = b[s + 5]!; dst[o + 6] = b[s + 6]!; dst[o + 7] = b[s + 7]!;
      }
      if (full < panels) {
        const o = (full * K + k) * GEMM_NR;
        for (let c = 0; c < N - full * GEMM_NR; c++) dst[o + c] = b[row + full * GEMM_NR + c]!;
      }
    }
  } else {
    dst.fill(0);
  }
  for (let p = 0; layout === 'nk' && p < panels; p++) {
    const j0 = p * GEMM_NR;
    const w = Math.min(GEMM_NR, N - j0);
    for (let k = 0; k < K; k++) {
      const o = (p * K + k) * GEMM_NR;
      for (let c = 0; c < w; c++) dst[o + c] = b[(j0 + c) * K + k]!;
    }
  }
  let biasPtr = 0;
  if (bias) {
    biasPtr = alloc(rt.arena, panels * GEMM_NR * 4);
    const bv = f32At(rt.arena, biasPtr, panels * GEMM_NR);
    bv.fill(0);
    bv.set(bias);
  }
  return { kind: 'f32', ptr, K, N, panels, biasPtr };
}

/**
 * Pack int8 B codes (int4 codes stored in int8 included) as i16 k-pairs in k-major panels, with
 * per-column zero points (a scalar applies to every column).
 * @source PERFORMANCE.md (i16 widening + i32x4.dot_i16x8_s); ONNX MatMulInteger zero points
 * @equation P[p][k₂][c] = (B[2k₂, 8p+c], B[2k₂+1, 8p+c]), zero outside [0, K) × [0, N)
 * @deviation none
 * @precision exact
 */
export function packInt8(rt: KernelRuntime, b: Int8Array, K: number, N: number, layout: BLayout, zeroPoint: number | Int32Array = 0): PackedInt {
  const fn = 'packInt8';
  checkDims(fn, K, N, b.length);
  specRequire(K <= MAX_K_INT, { fn, what: 'K', rule: `be ≤ ${MAX_K_INT} (int32 accumulator range)`, got: K });
  const zb = typeof zeroPoint === 'number' ? new Int32Array(N).fill(zeroPoint) : zeroPoint;
  specRequire(zb.length === N, { fn, what: 'zeroPoint.length', rule: `equal N = ${N}`, got: zb.length });
  for (let j = 0; j < N; j++) specRequire(zb[j]! >= -128 && zb[j]! <= 255, { fn, what: `zeroPoint[${j}]`, rule: 'lie in [-128, 255]', got: zb[j] });
  const panels = Math.ceil(N / GEMM_NR);
  const kSteps = Math.ceil(K / 2);
  const ptr = alloc(rt.arena, panels * kSteps * PANEL_STEP_BYTES);
  const dst = new Int16Array(rt.arena.memory.buffer, ptr, panels * kSteps * 16);
  dst.fill(0);
  const at = layout === 'kn' ? (k: number, j: number) => b[k * N + j]! : (k: number, j: number) => b[j * K + k]!;
  for (let p = 0; p < panels; p++) {
    const w = Math.min(GEMM_NR, N - p * GEMM_NR);
    for (let k = 0; k < K; k++) {
      const o = (p * kSteps + (k >> 1)) * 16 + (k & 1);
      for (let c = 0; c < w; c++) dst[o + 2 * c] = at(k, p * GEMM_NR + c);
    }
  }
  const colSum = new Float64Array(N);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) colSum[j] += at(k, j);
  const zbPtr = alloc(rt.arena, panels * GEMM_NR * 4);
  const zv = i32At(rt.arena, zbPtr, panels * GEMM_NR);
  zv.fill(0);
  zv.set(zb);
  return { kind: 'int', ptr, K, N, panels, zb: Int32Array.from(zb), colSum, zbPtr };
}

// MAIN: execution

/** Split each record's rows over `threads` (multiples of MR) or hand out whole records by cost. */
function distribute(records: number[][], threads: number): number[][][] {
  const per: number[][][] = Array.from({ length: threads }, () => []);
  const macs = records.reduce((s, r) => s + r[6]! * r[7]! * r[3]!, 0);
  if (threads === 1 || macs < PARALLEL_MIN_MACS) {
    per[0] = records;
    return per;
  }
  if (records.length >= 2 * threads) {
    // whole records, contiguous, balanced by cumulative cost
    let acc = 0;
    for (const r of records) {
      const t = Math.min(threads - 1, Math.floor((acc / macs) * threads));
      per[t]!.push(r);
      acc += r[6]! * r[7]! * r[3]!;
    }
    return per;
  }
  for (const r of records) {
    const m = r[6]!;
    const share = Math.ceil(m / threads / GEMM_MR) * GEMM_MR;
    for (let t = 0; t < threads; t++) {
      const r0 = t * share;
      const rows = Math.min(m, r0 + share) - r0;
      if (rows <= 0) continue;
      const s = r.slice();
      s[0] = r[0]! + r0 * r[1]!; // a
      s[4] = r[4]! + r0 * r[5]!; // c
      s[6] = rows;
      s[14] = r[14]! + r0 * 4; // rs
      per[t]!.push(s);
    }
  }
  return per;
}

/** Write each thread's gemm records to the arena and run one `gemm_list` round. */
function runRecords(rt: KernelRuntime, kernel: KernelName, records: number[][]): void {
  if (records.length === 0) return;
  const m0 = mark(rt.arena);
  try {
    const per = distribute(records, rt.threads);
    const calls: (PoolCall | undefined)[] = per.map((list, t) => {
      if (list.length === 0) return undefined;
      const ptr = alloc(rt.arena, list.length * GEMM_CALL_WORDS * 4, 16);
      const words = i32At(rt.arena, ptr, list.length * GEMM_CALL_WORDS);
      list.forEach((r, i) => {
        words.set(r, i * GEMM_CALL_WORDS);
        words[i * GEMM_CALL_WORDS + 10] = rt.scratch[t]!; // thread-private scratch tile
      });
      return { fn: rt.fnIndex[kernel], args: [ptr, list.length] };
    });
    runOnThreads(rt, calls);
  } finally {
    release(rt.arena, m0);
  }
}

function checkTask(fn: string, t: GemmF32Task): void {
  specRequire(Number.isInteger(t.m) && t.m >= 0, { fn, what: 'm', rule: 'be a non-negative integer', got: t.m });
  specRequire(t.m <= 1 || t.lda >= t.packed.K, { fn, what: 'lda', rule: `be ≥ K = ${t.packed.K}`, got: t.lda });
  specRequire(t.m <= 1 || t.ldc >= t.packed.N, { fn, what: 'ldc', rule: `be ≥ N = ${t.packed.N}`, got: t.ldc });
  specRequire(t.a % 4 === 0 && t.c % 4 === 0, { fn, what: 'a, c', rule: 'be 4-byte aligned addresses', got: [t.a, t.c] });
}

/**
 * A batch of fp32 products C = A·B (+ bias) or C += A·B, split over the runtime's threads
 * (whole products when there are many, rows of each product otherwise).
 * @source PERFORMANCE.md "A in place + B prepacked, 2 threads"
 * @equation C[i, j] = bias[j] + Σ_k A[i, k]·B[k, j]  (accumulate: C[i, j] += Σ_k A[i, k]·B[k, j])
 * @deviation summation in float32, k ascending within each K block of 256; blocks added in order
 * @precision fp32-accumulate: |Ĉ − C| ≤ (K+2)·2⁻²⁴·Σ_k |A[i,k]|·|B[k,j]| (+ |bias| term), to first order
 */
export function gemmF32Batch(rt: KernelRuntime, tasks: readonly GemmF32Task[], blocking: GemmBlocking = DEFAULT_BLOCKING): void {
  const fn = 'gemmF32Batch';
  const kernel: KernelName = rt.fma ? 'gemm_f32fma' : 'gemm_f32';
  const records: number[][] = [];
  for (const t of tasks) {
    checkTask(fn, t);
    const { K, N, biasPtr } = t.packed;
    if (t.m === 0 || N === 0) continue;
    if (K === 0) {
      // empty reduction: C = bias (or 0); accumulate leaves C unchanged
      if (!t.accumulate) {
        const bias = biasPtr ? f32At(rt.arena, biasPtr, N) : undefined;
        for (let i = 0; i < t.m; i++) {
          const row = f32At(rt.arena, t.c + i * t.ldc * 4, N);
          if (bias) row.set(bias);
          else row.fill(0);
        }
      }
      continue;
    }
    const mode = t.accumulate ? 1 : biasPtr ? 2 : 0;
    records.push([t.a, t.lda * 4, t.packed.ptr, K, t.c, t.ldc * 4, t.m, N, mode, biasPtr, 0, blocking.kc, blocking.nc, 0, 0]);
  }
  runRecords(rt, kernel, records);
}

/**
 * One fp32 product C = A·B (+ bias), or C += A·B; see `gemmF32Batch`.
 * @source PERFORMANCE.md "A in place + B prepacked"
 * @equation C[i, j] = bias[j] + Σ_k A[i, k]·B[k, j]
 * @deviation as gemmF32Batch
 * @precision as gemmF32Batch
 */
export function gemmF32(rt: KernelRuntime, a: number, lda: number, packed: PackedF32, c: number, ldc: number, m: number, options: { accumulate?: boolean; blocking?: GemmBlocking } = {}): void {
  gemmF32Batch(rt, [{ a, lda, packed, c, ldc, m, accumulate: options.accumulate ?? false }], options.blocking);
}

/**
 * Integer product with zero points: C[i, j] = Σ_k (A[i, k] − za)·(B[k, j] − zb[j]) for int8
 * (`signedA`) or uint8 A codes and packed int8 B codes; int32 result, exact.
 * @source ONNX MatMulInteger (zero-point semantics); PERFORMANCE.md (i32x4.dot_i16x8_s)
 * @equation C = Σ A·B − zb[j]·Σ_k A[i,k] − za·Σ_k B[k,j] + K·za·zb[j]
 * @deviation none
 * @precision exact (int32 ring arithmetic; the true result fits int32 because K ≤ 32768 and |A−za|, |B−zb| ≤ 255)
 */
export function gemmInt(
  rt: KernelRuntime,
  a: number,
  lda: number,
  signedA: boolean,
  za: number,
  packed: PackedInt,
  c: number,
  ldc: number,
  m: number,
  blocking: GemmBlocking = DEFAULT_BLOCKING,
): void {
  const fn = 'gemmInt';
  const { K, N } = packed;
  specRequire(Number.isInteger(m) && m >= 0, { fn, what: 'm', rule: 'be a non-negative integer', got: m });
  specRequire(Number.isInteger(za) && (signedA ? za >= -128 && za <= 127 : za >= 0 && za <= 255), { fn, what: 'za', rule: signedA ? 'be an integer in [-128, 127]' : 'be an integer in [0, 255]', got: za });
  specRequire(m <= 1 || lda >= K, { fn, what: 'lda', rule: `be ≥ K = ${K}`, got: lda });
  specRequire(m <= 1 || ldc >= N, { fn, what: 'ldc', rule: `be ≥ N = ${N}`, got: ldc });
  specRequire(c % 4 === 0, { fn, what: 'c', rule: 'be a 4-byte aligned address', got: c });
  if (m === 0 || N === 0) return;
  const m0 = mark(rt.arena);
  try {
    // per-column bias: −za·Σ_k B[k, j] + K·za·zb[j]  (mod 2^32; exact in float64 before the wrap)
    const biasPtr = alloc(rt.arena, packed.panels * GEMM_NR * 4);
    const bias = i32At(rt.arena, biasPtr, packed.panels * GEMM_NR);
    bias.fill(0);
    for (let j = 0; j < N; j++) bias[j] = -za * packed.colSum[j]! + K * za * packed.zb[j]!;
    // per-row sums Σ_k A[i, k]
    const rsPtr = alloc(rt.arena, m * 4);
    const rs = i32At(rt.arena, rsPtr, m);
    const bytes = u8At(rt.arena, a, (m - 1) * lda + K);
    for (let i = 0; i < m; i++) {
      let s = 0;
      if (signedA) for (let k = 0; k < K; k++) s += (bytes[i * lda + k]! << 24) >> 24;
      else for (let k = 0; k < K; k++) s += bytes[i * lda + k]!;
      rs[i] = s;
    }
    if (K === 0) {
      for (let i = 0; i < m; i++) i32At(rt.arena, c + i * ldc * 4, N).set(bias.subarray(0, N));
      return;
    }
    const record = [a, lda, packed.ptr, Math.ceil(K / 2), c, ldc * 4, m, N, 2, biasPtr, 0, blocking.kc, blocking.nc, packed.zbPtr, rsPtr];
    runRecords(rt, signedA ? 'gemm_i8s' : 'gemm_u8s', [record]);
  } finally {
    release(rt.arena, m0);
  }
}
