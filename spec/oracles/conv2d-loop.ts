/**
 * Test oracle: direct 2-D convolution and transposed convolution as written in PyTorch's docs
 * (no im2col, no code shared with src/ops). Transposed convolution is computed in *gather* form
 * (for each output, find the inputs that reach it), unlike src's scatter form.
 */
import type { Tensor } from '../../src/tensor';

export interface ConvLoopAttrs {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

/** y[n,o,p,q] = b[o] + Σ_{c,i,j} x[n, g·Cg + c, p·sh − ph + i·dh, q·sw − pw + j·dw] · w[o, c, i, j]. */
export function conv2dLoop(x: Tensor, w: Tensor, bias: Tensor | undefined, a: ConvLoopAttrs): Tensor {
  const [N, C, H, W] = x.shape as number[] as [number, number, number, number];
  const [O, Cg, kh, kw] = w.shape as number[] as [number, number, number, number];
  const Og = O / a.groups;
  const Ho = Math.floor((H + 2 * a.padding[0] - a.dilation[0] * (kh - 1) - 1) / a.stride[0]) + 1;
  const Wo = Math.floor((W + 2 * a.padding[1] - a.dilation[1] * (kw - 1) - 1) / a.stride[1]) + 1;
  const out = new Float32Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let p = 0; p < Ho; p++)
        for (let q = 0; q < Wo; q++) {
          let s = bias ? bias.data[o]! : 0;
          const g = Math.floor(o / Og);
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const y = p * a.stride[0] - a.padding[0] + i * a.dilation[0];
                const z = q * a.stride[1] - a.padding[1] + j * a.dilation[1];
                if (y < 0 || y >= H || z < 0 || z >= W) continue;
                s += x.data[((n * C + g * Cg + c) * H + y) * W + z]! * w.data[((o * Cg + c) * kh + i) * kw + j]!;
              }
          out[((n * O + o) * Ho + p) * Wo + q] = s;
        }
  return { dtype: 'float32', shape: [N, O, Ho, Wo], data: out };
}

export interface ConvTLoopAttrs extends ConvLoopAttrs {
  outputPadding: [number, number];
}

/** Gather form: y[n, o, p, q] = b[o] + Σ x[n, c, u, v]·w[c, o − g·Og, i, j] over p = u·sh − ph + i·dh, q = v·sw − pw + j·dw. */
export function convTranspose2dLoop(x: Tensor, w: Tensor, bias: Tensor | undefined, a: ConvTLoopAttrs): Tensor {
  const [N, C, H, W] = x.shape as number[] as [number, number, number, number];
  const [, Og, kh, kw] = w.shape as number[] as [number, number, number, number];
  const G = a.groups;
  const O = Og * G;
  const Cg = C / G;
  const Ho = (H - 1) * a.stride[0] - 2 * a.padding[0] + a.dilation[0] * (kh - 1) + a.outputPadding[0] + 1;
  const Wo = (W - 1) * a.stride[1] - 2 * a.padding[1] + a.dilation[1] * (kw - 1) + a.outputPadding[1] + 1;
  const out = new Float32Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let p = 0; p < Ho; p++)
        for (let q = 0; q < Wo; q++) {
          let s = bias ? bias.data[o]! : 0;
          const g = Math.floor(o / Og);
          for (let c = g * Cg; c < (g + 1) * Cg; c++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const uNum = p + a.padding[0] - i * a.dilation[0];
                const vNum = q + a.padding[1] - j * a.dilation[1];
                if (uNum % a.stride[0] !== 0 || vNum % a.stride[1] !== 0) continue;
                const u = uNum / a.stride[0];
                const v = vNum / a.stride[1];
                if (u < 0 || u >= H || v < 0 || v >= W) continue;
                s += x.data[((n * C + c) * H + u) * W + v]! * w.data[((c * Og + (o - g * Og)) * kh + i) * kw + j]!;
              }
          out[((n * O + o) * Ho + p) * Wo + q] = s;
        }
  return { dtype: 'float32', shape: [N, O, Ho, Wo], data: out };
}
