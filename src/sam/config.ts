/**
 * Typed configuration records and named constants of the official SAM (segment-anything @dca509f).
 * Variants are data, not subclasses (STYLE.md §3.5).
 */

// CONSTANTS

/** LayerNorm ε of the ViT image-encoder blocks: 1e-6, set only via `partial(torch.nn.LayerNorm, eps=1e-6)`. [SAM-code@dca509f build_sam.py#_build_sam] */
export const SAM_ENCODER_LN_EPS = 1e-6;

/** ε of SAM's channel-first LayerNorm2d (image-encoder neck, mask-decoder upscaling, mask downscaling): its default 1e-6. [SAM-code@dca509f modeling/common.py#LayerNorm2d] */
export const SAM_LAYERNORM2D_EPS = 1e-6;

/** LayerNorm ε of the TwoWayTransformer: bare `nn.LayerNorm(dim)`, so PyTorch's default 1e-5. [SAM-code@dca509f modeling/transformer.py] */
export const SAM_DECODER_LN_EPS = 1e-5;

/** Per-channel RGB pixel mean on the 0..255 scale. [SAM-code@dca509f modeling/sam.py#Sam (pixel_mean default)] */
export const SAM_PIXEL_MEAN: readonly [number, number, number] = [123.675, 116.28, 103.53];

/** Per-channel RGB pixel std on the 0..255 scale. [SAM-code@dca509f modeling/sam.py#Sam (pixel_std default)] */
export const SAM_PIXEL_STD: readonly [number, number, number] = [58.395, 57.12, 57.375];

/** Input side length of the image encoder (pixels). [SAM-code@dca509f build_sam.py#_build_sam image_size] */
export const SAM_IMAGE_SIZE = 1024;

/** Patch size of the ViT encoders (pixels); the embedding grid is 64×64 at 1024². [SAM-code@dca509f build_sam.py] */
export const SAM_VIT_PATCH_SIZE = 16;

/** Prompt/embedding width shared by the neck, prompt encoder and mask decoder. [SAM-code@dca509f build_sam.py prompt_embed_dim] */
export const SAM_PROMPT_EMBED_DIM = 256;

// TYPES

/** Constructor arguments of `ImageEncoderViT` (camelCase of the official keyword arguments). */
export interface ImageEncoderViTConfig {
  readonly imgSize: number;
  readonly patchSize: number;
  readonly inChans: number;
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly outChans: number;
  readonly qkvBias: boolean;
  readonly useAbsPos: boolean;
  readonly useRelPos: boolean;
  /** Window size of the non-global blocks (0 = every block global). */
  readonly windowSize: number;
  /** Indexes of the blocks with global attention. */
  readonly globalAttnIndexes: readonly number[];
  /** ε of the blocks' LayerNorms. */
  readonly lnEps: number;
  /** ε of the neck's LayerNorm2d. */
  readonly layerNorm2dEps: number;
}

// MAIN

/** Shared settings of the three official encoders (build_sam.py#_build_sam). */
const OFFICIAL_COMMON = {
  imgSize: SAM_IMAGE_SIZE,
  patchSize: SAM_VIT_PATCH_SIZE,
  inChans: 3,
  mlpRatio: 4,
  outChans: SAM_PROMPT_EMBED_DIM,
  qkvBias: true,
  useAbsPos: true,
  useRelPos: true,
  windowSize: 14,
  lnEps: SAM_ENCODER_LN_EPS,
  layerNorm2dEps: SAM_LAYERNORM2D_EPS,
} as const;

/** ViT-B encoder: 768 wide, 12 blocks, 12 heads, global blocks 2, 5, 8, 11. [SAM-code@dca509f build_sam.py#build_sam_vit_b] */
export const VIT_B: ImageEncoderViTConfig = { ...OFFICIAL_COMMON, embedDim: 768, depth: 12, numHeads: 12, globalAttnIndexes: [2, 5, 8, 11] };

/** ViT-L encoder: 1024 wide, 24 blocks, 16 heads, global blocks 5, 11, 17, 23. [SAM-code@dca509f build_sam.py#build_sam_vit_l] */
export const VIT_L: ImageEncoderViTConfig = { ...OFFICIAL_COMMON, embedDim: 1024, depth: 24, numHeads: 16, globalAttnIndexes: [5, 11, 17, 23] };

/** ViT-H encoder: 1280 wide, 32 blocks, 16 heads, global blocks 7, 15, 23, 31. [SAM-code@dca509f build_sam.py#build_sam_vit_h] */
export const VIT_H: ImageEncoderViTConfig = { ...OFFICIAL_COMMON, embedDim: 1280, depth: 32, numHeads: 16, globalAttnIndexes: [7, 15, 23, 31] };

/** The official encoder configurations by registry name (plain data; no factory). */
export const IMAGE_ENCODER_VIT_CONFIGS: Readonly<Record<'vit_b' | 'vit_l' | 'vit_h', ImageEncoderViTConfig>> = {
  vit_b: VIT_B,
  vit_l: VIT_L,
  vit_h: VIT_H,
};
