/**
 * ACNR (Activation-aware Condition Number Reduction): the proximal step on the singular values of
 * one weight. This file only says *what* one step computes from (σ, C); how σ and C are obtained from
 * a layer and its activation error lives in `src/calib/acnr.ts`.
 *
 * Legend (METHOD.md §3.1): σ ∈ ℝ^r singular values of A = Wᵀ in descending order, C ∈ ℝ^r the
 * activation-error energy per left singular direction, t = mean(σ) the target, λ the pull towards t,
 * β the activation-error penalty, k* the energy-split (cutoff) index.
 */
import { specRequire } from '../tensor';

// TYPES

/** ACNR hyper-parameters (reference values in `ACNR_DEFAULTS`). */
export interface AcnrHyper {
  /** λ: weight of (σ − t)². */
  readonly lambda: number;
  /** β: weight of C_i σ². */
  readonly beta: number;
  /** Fraction of Σσ² that marks the protected head (0.8). */
  readonly energyThreshold: number;
  /** Layers with κ(Wᵀ) below this are skipped (100). */
  readonly skipBelowKappa: number;
}

/** Result of one proximal step. */
export interface AcnrStep {
  /** New singular values, in the same positions as the input (no re-sorting). */
  readonly sigma: Float64Array;
  /** k*: indices 0..k* are unchanged. */
  readonly cutoff: number;
  /** t = mean(σ) used by this step. */
  readonly target: number;
}

// CONSTANTS

/**
 * Reference hyper-parameters: λ = 0.003, β = 0.001, energy split 0.8, skip κ < 100.
 * (Source: AHCQ-SAM sam/ahcqsam/solver; METHOD.md §3.1 "Hyperparameters [C]".)
 */
export const ACNR_DEFAULTS: AcnrHyper = Object.freeze({ lambda: 0.003, beta: 0.001, energyThreshold: 0.8, skipBelowKappa: 100 });

// MAIN

/**
 * Energy-split index k*: the first i with Σ_{j≤i} σ_j² > θ·Σ_j σ_j² (σ descending); r − 1 if none.
 * @paper AHCQ-SAM:v4 §3.1 (spectral energy preservation)
 * @source AHCQ-SAM sam/ahcqsam/solver (cumsum(S²) > 0.8·sum(S²), first index)
 * @equation k* = min{ i : Σ_{j≤i} σ_j² > θ Σ_j σ_j² }
 * @deviation none
 * @precision fp64 sequential cumulative sum
 */
export function acnrEnergyCutoff(sigma: ArrayLike<number>, threshold: number = ACNR_DEFAULTS.energyThreshold): number {
  const fn = 'acnrEnergyCutoff';
  specRequire(sigma.length >= 1, { fn, what: 'sigma.length', rule: 'be ≥ 1', got: sigma.length, ref: 'AHCQ-SAM:v4 §3.1' });
  specRequire(Number.isFinite(threshold) && threshold > 0 && threshold <= 1, { fn, what: 'threshold', rule: 'be in (0, 1]', got: threshold, ref: 'AHCQ-SAM:v4 §3.1' });
  let total = 0;
  for (let i = 0; i < sigma.length; i++) total += sigma[i]! * sigma[i]!;
  const bound = threshold * total;
  let cum = 0;
  for (let i = 0; i < sigma.length; i++) {
    cum += sigma[i]! * sigma[i]!;
    if (cum > bound) return i;
  }
  return sigma.length - 1;
}

/**
 * One ACNR proximal step on descending singular values: the head 0..k* is kept, tail values rise to
 * max(σ_i, σ̃_i) with σ̃_i the per-value minimiser of ½(σ − σ_i)² + λ(σ − t)² + βC_iσ².
 * @paper AHCQ-SAM:v4 §3.1
 * @source AHCQ-SAM sam/ahcqsam/solver (condition-number reconstruction loop)
 * @equation t = mean(σ);  σ̃_i = (σ_i + 2λt) / (1 + 2λ + 2βC_i);  σ'_i = σ_i (i ≤ k*), max(σ_i, σ̃_i) (i > k*)
 * @deviation none (the reference's C double count is the caller's choice of C; see calib/acnr.ts)
 * @precision fp64
 */
export function acnrProximalStep(sigma: ArrayLike<number>, c: ArrayLike<number>, hyper: Partial<AcnrHyper> = {}): AcnrStep {
  const fn = 'acnrProximalStep';
  const h = { ...ACNR_DEFAULTS, ...hyper };
  const r = sigma.length;
  specRequire(r >= 1, { fn, what: 'sigma.length', rule: 'be ≥ 1', got: r, ref: 'AHCQ-SAM:v4 §3.1' });
  specRequire(c.length === r, { fn, what: 'c.length', rule: `equal sigma.length (${r})`, got: c.length, ref: 'AHCQ-SAM:v4 §3.1' });
  for (let i = 0; i < r; i++) {
    specRequire(Number.isFinite(sigma[i]!) && sigma[i]! >= 0, { fn, what: `sigma[${i}]`, rule: 'be finite and ≥ 0', got: sigma[i], ref: 'AHCQ-SAM:v4 §3.1' });
    specRequire(i === 0 || sigma[i]! <= sigma[i - 1]!, { fn, what: 'sigma', rule: 'be in descending order', got: `sigma[${i - 1}]=${sigma[i - 1]} < sigma[${i}]=${sigma[i]}`, ref: 'AHCQ-SAM:v4 §3.1' });
    specRequire(Number.isFinite(c[i]!) && c[i]! >= 0, { fn, what: `c[${i}]`, rule: 'be finite and ≥ 0', got: c[i], ref: 'AHCQ-SAM:v4 §3.1' });
  }
  specRequire(Number.isFinite(h.lambda) && h.lambda >= 0, { fn, what: 'lambda', rule: 'be finite and ≥ 0', got: h.lambda, ref: 'AHCQ-SAM:v4 §3.1' });
  specRequire(Number.isFinite(h.beta) && h.beta >= 0, { fn, what: 'beta', rule: 'be finite and ≥ 0', got: h.beta, ref: 'AHCQ-SAM:v4 §3.1' });
  // (1) target t = mean(σ)
  let sum = 0;
  for (let i = 0; i < r; i++) sum += sigma[i]!;
  const target = sum / r;
  // (2) energy split k*
  const cutoff = acnrEnergyCutoff(sigma, h.energyThreshold);
  // (3) head unchanged, tail raised to max(σ_i, σ̃_i)
  const out = Float64Array.from(sigma);
  for (let i = cutoff + 1; i < r; i++) {
    const cand = (sigma[i]! + 2 * h.lambda * target) / (1 + 2 * h.lambda + 2 * h.beta * c[i]!);
    out[i] = Math.max(sigma[i]!, cand);
  }
  return { sigma: out, cutoff, target };
}
