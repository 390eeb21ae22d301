/**
 * `ahcq eval --model mobilesam|FILE --quantized FILE --images DIR|a.png,b.jpg [--prompts FILE] [--grid N]
 *   [--json] [--backend fast|reference]`: fidelity of the quantized model against the FP32 model.
 * --json prints {"method","bits","maskIoU":{"box","point","all"},"iouMAE","embeddingSQNRdB","embeddingCosine","layers":[...]}.
 */
import { FormatError } from '../tensor';
import { parseArgs, intOption } from './args';
import { openBackend, type BackendChoice } from './backend-choice';
import { progressBar } from './progress';
import { loadTarget } from '../quant-sam/cli-common';
import { listImages, loadImagesWithPrompts } from '../quant-sam/data';
import { loadQuantizedModel } from '../quant-sam/format';
import { evaluateModels } from '../quant-sam/evaluate';

const fmt = (v: number | null, d = 4): string => (v === null ? 'n/a' : v.toFixed(d));

/** Run `ahcq eval`; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('eval', argv, {
    model: { kind: 'string', required: true },
    quantized: { kind: 'string', required: true },
    images: { kind: 'string', required: true },
    prompts: { kind: 'string' },
    grid: { kind: 'string' },
    backend: { kind: 'string' },
    json: { kind: 'flag' },
  });
  // cheap checks first (file format/version, images, prompts), then the model weights
  const grid = intOption('grid', a.strings.grid, 3, 0, 32);
  const qm = loadQuantizedModel(a.strings.quantized!);
  const files = listImages(a.strings.images!, 'evaluation');
  const target = loadTarget(a.strings.model!);
  if (qm.model !== target.name) throw new FormatError(a.strings.quantized!, `file was made for model '${qm.model}', not '${target.name}'`);
  const overlap = files.filter((f) => qm.calibImages.some((c) => f.endsWith(`/${c}`) || f === c));
  if (overlap.length > 0) process.stderr.write(`eval: warning: ${overlap.join(', ')} also used for calibration\n`);
  const images = loadImagesWithPrompts(files, { promptsFile: a.strings.prompts, grid, imageSize: target.imageSize });
  const { backend, dispose } = await openBackend((a.strings.backend ?? 'fast') as BackendChoice);
  try {
    const bar = progressBar('eval', process.stderr);
    const { reports } = evaluateModels(target, [qm], images, { backend, onProgress: (d, t, l) => bar.update(d, t, l) });
    bar.done();
    const r = reports[0]!;
    if (a.flags.json) {
      const { method, bits, maskIoU, iouMAE, embeddingSQNRdB, embeddingCosine, layers } = r;
      process.stdout.write(`${JSON.stringify({ method, bits, maskIoU, iouMAE, embeddingSQNRdB, embeddingCosine, layers })}\n`);
    } else {
      process.stdout.write(
        `${r.method} W${r.bits}A${r.bits}: mask IoU box ${fmt(r.maskIoU.box)} point ${fmt(r.maskIoU.point)} all ${fmt(r.maskIoU.all)}; ` +
          `IoU-pred MAE ${fmt(r.iouMAE)}; embedding SQNR ${r.embeddingSQNRdB.toFixed(2)} dB, cosine ${r.embeddingCosine.toFixed(4)}\n`,
      );
      for (const l of r.layers) process.stdout.write(`  ${l.name.padEnd(48)} ${l.sqnrDb.toFixed(2)} dB\n`);
    }
  } finally {
    await dispose();
  }
  return 0;
}
