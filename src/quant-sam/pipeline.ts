/**
 * The calibration-only PTQ pipeline (METHOD.md §5.3 order, Project decisions 1–3):
 *   BIG → activation calibration #1 → ACNR → observer reset → activation calibration #2 →
 *   weight calibration → a `QuantizedModel` (the plan, every quantizer's parameters, integer weights).
 * No block reconstruction: CAG groups come from k-means straight to G groups and weights are rounded to
 * nearest with MSE (or, for RTN, min-max) ranges. Deterministic for a seed.
 *
 * Also here: turning a QuantizedModel back into a fake-quant forward (weight records + a site tap).
 */
import { specRequire, type Tensor } from '../tensor';
import { applyBig } from '../calib/big';
import { acnrOneSvd } from '../calib/acnr';
import type { MethodPreset } from '../quant/presets';
import type { Backend } from '../ops/backend';
import type { StateDict } from '../sam/sam-decoder-types';
import { bigAttentions, buildPlan, type ActSite, type QuantPlan } from './plan';
import { applyActQuant, collectSite, DEFAULT_BUDGET, finalizeSite, flushSite, initSiteObserver, subsampleRows, type ActParams, type PendingBatch, type SiteObserver, type SubsampleBudget } from './act-quant';
import { dequantizeWeight, quantizeWeight, weightRanges, type QuantizedWeight } from './weight-range';
import { runDecoderLowRes, runEncoder, type ImageGeometry, type PixelPrompt, type QuantTarget, type SiteTap } from './model';

// TYPES

/** One calibration image: the preprocessed encoder input and the prompts its decoder passes use. */
export interface CalibSample {
  readonly name: string;
  /** [1, 3, S, S] preprocessed (normalised, padded) input. */
  readonly input: Tensor;
  readonly geom: ImageGeometry;
  readonly prompts: readonly PixelPrompt[];
}

/** Per-layer ACNR outcome (for reports). */
export interface AcnrLog {
  readonly kappaBefore: number;
  readonly kappaAfter: number;
  readonly skipped: boolean;
  readonly rows: number;
}

/** The result of the pipeline: everything needed to rebuild the fake-quant model from the FP one. */
export interface QuantizedModel {
  readonly model: string;
  readonly plan: QuantPlan;
  readonly seed: number;
  /** Activation quantizer parameters by site. */
  readonly acts: Readonly<Record<string, ActParams>>;
  /** Integer weights by layer, with the float32 bias the layer uses (BIG-folded where applicable). */
  readonly weights: Readonly<Record<string, { readonly q: QuantizedWeight; readonly bias: Tensor | null }>>;
  /** BIG signs by attention (null: not bimodal). */
  readonly big: Readonly<Record<string, readonly number[] | null>>;
  readonly acnr: Readonly<Record<string, AcnrLog>>;
  readonly calibImages: readonly string[];
}

/** Pipeline options. */
export interface PipelineOptions {
  readonly seed: number;
  readonly backend?: Backend;
  readonly budget?: SubsampleBudget;
  /** Rows of X per (sample, call) kept for ACNR's ΔX (default 256). */
  readonly acnrRowsPerCall?: number;
  /** Progress: (stage, done, total). */
  readonly onProgress?: (stage: string, done: number, total: number) => void;
  /** Stage checkpoints for resuming (see src/quant-sam/resume.ts). */
  readonly checkpoint?: StageCheckpoint;
}

/** Saved intermediate results of the pipeline stages, for resuming an interrupted run. */
export interface StageCheckpoint {
  readonly load: (stage: string) => StageState | undefined;
  readonly save: (stage: string, state: StageState) => void;
}

/** What a stage leaves behind: weight overrides so far, activation parameters, logs. */
export interface StageState {
  readonly weights: Readonly<Record<string, Tensor>>;
  readonly acts: Readonly<Record<string, ActParams>>;
  readonly big: Readonly<Record<string, readonly number[] | null>>;
  readonly acnr: Readonly<Record<string, AcnrLog>>;
}

// HELPERS

const EMPTY: StageState = { weights: {}, acts: {}, big: {}, acnr: {} };

/** Encoder and decoder weight records with overrides (keys are disjoint: decoder keys start with `mask_decoder.`/`prompt_encoder.`). */
function withOverrides(target: QuantTarget, over: Readonly<Record<string, Tensor>>): { enc: Record<string, Tensor>; dec: Record<string, Tensor> | null } {
  const enc: Record<string, Tensor> = { ...target.encoderWeights };
  const dec: Record<string, Tensor> | null = target.decoderWeights ? { ...target.decoderWeights } : null;
  for (const [k, t] of Object.entries(over)) {
    if (dec && k in dec) dec[k] = t;
    else enc[k] = t;
  }
  return { enc, dec };
}

/** Run every sample through encoder and decoder with `tap`. */
function forEachForward(target: QuantTarget, w: { enc: Record<string, Tensor>; dec: Record<string, Tensor> | null }, samples: readonly CalibSample[], tap: SiteTap, stage: string, opts: PipelineOptions, afterSample?: () => void): void {
  samples.forEach((s, i) => {
    const emb = runEncoder(target, w.enc, s.input, tap, undefined, opts.backend);
    if (w.dec) for (const p of s.prompts) runDecoderLowRes(target, w.dec, emb, p, s.geom, tap, opts.backend);
    afterSample?.();
    opts.onProgress?.(stage, i + 1, samples.length);
  });
}

/** One activation-calibration pass: observers fed from FP forwards. */
function calibrateActs(
  target: QuantTarget,
  plan: QuantPlan,
  w: { enc: Record<string, Tensor>; dec: Record<string, Tensor> | null },
  samples: readonly CalibSample[],
  start: Map<string, SiteObserver> | null,
  stage: string,
  opts: PipelineOptions,
  capture?: (site: string, t: Tensor) => void,
): Map<string, SiteObserver> {
  const bits = plan.preset.bits;
  const sites = new Map<string, ActSite>(plan.activations.map((a) => [a.site, a]));
  const obs = new Map<string, SiteObserver>(start ?? []);
  const oo = { bits, referenceCompat: plan.preset.referenceCompat, budget: opts.budget ?? DEFAULT_BUDGET };
  // one observer update per calibration image (its encoder forward and all its decoder prompts)
  const pending = new Map<string, PendingBatch>();
  const tap: SiteTap = (site, t, v) => {
    capture?.(site, t);
    const a = sites.get(site);
    if (!a) return t;
    const cur = obs.get(site) ?? initSiteObserver(a.quantizer, bits);
    obs.set(site, cur);
    const next = a.nextLinear ? { weight: (w.dec?.[`${a.nextLinear}.weight`] ?? w.enc[`${a.nextLinear}.weight`])!, bias: (w.dec?.[`${a.nextLinear}.bias`] ?? w.enc[`${a.nextLinear}.bias`]) ?? null } : undefined;
    const p = collectSite(cur, pending.get(site), t, { v, next }, oo);
    if (p) pending.set(site, p);
    return t;
  };
  const flush = (): void => {
    for (const [site, p] of pending) obs.set(site, flushSite(obs.get(site)!, p, oo));
    pending.clear();
  };
  forEachForward(target, w, samples, tap, stage, opts, flush);
  return obs;
}

function finalizeAll(plan: QuantPlan, obs: Map<string, SiteObserver>, seed: number, perChannelCag: boolean): Record<string, ActParams> {
  const out: Record<string, ActParams> = {};
  const cag = plan.preset.cag;
  for (const a of plan.activations) {
    const o = obs.get(a.site);
    specRequire(o !== undefined, { fn: 'calibrateModel', what: `site '${a.site}'`, rule: 'be reached by the calibration forwards (check the prompts and the plan)', got: 'never observed' });
    out[a.site] = finalizeSite(o, { bits: plan.preset.bits, groups: perChannelCag ? Infinity : (cag?.groups ?? 4), seed, nInit: cag?.kmeansNInit ?? 10, cagGroupRange: plan.preset.referenceCompat ? 'centroid' : 'cover' });
  }
  return out;
}

/** A site tap that fake-quantizes every site with parameters (and optionally records what it sees). */
export function quantTap(acts: Readonly<Record<string, ActParams>>, referenceCompat: boolean, record?: (site: string, raw: Tensor, q: Tensor) => void): SiteTap {
  return (site, t) => {
    const p = acts[site];
    if (!p) return t;
    const q = applyActQuant(t, p, referenceCompat);
    record?.(site, t, q);
    return q;
  };
}

// MAIN

/**
 * Calibrate a model with a method preset (calibration-only mode) and return the quantized model.
 * @paper AHCQ-SAM:v4 §5 (METHOD.md §5.3 order; §12 calibration-only mode)
 * @source AHCQ-SAM-code sam/ahcqsam/solver/test_quant.py (BIG → calibrate → ACNR → calibrate → weight calibration)
 * @equation W ← BIG(W); θ_a ← calib(W); W ← ACNR(W, ΔX(θ_a)); θ_a ← calib(W) (observers reset); θ_w ← mse(W); Ŵ = Q(W; θ_w)
 * @deviation calibration-only (no reconstruction, Project decision 3); ΔX for every ACNR layer is captured
 *   in one pass with the pre-ACNR weights of all layers (the reference captures it layer by layer after the
 *   earlier layers were modified) from a deterministic row subsample; searches subsampled (act-quant.ts)
 * @precision as the observers, ACNR (float64 SVD) and the weight quantizer
 */
export function calibrateModel(target: QuantTarget, samples: readonly CalibSample[], preset: MethodPreset, opts: PipelineOptions): QuantizedModel {
  const fn = 'calibrateModel';
  specRequire(samples.length >= 1, { fn, what: 'samples', rule: 'hold at least one calibration image', got: samples.length });
  specRequire(Number.isInteger(opts.seed), { fn, what: 'seed', rule: 'be an integer', got: opts.seed });
  const plan = buildPlan(target.arch, target.decoderWeights ? target.decoderCfg.maskDecoder.transformer : null, preset);
  const ck = opts.checkpoint;
  const stage = <T extends StageState>(name: string, run: () => T): StageState => {
    const hit = ck?.load(name);
    if (hit) {
      opts.onProgress?.(`${name} (resumed)`, 1, 1);
      return hit;
    }
    const st = run();
    ck?.save(name, st);
    return st;
  };

  // (1) BIG: judge the token→image keys of image 0 / prompt 0 with FP weights; fold signs into q/k_proj
  const s1 = stage('big', () => {
    if (!preset.big || !target.decoderWeights || samples[0]!.prompts.length === 0) return EMPTY;
    const w = withOverrides(target, {});
    const keys = new Map<string, Tensor>();
    const attns = bigAttentions(target.decoderCfg.maskDecoder.transformer.depth);
    const tap: SiteTap = (site, t) => {
      if (site.endsWith('.k_proj.key') && !keys.has(site)) keys.set(site, t);
      return t;
    };
    const s0 = samples[0]!;
    const emb = runEncoder(target, w.enc, s0.input, undefined, undefined, opts.backend);
    runDecoderLowRes(target, w.dec!, emb, s0.prompts[0]!, s0.geom, tap, opts.backend);
    const over: Record<string, Tensor> = {};
    const big: Record<string, number[] | null> = {};
    for (const a of attns) {
      const k = keys.get(`${a}.k_proj.key`);
      specRequire(k !== undefined, { fn, what: `keys of ${a}`, rule: 'be produced by the decoder', got: 'missing' });
      const d = w.dec!;
      const r = applyBig(k, { weight: d[`${a}.q_proj.weight`]!, bias: d[`${a}.q_proj.bias`]! }, { weight: d[`${a}.k_proj.weight`]!, bias: d[`${a}.k_proj.bias`]! }, preset.big);
      big[a] = r.signs ? Array.from(r.signs) : null;
      if (r.signs) {
        over[`${a}.q_proj.weight`] = r.qProj.weight;
        over[`${a}.q_proj.bias`] = r.qProj.bias;
        over[`${a}.k_proj.weight`] = r.kProj.weight;
        over[`${a}.k_proj.bias`] = r.kProj.bias;
      }
    }
    opts.onProgress?.('big', 1, 1);
    return { ...EMPTY, weights: over, big };
  });

  // ACNR's X_fp rows: the FP inputs of every ACNR layer, captured during activation pass #1 (the same
  // weights and the same forward an extra FP pass would run, so the same tensors)
  const feeds = new Map<string, string>();
  for (const a of plan.activations) if (a.feeds) feeds.set(a.site, a.feeds);
  const rowsPerCall = opts.acnrRowsPerCall ?? 256;
  const push = (m: Map<string, Tensor[]>, site: string, t: Tensor): void => {
    if (!feeds.has(site)) return;
    const list = m.get(site) ?? [];
    list.push(subsampleRows(t, rowsPerCall));
    m.set(site, list);
  };
  const fp = new Map<string, Tensor[]>();
  const captureFp = preset.acnr ? (site: string, t: Tensor): void => push(fp, site, t) : undefined;

  // (2) activation calibration #1
  const w1 = withOverrides(target, s1.weights);
  let obs1: Map<string, SiteObserver> | null = null;
  const s2 = stage('calib1', () => {
    obs1 = calibrateActs(target, plan, w1, samples, null, 'calib1', opts, captureFp);
    return { ...s1, acts: finalizeAll(plan, obs1, opts.seed, false) };
  });

  // (3) ACNR on every 2-D weight, from ΔX = X_fp − Q(X_q) with activation fake-quant on, weights FP
  const s3 = stage('acnr', () => {
    if (!preset.acnr) return s2;
    const layers = plan.weights.filter((l) => l.acnr);
    // per-channel CAG while measuring ΔX (METHOD.md §11 item 7); a resumed run replays pass #1 (and its capture)
    const obsPc = obs1 ?? calibrateActs(target, plan, w1, samples, null, 'acnr-recalib', opts, captureFp);
    const actsPc = finalizeAll(plan, obsPc, opts.seed, true);
    const qd = new Map<string, Tensor[]>();
    forEachForward(target, w1, samples, quantTap(actsPc, preset.referenceCompat, (site, _raw, q) => push(qd, site, q)), 'acnr-capture-q', opts);
    const over: Record<string, Tensor> = { ...s2.weights };
    const log: Record<string, AcnrLog> = {};
    layers.forEach((l, i) => {
      const site = `${l.layer}.in`;
      const a = fp.get(site), b = qd.get(site);
      specRequire(a !== undefined && b !== undefined && a.length === b.length, { fn, what: `ACNR inputs of ${l.layer}`, rule: 'be captured in both passes', got: [a?.length, b?.length] });
      const C = a[0]!.shape[1]!;
      let rows = 0;
      for (const t of a) rows += t.shape[0]!;
      const dx = new Float32Array(rows * C);
      let off = 0;
      a.forEach((t, j) => {
        const u = b[j]!;
        for (let k = 0; k < t.data.length; k++) dx[off + k] = t.data[k]! - u.data[k]!;
        off += t.data.length;
      });
      const key = `${l.layer}.weight`;
      const W = over[key] ?? (l.part === 'decoder' ? w1.dec![key] : w1.enc[key])!;
      const r = acnrOneSvd(W, { dtype: 'float32', shape: [rows, C], data: dx }, { K: preset.acnr!.K, lambda: preset.acnr!.lambda, beta: preset.acnr!.beta, energyThreshold: preset.acnr!.energyThreshold, skipBelowKappa: preset.acnr!.skipBelowKappa, referenceCompat: preset.referenceCompat });
      if (!r.skipped) over[key] = r.weight;
      log[l.layer] = { kappaBefore: r.kappaBefore, kappaAfter: r.skipped ? r.kappaBefore : r.kappaAfter, skipped: r.skipped, rows };
      opts.onProgress?.('acnr', i + 1, layers.length);
    });
    return { ...s2, weights: over, acnr: log };
  });

  // (4) observer reset + activation calibration #2 on the post-ACNR weights (project default);
  //     referenceCompat keeps HLUQ/LNQ/AGQ from pass #1 and continues the LSQ/CAG observers
  const s4 = stage('calib2', () => {
    if (!preset.acnr) return s3;
    const w3 = withOverrides(target, s3.weights);
    // a resumed run has no pass-#1 observers in memory: replay pass #1 (deterministic) to continue them
    const start = preset.referenceCompat ? (obs1 ?? calibrateActs(target, plan, w1, samples, null, 'calib1-replay', opts)) : null;
    const obs2 = calibrateActs(target, plan, w3, samples, start, 'calib2', opts);
    const acts = finalizeAll(plan, obs2, opts.seed, false);
    if (preset.referenceCompat) for (const [k, p] of Object.entries(s3.acts)) if (p.kind === 'hluq' || p.kind === 'lnq' || p.kind === 'agq') acts[k] = p;
    return { ...s3, acts };
  });

  // (5) weight calibration: per-output-channel ranges on the final weights, round to nearest
  const wf = withOverrides(target, s4.weights);
  const weights: Record<string, { q: QuantizedWeight; bias: Tensor | null }> = {};
  plan.weights.forEach((l, i) => {
    const src = l.part === 'decoder' ? wf.dec! : wf.enc;
    const W = src[`${l.layer}.weight`];
    specRequire(W !== undefined, { fn, what: `weights['${l.layer}.weight']`, rule: 'be present', got: 'missing' });
    const ranges = weightRanges(W, preset.bits, preset.weightObserver);
    weights[l.layer] = { q: quantizeWeight(W, preset.bits, ranges), bias: src[`${l.layer}.bias`] ?? null };
    opts.onProgress?.('weights', i + 1, plan.weights.length);
  });
  return { model: target.name, plan, seed: opts.seed, acts: s4.acts, weights, big: s4.big, acnr: s4.acnr, calibImages: samples.map((s) => s.name) };
}

/**
 * The fake-quant model of a QuantizedModel: weight records with every quantized layer dequantized
 * (and its stored bias) plus the activation tap.
 * @paper AHCQ-SAM:v4 §5.5 (inference with every quantizer on)
 * @equation W_l ← (q_l − z_l)·s_l for every planned layer; a ← Q_site(a) at every planned site
 * @deviation none
 * @precision float32 weights; activations as the quantizers
 */
export function fakeQuantModel(target: QuantTarget, qm: QuantizedModel): { enc: Record<string, Tensor>; dec: StateDict | null; tap: SiteTap } {
  const enc: Record<string, Tensor> = { ...target.encoderWeights };
  const dec: Record<string, Tensor> | null = target.decoderWeights ? { ...target.decoderWeights } : null;
  for (const l of qm.plan.weights) {
    const e = qm.weights[l.layer];
    specRequire(e !== undefined, { fn: 'fakeQuantModel', what: `weights of ${l.layer}`, rule: 'be present in the quantized model', got: 'missing' });
    const dst = l.part === 'decoder' ? dec : enc;
    specRequire(dst !== null, { fn: 'fakeQuantModel', what: 'target.decoderWeights', rule: 'be present for a plan with decoder layers', got: null });
    dst[`${l.layer}.weight`] = dequantizeWeight(e.q);
    if (e.bias) dst[`${l.layer}.bias`] = e.bias;
  }
  return { enc, dec, tap: quantTap(qm.acts, qm.plan.preset.referenceCompat) };
}
