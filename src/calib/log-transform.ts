/**
 * LogTransform observer: the LNQ calibration search. Per batch and per curvature α, a bounded Brent
 * search over the clip s minimising the attention-output error `mean|Q(P)·V − P·V|^2.4`; scales are
 * running-averaged and errors summed over batches; the α with the smallest summed error wins
 * (METHOD.md §3.4).
 *
 * Legend: `P` softmax output `[…, N, K]`, `V` values `[…, K, D]`, `α` curvature, `s` clip,
 * `N_q = 2^b − 1` in the search (the reference's search function), `xmax = max P`.
 */
import { type Tensor, specRequire, requireFinite, f32, numel, roundHalfEven } from '../tensor';
import { lnqValueKernel } from '../quant/lnq';
import { requireBits } from '../quant/qparams';
import { brentBounded, type BrentResult } from './brent';
import { lpLossMean, matmulBatchedF32 } from './lp-loss';

// TYPES

export interface LogTransformOptions {
  readonly bits: number;
  /** Curvatures, in search order (reference [0.001, 0.1, 1, 5, 10, 20, 50, 100, 200]). */
  readonly alphas?: readonly number[];
  /** Error exponent (reference 2.4). */
  readonly p?: number;
}

export interface LogTransformSearch extends BrentResult {
  readonly alpha: number;
  readonly bounds: readonly [number, number];
}

export interface LogTransformState {
  readonly count: number;
  /** Running mean of the per-batch best s, per α (float64, as SciPy returns float64). */
  readonly scales: Float64Array;
  /** Summed per-batch errors per α (float32). */
  readonly errors: Float32Array;
  /** Per batch, the search of each α. */
  readonly searches: readonly (readonly LogTransformSearch[])[];
}

export interface LogTransformResult {
  readonly alpha: number;
  /** Chosen scale as averaged (float64). */
  readonly scale: number;
  /** The scale as the float32 arithmetic consumes it. */
  readonly scaleF32: number;
}

// CONSTANTS

export const LNQ_ALPHAS: readonly number[] = [0.001, 0.1, 1, 5, 10, 20, 50, 100, 200];

/** The LNQ input floor 10⁻²⁰ as float32 (as src/quant/lnq.ts clamps). */
const LNQ_FLOOR = f32(1e-20);

// MAIN

/**
 * Checks shared by the attention-output observers (LNQ, AGQ).
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#LogTransformObserver.forward
 * @deviation none
 * @precision exact
 */
export function requireAttention(fn: string, P: Tensor, V: Tensor): void {
  specRequire(P.shape.length >= 2 && numel(P.shape) > 0, { fn, what: 'P', rule: 'be non-empty with rank ≥ 2', got: P.shape });
  specRequire(V.shape.length === P.shape.length && V.shape[V.shape.length - 2] === P.shape[P.shape.length - 1], {
    fn,
    what: 'V.shape',
    rule: `be [..., ${P.shape[P.shape.length - 1]}, D] with the rank of P`,
    got: V.shape,
  });
  requireFinite(fn, 'P', P.data);
  requireFinite(fn, 'V', V.data);
}

/**
 * The empty observer state.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @equation n = 0
 * @deviation none
 * @precision exact
 */
export function initLogTransform(opts: LogTransformOptions): LogTransformState {
  const k = (opts.alphas ?? LNQ_ALPHAS).length;
  return { count: 0, scales: new Float64Array(k), errors: new Float32Array(k), searches: [] };
}

/**
 * Search every α on one batch (P, V) and fold the results in.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4 "Calibration search")
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#LogTransformObserver.forward
 * @equation s*_α = argmin_{s∈[max(1e−4, 0.1·xmax), xmax]} mean|Q_{s,α}(P)·V − P·V|^2.4 (bounded Brent, N_q = 2^b − 1);
 *           S_α ← running mean of s*_α;  E_α ← E_α + err_α
 * @deviation none; matmul and mean accumulate in float64 (PyTorch: float32), so the Brent path can differ slightly
 * @precision float64 search, float32 quantization, fp64-accumulate objective
 */
export function observeLogTransform(state: LogTransformState, P: Tensor, V: Tensor, opts: LogTransformOptions): LogTransformState {
  const fn = 'observeLogTransform';
  requireBits(fn, opts.bits);
  requireAttention(fn, P, V);
  const alphas = opts.alphas ?? LNQ_ALPHAS;
  specRequire(state.scales.length === alphas.length, { fn, what: 'state', rule: `come from initLogTransform with ${alphas.length} alphas`, got: state.scales.length });
  const p = opts.p ?? 2.4;
  const nq = 2 ** opts.bits - 1;
  let xmax = -Infinity;
  for (let i = 0; i < P.data.length; i++) xmax = Math.max(xmax, P.data[i]!);
  specRequire(xmax > 0, { fn, what: 'max(P)', rule: 'be > 0', got: xmax });
  const ref = matmulBatchedF32(P.data, P.shape, V);
  const lo = Math.max(1e-4, 0.1 * xmax);
  const q = new Float32Array(P.data.length);
  const searches: LogTransformSearch[] = [];
  const scales = state.scales.slice();
  const errors = state.errors.slice();
  // per α, the clip-independent numerators ℓ_i = f32(ln(1 + α·max(p_i, 10⁻²⁰))) are computed once:
  // for p_i < s the code is ⌊N_q·ℓ_i/den(s)⌉ (what lnqCodeKernel computes), for p_i ≥ s it is N_q
  // (numerator = den); the N_q + 1 dequantized values are a table per s. Bit-identical to the kernels.
  const num = new Float64Array(P.data.length);
  const table = new Float64Array(nq + 1);
  alphas.forEach((alpha, j) => {
    const a = f32(alpha);
    for (let i = 0; i < num.length; i++) num[i] = f32(Math.log(f32(1 + f32(a * Math.max(P.data[i]!, LNQ_FLOOR)))));
    const objective = (sv: number): number => {
      const s = f32(sv);
      const den = f32(Math.log(f32(1 + f32(a * s))));
      for (let c = 0; c <= nq; c++) table[c] = lnqValueKernel(c, a, nq, den);
      for (let i = 0; i < q.length; i++) {
        if (P.data[i]! >= s) { q[i] = table[nq]!; continue; }
        const c = roundHalfEven(f32(f32(num[i]! / den) * nq));
        q[i] = table[c < 0 ? 0 : c > nq ? nq : c]!;
      }
      return lpLossMean(matmulBatchedF32(q, P.shape, V), ref, p);
    };
    const r = brentBounded(objective, lo, xmax);
    searches.push({ ...r, alpha, bounds: [lo, xmax] });
    scales[j] = state.count === 0 ? r.x : (scales[j]! * state.count + r.x) / (state.count + 1);
    errors[j] = f32(errors[j]! + r.fun);
  });
  return { count: state.count + 1, scales, errors, searches: [...state.searches, searches] };
}

/**
 * Choose α by the summed error (first minimum) and return its averaged scale.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4 "Calibration search")
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#LogTransformQuantize.init_quantization
 * @equation α* = argmin_α E_α;  s* = S_α*
 * @deviation none
 * @precision float64 scale; float32 copy for the quantizer
 */
export function finalizeLogTransform(state: LogTransformState, opts: LogTransformOptions): LogTransformResult {
  specRequire(state.count > 0, { fn: 'finalizeLogTransform', what: 'state.count', rule: 'be > 0 (observe at least one batch)', got: state.count });
  const alphas = opts.alphas ?? LNQ_ALPHAS;
  let best = 0;
  for (let j = 1; j < alphas.length; j++) if (state.errors[j]! < state.errors[best]!) best = j;
  return { alpha: alphas[best]!, scale: state.scales[best]!, scaleF32: f32(state.scales[best]!) };
}
