/**
 * Channel-first layer normalisation of [N, C, H, W] over C (SAM's LayerNorm2d).
 *
 * Legend: N batch, C channels (normalised), H×W spatial positions.
 */
import { requireShape, type Tensor } from '../tensor';
import { requireInput, requireRank } from './check';
import { requireEpsilon, type LayerNormAttrs } from './layer-norm';

// MAIN

/**
 * Normalise x [N, C, H, W] across C at each (n, h, w), then scale/shift per channel.
 * @source SAM-code@dca509f segment_anything/modeling/common.py#LayerNorm2d (default eps = 1e-6)
 * @equation y[n, c, h, w] = (x[n, c, h, w] − μ[n, h, w]) / √(σ²[n, h, w] + ε) · γ[c] + β[c], σ² biased over c
 * @deviation none; NaN/±∞ at a position make that position NaN across channels
 * @precision fp64-accumulate (two-pass), fp32-store
 */
export function layerNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, attrs: LayerNormAttrs): Tensor {
  const fn = 'layerNorm2d';
  requireInput(fn, 'x', x);
  requireRank(fn, 'x', x, 4);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  requireInput(fn, 'gamma', gamma);
  requireInput(fn, 'beta', beta);
  requireShape(fn, 'gamma', gamma, [C]);
  requireShape(fn, 'beta', beta, [C]);
  const eps = requireEpsilon(fn, attrs);
  const P = H * W;
  const out = new Float32Array(x.data.length);
  const mean = new Float64Array(P);
  const sq = new Float64Array(P);
  for (let n = 0; n < N; n++) {
    const base = n * C * P;
    // (1) mean over channels at every position
    mean.fill(0);
    for (let c = 0; c < C; c++) for (let p = 0; p < P; p++) mean[p] += x.data[base + c * P + p]!;
    for (let p = 0; p < P; p++) mean[p] /= C;
    // (2) biased variance over channels
    sq.fill(0);
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < P; p++) {
        const d = x.data[base + c * P + p]! - mean[p]!;
        sq[p] += d * d;
      }
    }
    // (3) rstd, (4) scale and shift
    for (let p = 0; p < P; p++) sq[p] = 1 / Math.sqrt(sq[p]! / C + eps);
    for (let c = 0; c < C; c++) {
      const g = gamma.data[c]!;
      const b = beta.data[c]!;
      for (let p = 0; p < P; p++) {
        const i = base + c * P + p;
        out[i] = (x.data[i]! - mean[p]!) * sq[p]! * g + b;
      }
    }
  }
  return { dtype: 'float32', shape: [N, C, H, W], data: out };
}
