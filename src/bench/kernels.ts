/**
 * GEMM benchmark of the fast backend (PERFORMANCE.md "Method"): GFLOP/s (GOP/s for integers) =
 * 2·M·N·K·batch / median time, wasm kernels on 1 and 2 threads against onnxruntime-node MatMul
 * (B as initializer) and MatMulInteger u8×s8, with a `/proc/stat` foreign-load check around each
 * timed run (a run during which other processes used ≥ `maxForeignLoad` cores is retried).
 * Prints nothing; returns records. The lead wires it into `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { alloc, f32At, mark, release, u8At } from '../kernels/arena';
import { gemmF32Batch, gemmInt, packF32, packInt8, type GemmF32Task, type PackedF32 } from '../kernels/gemm';
import { createKernelRuntime, disposeKernelRuntime, type KernelRuntime } from '../kernels/runtime';
import { createRng, specRequire } from '../tensor';

// TYPES

/** One GEMM shape: C[M, N] = A[M, K]·B[K, N], `batch` independent products. */
export interface GemmShape {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly batch: number;
}

/** One measured row. */
export interface BenchRow {
  readonly variant: string;
  readonly shape: string;
  readonly threads: number;
  /** GFLOP/s (fp32) or GOP/s (integer) from the median time. */
  readonly rate: number;
  readonly medianMs: number;
  /** Largest foreign load (cores) seen during the accepted timed runs. */
  readonly foreignLoad: number;
  /** True when some timed run stayed above the load limit after all retries. */
  readonly contaminated: boolean;
}

/** Options of `benchGemm`. */
export interface BenchOptions {
  readonly shapes?: readonly GemmShape[];
  readonly threads?: readonly number[];
  /** Timed runs per measurement (median reported). Default 7 (wasm) and 9 (onnxruntime). */
  readonly runs?: number;
  readonly warmup?: number;
  readonly maxForeignLoad?: number;
  readonly retries?: number;
  /** Include onnxruntime-node rows. Default true. */
  readonly ort?: boolean;
  /** Include integer rows. Default true. */
  readonly integer?: boolean;
  /** Use the relaxed-SIMD FMA fp32 kernel when the engine validates it (Node 20: run node with --experimental-wasm-relaxed-simd). */
  readonly fma?: boolean;
}

// CONSTANTS

/** The PERFORMANCE.md shapes (M×K×N; attention = 300 products of 196×64×196). */
export const PERFORMANCE_SHAPES: readonly GemmShape[] = [
  { M: 4096, K: 160, N: 480, batch: 1 },
  { M: 4096, K: 160, N: 640, batch: 1 },
  { M: 4096, K: 640, N: 160, batch: 1 },
  { M: 4096, K: 320, N: 1280, batch: 1 },
  { M: 16384, K: 128, N: 512, batch: 1 },
  { M: 196, K: 64, N: 196, batch: 300 },
  { M: 4096, K: 768, N: 2304, batch: 1 },
];
const USER_HZ = 100;
const { onnx } = onnxProto; // CJS package: named ESM imports fail under plain node/tsx

// MAIN: load-checked timing

function procBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all − idle − iowait
    const total = f.slice(0, 8).reduce((s, v) => s + v, 0);
    return (total - f[3]! - f[4]!) / USER_HZ;
  } catch {
    return undefined;
  }
}

/**
 * Time `run` once and report the foreign load: (machine busy CPU − this process's CPU) / wall time, in cores.
 * @source PERFORMANCE.md "Noisy neighbours"
 * @equation load = (Δbusy_/proc/stat − Δcpu_process) / Δwall
 * @deviation jiffy resolution (10 ms) makes short runs' load estimates coarse; unknown (0) without /proc
 * @precision exact (bookkeeping)
 */
export async function timeWithLoad(run: () => void | Promise<void>): Promise<{ ms: number; foreignLoad: number }> {
  const b0 = procBusySeconds();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const c1 = process.cpuUsage(c0);
  const b1 = procBusySeconds();
  if (b0 === undefined || b1 === undefined) return { ms, foreignLoad: 0 };
  const own = (c1.user + c1.system) / 1e6;
  return { ms, foreignLoad: Math.max(0, (b1 - b0 - own) / (ms / 1000)) };
}

async function measure(run: () => void | Promise<void>, runs: number, warmup: number, maxLoad: number, retries: number): Promise<{ medianMs: number; foreignLoad: number; contaminated: boolean }> {
  for (let i = 0; i < warmup; i++) await run(); // Liftoff → TurboFan tier-up, ORT arena warm-up
  const times: number[] = [];
  let worst = 0;
  let contaminated = false;
  for (let r = 0; r < runs; r++) {
    let m = await timeWithLoad(run);
    for (let t = 0; t < retries && m.foreignLoad >= maxLoad; t++) {
      await new Promise((res) => setTimeout(res, 200));
      m = await timeWithLoad(run);
    }
    if (m.foreignLoad >= maxLoad) contaminated = true;
    worst = Math.max(worst, m.foreignLoad);
    times.push(m.ms);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, foreignLoad: worst, contaminated };
}

// MAIN: workloads

const shapeName = (s: GemmShape): string => `${s.M}x${s.K}x${s.N}${s.batch > 1 ? `x${s.batch}` : ''}`;
const ops = (s: GemmShape): number => 2 * s.M * s.K * s.N * s.batch;

function randomF32(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.next() * 2 - 1;
  return x;
}

/** wasm fp32: copy A in, GEMM (B prepacked; per-call pack for batched activations), copy C out. */
function wasmF32Run(rt: KernelRuntime, s: GemmShape, a: Float32Array, b: Float32Array, packed: PackedF32 | undefined): () => void {
  const { M, K, N, batch } = s;
  return () => {
    const m0 = mark(rt.arena);
    try {
      const aPtr = alloc(rt.arena, a.length * 4);
      f32At(rt.arena, aPtr, a.length).set(a);
      const cPtr = alloc(rt.arena, batch * M * N * 4);
      const tasks: GemmF32Task[] = [];
      for (let t = 0; t < batch; t++) {
        const p = packed ?? packF32(rt, b.subarray(t * K * N, (t + 1) * K * N), K, N, 'kn');
        tasks.push({ a: aPtr + t * M * K * 4, lda: K, packed: p, c: cPtr + t * M * N * 4, ldc: N, m: M });
      }
      gemmF32Batch(rt, tasks);
      f32At(rt.arena, cPtr, batch * M * N).slice();
    } finally {
      release(rt.arena, m0);
    }
  };
}

function matmulModel(s: GemmShape, b: Float32Array | Int8Array, integer: boolean): Uint8Array {
  const { M, K, N, batch } = s;
  const aDims = batch > 1 ? [batch, M, K] : [M, K];
  const bDims = batch > 1 ? [batch, K, N] : [K, N];
  const cDims = batch > 1 ? [batch, M, N] : [M, N];
  const T = onnx.TensorProto.DataType;
  const vi = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'ahcq-bench',
    graph: {
      name: 'gemm',
      node: [{ opType: integer ? 'MatMulInteger' : 'MatMul', input: ['A', 'B'], output: ['C'] }],
      initializer: [{ name: 'B', dims: bDims, dataType: integer ? T.INT8 : T.FLOAT, rawData: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }],
      input: [vi('A', integer ? T.UINT8 : T.FLOAT, aDims)],
      output: [vi('C', integer ? T.INT32 : T.FLOAT, cDims)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function ortRun(s: GemmShape, a: Float32Array | Uint8Array, b: Float32Array | Int8Array, threads: number, integer: boolean): Promise<{ run: () => Promise<void>; release: () => Promise<void> }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(matmulModel(s, b, integer), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const dims = s.batch > 1 ? [s.batch, s.M, s.K] : [s.M, s.K];
  const feeds = { A: new ort.Tensor(integer ? 'uint8' : 'float32', a, dims) };
  return {
    run: async () => {
      await session.run(feeds);
    },
    release: () => session.release(),
  };
}

/**
 * Benchmark fp32 and integer GEMM: wasm (1 and 2 threads, A in place + B prepacked, copies in and
 * out included) against onnxruntime-node MatMul / MatMulInteger u8×s8 on the same thread counts.
 * @source PERFORMANCE.md "Method" and tables
 * @equation rate = 2·M·N·K·batch / median(time)
 * @deviation none
 * @precision timing (median of `runs` after `warmup` untimed runs)
 */
export async function benchGemm(options: BenchOptions = {}): Promise<BenchRow[]> {
  const shapes = options.shapes ?? PERFORMANCE_SHAPES;
  const threadsList = options.threads ?? [1, 2];
  const warmup = options.warmup ?? 3;
  const maxLoad = options.maxForeignLoad ?? 0.1;
  const retries = options.retries ?? 3;
  for (const s of shapes) specRequire([s.M, s.K, s.N, s.batch].every((d) => Number.isInteger(d) && d >= 1), { fn: 'benchGemm', what: 'shape', rule: 'have positive integer M, K, N, batch', got: shapeName(s) });
  const rows: BenchRow[] = [];
  const push = (variant: string, s: GemmShape, threads: number, m: { medianMs: number; foreignLoad: number; contaminated: boolean }) =>
    rows.push({ variant, shape: shapeName(s), threads, rate: ops(s) / (m.medianMs / 1000) / 1e9, medianMs: m.medianMs, foreignLoad: m.foreignLoad, contaminated: m.contaminated });

  for (const threads of threadsList) {
    const rt = await createKernelRuntime({ threads, fma: options.fma ?? false });
    try {
      for (const s of shapes) {
        const a = randomF32(s.batch * s.M * s.K, 1);
        const b = randomF32(s.batch * s.K * s.N, 2);
        const m0 = mark(rt.arena);
        const packed = s.batch === 1 ? packF32(rt, b, s.K, s.N, 'kn') : undefined;
        push(rt.fma ? 'wasm-f32-relaxed-fma A-in-place B-prepacked' : 'wasm-f32 A-in-place B-prepacked', s, threads, await measure(wasmF32Run(rt, s, a, b, packed), options.runs ?? 7, warmup, maxLoad, retries));
        // resident: A and C stay in wasm memory (no copy in/out, no fresh output allocation)
        const aPtr = alloc(rt.arena, a.length * 4);
        f32At(rt.arena, aPtr, a.length).set(a);
        const cPtr = alloc(rt.arena, s.batch * s.M * s.N * 4);
        const bPacks = packed ? [packed] : Array.from({ length: s.batch }, (_, t) => packF32(rt, b.subarray(t * s.K * s.N, (t + 1) * s.K * s.N), s.K, s.N, 'kn'));
        const resident: GemmF32Task[] = Array.from({ length: s.batch }, (_, t) => ({ a: aPtr + t * s.M * s.K * 4, lda: s.K, packed: bPacks[packed ? 0 : t]!, c: cPtr + t * s.M * s.N * 4, ldc: s.N, m: s.M }));
        push(`${rt.fma ? 'wasm-f32-relaxed-fma' : 'wasm-f32'} resident (B packed once)`, s, threads, await measure(() => gemmF32Batch(rt, resident), options.runs ?? 7, warmup, maxLoad, retries));
        release(rt.arena, m0);
        if (options.integer ?? true) {
          const rng = createRng(3);
          const ai = Uint8Array.from({ length: s.batch * s.M * s.K }, () => rng.int(256));
          const bi = Int8Array.from({ length: s.batch * s.K * s.N }, () => rng.int(256) - 128);
          const m1 = mark(rt.arena);
          const aPtr = alloc(rt.arena, ai.length);
          u8At(rt.arena, aPtr, ai.length).set(ai);
          const packs = Array.from({ length: s.batch }, (_, t) => packInt8(rt, bi.subarray(t * s.K * s.N, (t + 1) * s.K * s.N), s.K, s.N, 'kn'));
          const cPtr = alloc(rt.arena, s.M * s.N * 4);
          const run = () => {
            for (let t = 0; t < s.batch; t++) gemmInt(rt, aPtr + t * s.M * s.K, s.K, false, 128, packs[t]!, cPtr, s.N, s.M);
          };
          push('wasm-int u8s8 i16-dot B-prepacked (resident)', s, threads, await measure(run, options.runs ?? 7, warmup, maxLoad, retries));
          release(rt.arena, m1);
        }
      }
    } finally {
      await disposeKernelRuntime(rt);
    }
  }
  if (options.ort ?? true) {
    for (const threads of threadsList) {
      for (const s of shapes) {
        const a = randomF32(s.batch * s.M * s.K, 1);
        const b = randomF32(s.batch * s.K * s.N, 2);
        const f = await ortRun(s, a, b, threads, false);
        push('onnxruntime-node MatMul B-initializer', s, threads, await measure(f.run, options.runs ?? 9, Math.max(1, warmup - 1), maxLoad, retries));
        await f.release();
        if (options.integer ?? true) {
          const rng = createRng(3);
          const ai = Uint8Array.from({ length: s.batch * s.M * s.K }, () => rng.int(256));
          const bi = Int8Array.from({ length: s.batch * s.K * s.N }, () => rng.int(256) - 128);
          const q = await ortRun(s, ai, bi, threads, true);
          push('onnxruntime-node MatMulInteger u8s8', s, threads, await measure(q.run, options.runs ?? 9, Math.max(1, warmup - 1), maxLoad, retries));
          await q.release();
        }
      }
    }
  }
  return rows;
}

/** One op timing of `benchBackendOps`. */
export interface OpBenchRow {
  readonly op: string;
  readonly backend: string;
  readonly medianMs: number;
  readonly foreignLoad: number;
  readonly contaminated: boolean;
}

/**
 * Time the encoder-relevant Backend ops (linear, attention matmul, 3×3 conv, depthwise conv, gelu,
 * softmax, layerNorm) on the reference backend and the fast backend (1 and 2 threads), on
 * TinyViT/ViT-shaped inputs; copies in and out of wasm memory are included.
 * @source PERFORMANCE.md "Method" (median of runs after warm-up, foreign-load check)
 * @deviation none
 * @precision timing
 */
export async function benchBackendOps(options: { runs?: number; warmup?: number; maxForeignLoad?: number; retries?: number; threads?: readonly number[] } = {}): Promise<OpBenchRow[]> {
  const { createFastBackend, referenceBackend } = await import('../kernels/backend');
  const t = (shape: number[], seed: number) => ({ dtype: 'float32' as const, shape, data: randomF32(shape.reduce((a, b) => a * b, 1), seed) });
  const conv = { stride: [1, 1] as [number, number], padding: [1, 1] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
  const cases = [
    { op: 'linear [4096,160]x[480,160]ᵀ', run: (b: typeof referenceBackend) => b.linear(t([4096, 160], 1), W480, B480) },
    { op: 'matmul [300,196,64]x[300,64,196]', run: (b: typeof referenceBackend) => b.matmul(Q, KT) },
    { op: 'conv2d 3x3 [1,64,64,64]→128', run: (b: typeof referenceBackend) => b.conv2d(X64, W3, undefined, conv) },
    { op: 'conv2d depthwise 3x3 [1,256,64,64]', run: (b: typeof referenceBackend) => b.conv2d(X256, WDW, undefined, { ...conv, groups: 256 }) },
    { op: 'gelu [4096,640]', run: (b: typeof referenceBackend) => b.gelu(G) },
    { op: 'softmax [300,196,196]', run: (b: typeof referenceBackend) => b.softmax(S) },
    { op: 'layerNorm [4096,160]', run: (b: typeof referenceBackend) => b.layerNorm(L, LG, LB, { epsilon: 1e-5 }) },
  ];
  const W480 = t([480, 160], 2);
  const B480 = t([480], 3);
  const Q = t([300, 196, 64], 4);
  const KT = t([300, 64, 196], 5);
  const X64 = t([1, 64, 64, 64], 6);
  const W3 = t([128, 64, 3, 3], 7);
  const X256 = t([1, 256, 64, 64], 8);
  const WDW = t([256, 1, 3, 3], 9);
  const G = t([4096, 640], 10);
  const S = t([300, 196, 196], 11);
  const L = t([4096, 160], 12);
  const LG = t([160], 13);
  const LB = t([160], 14);
  const runs = options.runs ?? 5;
  const warmup = options.warmup ?? 2;
  const maxLoad = options.maxForeignLoad ?? 0.1;
  const retries = options.retries ?? 2;
  const rows: OpBenchRow[] = [];
  const backends: { name: string; b: typeof referenceBackend; dispose?: () => Promise<void> }[] = [{ name: 'reference', b: referenceBackend }];
  for (const threads of options.threads ?? [1, 2]) {
    const f = await createFastBackend({ threads });
    backends.push({ name: f.name, b: f, dispose: f.dispose });
  }
  try {
    for (const c of cases) {
      for (const { name, b } of backends) {
        const m = await measure(() => void c.run(b), name === 'reference' ? Math.min(runs, 3) : runs, name === 'reference' ? 1 : warmup, maxLoad, retries);
        rows.push({ op: c.op, backend: name, medianMs: m.medianMs, foreignLoad: m.foreignLoad, contaminated: m.contaminated });
      }
    }
  } finally {
    for (const { dispose } of backends) if (dispose) await dispose();
  }
  return rows;
}
