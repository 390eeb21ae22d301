/**
 * ACNR per layer: from a Linear weight W [out, in] and the captured activation error ΔX = X_fp − Q(X_q)
 * [samples, rows, in] (or [N, in]) to the regularised weight after K proximal steps.
 *
 * Two forms (METHOD.md Project decision 2):
 * - `acnrOneSvd` (default): ONE SVD of A = Wᵀ; the K steps iterate on (σ_i, C_i) pairs only, re-sorted
 *   by σ before each step as a fresh SVD would order them; the weight is rebuilt once.
 * - `acnrLiteral` (the reference form, used as the oracle): a fresh SVD of the current weight each step.
 *
 * Legend: A = Wᵀ = U diag(σ) Vᵀ (U [in, r], V [out, r]), C_i = ‖ΔX u_i‖² / N, K steps.
 */
import { specRequire, tensor, type Tensor } from '../tensor';
import { svd, svdGram, type Svd } from '../linalg/svd';
import { ACNR_DEFAULTS, acnrProximalStep, type AcnrHyper } from '../quant/acnr';

// TYPES

/** Options of an ACNR run on one layer. */
export interface AcnrOptions extends Partial<AcnrHyper> {
  /** Number of proximal steps K (200 at W4/W5, 20 at W6 in the reference configs). */
  readonly K: number;
  /** Reproduce the reference quirk: C_i accumulated twice (effective β doubled). Alias of `doubleCount`. */
  readonly referenceCompat?: boolean;
  /** Same as `referenceCompat` (the vectors call it `cDoubleCount`). */
  readonly doubleCount?: boolean;
  /** SVD used by `acnrOneSvd`: 'gram' (default, fast: `svdGram`) or 'jacobi' (one-sided Jacobi `svd`, high relative accuracy). */
  readonly svd?: 'gram' | 'jacobi';
}

/** Outcome of ACNR on one layer. */
export interface AcnrResult {
  /** New weight [out, in] rounded to float32 (the stored weight). */
  readonly weight: Tensor<'float32'>;
  /** New weight [out, in] before rounding (float64). */
  readonly weight64: Tensor<'float64'>;
  /** True when κ(Wᵀ) < skipBelowKappa: the weight is returned unchanged. */
  readonly skipped: boolean;
  /** κ(Wᵀ) before any step. */
  readonly kappaBefore: number;
  /** κ after K steps. */
  readonly kappaAfter: number;
  /** κ of the weight before the last step (what the reference logs as "after"); = kappaBefore if K = 0. */
  readonly kappaLogged: number;
  /** Singular values of Wᵀ before (descending). */
  readonly sigmaBefore: Float64Array;
  /** Singular values after K steps (descending). */
  readonly sigmaAfter: Float64Array;
  /** C_i of step 0 in the order of `sigmaBefore` (doubled under referenceCompat); empty if skipped. */
  readonly energy: Float64Array;
  /** k* of step 0 (−1 if skipped). */
  readonly cutoffIndex: number;
  /** Steps performed (0 if skipped). */
  readonly steps: number;
}

// MAIN

interface Prepared {
  readonly out: number;
  readonly inDim: number;
  readonly w: Float64Array;
  readonly hyper: AcnrHyper;
  readonly doubleCount: boolean;
  readonly K: number;
}

function prepare(fn: string, weight: Tensor<'float32' | 'float64'>, deltaX: Tensor<'float32' | 'float64'>, opts: AcnrOptions): Prepared {
  specRequire(weight.shape.length === 2, { fn, what: 'weight.shape', rule: 'be [out, in]', got: weight.shape, ref: 'AHCQ-SAM:v4 §3.1' });
  const [out, inDim] = weight.shape as [number, number];
  specRequire(out >= 1 && inDim >= 1, { fn, what: 'weight.shape', rule: 'be non-empty', got: weight.shape, ref: 'AHCQ-SAM:v4 §3.1' });
  specRequire(allFinite(weight.data), { fn, what: 'weight', rule: 'contain only finite values', got: 'NaN or ±Infinity', ref: 'AHCQ-SAM:v4 §3.1' });
  checkDeltaX(fn, deltaX, inDim);
  specRequire(Number.isInteger(opts.K) && opts.K >= 0, { fn, what: 'K', rule: 'be an integer ≥ 0', got: opts.K, ref: 'AHCQ-SAM:v4 §3.1' });
  const hyper: AcnrHyper = {
    lambda: opts.lambda ?? ACNR_DEFAULTS.lambda,
    beta: opts.beta ?? ACNR_DEFAULTS.beta,
    energyThreshold: opts.energyThreshold ?? ACNR_DEFAULTS.energyThreshold,
    skipBelowKappa: opts.skipBelowKappa ?? ACNR_DEFAULTS.skipBelowKappa,
  };
  specRequire(Number.isFinite(hyper.skipBelowKappa) && hyper.skipBelowKappa >= 0, { fn, what: 'skipBelowKappa', rule: 'be finite and ≥ 0', got: hyper.skipBelowKappa, ref: 'AHCQ-SAM:v4 §3.1' });
  return { out, inDim, w: Float64Array.from(weight.data), hyper, doubleCount: opts.referenceCompat === true || opts.doubleCount === true, K: opts.K };
}

function allFinite(d: ArrayLike<number>): boolean {
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
  return true;
}

function checkDeltaX(fn: string, deltaX: Tensor<'float32' | 'float64'>, inDim: number): void {
  const rank = deltaX.shape.length;
  specRequire(rank === 2 || rank === 3, { fn, what: 'deltaX.shape', rule: 'be [N, in] or [samples, rows, in]', got: deltaX.shape, ref: 'AHCQ-SAM:v4 §3.1' });
  specRequire(deltaX.shape[rank - 1] === inDim, { fn, what: 'deltaX.shape[-1]', rule: `equal the weight's input dimension (${inDim})`, got: deltaX.shape[rank - 1], ref: 'AHCQ-SAM:v4 §3.1' });
  specRequire(deltaX.data.length >= inDim && deltaX.data.length > 0, { fn, what: 'deltaX', rule: 'hold at least one row', got: deltaX.shape, ref: 'AHCQ-SAM:v4 §3.1' });
  specRequire(allFinite(deltaX.data), { fn, what: 'deltaX', rule: 'contain only finite values', got: 'NaN or ±Infinity', ref: 'AHCQ-SAM:v4 §3.1' });
}

/** Aᵀ of W [out, in] as a float64 matrix [in, out]. */
function transposeToA(w: Float64Array, out: number, inDim: number): Tensor<'float64'> {
  const a = new Float64Array(inDim * out);
  for (let o = 0; o < out; o++) for (let j = 0; j < inDim; j++) a[j * out + o] = w[o * inDim + j]!;
  return tensor([inDim, out], a, 'float64'); // [in, out]
}

/**
 * Activation-error energy per left singular direction of A = Wᵀ: C_i = (1/N) Σ_n ((ΔX U)_{n,i})².
 * @paper AHCQ-SAM:v4 §3.1
 * @source AHCQ-SAM sam/ahcqsam/solver (C accumulated per sample, divided by the total row count)
 * @equation C_i = (m/N) Σ_{samples} Σ_{rows} (ΔX_n · u_i)², m = 2 under doubleCount, else 1
 * @deviation `doubleCount` (= referenceCompat / cDoubleCount) reproduces the reference's double
 *   accumulation of every sample's sum; default counts once (METHOD.md Project decision 1).
 * @precision fp64 accumulate
 */
export function acnrErrorEnergy(deltaX: Tensor<'float32' | 'float64'>, u: Tensor<'float64'>, opts: { doubleCount?: boolean } = {}): Float64Array {
  const fn = 'acnrErrorEnergy';
  specRequire(u.shape.length === 2 && u.shape[0]! >= 1 && u.shape[1]! >= 1, { fn, what: 'u.shape', rule: 'be a non-empty matrix [in, r]', got: u.shape, ref: 'AHCQ-SAM:v4 §3.1' });
  const [inDim, r] = u.shape as [number, number];
  checkDeltaX(fn, deltaX, inDim);
  const n = deltaX.data.length / inDim;
  const acc = new Float64Array(r);
  const y = new Float64Array(r);
  const ud = u.data, dx = deltaX.data;
  for (let row = 0; row < n; row++) {
    // y = ΔX_row · U   // [r]
    y.fill(0);
    for (let j = 0; j < inDim; j++) {
      const d = dx[row * inDim + j]!;
      if (d === 0) continue;
      const base = j * r;
      for (let i = 0; i < r; i++) y[i] = y[i]! + d * ud[base + i]!;
    }
    for (let i = 0; i < r; i++) acc[i] = acc[i]! + y[i]! * y[i]!;
  }
  const mult = opts.doubleCount ? 2 : 1;
  for (let i = 0; i < r; i++) acc[i] = (mult * acc[i]!) / n;
  return acc;
}

function skippedResult(p: Prepared, sigma: Float64Array, kappa: number): AcnrResult {
  return {
    weight: tensor([p.out, p.inDim], Float32Array.from(p.w), 'float32'),
    weight64: tensor([p.out, p.inDim], Float64Array.from(p.w), 'float64'),
    skipped: true, kappaBefore: kappa, kappaAfter: kappa, kappaLogged: kappa,
    sigmaBefore: sigma, sigmaAfter: Float64Array.from(sigma), energy: new Float64Array(0), cutoffIndex: -1, steps: 0,
  };
}

function kappaOf(sigmaDesc: ArrayLike<number>): number {
  const lo = sigmaDesc[sigmaDesc.length - 1]!;
  return lo > 0 ? sigmaDesc[0]! / lo : Infinity;
}

/** Stable permutation sorting `sigma` descending. */
function descendingOrder(sigma: Float64Array, prev: number[]): number[] {
  // stable w.r.t. the current order `prev`, so equal values keep their positions (as a fresh SVD would be free to)
  return prev.slice().sort((x, y) => sigma[y]! - sigma[x]!);
}

/**
 * ACNR on one layer from ONE SVD: K proximal steps on the (σ_i, C_i) pairs, re-sorted by σ before
 * each step, then W' = W + Σ_i (σ'_i − σ_i) v_i u_iᵀ (only changed directions are added).
 * @paper AHCQ-SAM:v4 §3.1
 * @source AHCQ-SAM sam/ahcqsam/solver (condition-number reconstruction); METHOD.md Project decision 2
 * @equation A = Wᵀ = U diag(σ) Vᵀ;  σ ← prox(sort↓(σ, C)) K times;  W' = (U diag(σ') Vᵀ)ᵀ
 * @deviation One SVD instead of K (equal up to rounding when singular values are distinct; U and V are
 *   invariant under the step). The SVD is `svdGram` (eigendecomposition of the float64 Gram matrix,
 *   METHOD.md §12), not the one-sided Jacobi `svd`: singular vectors of σ_j carry a relative error of order
 *   ε·(σ₀/σ_j)² instead of ε·κ. Measured against `svd: 'jacobi'` on the 72 ACNR layers of the real
 *   MobileSAM (26 not skipped, κ up to 6.4·10⁴; random ΔX, K = 200): max |ΔW| = 4.0e-10·max|W| (≤ 2.3e-12
 *   in the encoder, κ ≤ 4.4·10³), float32 weights differ in the last bit for 0.18 % of the elements;
 *   σ agree to 4.2e-14·σ₀ and C_i to 1.6e-9·max C. `referenceCompat` doubles C_i.
 *   κ < skipBelowKappa → unchanged.
 * @precision fp64 SVD and accumulation; `weight` is the fp32 rounding of `weight64`
 */
export function acnrOneSvd(weight: Tensor<'float32' | 'float64'>, deltaX: Tensor<'float32' | 'float64'>, opts: AcnrOptions): AcnrResult {
  const p = prepare('acnrOneSvd', weight, deltaX, opts);
  specRequire(opts.svd === undefined || opts.svd === 'gram' || opts.svd === 'jacobi', { fn: 'acnrOneSvd', what: 'opts.svd', rule: "be 'gram' or 'jacobi'", got: opts.svd, ref: 'METHOD.md §12' });
  const a = transposeToA(p.w, p.out, p.inDim);
  const dec: Svd = opts.svd === 'jacobi' ? svd(a) : svdGram(a);
  const sigmaBefore = Float64Array.from(dec.s);
  const kappaBefore = kappaOf(sigmaBefore);
  if (kappaBefore < p.hyper.skipBelowKappa) return skippedResult(p, sigmaBefore, kappaBefore);
  const r = dec.r;
  const energy = acnrErrorEnergy(deltaX, dec.u, { doubleCount: p.doubleCount });
  const sigma = Float64Array.from(sigmaBefore);
  let order = Array.from({ length: r }, (_, i) => i);
  let cutoffIndex = -1;
  let kappaLogged = kappaBefore;
  const sortedS = new Float64Array(r), sortedC = new Float64Array(r);
  for (let k = 0; k < p.K; k++) {
    // re-sort (σ_i, C_i) descending by σ, as a fresh SVD of the current weight would
    order = descendingOrder(sigma, order);
    for (let i = 0; i < r; i++) { sortedS[i] = sigma[order[i]!]!; sortedC[i] = energy[order[i]!]!; }
    kappaLogged = kappaOf(sortedS);
    const step = acnrProximalStep(sortedS, sortedC, p.hyper);
    if (k === 0) cutoffIndex = step.cutoff;
    for (let i = 0; i < r; i++) sigma[order[i]!] = step.sigma[i]!;
  }
  const w64 = rebuild(p, dec, sigmaBefore, sigma);
  const sigmaAfter = Float64Array.from(sigma).sort().reverse();
  return {
    weight: tensor([p.out, p.inDim], Float32Array.from(w64), 'float32'),
    weight64: tensor([p.out, p.inDim], w64, 'float64'),
    skipped: false, kappaBefore, kappaAfter: kappaOf(sigmaAfter), kappaLogged,
    sigmaBefore, sigmaAfter, energy, cutoffIndex: p.K > 0 ? cutoffIndex : -1, steps: p.K,
  };
}

/** W'[o, j] = W[o, j] + Σ_{i: Δσ_i ≠ 0} V[o, i] Δσ_i U[j, i]. */
function rebuild(p: Prepared, dec: Svd, before: Float64Array, after: Float64Array): Float64Array {
  const changed: number[] = [];
  for (let i = 0; i < dec.r; i++) if (after[i] !== before[i]) changed.push(i);
  const w = Float64Array.from(p.w);
  const c = changed.length;
  if (c === 0) return w;
  // compact U·diag(Δσ) [in, c] and V [out, c] over the changed directions
  const ud = new Float64Array(p.inDim * c), vd = new Float64Array(p.out * c);
  changed.forEach((i, k) => {
    const delta = after[i]! - before[i]!;
    for (let j = 0; j < p.inDim; j++) ud[j * c + k] = dec.u.data[j * dec.r + i]! * delta;
    for (let o = 0; o < p.out; o++) vd[o * c + k] = dec.v.data[o * dec.r + i]!;
  });
  for (let o = 0; o < p.out; o++) {
    const vb = o * c;
    for (let j = 0; j < p.inDim; j++) {
      const ub = j * c;
      let s = 0;
      for (let k = 0; k < c; k++) s += vd[vb + k]! * ud[ub + k]!;
      w[o * p.inDim + j] = w[o * p.inDim + j]! + s;
    }
  }
  return w;
}

/**
 * ACNR on one layer in the reference form: each of the K steps takes a fresh SVD of the current
 * weight, recomputes C from the new U, applies the proximal step and rebuilds W = (U diag(σ') Vᵀ)ᵀ.
 * @paper AHCQ-SAM:v4 §3.1
 * @source AHCQ-SAM sam/ahcqsam/solver (condition-number reconstruction loop, per-step torch.linalg.svd)
 * @equation W_{k+1} = (U_k diag(prox(σ_k, C_k)) V_kᵀ)ᵀ,  Wₖᵀ = U_k diag(σ_k) V_kᵀ
 * @deviation fp64 instead of the reference's fp32; `referenceCompat` doubles C_i. Cost: K SVDs.
 * @precision fp64 throughout; `weight` is the fp32 rounding of `weight64`
 */
export function acnrLiteral(weight: Tensor<'float32' | 'float64'>, deltaX: Tensor<'float32' | 'float64'>, opts: AcnrOptions): AcnrResult {
  const p = prepare('acnrLiteral', weight, deltaX, opts);
  let w: Float64Array = Float64Array.from(p.w);
  let dec = svd(transposeToA(w, p.out, p.inDim));
  const sigmaBefore = Float64Array.from(dec.s);
  const kappaBefore = kappaOf(sigmaBefore);
  if (kappaBefore < p.hyper.skipBelowKappa) return skippedResult(p, sigmaBefore, kappaBefore);
  let energy0: Float64Array = new Float64Array(0);
  let cutoffIndex = -1;
  let kappaLogged = kappaBefore;
  let sigmaAfter: Float64Array = Float64Array.from(sigmaBefore);
  for (let k = 0; k < p.K; k++) {
    if (k > 0) dec = svd(transposeToA(w, p.out, p.inDim));
    kappaLogged = kappaOf(dec.s);
    const energy = acnrErrorEnergy(deltaX, dec.u, { doubleCount: p.doubleCount });
    const step = acnrProximalStep(dec.s, energy, p.hyper);
    if (k === 0) { energy0 = energy; cutoffIndex = step.cutoff; }
    // W = (U diag(σ') Vᵀ)ᵀ, i.e. W[o, j] = Σ_i V[o, i] σ'_i U[j, i]
    const next = new Float64Array(p.out * p.inDim);
    const r = dec.r;
    for (let o = 0; o < p.out; o++) {
      for (let j = 0; j < p.inDim; j++) {
        let s = 0;
        for (let i = 0; i < r; i++) s += dec.v.data[o * r + i]! * step.sigma[i]! * dec.u.data[j * r + i]!;
        next[o * p.inDim + j] = s;
      }
    }
    w = next;
    sigmaAfter = Float64Array.from(step.sigma).sort().reverse();
  }
  return {
    weight: tensor([p.out, p.inDim], Float32Array.from(w), 'float32'),
    weight64: tensor([p.out, p.inDim], w, 'float64'),
    skipped: false, kappaBefore, kappaAfter: kappaOf(sigmaAfter), kappaLogged,
    sigmaBefore, sigmaAfter, energy: energy0, cutoffIndex, steps: p.K,
  };
}
