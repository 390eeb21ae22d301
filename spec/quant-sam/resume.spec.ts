/**
 * spec/quant-sam/resume: an interrupted calibration continues from the stages saved in `<out>.partial/`
 * and produces the same quantized-model bytes as an uninterrupted run (small configuration:
 * random TinyViT 256², encoder only, AHCQ-SAM W4 with ACNR so that a stage carries weight overrides).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { methodPreset } from '../../src/quant/presets';
import { encodeQuantizedModel } from '../../src/quant-sam/format';
import { calibrateModel, type StageCheckpoint } from '../../src/quant-sam/pipeline';
import { folderCheckpoint } from '../../src/quant-sam/resume';
import { realDecoder, smallSamples, smallTarget } from './small-model';

const BUDGET = { hluqRows: 32, attnElements: 3000, mseElements: 128, searchBatches: 1 };

class Interrupted extends Error {}

/** A checkpoint that saves `stage` and then "crashes" (as a kill right after the atomic write would). */
function crashAfter(ck: StageCheckpoint, stage: string): StageCheckpoint {
  return {
    load: ck.load,
    save: (s, st) => {
      ck.save(s, st);
      if (s === stage) throw new Interrupted(`interrupted after ${s}`);
    },
  };
}

describe.skipIf(realDecoder() === null)('laws: resume after an interruption', () => {
  it.each([
    ['default (observers reset after ACNR)', false],
    ['referenceCompat (pass-#2 observers continue pass #1)', true],
  ])('%s: interrupted after calib1 and after acnr, the resumed run gives the uninterrupted bytes', (_n, referenceCompat) => {
    const target = { ...smallTarget(), decoderWeights: null };
    const samples = smallSamples(1);
    // LSQ everywhere + ACNR keeps the run short while a stage still carries weight overrides
    const preset = methodPreset('AHCQ-SAM', 4, { hluq: false, cag: false, softmax: 'uniform', referenceCompat });
    const opts = { seed: 5, budget: BUDGET };
    const whole = encodeQuantizedModel(calibrateModel(target, samples, preset, opts));

    const dir = join(mkdtempSync(join(tmpdir(), 'ahcq-resume-')), 'model.ahcqqm.partial');
    try {
      const fp = 'fingerprint-1';
      expect(() => calibrateModel(target, samples, preset, { ...opts, checkpoint: crashAfter(folderCheckpoint(dir, fp), 'calib1') })).toThrow(Interrupted);
      expect(readdirSync(dir).sort()).toEqual(['big.json', 'calib1.json', 'fingerprint.txt']);
      const seen1: string[] = [];
      expect(() => calibrateModel(target, samples, preset, { ...opts, checkpoint: crashAfter(folderCheckpoint(dir, fp), 'acnr'), onProgress: (s) => seen1.push(s) })).toThrow(Interrupted);
      expect(seen1).toContain('calib1 (resumed)');
      expect(seen1).not.toContain('calib1');
      const acnrSaved = readdirSync(dir).filter((f) => f.startsWith('acnr.') && f.endsWith('.npy'));
      expect(acnrSaved.length).toBeGreaterThan(0); // ACNR changed weights and they are on disk
      const seen2: string[] = [];
      const resumed = encodeQuantizedModel(calibrateModel(target, samples, preset, { ...opts, checkpoint: folderCheckpoint(dir, fp), onProgress: (s) => seen2.push(s) }));
      expect(seen2).toContain('acnr (resumed)');
      expect(seen2).not.toContain('acnr');
      expect(Buffer.from(resumed).equals(Buffer.from(whole))).toBe(true);
      // other settings (another fingerprint) discard the saved stages instead of mixing them in
      folderCheckpoint(dir, 'fingerprint-2');
      expect(existsSync(dir)).toBe(false);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  }, 180_000);
});
