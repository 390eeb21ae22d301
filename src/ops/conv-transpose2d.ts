/**
 * 2-D transposed convolution (the adjoint of conv2d), PyTorch nn.ConvTranspose2d semantics.
 *
 * Legend: N batch, C input channels, H×W input size, O output channels, G groups,
 * Cg = C/G, Og = O/G, kh×kw kernel, Ho×Wo output size.
 */
import { specRequire, type Tensor } from '../tensor';
import { requireInput, requirePair, requirePositiveInt, requireRank } from './check';

// TYPES

/** Attributes of `convTranspose2d` (PyTorch nn.ConvTranspose2d). */
export interface ConvTranspose2dAttrs {
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly outputPadding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

// MAIN

/**
 * Transposed convolution: x [N, C, H, W], weight [C, O/G, kh, kw], bias [O] → [N, O, Ho, Wo].
 * @source PyTorch torch.nn.functional.conv_transpose2d
 * @equation y[n, g·Og + o, p, q] = b[g·Og + o] + Σ_{c ∈ group g} Σ_{u, v, i, j : p = u·sh − ph + i·dh, q = v·sw − pw + j·dw} x[n, c, u, v] · W[c, o, i, j];
 *   Ho = (H − 1)·sh − 2ph + dh(kh − 1) + oph + 1, likewise Wo
 * @deviation none; NaN/±∞ propagate
 * @precision fp64-accumulate (from b, then c, i, j, u, v ascending), fp32-store
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: ConvTranspose2dAttrs): Tensor {
  const fn = 'convTranspose2d';
  requireInput(fn, 'x', x);
  requireInput(fn, 'weight', weight);
  requireRank(fn, 'x', x, 4);
  requireRank(fn, 'weight', weight, 4);
  specRequire(attrs !== undefined && attrs !== null, { fn, what: 'attrs', rule: 'be given', got: attrs });
  requirePair(fn, 'attrs.stride', attrs.stride, true);
  requirePair(fn, 'attrs.padding', attrs.padding, false);
  requirePair(fn, 'attrs.outputPadding', attrs.outputPadding, false);
  requirePair(fn, 'attrs.dilation', attrs.dilation, true);
  requirePositiveInt(fn, 'attrs.groups', attrs.groups);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Cw, Og, kh, kw] = weight.shape as [number, number, number, number];
  const G = attrs.groups;
  specRequire(C % G === 0, { fn, what: 'x.shape[1]', rule: `be divisible by groups = ${G}`, got: C });
  specRequire(Cw === C, { fn, what: 'weight.shape[0]', rule: `equal x.shape[1] = ${C}`, got: Cw });
  const O = Og * G;
  if (bias !== undefined) {
    requireInput(fn, 'bias', bias);
    specRequire(bias.shape.length === 1 && bias.shape[0] === O, { fn, what: 'bias.shape', rule: `be [${O}]`, got: bias.shape });
  }
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const [oph, opw] = attrs.outputPadding;
  const [dh, dw] = attrs.dilation;
  // PyTorch rule: output padding must be smaller than either stride or dilation
  specRequire(oph < sh || oph < dh, { fn, what: 'attrs.outputPadding[0]', rule: `be < stride[0] or < dilation[0]`, got: oph });
  specRequire(opw < sw || opw < dw, { fn, what: 'attrs.outputPadding[1]', rule: `be < stride[1] or < dilation[1]`, got: opw });
  const Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  specRequire(Ho >= 1 && Wo >= 1, { fn, what: 'output size', rule: 'be at least 1×1 (padding too large)', got: [Ho, Wo] });

  const Cg = C / G;
  const acc = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < O; oc++) {
      const b = bias === undefined ? 0 : bias.data[oc]!;
      acc.fill(b, (n * O + oc) * Ho * Wo, (n * O + oc + 1) * Ho * Wo);
    }
    for (let g = 0; g < G; g++) {
      for (let c = 0; c < Cg; c++) {
        const ci = g * Cg + c;
        const xPlane = (n * C + ci) * H * W;
        for (let o = 0; o < Og; o++) {
          const yPlane = (n * O + g * Og + o) * Ho * Wo;
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const w = weight.data[((ci * Og + o) * kh + i) * kw + j]!;
              // scatter x[n, ci, u, v]·w to y[p = u·sh − ph + i·dh, q = v·sw − pw + j·dw]
              for (let u = 0; u < H; u++) {
                const p = u * sh - ph + i * dh;
                if (p < 0 || p >= Ho) continue;
                const xRow = xPlane + u * W;
                const yRow = yPlane + p * Wo;
                for (let v = 0; v < W; v++) {
                  const q = v * sw - pw + j * dw;
                  if (q >= 0 && q < Wo) acc[yRow + q] += x.data[xRow + v]! * w;
                }
              }
            }
          }
        }
      }
    }
  }
  return { dtype: 'float32', shape: [N, O, Ho, Wo], data: Float32Array.from(acc) }; // [N, O, Ho, Wo]
}
