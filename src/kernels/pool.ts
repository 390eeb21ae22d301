/**
 * A worker_threads pool for the wasm kernels: T−1 workers plus the calling thread, all running
 * instances of the same modules on one shared memory. One round = every thread runs one call
 * (the main thread does share 0, worker w does share w+1); synchronisation is `Atomics.wait` /
 * `Atomics.notify` on a small SharedArrayBuffer of control words. Workers are `unref`'d, so a
 * forgotten `disposePool` never keeps a process alive.
 */
import { Worker } from 'node:worker_threads';
import type { WasmMemory, WasmModule } from './wasm-api';
import { InvariantError, specRequire } from '../tensor';

// TYPES

/** A kernel function reference: module index and export name. */
export type TableEntry = readonly [module: number, exportName: string];

/** The pool record (owned by one KernelRuntime). */
export interface Pool {
  readonly workers: readonly Worker[];
  readonly ctrl: Int32Array;
  /** Messages (error stacks) reported by workers, newest last. */
  readonly messages: string[];
  disposed: boolean;
}

/** One call: index into the function table and its i32 arguments. */
export interface PoolCall {
  readonly fn: number;
  readonly args: readonly number[];
}

// CONSTANTS

const GEN = 0;
const DONE = 1;
const ERRORS = 2;
const SHUTDOWN = 3;
const SLOT_BASE = 16;
const SLOT_WORDS = 32;
/** Most i32 arguments of one pooled call. */
export const POOL_MAX_ARGS = SLOT_WORDS - 2;

// MAIN

/**
 * Start `workers` worker threads that instantiate `modules` on `memory` and can run `table` entries.
 * @source Node.js worker_threads; ECMAScript Atomics.wait/notify
 * @deviation none
 * @precision exact
 */
export async function createPool(workers: number, memory: WasmMemory, modules: readonly WasmModule[], table: readonly TableEntry[]): Promise<Pool> {
  specRequire(Number.isInteger(workers) && workers >= 0 && workers <= 64, { fn: 'createPool', what: 'workers', rule: 'be an integer in [0, 64]', got: workers });
  const ctrl = new Int32Array(new SharedArrayBuffer((SLOT_BASE + SLOT_WORDS * Math.max(1, workers)) * 4));
  const messages: string[] = [];
  const url = new URL('./pool-worker.mjs', import.meta.url);
  const ws = Array.from({ length: workers }, (_, index) => new Worker(url, { workerData: { memory, modules, table, ctrl: ctrl.buffer, index }, execArgv: [] }));
  await Promise.all(
    ws.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const onError = (e: Error) => reject(e);
          w.once('error', onError);
          w.once('message', () => {
            w.off('error', onError);
            w.on('message', (m) => messages.push(String(m)));
            w.on('error', (e) => messages.push(String(e)));
            resolve();
          });
        }),
    ),
  );
  for (const w of ws) w.unref();
  return { workers: ws, ctrl, messages, disposed: false };
}

/**
 * Run one round: `calls[0]` on the calling thread through `runLocal`, `calls[w + 1]` on worker w;
 * returns when every thread is done. A missing entry leaves that worker idle for the round.
 * @source ECMAScript Atomics.wait/notify (futex-style generation counter)
 * @deviation none
 * @precision exact
 */
export function runRound(pool: Pool, calls: readonly (PoolCall | undefined)[], runLocal: (call: PoolCall) => void): void {
  specRequire(!pool.disposed, { fn: 'runRound', what: 'pool', rule: 'not be disposed' });
  specRequire(calls.length <= pool.workers.length + 1, { fn: 'runRound', what: 'calls.length', rule: `be ≤ threads = ${pool.workers.length + 1}`, got: calls.length });
  const c = pool.ctrl;
  const nw = pool.workers.length;
  for (let w = 0; w < nw; w++) {
    const call = calls[w + 1];
    const slot = SLOT_BASE + SLOT_WORDS * w;
    if (!call) {
      c[slot] = -1;
      continue;
    }
    specRequire(call.args.length <= POOL_MAX_ARGS, { fn: 'runRound', what: 'call.args.length', rule: `be ≤ ${POOL_MAX_ARGS}`, got: call.args.length });
    c[slot] = call.fn;
    c[slot + 1] = call.args.length;
    for (let i = 0; i < call.args.length; i++) c[slot + 2 + i] = call.args[i]! | 0;
  }
  Atomics.store(c, DONE, 0);
  Atomics.store(c, ERRORS, 0);
  Atomics.add(c, GEN, 1);
  Atomics.notify(c, GEN);
  let localError: unknown;
  try {
    if (calls[0]) runLocal(calls[0]);
  } catch (e) {
    localError = e;
  }
  for (;;) {
    const d = Atomics.load(c, DONE);
    if (d >= nw) break;
    Atomics.wait(c, DONE, d, 1000);
  }
  if (localError !== undefined) throw localError;
  if (Atomics.load(c, ERRORS) > 0) throw new InvariantError(`kernel pool: a worker call failed: ${pool.messages[pool.messages.length - 1] ?? '(no message yet)'}`);
}

/**
 * Stop the workers (shutdown flag + notify, then terminate); idempotent.
 * @source Node.js worker_threads Worker.terminate
 * @deviation none
 * @precision exact
 */
export async function disposePool(pool: Pool): Promise<void> {
  if (pool.disposed) return;
  pool.disposed = true;
  Atomics.store(pool.ctrl, SHUTDOWN, 1);
  Atomics.add(pool.ctrl, GEN, 1);
  Atomics.notify(pool.ctrl, GEN);
  await Promise.all(pool.workers.map((w) => w.terminate()));
}
