/**
 * Layer normalisation over the last axis (PyTorch nn.LayerNorm with normalized_shape = [C]).
 *
 * Legend: R rows (product of leading dims), C normalised length.
 */
import { requireShape, specRequire, type Tensor } from '../tensor';
import { requireInput, requireRank } from './check';

// TYPES

/** Attributes of `layerNorm` / `layerNorm2d`. `epsilon` is required: SAM uses 1e-6 and 1e-5 in different places. */
export interface LayerNormAttrs {
  readonly epsilon: number;
}

// MAIN

/**
 * Validate the required epsilon attribute and return it (shared with layerNorm2d).
 * @source SAM-code@dca509f build_sam.py#_build_sam, modeling/common.py#LayerNorm2d, modeling/transformer.py (three different ε)
 * @deviation none
 * @precision exact
 */
export function requireEpsilon(fn: string, attrs: LayerNormAttrs | undefined): number {
  const eps = attrs?.epsilon;
  specRequire(typeof eps === 'number' && Number.isFinite(eps) && eps > 0, {
    fn,
    what: 'attrs.epsilon',
    rule: 'be given explicitly as a finite number > 0 (no default: SAM uses 1e-6 and 1e-5)',
    got: eps,
    ref: 'SAM-code@dca509f build_sam.py#_build_sam, modeling/common.py#LayerNorm2d, modeling/transformer.py',
  });
  return eps;
}

/**
 * Normalise each row of x [..., C] to zero mean and unit (biased) variance, then scale and shift.
 * @paper LayerNorm (Ba et al. 2016, arXiv:1607.06450)
 * @source SAM-code@dca509f build_sam.py#_build_sam (ViT blocks eps = 1e-6); modeling/transformer.py (bare nn.LayerNorm, eps = 1e-5)
 * @equation y = (x − μ) / √(σ² + ε) · γ + β, μ = (1/C) Σ x, σ² = (1/C) Σ (x − μ)²
 * @deviation none; NaN/±∞ in a row make that row NaN
 * @precision fp64-accumulate (two-pass mean then variance), fp32-store
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, attrs: LayerNormAttrs): Tensor {
  const fn = 'layerNorm';
  requireInput(fn, 'x', x);
  requireRank(fn, 'x', x, 1, true);
  const C = x.shape[x.shape.length - 1]!;
  requireInput(fn, 'gamma', gamma);
  requireInput(fn, 'beta', beta);
  requireShape(fn, 'gamma', gamma, [C]);
  requireShape(fn, 'beta', beta, [C]);
  const eps = requireEpsilon(fn, attrs);
  const R = x.data.length / C;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < R; r++) {
    const o = r * C;
    // (1) mean
    let sum = 0;
    for (let c = 0; c < C; c++) sum += x.data[o + c]!;
    const mean = sum / C;
    // (2) biased variance
    let sq = 0;
    for (let c = 0; c < C; c++) {
      const d = x.data[o + c]! - mean;
      sq += d * d;
    }
    // (3) reciprocal standard deviation
    const rstd = 1 / Math.sqrt(sq / C + eps);
    // (4) scale and shift
    for (let c = 0; c < C; c++) out[o + c] = (x.data[o + c]! - mean) * rstd * gamma.data[c]! + beta.data[c]!;
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}
