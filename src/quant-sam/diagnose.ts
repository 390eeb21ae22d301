/**
 * Diagnostics of a quantized model's decoder: with the FP32 image embedding and FP32 weights, quantize
 * only the decoder activation sites of one quantizer kind at a time and measure how far the low-res mask
 * logits move — which kind of quantizer does the damage. And a comparison of CAG group rules on the
 * decoder's CAG sites (which rule the calibration-only pipeline should use).
 */
import { specRequire, type Tensor } from '../tensor';
import type { Backend } from '../ops/backend';
import { methodPreset } from '../quant/presets';
import { fakeQuantCag, type CagParams } from '../quant/cag';
import { finalizeAvgMinMaxGroup, initAvgMinMaxGroup, observeAvgMinMaxGroup, type AvgMinMaxGroupState } from '../calib/avg-min-max-group';
import { cagCoverGroups, cagGroupChannels } from '../calib/cag';
import { accumulateSqnr, maskIoU, sqnrDb, type SqnrAccumulator } from './metrics';
import { fakeQuantModel, quantTap, type CalibSample, type QuantizedModel } from './pipeline';
import { collectSite, flushSite, initSiteObserver, type PendingBatch, type SiteObserver } from './act-quant';
import { buildPlan } from './plan';
import { runDecoderLowRes, runEncoder, type QuantTarget, type SiteTap } from './model';
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

/** One CAG group rule measured on the decoder's CAG sites. */
export interface CagRuleRow {
  /** `image`: one observer update per calibration image (the pipeline's batch); `prompt`: one per decoder call. */
  readonly batching: 'image' | 'prompt';
  /** `centroid` (published: k-means centroid), `cover` (pipeline default), `per-channel` (no grouping), `per-tensor` (one group). */
  readonly rule: 'centroid' | 'cover' | 'per-channel' | 'per-tensor';
  readonly logitsSqnrDb: number;
  readonly maskIoU: number;
}

/**
 * Compare CAG group rules on the decoder's CAG sites only: with the FP32 image embedding and FP32 weights,
 * the per-channel ranges of those sites are calibrated on `calib` (AvgMinMaxGroup, batches per image and,
 * for comparison, per decoder call), turned into group parameters by each rule (G groups by k-means on
 * [s_c, z_c] for `centroid` and `cover`), and only those sites are fake-quantized on `img`.
 * @paper AHCQ-SAM:v4 §3.3 (CAG)
 * @source this project (results diagnostics; docs/deviations.md "CAG group range")
 * @equation per rule R: SQNR(Σ_p logits_fp, logits_R), mean_p IoU(logits_R > 0, logits_fp > 0)
 * @deviation none (a measurement)
 * @precision fp64-accumulate metrics
 */
export function cagRuleComparison(target: QuantTarget, calib: readonly CalibSample[], img: EvalImage, opts: { bits: number; seed: number; backend?: Backend }): CagRuleRow[] {
  const fn = 'cagRuleComparison';
  specRequire(target.decoderWeights !== null, { fn, what: 'target.decoderWeights', rule: 'be present', got: null });
  specRequire(calib.length >= 1, { fn, what: 'calib', rule: 'hold at least one calibration image', got: 0 });
  specRequire(img.prompts.length > 0, { fn, what: 'img.prompts', rule: 'hold at least one prompt', got: 0 });
  const dec = target.decoderWeights!;
  const preset = methodPreset('AHCPTQ', opts.bits, { reconstruction: false });
  const G = preset.cag!.groups;
  const plan = buildPlan(target.arch, target.decoderCfg.maskDecoder.transformer, preset);
  const sites = plan.activations.filter((a) => a.part === 'decoder' && a.quantizer === 'cag').map((a) => a.site);
  specRequire(sites.length > 0, { fn, what: 'decoder CAG sites', rule: 'exist in the AHCPTQ plan', got: 0 });
  const oo = { bits: opts.bits, referenceCompat: false, budget: { hluqRows: 1, attnElements: 1, mseElements: 1, searchBatches: 1 } };
  const perImage = new Map<string, SiteObserver>(sites.map((s) => [s, initSiteObserver('cag', opts.bits)]));
  const perCall = new Map<string, AvgMinMaxGroupState>(sites.map((s) => [s, initAvgMinMaxGroup()]));
  for (const s of calib) {
    const pending = new Map<string, PendingBatch>();
    const tap: SiteTap = (site, t) => {
      if (!perCall.has(site)) return t;
      perCall.set(site, observeAvgMinMaxGroup(perCall.get(site)!, t));
      const p = collectSite(perImage.get(site)!, pending.get(site), t, {}, oo);
      if (p) pending.set(site, p);
      return t;
    };
    const emb = runEncoder(target, target.encoderWeights, s.input, undefined, undefined, opts.backend);
    for (const p of s.prompts) runDecoderLowRes(target, dec, emb, p, s.geom, tap, opts.backend);
    for (const [site, p] of pending) perImage.set(site, flushSite(perImage.get(site)!, p, oo));
  }
  const rules: CagRuleRow['rule'][] = ['centroid', 'cover', 'per-channel', 'per-tensor'];
  const paramsOf = (st: AvgMinMaxGroupState, rule: CagRuleRow['rule']): CagParams => {
    const C = st.channels;
    if (rule === 'per-tensor') return cagCoverGroups(st.min, st.max, new Int32Array(C), 1, opts.bits);
    const pc = finalizeAvgMinMaxGroup(st, { bits: opts.bits });
    if (rule === 'per-channel') return { bits: opts.bits, groupScales: pc.scales, groupZeroPoints: pc.zeroPoints, labels: Int32Array.from({ length: C }, (_, c) => c) };
    const g = cagGroupChannels(pc.scales, pc.zeroPoints, { bits: opts.bits, stages: [Math.min(G, C)], seed: opts.seed, nInit: preset.cag!.kmeansNInit })[0]!.params;
    return rule === 'centroid' ? g : cagCoverGroups(st.min, st.max, g.labels, Math.min(G, C), opts.bits);
  };
  const emb = runEncoder(target, target.encoderWeights, img.input, undefined, undefined, opts.backend);
  const fp = img.prompts.map((p) => runDecoderLowRes(target, dec, emb, p, img.geom, undefined, opts.backend).masks);
  const rows: CagRuleRow[] = [];
  for (const batching of ['image', 'prompt'] as const) {
    for (const rule of rules) {
      const params = new Map<string, CagParams>(sites.map((site) => {
        const st = batching === 'image' ? (perImage.get(site) as Extract<SiteObserver, { kind: 'cag' }>).st : perCall.get(site)!;
        return [site, paramsOf(st, rule)];
      }));
      const tap: SiteTap = (site, t): Tensor => { const q = params.get(site); return q ? fakeQuantCag(t, q) : t; };
      let acc: SqnrAccumulator = { signal: 0, noise: 0 };
      let iou = 0;
      img.prompts.forEach((p, j) => {
        const q = runDecoderLowRes(target, dec, emb, p, img.geom, tap, opts.backend).masks;
        acc = accumulateSqnr(acc, fp[j]!, q);
        iou += maskIoU(q, fp[j]!);
      });
      rows.push({ batching, rule, logitsSqnrDb: sqnrDb(acc), maskIoU: iou / img.prompts.length });
    }
  }
  return rows;
}
