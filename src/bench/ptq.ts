/**
 * PTQ benchmark (issue 4 performance target): wall time and peak memory of (1) a full `ahcq` W4A4
 * calibration of MobileSAM on the eight calibration photos (fixtures/calib, default budgets, seed 0) and
 * (2) the fidelity evaluation of that one quantized model on the five evaluation photos (FP32 pass
 * included). The foreign CPU load during each step is reported (the machine may be shared).
 * Prints nothing; returns one record. The lead wires it into `npm run bench` (section `ptq`).
 */
import { join } from 'node:path';
import { specRequire } from '../tensor';
import type { Backend } from '../ops/backend';
import { cliPreset, loadTarget } from '../quant-sam/cli-common';
import { listImages, loadImagesWithPrompts } from '../quant-sam/data';
import { calibrateModel, type QuantizedModel } from '../quant-sam/pipeline';
import { evaluateModels } from '../quant-sam/evaluate';
import { timeWithLoad } from './kernels';

// TYPES

export interface PtqBenchOptions {
  /** Compute backend (the fast backend for meaningful times); the caller owns and disposes it. */
  readonly backend: Backend;
  /** Calibration folder or comma list (default fixtures/calib, eight photos). */
  readonly calib?: string;
  /** Evaluation photos (default the five of fixtures/photos). */
  readonly evalImages?: readonly string[];
  readonly method?: string;
  readonly bits?: number;
  /** Point grid of the calibration prompts (default 2) and of the evaluation prompts (default 3). */
  readonly calibGrid?: number;
  readonly evalGrid?: number;
  /** Skip the evaluation step (calibration only). */
  readonly skipEval?: boolean;
  /** Progress: (step, done, total). */
  readonly onProgress?: (step: string, done: number, total: number) => void;
}

export interface PtqBenchRecord {
  readonly method: string;
  readonly bits: number;
  readonly calibPhotos: number;
  readonly calibPrompts: number;
  readonly calibSeconds: number;
  /** Calibration wall time per pipeline stage (big, calib1, acnr-capture-q, acnr, calib2, weights, …), seconds. */
  readonly stageSeconds: Readonly<Record<string, number>>;
  /** Average foreign load during calibration, in cores (0 when /proc is unavailable). */
  readonly calibForeignLoad: number;
  readonly evalPhotos: number;
  readonly evalPrompts: number;
  /** null when skipped. */
  readonly evalSeconds: number | null;
  readonly evalForeignLoad: number | null;
  /** process.resourceUsage().maxRSS after each step (MiB; cumulative peak of the process). */
  readonly peakRssAfterCalibMiB: number;
  readonly peakRssAfterEvalMiB: number | null;
  /** Fidelity of the benchmarked model (a sanity figure, not the benchmark). */
  readonly maskIoUAll: number | null;
  /** Target of the issue: calibration within 15 minutes on the 2-core machine. */
  readonly calibWithinTarget: boolean;
}

// CONSTANTS

const EVAL = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png'].map((n) => join('fixtures/photos', n));
const TARGET_SECONDS = 15 * 60;

// MAIN

/**
 * Time a full calibration (default ahcq W4A4, 8 photos) and one model's evaluation on 5 photos.
 * @paper AHCQ-SAM:v4 §5 (METHOD.md §12 calibration-only mode)
 * @source this project (issue 4 "Performance")
 * @equation t_calib = wall(calibrateModel) = Σ_stage t_stage (+ the tail after the last progress event), t_eval = wall(evaluateModels with one model); peak RSS = maxRSS
 * @deviation none
 * @precision wall-clock milliseconds
 */
export async function benchPtq(opts: PtqBenchOptions): Promise<PtqBenchRecord> {
  const method = opts.method ?? 'ahcq', bits = opts.bits ?? 4;
  specRequire(opts.backend !== undefined, { fn: 'benchPtq', what: 'opts.backend', rule: 'be given', got: opts.backend });
  const rss = (): number => process.resourceUsage().maxRSS / 1024;
  const target = loadTarget('mobilesam');
  const calib = loadImagesWithPrompts(listImages(opts.calib ?? 'fixtures/calib', 'calibration'), { promptsFile: 'fixtures/prompts.json', grid: opts.calibGrid ?? 2, imageSize: target.imageSize });
  const preset = cliPreset(method, bits, {});
  let qm: QuantizedModel | undefined;
  // stage times: the time since the previous progress event is charged to the stage of the current event
  const stageSeconds: Record<string, number> = {};
  let last = 0;
  const c = await timeWithLoad(() => {
    last = performance.now();
    qm = calibrateModel(target, calib, preset, {
      seed: 0,
      backend: opts.backend,
      onProgress: (s, d, t) => {
        const now = performance.now();
        stageSeconds[s] = (stageSeconds[s] ?? 0) + (now - last) / 1000;
        last = now;
        opts.onProgress?.(`calibrate ${s}`, d, t);
      },
    });
  });
  const peakCalib = rss();
  const evalSet = loadImagesWithPrompts(opts.evalImages ?? EVAL, { promptsFile: 'fixtures/prompts.json', grid: opts.evalGrid ?? 3, imageSize: target.imageSize });
  let evalSeconds: number | null = null, evalLoad: number | null = null, iou: number | null = null;
  if (!opts.skipEval) {
    let all: number | null = null;
    const e = await timeWithLoad(() => {
      all = evaluateModels(target, [qm!], evalSet, { backend: opts.backend, onProgress: (d, t, l) => opts.onProgress?.(`eval ${l}`, d, t) }).reports[0]!.maskIoU.all;
    });
    evalSeconds = e.ms / 1000;
    evalLoad = e.foreignLoad;
    iou = all;
  }
  return {
    method: preset.method, bits,
    calibPhotos: calib.length, calibPrompts: calib.reduce((a, s) => a + s.prompts.length, 0),
    calibSeconds: c.ms / 1000, stageSeconds, calibForeignLoad: c.foreignLoad,
    evalPhotos: evalSet.length, evalPrompts: evalSet.reduce((a, s) => a + s.prompts.length, 0),
    evalSeconds, evalForeignLoad: evalLoad,
    peakRssAfterCalibMiB: peakCalib, peakRssAfterEvalMiB: opts.skipEval ? null : rss(),
    maskIoUAll: iou,
    calibWithinTarget: c.ms / 1000 <= TARGET_SECONDS,
  };
}
