/**
 * Bilinear resize of [N, C, H, W] to a given size, PyTorch F.interpolate(mode="bilinear",
 * align_corners=False, antialias=False) semantics.
 *
 * Legend: N batch, C channels, H×W input size, Ho×Wo output size.
 */
import { type Tensor } from '../tensor';
import { requireInput, requirePair, requireRank } from './check';

const f32 = Math.fround;

// TYPES

/** Attributes of `interpolateBilinear`. */
export interface InterpolateBilinearAttrs {
  readonly size: readonly [number, number];
}

// MAIN

/**
 * Source taps along one axis: for each output index, the two input indices and their weights.
 * Coordinates are computed in float32 exactly as PyTorch's CPU kernel does (opmath float).
 * @source PyTorch aten/src/ATen/native/UpSample.h#area_pixel_compute_source_index, #guard_index_and_lambda
 * @equation src = max((o + ½) · in/out − ½, 0); i0 = ⌊src⌋, i1 = min(i0 + 1, in − 1), λ1 = src − i0, λ0 = 1 − λ1
 * @deviation none
 * @precision float32 coordinate arithmetic (Math.fround after each op)
 */
export function bilinearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w0: Float64Array; w1: Float64Array } {
  const scale = f32(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float64Array(outSize);
  const w1 = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let src = f32(f32(scale * f32(o + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const lo = Math.min(Math.floor(src), inSize - 1);
    const lambda = Math.min(f32(src - lo), 1);
    i0[o] = lo;
    i1[o] = lo < inSize - 1 ? lo + 1 : lo;
    w1[o] = lambda;
    w0[o] = f32(1 - lambda);
  }
  return { i0, i1, w0, w1 };
}

/**
 * Bilinear resize: x [N, C, H, W] → [N, C, size[0], size[1]] (align_corners = False, no antialias).
 * @source PyTorch torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False);
 *   used by SAM-code@dca509f modeling/sam.py#postprocess_masks
 * @equation y[n, c, p, q] = Σ_{a∈{0,1}} Σ_{b∈{0,1}} wh_a(p) · ww_b(q) · x[n, c, ih_a(p), iw_b(q)] (taps from `bilinearTaps`)
 * @deviation none; NaN/±∞ propagate through the taps that touch them
 * @precision float32 coordinates and weights (as PyTorch), fp64 blend, fp32-store
 */
export function interpolateBilinear(x: Tensor, attrs: InterpolateBilinearAttrs): Tensor {
  const fn = 'interpolateBilinear';
  requireInput(fn, 'x', x);
  requireRank(fn, 'x', x, 4);
  requirePair(fn, 'attrs.size', attrs?.size, true);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Ho, Wo] = attrs.size;
  const th = bilinearTaps(H, Ho);
  const tw = bilinearTaps(W, Wo);
  const out = new Float32Array(N * C * Ho * Wo);
  for (let nc = 0; nc < N * C; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * Ho * Wo;
    for (let p = 0; p < Ho; p++) {
      const r0 = xPlane + th.i0[p]! * W;
      const r1 = xPlane + th.i1[p]! * W;
      const a0 = th.w0[p]!;
      const a1 = th.w1[p]!;
      for (let q = 0; q < Wo; q++) {
        const c0 = tw.i0[q]!;
        const c1 = tw.i1[q]!;
        const b0 = tw.w0[q]!;
        const b1 = tw.w1[q]!;
        out[yPlane + p * Wo + q] =
          a0 * (b0 * x.data[r0 + c0]! + b1 * x.data[r0 + c1]!) + a1 * (b0 * x.data[r1 + c0]! + b1 * x.data[r1 + c1]!);
      }
    }
  }
  return { dtype: 'float32', shape: [N, C, Ho, Wo], data: out }; // [N, C, Ho, Wo]
}
