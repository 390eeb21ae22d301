/**
 * Photos and prompts for calibration and evaluation: list a folder (or an explicit file list), decode,
 * preprocess for the encoder, and attach prompts (the project prompt file plus a deterministic SAM
 * automatic-mask-generator point grid per photo).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FormatError, specRequire } from '../tensor';
import { imageToTensor, readImage } from '../io/image';
import { readPrompts, type PromptFile } from '../io/prompts';
import { preprocessImage } from '../sam/preprocess';
import { pointGridForImage } from '../sam/point-grid';
import type { PixelPrompt } from './model';
import type { EvalImage } from './evaluate';

// CONSTANTS

const IMAGE_EXT = /\.(png|jpe?g)$/i;

// HELPERS

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

// MAIN

/**
 * Image paths of a folder (sorted by name), of one image file, or of a comma-separated file list; typed errors when the
 * folder is missing, unreadable or holds no PNG/JPEG.
 * @source this project (CLI contract of `ahcq quantize --calib` / `ahcq eval --images`)
 * @deviation none
 * @precision exact
 */
export function listImages(spec: string, what: string): string[] {
  if (spec.includes(',') || (IMAGE_EXT.test(spec) && isFile(spec))) {
    const files = spec.split(',').filter((s) => s.length > 0);
    for (const f of files) {
      let ok = false;
      try {
        ok = statSync(f).isFile();
      } catch {
        ok = false;
      }
      if (!ok) throw new FormatError(f, `${what} image does not exist or is not a file`);
    }
    return files;
  }
  let names: string[];
  try {
    names = readdirSync(spec);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FormatError(spec, `${what} folder ${code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : 'is not readable'}`);
  }
  const files = names.filter((n) => IMAGE_EXT.test(n)).sort().map((n) => join(spec, n));
  if (files.length === 0) throw new FormatError(spec, `${what} folder holds no .png/.jpg/.jpeg image`);
  return files;
}

/**
 * Load photos with prompts: the prompt file's entries for each photo (validated: inside the image) plus
 * an n×n point grid placed as SAM's automatic mask generator places it (n = 0: none).
 * @source SAM-code@dca509f segment_anything/automatic_mask_generator.py (point grid); fixtures/README.md (prompt file)
 * @deviation none
 * @precision exact (pixel coordinates float64)
 */
export function loadImagesWithPrompts(paths: readonly string[], opts: { promptsFile?: string; grid: number; imageSize: number }): EvalImage[] {
  specRequire(Number.isInteger(opts.grid) && opts.grid >= 0 && opts.grid <= 32, { fn: 'loadImagesWithPrompts', what: 'grid', rule: 'be an integer in [0, 32]', got: opts.grid });
  const decoded = paths.map((p) => ({ path: p, name: basename(p), img: readImage(p) }));
  const sizes: Record<string, readonly [number, number]> = {};
  for (const d of decoded) sizes[d.name] = [d.img.height, d.img.width];
  let file: PromptFile | undefined;
  if (opts.promptsFile) {
    // validate only the entries of the photos in use (the file may list others)
    const all = readPrompts(opts.promptsFile, new Proxy(sizes, { get: (t, k: string) => t[k] ?? [1e9, 1e9] }));
    file = all;
  }
  return decoded.map((d) => {
    const pre = preprocessImage(imageToTensor(d.img), opts.imageSize);
    const prompts: PixelPrompt[] = [];
    for (const p of file?.images[d.name] ?? []) prompts.push({ name: p.name, points: p.points, box: p.box });
    if (opts.grid > 0) {
      const g = pointGridForImage(opts.grid, [d.img.height, d.img.width]);
      for (let k = 0; k < g.shape[0]!; k++) prompts.push({ name: `grid${opts.grid}_${k}`, points: [[g.data[2 * k]!, g.data[2 * k + 1]!, 1]] });
    }
    return { name: d.name, input: pre.input, geom: { origSize: pre.origSize, inputSize: pre.inputSize }, prompts };
  });
}
