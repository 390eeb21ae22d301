/**
 * Random Fourier-feature positional encoding of normalised 2-D coordinates (SAM PositionEmbeddingRandom).
 *
 * Legend: F number of frequencies (gaussian is [2, F]), output width 2F.
 */
import { requireShape, specRequire, type Tensor } from '../tensor';
import { requireInput, requirePair, requireRank } from '../ops/check';

// MAIN

/**
 * Encode coords [..., 2] (x, y in [0, 1]) as [sin(2π·(2c − 1)·G), cos(2π·(2c − 1)·G)] → [..., 2F].
 * @source SAM-code@dca509f segment_anything/modeling/prompt_encoder.py#PositionEmbeddingRandom._pe_encoding
 * @equation u = 2c − 1; p = 2π · (u @ G) ∈ ℝ^F; out = [sin p, cos p]
 * @deviation none. As in PyTorch, u, u@G and 2π·(u@G) are float32 tensors (rounded after each step);
 *   coordinates are not range-checked (the official code does not clamp)
 * @precision u@G fp64-accumulate then fp32; 2π·p rounded to fp32; sin/cos in fp64, fp32-store
 */
export function peEncoding(coords: Tensor, gaussian: Tensor): Tensor {
  const fn = 'peEncoding';
  requireInput(fn, 'coords', coords);
  requireRank(fn, 'coords', coords, 1, true);
  specRequire(coords.shape[coords.shape.length - 1] === 2, { fn, what: 'coords.shape[-1]', rule: 'be 2 (x, y)', got: coords.shape });
  requireInput(fn, 'gaussian', gaussian);
  requireRank(fn, 'gaussian', gaussian, 2);
  const F = gaussian.shape[1]!;
  requireShape(fn, 'gaussian', gaussian, [2, F]);
  const P = coords.data.length / 2;
  const twoPi = Math.fround(2 * Math.PI);
  const out = new Float32Array(P * 2 * F); // [..., 2F]
  for (let p = 0; p < P; p++) {
    const ux = Math.fround(Math.fround(2 * coords.data[2 * p]!) - 1);
    const uy = Math.fround(Math.fround(2 * coords.data[2 * p + 1]!) - 1);
    for (let f = 0; f < F; f++) {
      const proj = Math.fround(ux * gaussian.data[f]! + uy * gaussian.data[F + f]!);
      const ang = Math.fround(twoPi * proj);
      out[p * 2 * F + f] = Math.sin(ang);
      out[p * 2 * F + F + f] = Math.cos(ang);
    }
  }
  return { dtype: 'float32', shape: [...coords.shape.slice(0, -1), 2 * F], data: out };
}

/**
 * Dense positional encoding of an h×w grid: [2F, h, w], cell (r, c) encoded at ((c + ½)/w, (r + ½)/h), x first.
 * @source SAM-code@dca509f segment_anything/modeling/prompt_encoder.py#PositionEmbeddingRandom.forward
 * @equation pe[:, r, c] = peEncoding(((c + ½)/w, (r + ½)/h), G)
 * @deviation none. The official code builds the centres as (cumsum(ones) − 0.5)/size in float32; those values equal
 *   float32((c + ½)/w) exactly for the grid sizes used here (cumsum of ones is exact below 2^24)
 * @precision as peEncoding
 */
export function denseImagePe(gaussian: Tensor, size: readonly [number, number]): Tensor {
  const fn = 'denseImagePe';
  requirePair(fn, 'size', size, true);
  const [h, w] = size;
  const coords = new Float32Array(h * w * 2); // [h, w, 2]
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      coords[(r * w + c) * 2] = Math.fround(Math.fround(c + 0.5) / w);
      coords[(r * w + c) * 2 + 1] = Math.fround(Math.fround(r + 0.5) / h);
    }
  }
  const pe = peEncoding({ dtype: 'float32', shape: [h, w, 2], data: coords }, gaussian); // [h, w, 2F]
  const D = pe.shape[2]!;
  const out = new Float32Array(D * h * w); // [2F, h, w]
  for (let p = 0; p < h * w; p++) for (let d = 0; d < D; d++) out[d * h * w + p] = pe.data[p * D + d]!;
  return { dtype: 'float32', shape: [D, h, w], data: out };
}
