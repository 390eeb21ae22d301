/**
 * Fidelity evaluation of quantized models against the FP32 model on evaluation photos
 * (METHOD.md Project decision 4): per photo and prompt, masks of the quantized model vs the FP32 masks
 * at the original resolution, IoU-prediction error, image-embedding SQNR and cosine, and a per-layer
 * SQNR table (encoder stage/block outputs, decoder block outputs) showing where the damage enters.
 * The FP32 pass runs once per photo and is shared by every model evaluated.
 */
import { clone, type Tensor } from '../tensor';
import type { Backend } from '../ops/backend';
import { accumulateSqnr, cosineSimilarity, maskIoU, sqnrDb, type SqnrAccumulator } from './metrics';
import { fakeQuantModel, type QuantizedModel } from './pipeline';
import { decoderHooksFromTap, promptTensors, runEncoder, type ImageGeometry, type PixelPrompt, type QuantTarget, type SiteTap } from './model';
import { predict } from '../sam/predictor';
import type { StateDict } from '../sam/sam-decoder-types';

// TYPES

/** One evaluation photo with its prompts. */
export interface EvalImage {
  readonly name: string;
  readonly input: Tensor;
  readonly geom: ImageGeometry;
  readonly prompts: readonly PixelPrompt[];
}

/** Fidelity of one model (the `--json` output of `ahcq eval`). */
export interface FidelityReport {
  readonly method: string;
  readonly bits: number;
  readonly maskIoU: { readonly box: number | null; readonly point: number | null; readonly all: number | null };
  readonly iouMAE: number | null;
  readonly embeddingSQNRdB: number;
  readonly embeddingCosine: number;
  readonly layers: readonly { readonly name: string; readonly sqnrDb: number }[];
  readonly images: readonly { readonly name: string; readonly embeddingSQNRdB: number; readonly maskIoU: number | null; readonly prompts: number }[];
  /** Wall time of the quantized forwards (s). */
  readonly seconds: number;
}

/** Options of the evaluation. */
export interface EvalOptions {
  readonly backend?: Backend;
  readonly onProgress?: (done: number, total: number, label: string) => void;
  /** Keep the masks of these photos (for figures). */
  readonly keepMasks?: (image: string) => boolean;
}

/** Masks kept for figures: per photo, per prompt, FP32 and per-model binary masks (H·W). */
export type KeptMasks = Map<string, { fp: Uint8Array[]; models: Uint8Array[][]; size: readonly [number, number] }>;

// HELPERS

const LAYER_RE = /^(patch_embed|layers\.\d+\.(blocks\.\d+|downsample)|blocks\.\d+|neck|neck\.3)$/;
const DEC_LAYER_RE = /(transformer\.layers\.\d+(:keys)?|norm_final_attn)$/;

/** A prompt is a box prompt when it has a box (box + point prompts count as box prompts). */
export function promptKind(p: PixelPrompt): 'box' | 'point' {
  return p.box ? 'box' : 'point';
}

function binary(t: Tensor): Uint8Array {
  return Uint8Array.from(t.data as Float32Array, (v) => (v > 0 ? 1 : 0));
}

function decode(target: QuantTarget, dec: StateDict, emb: Tensor, p: PixelPrompt, geom: ImageGeometry, tap: SiteTap | undefined, observe: ((n: string, t: Tensor) => void) | undefined, backend?: Backend): { masks: Tensor; iou: number } {
  const hooks = tap ? decoderHooksFromTap(tap, observe) : { observe };
  const r = predict(dec, emb, promptTensors(p), { multimask: false, origSize: geom.origSize, inputSize: geom.inputSize, cfg: target.decoderCfg, hooks, backend });
  return { masks: r.masks, iou: r.iouPredictions.data[0]! };
}

// MAIN

/**
 * Evaluate quantized models against the FP32 model on `images` (single-mask output per prompt).
 * @paper AHCQ-SAM:v4 fidelity protocol (METHOD.md Project decision 4)
 * @equation mIoU_kind = mean over prompts of IoU(M_q > 0, M_fp > 0); MAE = mean |iou_q − iou_fp|;
 *   SQNR = 10·log10(Σ e_fp² / Σ (e_fp − e_q)²) pooled over photos; cos = mean over photos
 * @deviation single-mask output (multimask_output = False) for every prompt, including single points
 * @precision fp64-accumulate metrics
 */
export function evaluateModels(target: QuantTarget, models: readonly QuantizedModel[], images: readonly EvalImage[], opts: EvalOptions = {}): { reports: FidelityReport[]; masks: KeptMasks } {
  const fqs = models.map((qm) => fakeQuantModel(target, qm));
  const kept: KeptMasks = new Map();
  const st = models.map(() => ({
    ious: { box: [] as number[], point: [] as number[] },
    mae: [] as number[],
    emb: { signal: 0, noise: 0 } as SqnrAccumulator,
    cos: [] as number[],
    layers: new Map<string, SqnrAccumulator>(),
    images: [] as FidelityReport['images'][number][],
    seconds: 0,
  }));
  const total = images.length * (1 + models.length);
  let done = 0;
  for (const img of images) {
    // FP32 pass: embedding, named intermediates, masks
    const fpLayers = new Map<string, Tensor>();
    const keepLayer = (n: string, t: Tensor): void => {
      if (LAYER_RE.test(n)) fpLayers.set(n, clone(t)); // copied: without a tap the pass may run resident, and an observed tensor is valid only during the call
    };
    const embFp = runEncoder(target, target.encoderWeights, img.input, undefined, keepLayer, opts.backend);
    const fpOut = target.decoderWeights
      ? img.prompts.map((p, j) => {
          const obs = (n: string, t: Tensor): void => {
            if (DEC_LAYER_RE.test(n)) fpLayers.set(`${n}#${j}`, t);
          };
          return decode(target, target.decoderWeights!, embFp, p, img.geom, undefined, obs, opts.backend);
        })
      : [];
    const keep = opts.keepMasks?.(img.name) ?? false;
    if (keep) kept.set(img.name, { fp: fpOut.map((o) => binary(o.masks)), models: [], size: img.geom.origSize });
    opts.onProgress?.(++done, total, `${img.name} fp32`);
    fqs.forEach((fq, m) => {
      const s = st[m]!;
      const t0 = performance.now();
      const obs = (n: string, t: Tensor): void => {
        const ref = fpLayers.get(n);
        if (ref) s.layers.set(n.replace(/#\d+$/, ''), accumulateSqnr(s.layers.get(n.replace(/#\d+$/, '')) ?? { signal: 0, noise: 0 }, ref, t));
      };
      const embQ = runEncoder(target, fq.enc, img.input, fq.tap, obs, opts.backend);
      const one = accumulateSqnr({ signal: 0, noise: 0 }, embFp, embQ);
      s.emb = { signal: s.emb.signal + one.signal, noise: s.emb.noise + one.noise };
      s.cos.push(cosineSimilarity(embFp, embQ));
      const imgIous: number[] = [];
      const qMasks: Uint8Array[] = [];
      if (fq.dec) {
        img.prompts.forEach((p, j) => {
          const o = decode(target, fq.dec!, embQ, p, img.geom, fq.tap, (n, t) => obs(`${n}#${j}`, t), opts.backend);
          const fp = fpOut[j]!;
          const iou = maskIoU(o.masks, fp.masks);
          s.ious[promptKind(p)].push(iou);
          imgIous.push(iou);
          s.mae.push(Math.abs(o.iou - fp.iou));
          if (keep) qMasks.push(binary(o.masks));
        });
      }
      if (keep) kept.get(img.name)!.models.push(qMasks);
      s.seconds += (performance.now() - t0) / 1000;
      s.images.push({ name: img.name, embeddingSQNRdB: sqnrDb(one), maskIoU: imgIous.length ? imgIous.reduce((a, b) => a + b, 0) / imgIous.length : null, prompts: imgIous.length });
      opts.onProgress?.(++done, total, `${img.name} ${models[m]!.plan.preset.method} W${models[m]!.plan.preset.bits}`);
    });
  }
  const mean = (a: number[]): number | null => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
  const reports = models.map((qm, m): FidelityReport => {
    const s = st[m]!;
    return {
      method: qm.plan.preset.method,
      bits: qm.plan.preset.bits,
      maskIoU: { box: mean(s.ious.box), point: mean(s.ious.point), all: mean([...s.ious.box, ...s.ious.point]) },
      iouMAE: mean(s.mae),
      embeddingSQNRdB: sqnrDb(s.emb),
      embeddingCosine: mean(s.cos) ?? 1,
      layers: [...s.layers].map(([name, acc]) => ({ name, sqnrDb: sqnrDb(acc) })),
      images: s.images,
      seconds: s.seconds,
    };
  });
  return { reports, masks: kept };
}
