/**
 * Test oracle: bilinear resize (align_corners = False) straight from the PyTorch formula, in fp64,
 * one output element at a time.
 */
import type { Tensor } from '../../src/tensor';

function src(o: number, inSize: number, outSize: number): [number, number, number] {
  const s = Math.max((inSize / outSize) * (o + 0.5) - 0.5, 0);
  const i0 = Math.min(Math.floor(s), inSize - 1);
  const i1 = Math.min(i0 + 1, inSize - 1);
  const l = Math.min(s - i0, 1);
  return [i0, i1, l];
}

/** y[n,c,p,q] = bilinear blend of the 4 neighbours at source ((p+½)·H/Ho − ½, (q+½)·W/Wo − ½), clamped at 0. */
export function interpolateBilinearLoop(x: Tensor, Ho: number, Wo: number): Tensor {
  const [N, C, H, W] = x.shape as number[] as [number, number, number, number];
  const out = new Float32Array(N * C * Ho * Wo);
  for (let nc = 0; nc < N * C; nc++)
    for (let p = 0; p < Ho; p++)
      for (let q = 0; q < Wo; q++) {
        const [y0, y1, ly] = src(p, H, Ho);
        const [x0, x1, lx] = src(q, W, Wo);
        const v = (y: number, z: number): number => x.data[nc * H * W + y * W + z]!;
        out[nc * Ho * Wo + p * Wo + q] = (1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1));
      }
  return { dtype: 'float32', shape: [N, C, Ho, Wo], data: out };
}
