/**
 * Model-level integer benchmark (issue 7, "integer W4A4 inference no slower than the fp32 fast
 * path"): one full MobileSAM 1024² image-encoder pass, in the same run and on the same fast backend,
 * as (1) the fp32 fast path, (2) the fake-quant W4A4 path (`fakeQuantModel`: float32 GEMMs on
 * dequantized weights, every site quantize-dequantized) and (3) the integer path (`intQuantModel`:
 * planned Linears on the wasm integer GEMM, the rest as fake-quant). Medians of timed runs after a
 * warm-up, the three variants interleaved run by run (a load change hits all three alike), with the
 * `/proc/stat` foreign-load check of src/bench/kernels.ts (a contaminated run is retried `retries` times).
 * Prints nothing; returns one record. The lead wires it into `npm run bench`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { specRequire, type Tensor } from '../tensor';
import type { FastBackend } from '../kernels/backend';
import { loadTarget, cliPreset } from '../quant-sam/cli-common';
import { loadImagesWithPrompts } from '../quant-sam/data';
import { loadQuantizedModel } from '../quant-sam/format';
import { calibrateModel, fakeQuantModel, type QuantizedModel } from '../quant-sam/pipeline';
import { runEncoder } from '../quant-sam/model';
import { intQuantModel } from '../quant-sam/int-infer';
import { timeWithLoad } from './kernels';

// TYPES

export interface IntModelBenchOptions {
  /** The fast backend (caller owns and disposes it; the integer weights are packed into its arena). */
  readonly backend: FastBackend;
  /** A MobileSAM .ahcqqm (default out/results/ahcq-w4.ahcqqm; absent → a quick 1-photo encoder-only ahcq W4 calibration). */
  readonly model?: string;
  /** Photo of the encoder pass (default fixtures/photos/chelsea.png). */
  readonly image?: string;
  readonly runs?: number;
  readonly warmup?: number;
  /** Foreign load (cores) above which a timed run is retried (default 0.3). */
  readonly maxForeignLoad?: number;
  readonly retries?: number;
  readonly onProgress?: (step: string) => void;
}

/** One timed variant. */
export interface IntModelBenchRow {
  readonly variant: 'fp32' | 'fake-quant' | 'integer';
  readonly medianMs: number;
  readonly foreignLoad: number;
  readonly contaminated: boolean;
}

export interface IntModelBenchRecord {
  /** Where the quantized model came from. */
  readonly model: string;
  readonly method: string;
  readonly bits: number;
  readonly threads: number;
  /** Linear layers on the integer GEMM / left fake-quant (with reasons). */
  readonly integerLayers: number;
  readonly fakeQuantLayers: readonly { readonly layer: string; readonly reason: string }[];
  readonly rows: readonly IntModelBenchRow[];
  /** integer / fp32 and integer / fake-quant median-time ratios (< 1 = integer faster). */
  readonly intOverFp32: number;
  readonly intOverFakeQuant: number;
  /** Issue 7 target: integer no slower than the fp32 fast path. */
  readonly targetMet: boolean;
  /** max |Δ| and SQNR (dB) of the integer embedding against the fake-quant embedding (a sanity figure). */
  readonly maxAbsDiffVsFakeQuant: number;
  readonly sqnrVsFakeQuantDb: number;
}

// HELPERS

/** Time the variants interleaved (v₁, v₂, v₃, v₁, …) so that a load change hits all of them alike; median per variant. */
async function interleavedMedians(runs: readonly (() => void)[], n: number, warmup: number, maxLoad: number, retries: number, progress?: (step: string) => void): Promise<{ medianMs: number; foreignLoad: number; contaminated: boolean }[]> {
  for (let i = 0; i < warmup; i++) runs.forEach((run) => run()); // weight packing, Liftoff → TurboFan tier-up
  const times = runs.map(() => [] as number[]);
  const worst = runs.map(() => 0);
  const dirty = runs.map(() => false);
  for (let r = 0; r < n; r++) {
    for (let v = 0; v < runs.length; v++) {
      let m = await timeWithLoad(runs[v]!);
      for (let t = 0; t < retries && m.foreignLoad >= maxLoad; t++) {
        await new Promise((res) => setTimeout(res, 500));
        m = await timeWithLoad(runs[v]!);
      }
      if (m.foreignLoad >= maxLoad) dirty[v] = true;
      worst[v] = Math.max(worst[v]!, m.foreignLoad);
      times[v]!.push(m.ms);
      progress?.(`run ${r + 1}/${n} variant ${v + 1}: ${m.ms.toFixed(0)} ms (foreign load ${m.foreignLoad.toFixed(2)})`);
    }
  }
  return times.map((t, v) => {
    const s = [...t].sort((a, b) => a - b);
    return { medianMs: s[Math.floor(s.length / 2)]!, foreignLoad: worst[v]!, contaminated: dirty[v]! };
  });
}

function compare(a: Tensor, b: Tensor): { maxAbs: number; sqnr: number } {
  let maxAbs = 0, s = 0, e = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(d));
    s += a.data[i]! ** 2;
    e += d * d;
  }
  return { maxAbs, sqnr: e === 0 ? Infinity : 10 * Math.log10(s / e) };
}

// MAIN

/**
 * Time one MobileSAM encoder pass as fp32, fake-quant W4A4 and integer W4A4 on one fast backend.
 * @paper AHCQ-SAM:v4 §5.5 (quantized inference)
 * @source this project (issue 7); PERFORMANCE.md "Method" (median after warm-up, foreign-load check)
 * @equation ratio = median(t_integer) / median(t_fp32)
 * @deviation none
 * @precision wall-clock milliseconds
 */
export async function benchIntModel(opts: IntModelBenchOptions): Promise<IntModelBenchRecord> {
  const fn = 'benchIntModel';
  specRequire(opts.backend !== undefined, { fn, what: 'opts.backend', rule: 'be a fast backend', got: opts.backend });
  const runs = opts.runs ?? 3, warmup = opts.warmup ?? 1, maxLoad = opts.maxForeignLoad ?? 0.3, retries = opts.retries ?? 1;
  specRequire(Number.isInteger(runs) && runs >= 1, { fn, what: 'runs', rule: 'be an integer ≥ 1', got: runs });
  const fast = opts.backend;
  const target = loadTarget('mobilesam');
  const img = loadImagesWithPrompts([opts.image ?? join('fixtures', 'photos', 'chelsea.png')], { grid: 0, imageSize: target.imageSize })[0]!;
  const path = opts.model ?? join('out', 'results', 'ahcq-w4.ahcqqm');
  let qm: QuantizedModel;
  let source: string;
  if (existsSync(path)) {
    opts.onProgress?.(`loading ${path}`);
    qm = loadQuantizedModel(path, target.name);
    source = path;
  } else {
    specRequire(opts.model === undefined, { fn, what: 'opts.model', rule: 'name an existing .ahcqqm file', got: path });
    opts.onProgress?.('no out/results/ahcq-w4.ahcqqm: calibrating ahcq W4 encoder-only on one photo (tiny budget)');
    const budget = { hluqRows: 64, attnElements: 10_000, mseElements: 512, searchBatches: 1 };
    qm = calibrateModel({ ...target, decoderWeights: null }, [{ name: 'bench', input: img.input, geom: img.geom, prompts: [] }], cliPreset('ahcq', 4, {}), { seed: 0, budget, backend: fast });
    source = 'calibrated on the fly (ahcq W4, encoder only, 1 photo, tiny budget)';
  }
  const fq = fakeQuantModel(target, qm);
  const encoderOnly = (layer: string): boolean => !layer.startsWith('mask_decoder.');
  const im = intQuantModel(target, qm, fast, { layers: encoderOnly }); // the decoder is not timed: do not pack its layers
  const x = img.input;
  const variants: { variant: IntModelBenchRow['variant']; run: () => Tensor }[] = [
    { variant: 'fp32', run: () => runEncoder(target, target.encoderWeights, x, undefined, undefined, fast) },
    { variant: 'fake-quant', run: () => runEncoder(target, fq.enc, x, fq.tap, undefined, fast) },
    { variant: 'integer', run: () => runEncoder(target, im.enc, x, im.tap, undefined, im.backend) },
  ];
  opts.onProgress?.('timing fp32 / fake-quant / integer, interleaved');
  const med = await interleavedMedians(variants.map((v) => () => void v.run()), runs, warmup, maxLoad, retries, opts.onProgress);
  const rows: IntModelBenchRow[] = variants.map((v, i) => ({ variant: v.variant, ...med[i]! }));
  const d = compare(variants[1]!.run(), variants[2]!.run());
  const ms = (v: string): number => rows.find((r) => r.variant === v)!.medianMs;
  return {
    model: source, method: qm.plan.preset.method, bits: qm.plan.preset.bits, threads: fast.runtime.threads,
    integerLayers: im.integerLayers.length, fakeQuantLayers: im.fakeQuantLayers.filter((l) => encoderOnly(l.layer)),
    rows, intOverFp32: ms('integer') / ms('fp32'), intOverFakeQuant: ms('integer') / ms('fake-quant'),
    targetMet: ms('integer') <= ms('fp32'), maxAbsDiffVsFakeQuant: d.maxAbs, sqnrVsFakeQuantDb: d.sqnr,
  };
}
