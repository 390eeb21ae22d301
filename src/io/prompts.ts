/**
 * The project's prompt file (`fixtures/prompts.json`): per photo, named prompts made of points
 * (x, y, label) and/or one box (x0, y0, x1, y1), in original-image pixel coordinates. Validation turns
 * untyped JSON into a typed record or throws a `SpecError` naming the offending entry and the rule.
 *
 * Coordinate rules: a point must lie on the image, 0 ≤ x < W and 0 ≤ y < H; a box corner may touch
 * the far edge, 0 ≤ x0 ≤ x1 ≤ W and 0 ≤ y0 ≤ y1 ≤ H. Labels are 1 (foreground) or 0 (background), as
 * SAM's `point_labels`.
 */
import { FormatError, specRequire } from '../tensor';
import { readFileOrThrow } from './fs';

// TYPES

/** One point prompt: pixel coordinates and label (1 = foreground, 0 = background). */
export type PromptPoint = readonly [x: number, y: number, label: 0 | 1];

/** One named prompt: points, a box, or both. */
export interface PromptSpec {
  readonly name: string;
  readonly points?: readonly PromptPoint[];
  readonly box?: readonly [x0: number, y0: number, x1: number, y1: number];
}

/** A validated prompt file. */
export interface PromptFile {
  readonly version: 1;
  readonly note?: string;
  /** image file name (as in fixtures/photos) → its prompts */
  readonly images: Readonly<Record<string, readonly PromptSpec[]>>;
}

// MAIN

/**
 * Check an untyped prompt-file value against the format and the image sizes, returning it typed.
 * @source project format (fixtures/README.md "prompts.json"); labels as SAM-code@dca509f
 *   segment_anything/predictor.py#SamPredictor.predict (point_labels: 1 foreground, 0 background)
 * @equation point: 0 ≤ x < W, 0 ≤ y < H, label ∈ {0, 1};  box: 0 ≤ x0 ≤ x1 ≤ W, 0 ≤ y0 ≤ y1 ≤ H
 * @deviation none
 * @precision exact
 */
export function validatePrompts(json: unknown, imageSizes: Readonly<Record<string, readonly [number, number]>>): PromptFile {
  const fn = 'validatePrompts';
  specRequire(isObject(json), { fn, what: 'json', rule: 'be an object { version, images }', got: typeof json });
  specRequire(json.version === 1, { fn, what: 'json.version', rule: 'be 1', got: json.version });
  specRequire(json.note === undefined || typeof json.note === 'string', { fn, what: 'json.note', rule: 'be a string when present', got: typeof json.note });
  specRequire(isObject(json.images), { fn, what: 'json.images', rule: 'be an object mapping image names to prompt lists', got: typeof json.images });

  const images: Record<string, PromptSpec[]> = {};
  for (const [image, list] of Object.entries(json.images)) {
    const size = imageSizes[image];
    specRequire(size !== undefined, { fn, what: `images["${image}"]`, rule: `name a known image (${Object.keys(imageSizes).join(', ')})`, got: image });
    const [H, W] = size;
    specRequire(Array.isArray(list) && list.length >= 1, { fn, what: `images["${image}"]`, rule: 'be a non-empty array of prompts', got: list });
    const names = new Set<string>();
    images[image] = list.map((p: unknown, i: number) => {
      const at = `images["${image}"][${i}]`;
      specRequire(isObject(p), { fn, what: at, rule: 'be an object { name, points?, box? }', got: typeof p });
      specRequire(typeof p.name === 'string' && p.name.length > 0, { fn, what: `${at}.name`, rule: 'be a non-empty string', got: p.name });
      specRequire(!names.has(p.name), { fn, what: `${at}.name`, rule: `be unique within images["${image}"]`, got: p.name });
      names.add(p.name);
      specRequire(p.points !== undefined || p.box !== undefined, { fn, what: at, rule: 'have points, a box, or both', got: Object.keys(p) });
      const spec: { name: string; points?: PromptPoint[]; box?: [number, number, number, number] } = { name: p.name };
      if (p.points !== undefined) {
        specRequire(Array.isArray(p.points) && p.points.length >= 1, { fn, what: `${at}.points`, rule: 'be a non-empty array of [x, y, label]', got: p.points });
        spec.points = p.points.map((q: unknown, k: number) => {
          const pw = `${at}.points[${k}]`;
          specRequire(Array.isArray(q) && q.length === 3, { fn, what: pw, rule: 'be [x, y, label]', got: q });
          const [x, y, label] = q as unknown[];
          specRequire(isFiniteNumber(x) && x >= 0 && x < W, { fn, what: `${pw}.x`, rule: `lie in [0, W = ${W})`, got: x });
          specRequire(isFiniteNumber(y) && y >= 0 && y < H, { fn, what: `${pw}.y`, rule: `lie in [0, H = ${H})`, got: y });
          specRequire(label === 0 || label === 1, { fn, what: `${pw}.label`, rule: 'be 0 (background) or 1 (foreground)', got: label });
          return [x, y, label] as const;
        });
      }
      if (p.box !== undefined) {
        const bw = `${at}.box`;
        specRequire(Array.isArray(p.box) && p.box.length === 4 && p.box.every(isFiniteNumber), { fn, what: bw, rule: 'be [x0, y0, x1, y1] of finite numbers', got: p.box });
        const [x0, y0, x1, y1] = p.box as [number, number, number, number];
        specRequire(x0 >= 0 && x1 <= W, { fn, what: `${bw} x0, x1`, rule: `lie in [0, W = ${W}]`, got: [x0, x1] });
        specRequire(y0 >= 0 && y1 <= H, { fn, what: `${bw} y0, y1`, rule: `lie in [0, H = ${H}]`, got: [y0, y1] });
        specRequire(x1 >= x0, { fn, what: `${bw} x1`, rule: `be ≥ x0 = ${x0}`, got: x1 });
        specRequire(y1 >= y0, { fn, what: `${bw} y1`, rule: `be ≥ y0 = ${y0}`, got: y1 });
        spec.box = [x0, y0, x1, y1];
      }
      return spec;
    });
  }
  return json.note === undefined ? { version: 1, images } : { version: 1, note: json.note as string, images };
}

/**
 * Read a prompt file from disk and validate it; unreadable or non-JSON files are `FormatError`s.
 * @source project format (fixtures/README.md "prompts.json")
 * @deviation none
 * @precision exact
 */
export function readPrompts(path: string, imageSizes: Readonly<Record<string, readonly [number, number]>>): PromptFile {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(readFileOrThrow(path, 'prompt file'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(path, `prompt file is not valid JSON: ${(e as Error).message}`);
  }
  return validatePrompts(json, imageSizes);
}

// HELPERS

function isObject(v: unknown): v is Record<string, unknown> & { [k: string]: any } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
