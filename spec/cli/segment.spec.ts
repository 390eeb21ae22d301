/**
 * `ahcq segment` end to end: bad input gives exit code 2, a message naming the problem, and no output
 * file; a real run on a bundled photo writes a 0/255 mask PNG at the original size and the --json summary.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { minisamPaths } from '../../src/sam/sam-model';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'bin/ahcq.mjs');
const PHOTO = join(ROOT, 'fixtures/photos/chelsea.png');

function ahcq(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('ahcq segment — bad input (exit 2, named problem, nothing written)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ahcq-seg-'));
  const outPng = join(dir, 'mask.png');
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not an image');
  const badModel = join(dir, 'broken.pth');
  writeFileSync(badModel, Buffer.from('PK\x03\x04 this is not a real zip archive'));
  const cases: [string, string[], RegExp][] = [
    ['missing image', ['--image', join(dir, 'nope.png'), '--point', '10,10', '--out', outPng], /nope\.png.*does not exist/],
    ['unsupported format', ['--image', text, '--point', '10,10', '--out', outPng], /notes\.txt/],
    ['point outside the image', ['--image', PHOTO, '--point', '500,10', '--out', outPng], /point \(500,10\) is outside the 451×300 image/],
    ['box with x1 < x0', ['--image', PHOTO, '--box', '100,10,50,40', '--out', outPng], /x1 ≥ x0/],
    ['unknown label', ['--image', PHOTO, '--point', '10,10,7', '--out', outPng], /label must be 1 \(foreground\) or 0 \(background\)/],
    ['no prompt', ['--image', PHOTO, '--out', outPng], /at least one --point or a --box/],
    ['corrupt model file', ['--model', badModel, '--image', PHOTO, '--point', '10,10', '--out', outPng], /broken\.pth/],
    ['unknown option', ['--image', PHOTO, '--point', '10,10', '--out', outPng, '--frobnicate'], /unknown option --frobnicate/],
  ];
  it.each(cases)('%s', (_name, args, msg) => {
    const r = ahcq(['segment', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(existsSync(outPng)).toBe(false);
  });
  const vitTiny = resolve(ROOT, '../shared/fixtures/sam-reference/vit-tiny/weights.pth');
  it.skipIf(!existsSync(vitTiny))('a checkpoint of the wrong architecture is named as such (official-code vit-tiny .pth)', () => {
    const r = ahcq(['segment', '--model', vitTiny, '--image', PHOTO, '--point', '10,10', '--out', outPng]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a SAM checkpoint|unknown architecture|does not match SAM/);
    expect(existsSync(outPng)).toBe(false);
  });
  it('cleans up', () => {
    rmSync(dir, { recursive: true, force: true });
    expect(existsSync(dir)).toBe(false);
  });
});

describe.skipIf(!minisamPaths())('ahcq segment — real MobileSAM run (fast backend)', () => {
  it('writes a 0/255 mask at the original size, an overlay, and a --json summary whose bbox matches the mask', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahcq-seg-'));
    try {
      const mask = join(dir, 'm.png'), overlay = join(dir, 'o.png');
      const r = ahcq(['segment', '--image', PHOTO, '--point', '225,150', '--out', mask, '--overlay', overlay, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { image: { width: number; height: number }; masks: { iou: number; area: number; bbox: number[] }[] };
      expect(j.image).toEqual({ width: 451, height: 300 });
      expect(j.masks).toHaveLength(1);
      const png = PNG.sync.read(readFileSync(mask));
      expect([png.width, png.height]).toEqual([451, 300]);
      let area = 0, x0 = 1e9, y0 = 1e9, x1 = -1, y1 = -1;
      for (let y = 0; y < png.height; y++) for (let x = 0; x < png.width; x++) {
        const v = png.data[(y * png.width + x) * 4]!;
        expect(v === 0 || v === 255).toBe(true);
        if (v) { area++; x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
      }
      expect(area).toBe(j.masks[0]!.area);
      expect(j.masks[0]!.bbox).toEqual([x0, y0, x1, y1]);
      // the cat: a clicked point on its face is inside the mask; IoU prediction as the official code gives (0.9685 ± 1e-3)
      expect(png.data[(150 * 451 + 225) * 4]).toBe(255);
      expect(Math.abs(j.masks[0]!.iou - 0.9685)).toBeLessThan(1e-3);
      expect(existsSync(overlay)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
