/**
 * `ahcq quantize --model mobilesam|FILE --method rtn|ptq4sam|ahcptq|ahcq --bits 4..8 --calib DIR|a.png,b.jpg
 *   --out FILE [--seed N] [--prompts FILE] [--grid N] [--no-big] [--no-acnr] [--no-hluq] [--no-cag]
 *   [--no-lnq] [--reference-compat] [--backend fast|reference]`
 * Calibration-only PTQ (src/quant-sam/pipeline.ts); progress on stderr; resumable via `<out>.partial/`.
 */
import { createHash } from 'node:crypto';
import { parseArgs, intOption } from './args';
import { openBackend, type BackendChoice } from './backend-choice';
import { progressBar } from './progress';
import { loadTarget, cliPreset } from '../quant-sam/cli-common';
import { listImages, loadImagesWithPrompts } from '../quant-sam/data';
import { calibrateModel } from '../quant-sam/pipeline';
import { saveQuantizedModel } from '../quant-sam/format';
import { folderCheckpoint } from '../quant-sam/resume';

/** Run `ahcq quantize`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('quantize', argv, {
    model: { kind: 'string', required: true },
    method: { kind: 'string', required: true },
    bits: { kind: 'string', required: true },
    calib: { kind: 'string', required: true },
    out: { kind: 'string', required: true },
    seed: { kind: 'string' },
    prompts: { kind: 'string' },
    grid: { kind: 'string' },
    backend: { kind: 'string' },
    'no-big': { kind: 'flag' },
    'no-acnr': { kind: 'flag' },
    'no-hluq': { kind: 'flag' },
    'no-cag': { kind: 'flag' },
    'no-lnq': { kind: 'flag' },
    'reference-compat': { kind: 'flag' },
  });
  const bits = Number(a.strings.bits);
  const preset = cliPreset(a.strings.method!, bits, a.flags);
  const seed = intOption('seed', a.strings.seed, 0, 0, 2 ** 31 - 1);
  const grid = intOption('grid', a.strings.grid, 2, 0, 32);
  const files = listImages(a.strings.calib!, 'calibration');
  const target = loadTarget(a.strings.model!);
  const samples = loadImagesWithPrompts(files, { promptsFile: a.strings.prompts, grid, imageSize: target.imageSize });
  const out = a.strings.out!;
  const fingerprint = createHash('sha256').update(JSON.stringify({ model: target.name, preset, seed, grid, files, prompts: a.strings.prompts ?? null })).digest('hex');
  const ck = folderCheckpoint(`${out}.partial`, fingerprint);
  const { backend, dispose } = await openBackend((a.strings.backend ?? 'fast') as BackendChoice);
  try {
    const bars = new Map<string, ReturnType<typeof progressBar>>();
    const t0 = performance.now();
    const qm = calibrateModel(target, samples, preset, {
      seed,
      backend,
      checkpoint: ck,
      onProgress: (stage, done, total) => {
        const b = bars.get(stage) ?? progressBar(`quantize ${stage}`, process.stderr);
        bars.set(stage, b);
        b.update(done, total);
        if (done === total) b.done();
      },
    });
    saveQuantizedModel(out, qm);
    ck.clear();
    process.stderr.write(`quantize: ${preset.method} W${bits}A${bits} on ${samples.length} photos in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${out}\n`);
  } finally {
    await dispose();
  }
  return 0;
}
