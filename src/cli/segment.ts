/**
 * `ahcq segment`: segment one photo with a SAM-family model from point / box prompts.
 *
 *   ahcq segment --model mobilesam|ENCODER.onnx,DECODER.onnx|CHECKPOINT.pth --image FILE
 *                [--point X,Y[,LABEL]]... [--box X0,Y0,X1,Y1] [--multimask]
 *                --out MASK.png [--overlay OVERLAY.png] [--json] [--backend fast|reference]
 *
 * Coordinates are original-image pixels; LABEL is 1 (foreground, default) or 0 (background).
 * The best mask (highest predicted IoU) is written to --out as a 0/255 single-channel PNG at the
 * original size. Progress goes to stderr; `--json` prints the result summary to stdout.
 * Exit codes: 0 ok, 2 bad input (nothing written).
 */
import { parseArgs, UsageError } from './args';
import { readImage } from '../io/image';
import { writeMaskPng, writeOverlayPng } from '../io/mask-output';
import { loadSamModel, setImage, type SamModel, type ImageEmbedding } from '../sam/sam-model';
import { predict } from '../sam/predictor';
import { tensor, type Tensor } from '../tensor';
import { openBackend, type BackendChoice } from './backend-choice';
import { progressBar } from './progress';
import type { Backend } from '../ops/backend';

// TYPES

export interface SegmentPrompt {
  readonly points: readonly (readonly [number, number, 0 | 1])[];
  readonly box?: readonly [number, number, number, number];
}

export interface MaskSummary {
  readonly iou: number;
  readonly area: number;
  /** [x0, y0, x1, y1] inclusive pixel bounds, or null for an empty mask. */
  readonly bbox: [number, number, number, number] | null;
}

// MAIN

/** Parse `X,Y[,LABEL]`. */
export function parsePoint(s: string): [number, number, 0 | 1] {
  const parts = s.split(',').map((v) => v.trim());
  const nums = parts.map(Number);
  if ((parts.length !== 2 && parts.length !== 3) || nums.some((v) => !Number.isFinite(v))) {
    throw new UsageError(`--point must be X,Y or X,Y,LABEL with numbers (got '${s}')`);
  }
  const label = parts.length === 3 ? nums[2]! : 1;
  if (label !== 0 && label !== 1) throw new UsageError(`--point label must be 1 (foreground) or 0 (background) (got '${parts[2]}')`);
  return [nums[0]!, nums[1]!, label];
}

/** Parse `X0,Y0,X1,Y1`. */
export function parseBox(s: string): [number, number, number, number] {
  const nums = s.split(',').map((v) => Number(v.trim()));
  if (nums.length !== 4 || nums.some((v) => !Number.isFinite(v))) throw new UsageError(`--box must be X0,Y0,X1,Y1 with numbers (got '${s}')`);
  const [x0, y0, x1, y1] = nums as [number, number, number, number];
  if (x1 < x0 || y1 < y0) throw new UsageError(`--box must have x1 ≥ x0 and y1 ≥ y0 (got '${s}')`);
  return [x0, y0, x1, y1];
}

/** Check that prompts lie inside a W×H image (pixel coordinates, inclusive of the far edge). */
export function checkPromptsInside(p: SegmentPrompt, width: number, height: number): void {
  for (const [x, y] of p.points) {
    if (x < 0 || y < 0 || x > width || y > height) throw new UsageError(`point (${x},${y}) is outside the ${width}×${height} image`);
  }
  if (p.box) {
    const [x0, y0, x1, y1] = p.box;
    if (x0 < 0 || y0 < 0 || x1 > width || y1 > height) throw new UsageError(`box (${x0},${y0},${x1},${y1}) is outside the ${width}×${height} image`);
  }
}

/** Bounding box and area of a binary mask (row-major [H, W]). */
export function maskStats(mask: Uint8Array, width: number, height: number): { area: number; bbox: [number, number, number, number] | null } {
  let area = 0, x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      area++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return { area, bbox: area ? [x0, y0, x1, y1] : null };
}

/** Run the decoder for one prompt set; returns per-mask binary masks and summaries (best first). */
export function segmentWithPrompts(model: SamModel, emb: ImageEmbedding, prompt: SegmentPrompt, multimask: boolean, backend?: Backend): { masks: Uint8Array[]; summaries: MaskSummary[] } {
  const [H, W] = emb.origSize;
  const n = prompt.points.length;
  const res = predict(
    model.decoder,
    emb.embedding,
    {
      pointCoords: n ? tensor<'float32'>([n, 2], Float32Array.from(prompt.points.flatMap(([x, y]) => [x, y]))) : undefined,
      pointLabels: n ? (tensor([n], Int32Array.from(prompt.points.map((p) => p[2]))) as Tensor<'int32'>) : undefined,
      box: prompt.box ? tensor<'float32'>([4], Float32Array.from(prompt.box)) : undefined,
    },
    { multimask, origSize: emb.origSize, inputSize: emb.inputSize, backend },
  );
  const k = res.iouPredictions.shape[1]!;
  const items = [];
  for (let i = 0; i < k; i++) {
    const mask = new Uint8Array(H * W);
    const off = i * H * W;
    for (let j = 0; j < H * W; j++) mask[j] = res.masks.data[off + j]! > 0 ? 1 : 0;
    items.push({ mask, iou: res.iouPredictions.data[i]!, ...maskStats(mask, W, H) });
  }
  items.sort((a, b) => b.iou - a.iou);
  return { masks: items.map((m) => m.mask), summaries: items.map(({ iou, area, bbox }) => ({ iou, area, bbox })) };
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('segment', argv, {
    model: { kind: 'string' },
    image: { kind: 'string', required: true },
    point: { kind: 'multi' },
    box: { kind: 'string' },
    multimask: { kind: 'flag' },
    out: { kind: 'string', required: true },
    overlay: { kind: 'string' },
    json: { kind: 'flag' },
    backend: { kind: 'string' },
  });
  if (a.positional.length) throw new UsageError(`unexpected argument '${a.positional[0]}'`);
  const prompt: SegmentPrompt = { points: a.multi.point!.map(parsePoint), box: a.strings.box !== undefined ? parseBox(a.strings.box) : undefined };
  if (!prompt.points.length && !prompt.box) throw new UsageError('give at least one --point or a --box');
  const image = readImage(a.strings.image!);
  checkPromptsInside(prompt, image.width, image.height);
  const model = loadSamModel(a.strings.model ?? 'mobilesam');
  const backend = await openBackend((a.strings.backend ?? 'fast') as BackendChoice);
  try {
    const bar = progressBar('encoder', process.stderr);
    const emb = setImage(model, image, { backend: backend.backend, onProgress: bar.update });
    bar.done();
    const { masks, summaries } = segmentWithPrompts(model, emb, prompt, a.flags.multimask!, backend.backend);
    writeMaskPng(a.strings.out!, masks[0]!, image.width, image.height);
    if (a.strings.overlay) writeOverlayPng(a.strings.overlay, image, masks[0]!);
    if (a.flags.json) {
      process.stdout.write(`${JSON.stringify({ image: { width: image.width, height: image.height }, masks: summaries })}\n`);
    } else {
      const s = summaries[0]!;
      process.stderr.write(`segment: best mask iou=${s.iou.toFixed(4)} area=${s.area} bbox=${JSON.stringify(s.bbox)} → ${a.strings.out}\n`);
    }
    return 0;
  } finally {
    await backend.dispose();
  }
}
