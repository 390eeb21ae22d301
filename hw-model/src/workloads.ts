/**
 * Whole-network workloads as lists of GEMMs and vector-unit passes, derived from the model configs in
 * src/sam/config.ts (SAM ViT-B/L/H image encoders) and src/sam/tiny-vit.ts (MobileSAM TinyViT). Only the
 * image encoder is listed (it is > 98 % of SAM's MACs; the prompt encoder and mask decoder are omitted —
 * a stated simplification). Depthwise convolutions are counted as vector-unit work (9 MACs/element).
 *
 * Each GEMM names the AHCQ-SAM quantizer that feeds its row operands (METHOD.md §3): CAG for the
 * inputs of qkv and fc1, HLUQ for the input of fc2, LNQ for the softmax·V product, uniform otherwise.
 */
import { specRequire } from '../../src/tensor';
import { VIT_B, VIT_L, VIT_H, type ImageEncoderViTConfig } from '../../src/sam/config';
import { MOBILE_SAM_VIT_T, type TinyViTConfig } from '../../src/sam/tiny-vit';

// TYPES

export type QuantKind = 'uniform' | 'cag' | 'hluq' | 'lnq';

/** `count` identical GEMMs [M, K] × [N, K]ᵀ. */
export interface GemmOp {
  readonly kind: 'gemm';
  readonly name: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly count: number;
  readonly quant: QuantKind;
}

/** A vector-unit pass over `elements` values costing `cyclesPerElement` lane-cycles each. */
export interface VectorOp {
  readonly kind: 'vector';
  readonly name: string;
  readonly elements: number;
  readonly op: 'layernorm' | 'softmax' | 'gelu' | 'dwconv3x3';
}

export type WorkOp = GemmOp | VectorOp;

export type ModelName = 'sam-vit-b' | 'sam-vit-l' | 'sam-vit-h' | 'mobilesam';

// HELPERS

const gemm = (name: string, M: number, N: number, K: number, count: number, quant: QuantKind): GemmOp => ({ kind: 'gemm', name, M, N, K, count, quant });
const vec = (name: string, elements: number, op: VectorOp['op']): VectorOp => ({ kind: 'vector', name, elements, op });

/** Windowed attention block ops (tokens already padded to whole windows). */
function attention(p: string, tokens: number, win: number, C: number, heads: number): WorkOp[] {
  const hd = C / heads, nWin = tokens / win;
  return [
    gemm(`${p}.qkv`, tokens, 3 * C, C, 1, 'cag'),
    gemm(`${p}.qk`, win, win, hd, nWin * heads, 'uniform'),
    vec(`${p}.softmax`, nWin * heads * win * win, 'softmax'),
    gemm(`${p}.pv`, win, hd, win, nWin * heads, 'lnq'),
    gemm(`${p}.proj`, tokens, C, C, 1, 'uniform'),
  ];
}

function mlp(p: string, tokens: number, C: number, hidden: number): WorkOp[] {
  return [
    gemm(`${p}.fc1`, tokens, hidden, C, 1, 'cag'),
    vec(`${p}.gelu`, tokens * hidden, 'gelu'),
    gemm(`${p}.fc2`, tokens, C, hidden, 1, 'hluq'),
  ];
}

const padTo = (n: number, w: number): number => Math.ceil(n / w) * w;

// MAIN

/**
 * GEMM/vector list of a SAM ViT image encoder at its configured input size.
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#ImageEncoderViT, Block, Attention, window_partition (shapes only)
 * @equation grid g = imgSize/patch; windowed blocks pad g to a multiple of the window (g_p² tokens in (g_p/w)² windows); global blocks use g² tokens in one window
 * @deviation relative-position terms and residual adds are omitted (elementwise, < 0.1 % of the work)
 * @precision exact (integer shapes)
 */
export function vitEncoderOps(cfg: ImageEncoderViTConfig): WorkOp[] {
  const g = cfg.imgSize / cfg.patchSize;
  specRequire(Number.isInteger(g), { fn: 'vitEncoderOps', what: 'cfg.imgSize', rule: 'be a multiple of patchSize', got: cfg.imgSize });
  const C = cfg.embedDim, T = g * g;
  const ops: WorkOp[] = [gemm('patch_embed', T, C, 3 * cfg.patchSize * cfg.patchSize, 1, 'uniform')];
  for (let b = 0; b < cfg.depth; b++) {
    const global = cfg.windowSize === 0 || cfg.globalAttnIndexes.includes(b);
    const gp = global ? g : padTo(g, cfg.windowSize);
    const win = global ? T : cfg.windowSize * cfg.windowSize;
    ops.push(vec(`blocks.${b}.norm1`, T * C, 'layernorm'));
    ops.push(...attention(`blocks.${b}.attn`, gp * gp, win, C, cfg.numHeads));
    ops.push(vec(`blocks.${b}.norm2`, T * C, 'layernorm'));
    ops.push(...mlp(`blocks.${b}.mlp`, T, C, C * cfg.mlpRatio));
  }
  ops.push(gemm('neck.0', T, cfg.outChans, C, 1, 'uniform'), vec('neck.1', T * cfg.outChans, 'layernorm'));
  ops.push(gemm('neck.2', T, cfg.outChans, 9 * cfg.outChans, 1, 'uniform'), vec('neck.3', T * cfg.outChans, 'layernorm'));
  return ops;
}

/**
 * GEMM/vector list of MobileSAM's TinyViT encoder (conv stem, MBConv stage, attention stages, neck).
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT, MBConv, PatchMerging, TinyViTBlock (shapes only)
 * @equation stage s resolution: 1024/4 for stage 0, halved by each merge with stride 2; attention tokens padded to whole windows
 * @deviation attention-bias adds omitted; depthwise convs counted as vector work
 * @precision exact (integer shapes)
 */
export function tinyVitOps(cfg: TinyViTConfig): WorkOp[] {
  const d = cfg.embedDims;
  let res = cfg.imgSize / 4;
  const ops: WorkOp[] = [
    gemm('patch_embed.0', (cfg.imgSize / 2) ** 2, d[0]! / 2, 9 * cfg.inChans, 1, 'uniform'),
    gemm('patch_embed.2', res * res, d[0]!, 9 * (d[0]! / 2), 1, 'uniform'),
  ];
  for (let s = 0; s < d.length; s++) {
    const C = d[s]!, T = res * res;
    for (let b = 0; b < cfg.depths[s]!; b++) {
      const p = `layers.${s}.blocks.${b}`;
      if (s === 0) {
        const hid = C * cfg.mbconvExpandRatio;
        ops.push(gemm(`${p}.conv1`, T, hid, C, 1, 'uniform'), vec(`${p}.conv2`, T * hid, 'dwconv3x3'), gemm(`${p}.conv3`, T, C, hid, 1, 'uniform'));
      } else {
        const w = cfg.windowSizes[s]!, gp = padTo(res, w);
        ops.push(vec(`${p}.attn.norm`, T * C, 'layernorm'));
        ops.push(...attention(`${p}.attn`, gp * gp, w * w, C, cfg.numHeads[s]!));
        ops.push(vec(`${p}.local_conv`, T * C, 'dwconv3x3'), vec(`${p}.mlp.norm`, T * C, 'layernorm'));
        ops.push(...mlp(`${p}.mlp`, T, C, C * cfg.mlpRatio));
      }
    }
    if (s < d.length - 1) {
      const O = d[s + 1]!, stride = cfg.mergeStrides[s]!, r2 = res / stride;
      ops.push(gemm(`layers.${s}.downsample.conv1`, T, O, C, 1, 'uniform'), vec(`layers.${s}.downsample.conv2`, r2 * r2 * O, 'dwconv3x3'), gemm(`layers.${s}.downsample.conv3`, r2 * r2, O, O, 1, 'uniform'));
      res = r2;
    }
  }
  const T = res * res;
  ops.push(gemm('neck.0', T, cfg.outChans, d[d.length - 1]!, 1, 'uniform'), vec('neck.1', T * cfg.outChans, 'layernorm'));
  ops.push(gemm('neck.2', T, cfg.outChans, 9 * cfg.outChans, 1, 'uniform'), vec('neck.3', T * cfg.outChans, 'layernorm'));
  return ops;
}

/** The op list of a named model. */
export function modelOps(model: ModelName): WorkOp[] {
  switch (model) {
    case 'sam-vit-b': return vitEncoderOps(VIT_B);
    case 'sam-vit-l': return vitEncoderOps(VIT_L);
    case 'sam-vit-h': return vitEncoderOps(VIT_H);
    case 'mobilesam': return tinyVitOps(MOBILE_SAM_VIT_T);
    default: specRequire(false, { fn: 'modelOps', what: 'model', rule: "be 'sam-vit-b' | 'sam-vit-l' | 'sam-vit-h' | 'mobilesam'", got: model });
  }
}

/**
 * Multiply-accumulates of an op list (GEMMs; depthwise convs at 9 per output element).
 * @equation MACs = Σ_gemm count·M·N·K + Σ_dwconv 9·elements
 * @precision exact
 */
export function countMacs(ops: readonly WorkOp[]): number {
  let s = 0;
  for (const o of ops) {
    if (o.kind === 'gemm') s += o.count * o.M * o.N * o.K;
    else if (o.op === 'dwconv3x3') s += 9 * o.elements;
  }
  return s;
}
