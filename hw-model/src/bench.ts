/**
 * Benchmarks of the hardware model (wired into `npm run bench` by the lead):
 *   - `benchClosedFormSamB`: closed-form estimate of a whole SAM-B forward (target < 1 s);
 *   - `benchSteppedPeCycles`: PE-cycles per second of the cycle-stepped tile engine (target ≥ 50 M).
 */
import { estimateDesign } from './design';
import { runTile } from './tile';
import { randomTileJob } from './random-job';

// MAIN

/** Time the closed-form INT4 estimate of SAM ViT-B on the default ZCU102 design. */
export function benchClosedFormSamB(): { seconds: number; cycles: number; fps: number; line: string } {
  const t0 = performance.now();
  const e = estimateDesign('sam-vit-b', 'int4');
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, cycles: e.cycles, fps: e.fps, line: `hw-model closed form, SAM-B INT4 on ${e.design.rows}x${e.design.cols}: ${(e.cycles / 1e6).toFixed(1)} Mcycles/frame in ${(seconds * 1000).toFixed(0)} ms (target < 1000 ms)` };
}

/** Time the cycle-stepped engine on one uniform tile (default 32 × 32 × 4096 like HARDWARE.md §4.3). */
export function benchSteppedPeCycles(rows = 32, cols = 32, K = 4096): { peCyclesPerSecond: number; seconds: number; line: string } {
  const cfg = { rows, cols };
  const job = randomTileJob(1, cfg, { mode: 'uniform', K, ppu: true, aBits: 4, bBits: 4 });
  const t0 = performance.now();
  const r = runTile(cfg, job);
  const seconds = (performance.now() - t0) / 1000;
  const peCyclesPerSecond = (r.cycles * rows * cols) / seconds;
  return { peCyclesPerSecond, seconds, line: `hw-model cycle-stepped ${rows}x${cols}x${K} tile: ${r.cycles} cycles in ${seconds.toFixed(2)} s = ${(peCyclesPerSecond / 1e6).toFixed(1)} M PE-cycles/s (target ≥ 50 M)` };
}
