/**
 * The quantization plan as data: which tensor of a SAM model gets which quantizer (METHOD.md §5.1),
 * for the official ViT encoder, MobileSAM's TinyViT encoder and the SAM mask decoder, under a method
 * preset (src/quant/presets.ts) with its ablation switches.
 *
 * Site names are tap points: `<module>.in` = input of a Linear/Conv, `<module>.out` = output of a
 * Linear (decoder q_proj / v_proj), `<k_proj>.key` = the decoder key activation (BIG's tensor),
 * `<attention>.probs` = softmax output. Weight layers are named by their weight key without `.weight`.
 * docs/quantization-plan.md explains every choice.
 */
import { specRequire } from '../tensor';
import type { MethodPreset } from '../quant/presets';
import type { TinyViTConfig } from '../sam/tiny-vit';
import type { ImageEncoderViTConfig } from '../sam/config';
import type { TwoWayTransformerConfig } from '../sam/sam-decoder-types';

// TYPES

/** Activation quantizers of the plan. `lsq` = per-tensor uniform (AvgMinMax range); `lsq-mse` = per-tensor uniform with an AvgMSEFast range (BIG keys). */
export type ActQuantizer = 'lsq' | 'lsq-mse' | 'cag' | 'hluq' | 'lnq' | 'agq';

/** Which network a site belongs to. */
export type ModelPart = 'encoder' | 'decoder';

/** One quantized activation. */
export interface ActSite {
  readonly site: string;
  readonly part: ModelPart;
  readonly quantizer: ActQuantizer;
  /** For HLUQ: the Linear (weight key prefix) the calibration loss is measured through. */
  readonly nextLinear?: string;
  /** For Linear inputs: the Linear this site feeds (ACNR's ΔX is measured here). */
  readonly feeds?: string;
  /** Short human-readable role (docs, reports). */
  readonly role: string;
}

/** One quantized weight (per-output-channel, asymmetric). */
export interface WeightSite {
  /** Weight key without `.weight` (encoder record key or decoder state-dict key). */
  readonly layer: string;
  readonly part: ModelPart;
  readonly kind: 'linear' | 'conv';
  /** ACNR applies to 2-D (Linear) weights only (METHOD.md §3.1 "Which layers"). */
  readonly acnr: boolean;
}

/** Architecture of the image encoder a plan was made for. */
export type EncoderArch =
  | { readonly kind: 'tiny-vit'; readonly cfg: TinyViTConfig }
  | { readonly kind: 'vit'; readonly cfg: ImageEncoderViTConfig };

/** A complete plan. */
export interface QuantPlan {
  readonly encoder: 'tiny-vit' | 'vit';
  /** Decoder transformer depth, or null when the plan covers the encoder only. */
  readonly decoderDepth: number | null;
  readonly preset: MethodPreset;
  readonly activations: readonly ActSite[];
  readonly weights: readonly WeightSite[];
}

// HELPERS

const DEC = 'mask_decoder.transformer';

function softmaxQuantizer(p: MethodPreset): ActQuantizer {
  return p.softmax === 'lnq' ? 'lnq' : p.softmax === 'agq' ? 'agq' : 'lsq';
}

/** Sites of one Linear-projection input that METHOD.md gives CAG (LSQ when CAG is off). */
function projIn(p: MethodPreset, layer: string, part: ModelPart, role: string): ActSite {
  return { site: `${layer}.in`, part, quantizer: p.cag ? 'cag' : 'lsq', feeds: layer, role };
}

function lsqIn(layer: string, part: ModelPart, role: string, linearLayer: boolean): ActSite {
  return linearLayer ? { site: `${layer}.in`, part, quantizer: 'lsq', feeds: layer, role } : { site: `${layer}.in`, part, quantizer: 'lsq', role };
}

function mlp2In(p: MethodPreset, layer: string, part: ModelPart, role: string): ActSite {
  return p.hluq ? { site: `${layer}.in`, part, quantizer: 'hluq', nextLinear: layer, feeds: layer, role } : { site: `${layer}.in`, part, quantizer: 'lsq', feeds: layer, role };
}

// MAIN

/**
 * Sites and weights of MobileSAM's TinyViT encoder (roles mapped from the ViT table of METHOD.md §5.1).
 * @paper AHCQ-SAM:v4 §5.1 (METHOD.md §5.1 table, mapped onto TinyViT)
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViT (module tree)
 * @equation attention blocks: qkv.in CAG, proj.in LSQ, probs LNQ|AGQ|LSQ, fc1.in CAG, fc2.in HLUQ, local_conv.in LSQ;
 *   MBConv / PatchMerging / neck convs: input LSQ; patch_embed FP; every quantized layer: W per-output-channel
 * @deviation TinyViT has no tap after the qkv split, so q, k, v are not quantized separately (the
 *   ViT table quantizes them with LSQ); conv inputs use per-tensor LSQ (CAG and HLUQ are defined on a
 *   Linear's feature axis); the patch embedding (conv stem) stays FP like SAM's patch embed
 * @precision exact (data only)
 */
export function tinyViTPlanSites(cfg: TinyViTConfig, p: MethodPreset): { activations: ActSite[]; weights: WeightSite[] } {
  const acts: ActSite[] = [];
  const ws: WeightSite[] = [];
  const E = 'encoder' as const;
  const conv = (layer: string, role: string): void => {
    acts.push(lsqIn(layer, E, role, false));
    ws.push({ layer, part: E, kind: 'conv', acnr: false });
  };
  const S = cfg.embedDims.length;
  for (let s = 0; s < S; s++) {
    for (let b = 0; b < cfg.depths[s]!; b++) {
      const pre = `layers.${s}.blocks.${b}`;
      if (s === 0) {
        conv(`${pre}.conv1.c`, 'MBConv 1×1 expand input');
        conv(`${pre}.conv2.c`, 'MBConv 3×3 depthwise input (post-GELU)');
        conv(`${pre}.conv3.c`, 'MBConv 1×1 project input (post-GELU)');
        continue;
      }
      const a = `${pre}.attn`;
      acts.push(projIn(p, `${a}.qkv`, E, 'qkv input (post-LayerNorm)'));
      ws.push({ layer: `${a}.qkv`, part: E, kind: 'linear', acnr: true });
      acts.push({ site: `${a}.probs`, part: E, quantizer: softmaxQuantizer(p), role: 'attention probabilities' });
      acts.push(lsqIn(`${a}.proj`, E, 'proj input (attn·V)', true));
      ws.push({ layer: `${a}.proj`, part: E, kind: 'linear', acnr: true });
      conv(`${pre}.local_conv.c`, 'local 3×3 depthwise conv input');
      acts.push(projIn(p, `${pre}.mlp.fc1`, E, 'MLP fc1 input (post-LayerNorm)'));
      ws.push({ layer: `${pre}.mlp.fc1`, part: E, kind: 'linear', acnr: true });
      acts.push(mlp2In(p, `${pre}.mlp.fc2`, E, 'MLP fc2 input (post-GELU)'));
      ws.push({ layer: `${pre}.mlp.fc2`, part: E, kind: 'linear', acnr: true });
    }
    if (s < S - 1) {
      const d = `layers.${s}.downsample`;
      conv(`${d}.conv1.c`, 'PatchMerging 1×1 input');
      conv(`${d}.conv2.c`, 'PatchMerging 3×3 depthwise input (post-GELU)');
      conv(`${d}.conv3.c`, 'PatchMerging 1×1 output conv input (post-GELU)');
    }
  }
  conv('neck.0', 'neck 1×1 conv input');
  conv('neck.2', 'neck 3×3 conv input');
  return { activations: acts, weights: ws };
}

/**
 * Sites and weights of SAM's ViT encoder (METHOD.md §5.1 table as written).
 * @paper AHCQ-SAM:v4 §5.1
 * @source AHCQ-SAM sam/ahcqsam/model/quant_model.py (QuantEncoderBlock); SAM-code@dca509f segment_anything/modeling/image_encoder.py
 * @equation qkv.in CAG; q, k, v LSQ; probs LNQ|AGQ|LSQ; proj.in LSQ; lin1.in CAG; lin2.in HLUQ; neck conv inputs LSQ; patch embed FP
 * @deviation none
 * @precision exact (data only)
 */
export function vitPlanSites(cfg: ImageEncoderViTConfig, p: MethodPreset): { activations: ActSite[]; weights: WeightSite[] } {
  const acts: ActSite[] = [];
  const ws: WeightSite[] = [];
  const E = 'encoder' as const;
  for (let i = 0; i < cfg.depth; i++) {
    const b = `blocks.${i}`;
    acts.push(projIn(p, `${b}.attn.qkv`, E, 'qkv input (post-LayerNorm)'));
    ws.push({ layer: `${b}.attn.qkv`, part: E, kind: 'linear', acnr: true });
    for (const t of ['q', 'k', 'v']) acts.push({ site: `${b}.attn.${t}`, part: E, quantizer: 'lsq', role: `${t} after the head split` });
    acts.push({ site: `${b}.attn.probs`, part: E, quantizer: softmaxQuantizer(p), role: 'attention probabilities' });
    acts.push(lsqIn(`${b}.attn.proj`, E, 'proj input (attn·V)', true));
    ws.push({ layer: `${b}.attn.proj`, part: E, kind: 'linear', acnr: true });
    acts.push(projIn(p, `${b}.mlp.lin1`, E, 'MLP lin1 input (post-LayerNorm)'));
    ws.push({ layer: `${b}.mlp.lin1`, part: E, kind: 'linear', acnr: true });
    acts.push(mlp2In(p, `${b}.mlp.lin2`, E, 'MLP lin2 input (post-GELU)'));
    ws.push({ layer: `${b}.mlp.lin2`, part: E, kind: 'linear', acnr: true });
  }
  for (const n of ['neck.0', 'neck.2']) {
    acts.push(lsqIn(n, E, `${n} conv input`, false));
    ws.push({ layer: n, part: E, kind: 'conv', acnr: false });
  }
  return { activations: acts, weights: ws };
}

/**
 * Sites and weights of the SAM mask decoder's TwoWayTransformer (METHOD.md §5.1 decoder rows).
 * @paper AHCQ-SAM:v4 §5.1; PTQ4SAM BIG (METHOD.md §4.1)
 * @source AHCQ-SAM sam/ahcqsam/model/quant_model.py (QuantDecoderAttention, QuantTwoWayBlock)
 * @equation q/k/v_proj inputs CAG; q_proj, v_proj outputs LSQ; k_proj output LSQ (AvgMSEFast range when BIG is on);
 *   probs LNQ|AGQ|LSQ; out_proj input LSQ; mlp.lin1 input CAG; mlp.lin2 input HLUQ (post-ReLU);
 *   heads, upscaling, tokens and the prompt encoder FP
 * @deviation none
 * @precision exact (data only)
 */
export function decoderPlanSites(t: Pick<TwoWayTransformerConfig, 'depth'>, p: MethodPreset): { activations: ActSite[]; weights: WeightSite[] } {
  const acts: ActSite[] = [];
  const ws: WeightSite[] = [];
  const D = 'decoder' as const;
  const attention = (a: string): void => {
    for (const pr of ['q_proj', 'k_proj', 'v_proj']) {
      acts.push(projIn(p, `${a}.${pr}`, D, `${pr} input`));
      ws.push({ layer: `${a}.${pr}`, part: D, kind: 'linear', acnr: true });
    }
    acts.push({ site: `${a}.q_proj.out`, part: D, quantizer: 'lsq', role: 'q (q_proj output)' });
    acts.push({ site: `${a}.k_proj.key`, part: D, quantizer: p.big ? 'lsq-mse' : 'lsq', role: p.big ? 'k (k_proj output; BIG sign-folded, AvgMSEFast range)' : 'k (k_proj output)' });
    acts.push({ site: `${a}.v_proj.out`, part: D, quantizer: 'lsq', role: 'v (v_proj output)' });
    acts.push({ site: `${a}.probs`, part: D, quantizer: softmaxQuantizer(p), role: 'attention probabilities' });
    acts.push(lsqIn(`${a}.out_proj`, D, 'out_proj input (attn·V)', true));
    ws.push({ layer: `${a}.out_proj`, part: D, kind: 'linear', acnr: true });
  };
  for (let i = 0; i < t.depth; i++) {
    const l = `${DEC}.layers.${i}`;
    attention(`${l}.self_attn`);
    attention(`${l}.cross_attn_token_to_image`);
    acts.push(projIn(p, `${l}.mlp.lin1`, D, 'MLP lin1 input'));
    ws.push({ layer: `${l}.mlp.lin1`, part: D, kind: 'linear', acnr: true });
    acts.push(mlp2In(p, `${l}.mlp.lin2`, D, 'MLP lin2 input (post-ReLU)'));
    ws.push({ layer: `${l}.mlp.lin2`, part: D, kind: 'linear', acnr: true });
    attention(`${l}.cross_attn_image_to_token`);
  }
  attention(`${DEC}.final_attn_token_to_image`);
  return { activations: acts, weights: ws };
}

/** The decoder attentions whose keys BIG examines (names contain `token_to_image`). */
export function bigAttentions(depth: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < depth; i++) out.push(`${DEC}.layers.${i}.cross_attn_token_to_image`);
  out.push(`${DEC}.final_attn_token_to_image`);
  return out;
}

/**
 * The whole plan for an encoder (and optionally the decoder) under a preset.
 * @paper AHCQ-SAM:v4 §5.1
 * @source AHCQ-SAM sam/ahcqsam/solver/test_quant.py (module surgery)
 * @equation plan = encoderSites ∪ decoderSites
 * @deviation see tinyViTPlanSites for the TinyViT mapping
 * @precision exact (data only)
 */
export function buildPlan(arch: EncoderArch, decoder: Pick<TwoWayTransformerConfig, 'depth'> | null, preset: MethodPreset): QuantPlan {
  specRequire(arch.kind === 'tiny-vit' || arch.kind === 'vit', { fn: 'buildPlan', what: 'arch.kind', rule: 'be tiny-vit or vit', got: (arch as { kind: unknown }).kind });
  const enc = arch.kind === 'tiny-vit' ? tinyViTPlanSites(arch.cfg, preset) : vitPlanSites(arch.cfg, preset);
  const dec = decoder ? decoderPlanSites(decoder, preset) : { activations: [], weights: [] };
  return {
    encoder: arch.kind,
    decoderDepth: decoder ? decoder.depth : null,
    preset,
    activations: [...enc.activations, ...dec.activations],
    weights: [...enc.weights, ...dec.weights],
  };
}
