/**
 * Method presets as data: which components each published method uses, with their hyper-parameters
 * and ablation switches (METHOD.md §1, §3–§5.2, §7). A preset is a plain frozen record; the pipeline
 * reads it, nothing here has behaviour beyond validation.
 *
 * - RTN: min-max ranges, round-to-nearest weights and activations (per-tensor activations,
 *   per-output-channel weights), no reconstruction.
 * - PTQ4SAM: BIG + AGQ (softmax) on QDrop-style block reconstruction.
 * - AHCPTQ: PTQ4SAM + HLUQ (post-GELU/ReLU) + CAG (G = 4).
 * - AHCQ-SAM: BIG + ACNR + HLUQ + CAG + LNQ (LNQ replaces AGQ for softmax).
 */
import { specRequire } from '../tensor';
import { ACNR_DEFAULTS } from './acnr';

// TYPES

export type MethodName = 'RTN' | 'PTQ4SAM' | 'AHCPTQ' | 'AHCQ-SAM';

/** How softmax outputs (attention probabilities) are quantized. */
export type SoftmaxQuantizer = 'uniform' | 'agq' | 'lnq';

export interface AcnrPresetParams {
  /** Proximal steps per layer: 200 at W4/W5, 20 at W6 (config{44,55,66}.yaml `ahcqsam.k`). */
  readonly K: number;
  readonly lambda: number;
  readonly beta: number;
  readonly energyThreshold: number;
  readonly skipBelowKappa: number;
  /** Calibration samples used for ΔX (0..31). */
  readonly samples: number;
}

export interface BigPresetParams {
  readonly gridPoints: number;
  readonly peakHeight: number;
  readonly peakDistance: number;
}

export interface CagPresetParams {
  /** Final group count G (4). */
  readonly groups: number;
  /** Progressive multipliers at 20/40/60/80 % of reconstruction (8G, 4G, 2G, G). */
  readonly progressiveFactors: readonly number[];
  /** k-means starts (10 = scikit-learn 1.2 as used by the reference) and seed (random_state 0). */
  readonly kmeansNInit: number;
  readonly kmeansSeed: number;
}

/** A fully specified method configuration at one bit width. */
export interface MethodPreset {
  readonly method: MethodName;
  /** Weight and activation bits (WbAb; all quantized tensors share b). */
  readonly bits: number;
  /** Weight rounding: nearest, or AdaRound learned during reconstruction. */
  readonly weightRounding: 'nearest' | 'adaround';
  /** Weight range: min-max or the per-channel MSE grid (METHOD.md §2.5). */
  readonly weightObserver: 'minmax' | 'mse';
  readonly softmax: SoftmaxQuantizer;
  /** Null when the component is off. */
  readonly big: BigPresetParams | null;
  readonly acnr: AcnrPresetParams | null;
  readonly hluq: boolean;
  readonly cag: CagPresetParams | null;
  /** QDrop block reconstruction (iterations per block in the reference: 20 000). */
  readonly reconstruction: { readonly iters: number; readonly dropProb: number } | null;
  /** Reproduce reference-code quirks (METHOD.md Project decision 1). */
  readonly referenceCompat: boolean;
}

/** Ablation switches: turn individual components off (or force them on) in a preset. */
export interface AblationSwitches {
  readonly big?: boolean;
  readonly acnr?: boolean;
  readonly hluq?: boolean;
  readonly cag?: boolean;
  readonly softmax?: SoftmaxQuantizer;
  readonly reconstruction?: boolean;
  readonly referenceCompat?: boolean;
}

// CONSTANTS

/** Preset bit widths (W4A4 … W8A8); the paper reports 4, 5, 6. */
export const PRESET_MIN_BITS = 4;
export const PRESET_MAX_BITS = 8;

/** PTQ4SAM BIG config: global_num 128, peak_height 0.01, peak_distance 32. */
export const BIG_PRESET: BigPresetParams = Object.freeze({ gridPoints: 128, peakHeight: 0.01, peakDistance: 32 });

/** CAG: G = 4, progressive 8G → 4G → 2G → G, scikit-learn KMeans(random_state=0, n_init=10). */
export const CAG_PRESET: CagPresetParams = Object.freeze({ groups: 4, progressiveFactors: Object.freeze([8, 4, 2, 1]), kmeansNInit: 10, kmeansSeed: 0 });

/** Reference reconstruction: 20 000 iterations per block, QDrop drop probability 0.5. */
export const RECON_PRESET = Object.freeze({ iters: 20000, dropProb: 0.5 });

// MAIN

/**
 * Require a preset bit width: an integer in [4, 8].
 * @paper AHCQ-SAM:v4 §5 (W4A4, W5A5, W6A6 evaluated)
 * @equation b ∈ ℤ ∩ [4, 8]
 * @deviation W7/W8 accepted for experiments; the paper reports W4–W6
 * @precision exact
 */
export function requirePresetBits(fn: string, bits: number): void {
  specRequire(Number.isInteger(bits) && bits >= PRESET_MIN_BITS && bits <= PRESET_MAX_BITS, {
    fn, what: 'bits', rule: `be an integer in [${PRESET_MIN_BITS}, ${PRESET_MAX_BITS}]`, got: bits, ref: 'AHCQ-SAM:v4 §5',
  });
}

/**
 * ACNR step count for a bit width: 200 at W4/W5, 20 at W6 and above.
 * @paper AHCQ-SAM:v4 §3.1
 * @source AHCQ-SAM sam/exp/config{44,55,66}.yaml (ahcqsam.k)
 * @equation K(b) = 200 (b ≤ 5), 20 (b ≥ 6)
 * @deviation W7/W8 have no reference config; they use K = 20 like W6
 * @precision exact
 */
export function acnrStepsFor(bits: number): number {
  requirePresetBits('acnrStepsFor', bits);
  return bits <= 5 ? 200 : 20;
}

/**
 * The configuration of a published method at `bits`, optionally with ablation switches applied.
 * @paper AHCQ-SAM:v4 §1, §3, §5 (METHOD.md §1, §5.2, §7)
 * @source AHCQ-SAM sam/exp/config{44,55,66}.yaml; Keio-CSG/AHCPTQ exp/config{44,66}.yaml; PTQ4SAM exp/config44.yaml
 * @equation —
 * @deviation `referenceCompat` defaults to false (intended semantics, METHOD.md Project decision 1)
 * @precision exact
 */
export function methodPreset(method: MethodName, bits: number, ablation: AblationSwitches = {}): MethodPreset {
  const fn = 'methodPreset';
  specRequire(['RTN', 'PTQ4SAM', 'AHCPTQ', 'AHCQ-SAM'].includes(method), { fn, what: 'method', rule: 'be one of RTN, PTQ4SAM, AHCPTQ, AHCQ-SAM', got: method, ref: 'METHOD.md §7' });
  requirePresetBits(fn, bits);
  if (ablation.softmax !== undefined) specRequire(['uniform', 'agq', 'lnq'].includes(ablation.softmax), { fn, what: 'ablation.softmax', rule: 'be uniform, agq or lnq', got: ablation.softmax });
  const acnr: AcnrPresetParams = { K: acnrStepsFor(bits), ...ACNR_DEFAULTS, samples: 32 };
  const base: MethodPreset = (() => {
    switch (method) {
      case 'RTN':
        return { method, bits, weightRounding: 'nearest', weightObserver: 'minmax', softmax: 'uniform', big: null, acnr: null, hluq: false, cag: null, reconstruction: null, referenceCompat: false };
      case 'PTQ4SAM':
        return { method, bits, weightRounding: 'adaround', weightObserver: 'mse', softmax: 'agq', big: BIG_PRESET, acnr: null, hluq: false, cag: null, reconstruction: RECON_PRESET, referenceCompat: false };
      case 'AHCPTQ':
        return { method, bits, weightRounding: 'adaround', weightObserver: 'mse', softmax: 'agq', big: BIG_PRESET, acnr: null, hluq: true, cag: CAG_PRESET, reconstruction: RECON_PRESET, referenceCompat: false };
      default:
        return { method, bits, weightRounding: 'adaround', weightObserver: 'mse', softmax: 'lnq', big: BIG_PRESET, acnr, hluq: true, cag: CAG_PRESET, reconstruction: RECON_PRESET, referenceCompat: false };
    }
  })();
  const pick = <T>(flag: boolean | undefined, cur: T | null, on: T): T | null => (flag === undefined ? cur : flag ? (cur ?? on) : null);
  const out: MethodPreset = {
    ...base,
    big: pick(ablation.big, base.big, BIG_PRESET),
    acnr: pick(ablation.acnr, base.acnr, acnr),
    hluq: ablation.hluq ?? base.hluq,
    cag: pick(ablation.cag, base.cag, CAG_PRESET),
    softmax: ablation.softmax ?? base.softmax,
    reconstruction: pick(ablation.reconstruction, base.reconstruction, RECON_PRESET),
    referenceCompat: ablation.referenceCompat ?? base.referenceCompat,
  };
  return Object.freeze(out);
}
