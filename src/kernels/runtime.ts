/**
 * The kernel runtime: one shared memory + arena, the compiled kernel modules (compiled once per
 * kind, with fixed i32 argument types), their main-thread instances, per-thread scratch tiles and
 * the optional worker pool. Everything the fast backend does goes through one such record; there is
 * no global instance.
 */
import { specRequire } from '../tensor';
import { wasm } from './wasm-api';
import { alloc, createArena, MAX_PAGES, type Arena } from './arena';
import { emitGemmModule, GEMM_SCRATCH_BYTES, type GemmKind } from './gemm-kernel';
import { emitRowsModule } from './rows-kernel';
import { createPool, disposePool, runRound, type Pool, type PoolCall, type TableEntry } from './pool';

// TYPES

/** Pool-callable kernels: the GEMM lists of every kind ('gemm_f32fma' only with relaxed SIMD) and the row kernels. */
export type KernelName = 'gemm_f32' | 'gemm_i8s' | 'gemm_u8s' | 'gemm_f32fma' | 'gelu' | 'softmax' | 'layernorm' | 'dwconv';

/** Options of `createKernelRuntime`. */
export interface RuntimeOptions {
  /** Threads including the caller (1 = no workers). Default 2. */
  readonly threads?: number;
  /** Initial memory size in 64 KiB pages. Default 256 (16 MiB). */
  readonly initialPages?: number;
  /** Use the relaxed-SIMD FMA fp32 kernel when this engine validates it. Default false. */
  readonly fma?: boolean;
}

/** A live runtime. */
export interface KernelRuntime {
  readonly arena: Arena;
  readonly threads: number;
  /** True when the fp32 GEMM uses relaxed FMA. */
  readonly fma: boolean;
  /** Function table shared by all threads: name → index. */
  readonly fnIndex: Readonly<Record<KernelName, number>>;
  /** Main-thread instances of the table entries. */
  readonly local: readonly ((...args: number[]) => void)[];
  /** One 128-byte scratch tile per thread (index 0 = caller). */
  readonly scratch: readonly number[];
  readonly pool: Pool | undefined;
  /** Resident-scope state (src/kernels/resident.ts): open scopes, and persistent work deferred to the outermost exit. */
  readonly resident: ResidentState;
}

/** Mutable state of the resident scopes of one runtime (like the arena's `top`, owned by exactly one runtime). */
export interface ResidentState {
  /** Number of open scopes; op outputs stay in the arena while > 0. */
  depth: number;
  /** Persistent allocations (weight packs) requested inside a scope, run after the outermost scope is released. */
  readonly pending: (() => void)[];
}

// MAIN

const MODULES: readonly { name: KernelName; kind: GemmKind }[] = [
  { name: 'gemm_f32', kind: 'f32' },
  { name: 'gemm_i8s', kind: 'i8s' },
  { name: 'gemm_u8s', kind: 'u8s' },
];

/**
 * True when this engine accepts the relaxed-SIMD opcodes (Node ≥ 22, or Node 20 with
 * `--experimental-wasm-relaxed-simd`).
 * @source WebAssembly relaxed-SIMD proposal; PERFORMANCE.md notes on Node 20
 * @deviation none
 * @precision exact
 */
export function relaxedSimdAvailable(): boolean {
  return wasm.validate(emitGemmModule('f32-fma', { min: 1, max: MAX_PAGES }));
}

/**
 * Compile the kernels, allocate the shared memory and start `threads − 1` workers.
 * @source PERFORMANCE.md "Recommendation" (shared imported memory, Atomics pool, kernels compiled once)
 * @deviation none
 * @precision exact
 */
export async function createKernelRuntime(options: RuntimeOptions = {}): Promise<KernelRuntime> {
  const threads = options.threads ?? 2;
  specRequire(Number.isInteger(threads) && threads >= 1 && threads <= 16, { fn: 'createKernelRuntime', what: 'threads', rule: 'be an integer in [1, 16]', got: threads });
  const arena = createArena(options.initialPages ?? 256, MAX_PAGES);
  const pages = { min: 1, max: MAX_PAGES };
  const useFma = (options.fma ?? false) && relaxedSimdAvailable();
  const specs = useFma ? [...MODULES, { name: 'gemm_f32fma' as const, kind: 'f32-fma' as const }] : MODULES;
  const modules = [...specs.map((s) => new wasm.Module(emitGemmModule(s.kind, pages))), new wasm.Module(emitRowsModule(pages))];
  const rowsModule = modules.length - 1;
  const table: TableEntry[] = [];
  const fnIndex = {} as Record<KernelName, number>;
  specs.forEach((s, mi) => {
    fnIndex[s.name] = table.length;
    table.push([mi, 'gemm_list']);
  });
  for (const name of ['gelu', 'softmax', 'layernorm', 'dwconv'] as const) {
    fnIndex[name] = table.length;
    table.push([rowsModule, name]);
  }
  const instances = modules.map((m) => new wasm.Instance(m, { env: { memory: arena.memory } }));
  const local = table.map(([mi, name]) => instances[mi]!.exports[name] as (...args: number[]) => void);
  const scratch = Array.from({ length: threads }, () => alloc(arena, GEMM_SCRATCH_BYTES, 64));
  const pool = threads > 1 ? await createPool(threads - 1, arena.memory, modules, table) : undefined;
  return { arena, threads, fma: useFma, fnIndex, local, scratch, pool, resident: { depth: 0, pending: [] } };
}

/**
 * Run one call per thread (`calls[t]` on thread t; undefined = idle) and wait for all.
 * @source (pool round)
 * @deviation none
 * @precision exact
 */
export function runOnThreads(rt: KernelRuntime, calls: readonly (PoolCall | undefined)[]): void {
  const runLocal = (c: PoolCall) => rt.local[c.fn]!(...c.args);
  if (!rt.pool || calls.slice(1).every((c) => c === undefined)) {
    if (calls[0]) runLocal(calls[0]);
    return;
  }
  runRound(rt.pool, calls, runLocal);
}

/**
 * Stop the workers; the memory is released when the runtime is garbage-collected.
 * @source (pool shutdown)
 * @deviation none
 * @precision exact
 */
export async function disposeKernelRuntime(rt: KernelRuntime): Promise<void> {
  if (rt.pool) await disposePool(rt.pool);
}
