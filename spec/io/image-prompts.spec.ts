/**
 * The project prompt file (fixtures/prompts.json) and its validator: every rule violation is a
 * SpecError naming the entry; the bundled file validates against the bundled photos' real sizes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError, SpecError } from '../../src/tensor';
import { readImage } from '../../src/io/image';
import { readPrompts, validatePrompts } from '../../src/io/prompts';

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures');
const SIZES = { 'a.png': [100, 200] as [number, number] }; // H = 100, W = 200
const file = (prompts: unknown[]): unknown => ({ version: 1, images: { 'a.png': prompts } });
const tmp = mkdtempSync(join(tmpdir(), 'ahcq-prompts-spec-'));

describe('edge cases', () => {
  it.each([
    ['not an object', 42, /json must be an object/],
    ['wrong version', { version: 2, images: {} }, /json\.version must be 1 \(got 2\)/],
    ['images not an object', { version: 1, images: [] }, /json\.images must be an object/],
    ['unknown image', { version: 1, images: { 'b.png': [{ name: 'p', points: [[1, 1, 1]] }] } }, /images\["b\.png"\] must name a known image/],
    ['empty prompt list', file([]), /must be a non-empty array of prompts/],
    ['missing name', file([{ points: [[1, 1, 1]] }]), /\[0\]\.name must be a non-empty string/],
    ['duplicate name', file([{ name: 'p', points: [[1, 1, 1]] }, { name: 'p', box: [0, 0, 1, 1] }]), /\[1\]\.name must be unique/],
    ['neither points nor box', file([{ name: 'p' }]), /must have points, a box, or both/],
    ['point x = W (outside)', file([{ name: 'p', points: [[200, 5, 1]] }]), /points\[0\]\.x must lie in \[0, W = 200\) \(got 200\)/],
    ['point y negative', file([{ name: 'p', points: [[5, -1, 1]] }]), /points\[0\]\.y must lie in \[0, H = 100\)/],
    ['point NaN', file([{ name: 'p', points: [[Number.NaN, 1, 1]] }]), /points\[0\]\.x must lie in/],
    ['label 2', file([{ name: 'p', points: [[1, 1, 2]] }]), /points\[0\]\.label must be 0 \(background\) or 1 \(foreground\) \(got 2\)/],
    ['label true', file([{ name: 'p', points: [[1, 1, true]] }]), /label must be 0/],
    ['point with 2 entries', file([{ name: 'p', points: [[1, 1]] }]), /points\[0\] must be \[x, y, label\]/],
    ['box x1 < x0', file([{ name: 'p', box: [50, 0, 40, 10] }]), /box x1 must be ≥ x0 = 50 \(got 40\)/],
    ['box y1 < y0', file([{ name: 'p', box: [0, 50, 10, 40] }]), /box y1 must be ≥ y0 = 50 \(got 40\)/],
    ['box beyond W', file([{ name: 'p', box: [0, 0, 201, 10] }]), /box x0, x1 must lie in \[0, W = 200\]/],
    ['box with 3 numbers', file([{ name: 'p', box: [0, 0, 1] }]), /box must be \[x0, y0, x1, y1\]/],
  ])('%s → SpecError', (_n, json, msg) => {
    expect(() => validatePrompts(json, SIZES)).toThrow(SpecError);
    expect(() => validatePrompts(json, SIZES)).toThrow(msg);
  });

  it('box corners may touch the far edge; a degenerate box (x0 = x1) is allowed', () => {
    const ok = validatePrompts(file([{ name: 'p', box: [0, 0, 200, 100] }, { name: 'q', box: [5, 5, 5, 5] }]), SIZES);
    expect(ok.images['a.png']!.map((p) => p.box)).toEqual([[0, 0, 200, 100], [5, 5, 5, 5]]);
  });

  it('readPrompts: missing file and non-JSON are FormatErrors naming the file', () => {
    expect(() => readPrompts(join(tmp, 'none.json'), SIZES)).toThrow(FormatError);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{ "version": 1, ');
    expect(() => readPrompts(bad, SIZES)).toThrow(/bad\.json: prompt file is not valid JSON/);
  });
});

describe('oracle', () => {
  it('a point is accepted exactly when 0 ≤ x < W, 0 ≤ y < H and label ∈ {0, 1}', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 250, noNaN: true }), fc.double({ min: -50, max: 150, noNaN: true }), fc.integer({ min: -1, max: 2 }), (x, y, label) => {
        const valid = x >= 0 && x < 200 && y >= 0 && y < 100 && (label === 0 || label === 1);
        let accepted = true;
        try {
          validatePrompts(file([{ name: 'p', points: [[x, y, label]] }]), SIZES);
        } catch (e) {
          expect(e).toBeInstanceOf(SpecError);
          accepted = false;
        }
        return accepted === valid;
      }),
    );
  });
});

describe('laws', () => {
  it('validation is idempotent: validate(validate(j)) deep-equals validate(j)', () => {
    const j = file([{ name: 'p', points: [[1, 2, 1], [3, 4, 0]], box: [0, 0, 10, 10] }]);
    const once = validatePrompts(j, SIZES);
    expect(validatePrompts(once, SIZES)).toEqual(once);
  });
});

describe('conformance', () => {
  it('fixtures/prompts.json validates against the decoded sizes of fixtures/photos', () => {
    const names = readdirSync(join(FIXTURES, 'photos'));
    const sizes = Object.fromEntries(
      names.map((n) => {
        const im = readImage(join(FIXTURES, 'photos', n));
        return [n, [im.height, im.width] as [number, number]];
      }),
    );
    const pf = readPrompts(join(FIXTURES, 'prompts.json'), sizes);
    expect(pf.note).toMatch(/not COCO/);
    for (const f of ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png']) {
      const list = pf.images[f]!;
      expect(list.length).toBeGreaterThanOrEqual(2);
      expect(list.length).toBeLessThanOrEqual(5);
      // each main photo has a point prompt, a box prompt and a box + point prompt or fg/bg points
      expect(list.some((p) => p.points && !p.box)).toBe(true);
      expect(list.some((p) => p.box)).toBe(true);
    }
  });
});
