/**
 * Diagnostics of a quantized model's decoder: with the FP32 image embedding and FP32 weights, quantize
 * only the decoder activation sites of one quantizer kind at a time and measure how far the low-res mask
 * logits move — which kind of quantizer does the damage.
 */
import { specRequire } from '../tensor';
import type { Backend } from '../ops/backend';
import { accumulateSqnr, maskIoU, sqnrDb, type SqnrAccumulator } from './metrics';
import { fakeQuantModel, quantTap, type QuantizedModel } from './pipeline';
import { runDecoderLowRes, runEncoder, type QuantTarget } from './model';
import type { EvalImage } from './evaluate';

// TYPES

/** One row: which part is quantized and the fidelity of the low-res logits / masks. */
export interface DecoderAblationRow {
  /** `weights` (decoder weights only), `acts:<kind>` (only the decoder sites of that quantizer), `acts:all`, `all`. */
  readonly variant: string;
  /** Number of decoder activation sites quantized in this variant. */
  readonly sites: number;
  /** SQNR of the 256×256 mask logits vs FP32 (dB), pooled over the prompts. */
  readonly logitsSqnrDb: number;
  /** Mean IoU of the low-res masks (logits > 0) vs FP32. */
  readonly maskIoU: number;
}

// MAIN

/**
 * Decoder ablation by quantizer kind on one image (FP32 embedding, so the encoder plays no part).
 * @paper AHCQ-SAM:v4 §5.1 (which decoder tensor gets which quantizer)
 * @source this project (results diagnostics)
 * @equation per variant V: SQNR(Σ_p logits_fp, logits_V), mean_p IoU(logits_V > 0, logits_fp > 0)
 * @deviation none
 * @precision fp64-accumulate metrics
 */
export function decoderAblation(target: QuantTarget, qm: QuantizedModel, img: EvalImage, backend?: Backend): DecoderAblationRow[] {
  const fn = 'decoderAblation';
  specRequire(target.decoderWeights !== null, { fn, what: 'target.decoderWeights', rule: 'be present', got: null });
  specRequire(img.prompts.length > 0, { fn, what: 'img.prompts', rule: 'hold at least one prompt', got: 0 });
  const fq = fakeQuantModel(target, qm);
  const emb = runEncoder(target, target.encoderWeights, img.input, undefined, undefined, backend);
  const fp = img.prompts.map((p) => runDecoderLowRes(target, target.decoderWeights!, emb, p, img.geom, undefined, backend).masks);
  const dec = qm.plan.activations.filter((a) => a.part === 'decoder').map((a) => a.site);
  const kinds = [...new Set(dec.map((s) => qm.acts[s]!.kind))].sort();
  const variants: { variant: string; sites: string[]; weights: boolean }[] = [
    { variant: 'weights', sites: [], weights: true },
    ...kinds.map((k) => ({ variant: `acts:${k}`, sites: dec.filter((s) => qm.acts[s]!.kind === k), weights: false })),
    { variant: 'acts:all', sites: dec, weights: false },
    { variant: 'all', sites: dec, weights: true },
  ];
  return variants.map((v) => {
    const tap = quantTap(Object.fromEntries(v.sites.map((s) => [s, qm.acts[s]!])), qm.plan.preset.referenceCompat);
    let acc: SqnrAccumulator = { signal: 0, noise: 0 };
    let iou = 0;
    img.prompts.forEach((p, j) => {
      const q = runDecoderLowRes(target, v.weights ? fq.dec! : target.decoderWeights!, emb, p, img.geom, tap, backend).masks;
      acc = accumulateSqnr(acc, fp[j]!, q);
      iou += maskIoU(q, fp[j]!);
    });
    return { variant: v.variant, sites: v.sites.length, logitsSqnrDb: sqnrDb(acc), maskIoU: iou / img.prompts.length };
  });
}
