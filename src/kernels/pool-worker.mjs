// Worker body of the kernel pool (plain JavaScript so that it runs unchanged under node, tsx and
// vitest: it needs no TypeScript transform). It instantiates the kernel modules on the shared
// memory, then loops: wait on the generation word, run its call slot, count itself done.
// Control words (Int32Array over a SharedArrayBuffer), see src/kernels/pool.ts:
//   [0] generation  [1] done count  [2] error count  [3] shutdown flag
//   slot of worker w at 16 + 32·w: [0] function index (−1 = idle this round), [1] argc, [2..] args
import { parentPort, workerData } from 'node:worker_threads';

const { memory, modules, table, ctrl, index } = workerData;
const c = new Int32Array(ctrl);
const instances = modules.map((m) => new WebAssembly.Instance(m, { env: { memory } }));
const fns = table.map(([mod, name]) => instances[mod].exports[name]);
const slot = 16 + 32 * index;

// Read the generation BEFORE announcing readiness: the main thread may start a round as soon as
// it sees 'ready', and a generation read after that would miss the round (lost wake-up).
let seen = Atomics.load(c, 0);
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(c, 0, seen);
  const g = Atomics.load(c, 0);
  if (g === seen) continue;
  seen = g;
  if (Atomics.load(c, 3) === 1) break;
  const fn = c[slot];
  if (fn >= 0) {
    const argc = c[slot + 1];
    const args = [];
    for (let i = 0; i < argc; i++) args.push(c[slot + 2 + i]);
    try {
      fns[fn](...args);
    } catch (e) {
      Atomics.add(c, 2, 1);
      parentPort.postMessage(String(e && e.stack ? e.stack : e));
    }
  }
  Atomics.add(c, 1, 1);
  Atomics.notify(c, 1);
}
parentPort.close();
