/**
 * The whole-block golden case (suite "blocks", op tinyvit_block): params round trip, malformed params
 * name the field, and the committed calibration slice matches the ahcq plan of the block.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLOCK_CALIB_PATH, BLOCK_CASES, readTinyVitBlockParams, runTinyVitBlockOp } from '../../src/golden/cases/block-tinyvit';
import { readGoldenCase, verifyGoldenCase } from '../../src/golden/reader';
import { FormatError } from '../../src/tensor';
import { tinyViTPlanSites, } from '../../src/quant-sam/plan';
import { MOBILE_SAM_VIT_T } from '../../src/sam/tiny-vit';
import { cliPreset } from '../../src/quant-sam/cli-common';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const CASE = join(ROOT, 'fixtures', 'golden', 'blocks', BLOCK_CASES[0]!.id);
const HAVE = existsSync(join(CASE, 'desc.json'));

describe('golden block case', () => {
  describe.skipIf(!HAVE)(`edge cases${HAVE ? '' : ' — SKIPPED: fixtures/golden/blocks is absent'}`, () => {
    it('malformed params name the field: a short w_hex, a wrong input shape, a missing table', () => {
      const c = readGoldenCase(CASE);
      const p = JSON.parse(JSON.stringify(c.desc.params));
      p.fc1.w_hex = p.fc1.w_hex.slice(1);
      expect(() => readTinyVitBlockParams(p, 'desc.json')).toThrow(/desc\.json: params\.fc1\.w_hex must hold 65536 codes/);
      const q = JSON.parse(JSON.stringify(c.desc.params));
      delete q.score.bias_table_f32;
      expect(() => readTinyVitBlockParams(q, 'desc.json')).toThrow(/params\.score\.bias_table_f32 is missing/);
      const bad = new Map(c.inputs);
      const x = bad.get('x')!;
      bad.set('x', { ...x, tensor: { ...x.tensor, shape: [49, 128] } });
      expect(() => runTinyVitBlockOp(bad, c.desc.params, 'desc.json')).toThrow(FormatError);
    });
  });
  describe.skipIf(!HAVE)('conformance', () => {
    it('the committed case verifies (TS SUT) and records every stage', () => {
      const c = readGoldenCase(CASE);
      expect(verifyGoldenCase(c)).toEqual([]);
      expect([...c.outputs.keys()]).toEqual(['x1', 'qkv', 'p_codes', 'o', 'y']);
    });
    it('the calibration slice is the ahcq W4 plan of layers.1.blocks.0 (CAG, LNQ, LSQ, LSQ, CAG, HLUQ) with 4 CAG groups', () => {
      const raw = JSON.parse(readFileSync(BLOCK_CALIB_PATH, 'utf8'));
      const plan = tinyViTPlanSites({ ...MOBILE_SAM_VIT_T, imgSize: raw.img_size }, cliPreset('ahcq', 4, {}));
      const want = plan.activations.filter((a) => a.site.startsWith('layers.1.blocks.0.'));
      expect(Object.keys(raw.acts).sort()).toEqual(want.map((a) => a.site).sort());
      for (const a of want) expect({ site: a.site, kind: raw.acts[a.site].kind }).toEqual({ site: a.site, kind: a.quantizer === 'lsq-mse' ? 'lsq' : a.quantizer });
      expect(raw.acts['layers.1.blocks.0.attn.qkv.in'].groupScales).toHaveLength(4);
      expect(raw.bits).toBe(4);
    });
  });
});
