/**
 * 2-D cross-correlation ("convolution" in PyTorch) with zero padding, stride, dilation and groups.
 *
 * Legend: N batch, C input channels, H×W input size, O output channels, G groups,
 * Cg = C/G, Og = O/G, kh×kw kernel, Ho×Wo output size.
 */
import { specRequire, type Tensor } from '../tensor';
import { requireInput, requirePair, requirePositiveInt, requireRank } from './check';
import { gemmInto } from './matmul';

// TYPES

/** Attributes of `conv2d` (PyTorch nn.Conv2d, symmetric zero padding). */
export interface Conv2dAttrs {
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

// MAIN

/** Geometry of a validated conv2d call (all sizes of the equation below). */
export interface Conv2dGeometry {
  readonly N: number; readonly C: number; readonly H: number; readonly W: number;
  readonly O: number; readonly Cg: number; readonly G: number; readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number; readonly ph: number; readonly pw: number; readonly dh: number; readonly dw: number;
  readonly Ho: number; readonly Wo: number;
}

/**
 * The preconditions of `conv2d` (shared with every backend's conv2d so errors are identical) and the
 * geometry they imply.
 * @source PyTorch torch.nn.functional.conv2d (argument rules)
 * @equation Ho = ⌊(H + 2ph − dh(kh − 1) − 1)/sh⌋ + 1, likewise Wo
 * @deviation none
 * @precision exact
 */
export function conv2dGeometry(x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: Conv2dAttrs): Conv2dGeometry {
  const fn = 'conv2d';
  requireInput(fn, 'x', x);
  requireInput(fn, 'weight', weight);
  requireRank(fn, 'x', x, 4);
  requireRank(fn, 'weight', weight, 4);
  specRequire(attrs !== undefined && attrs !== null, { fn, what: 'attrs', rule: 'be given', got: attrs });
  requirePair(fn, 'attrs.stride', attrs.stride, true);
  requirePair(fn, 'attrs.padding', attrs.padding, false);
  requirePair(fn, 'attrs.dilation', attrs.dilation, true);
  requirePositiveInt(fn, 'attrs.groups', attrs.groups);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = weight.shape as [number, number, number, number];
  const G = attrs.groups;
  specRequire(C % G === 0, { fn, what: 'x.shape[1]', rule: `be divisible by groups = ${G}`, got: C });
  specRequire(O % G === 0, { fn, what: 'weight.shape[0]', rule: `be divisible by groups = ${G}`, got: O });
  specRequire(Cg === C / G, { fn, what: 'weight.shape[1]', rule: `equal x.shape[1] / groups = ${C / G}`, got: Cg });
  if (bias !== undefined) {
    requireInput(fn, 'bias', bias);
    specRequire(bias.shape.length === 1 && bias.shape[0] === O, { fn, what: 'bias.shape', rule: `be [${O}]`, got: bias.shape });
  }
  const [sh, sw] = attrs.stride;
  const [ph, pw] = attrs.padding;
  const [dh, dw] = attrs.dilation;
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  specRequire(Ho >= 1 && Wo >= 1, { fn, what: 'output size', rule: 'be at least 1×1 (kernel larger than padded input)', got: [Ho, Wo] });
  return { N, C, H, W, O, Cg, G, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo };
}

/**
 * 2-D convolution: x [N, C, H, W], weight [O, C/G, kh, kw], bias [O] → [N, O, Ho, Wo].
 * @source PyTorch torch.nn.functional.conv2d (padding_mode="zeros")
 * @equation y[n, o, p, q] = b[o] + Σ_{c ∈ group(o)} Σ_{i, j} x[n, c, p·sh − ph + i·dh, q·sw − pw + j·dw] · W[o, c − g·Cg, i, j]
 *   (x is 0 outside [0, H) × [0, W)); Ho = ⌊(H + 2ph − dh(kh − 1) − 1)/sh⌋ + 1, likewise Wo
 * @deviation none; NaN/±∞ propagate
 * @precision fp64-accumulate (from b[o], then c, i, j ascending), fp32-store
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: Conv2dAttrs): Tensor {
  const { N, C, H, W, O, Cg, G, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = conv2dGeometry(x, weight, bias, attrs);

  const Og = O / G;
  const P = Ho * Wo; // output positions
  const Kc = Cg * kh * kw; // reduction length per output
  const col = new Float32Array(P * Kc); // im2col patch matrix [P, Kc], zero where padded
  const wt = new Float32Array(Kc * Og); // group weights transposed [Kc, Og]
  const prod = new Float32Array(P * Og); // [P, Og]
  const out = new Float32Array(N * O * P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      // (1) im2col: col[p, (c, i, j)] = x[n, g·Cg + c, p_y·sh − ph + i·dh, p_x·sw − pw + j·dw]
      col.fill(0);
      for (let c = 0; c < Cg; c++) {
        const xPlane = ((n * C) + g * Cg + c) * H * W;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const k = (c * kh + i) * kw + j;
            for (let py = 0; py < Ho; py++) {
              const iy = py * sh - ph + i * dh;
              if (iy < 0 || iy >= H) continue;
              const xRow = xPlane + iy * W;
              for (let px = 0; px < Wo; px++) {
                const ix = px * sw - pw + j * dw;
                if (ix >= 0 && ix < W) col[(py * Wo + px) * Kc + k] = x.data[xRow + ix]!;
              }
            }
          }
        }
      }
      // (2) wt[k, o] = W[g·Og + o, k]
      for (let o = 0; o < Og; o++) {
        const wRow = (g * Og + o) * Kc;
        for (let k = 0; k < Kc; k++) wt[k * Og + o] = weight.data[wRow + k]!;
      }
      // (3) prod = col · wt (+ bias) ; then scatter [P, Og] → out[n, g·Og + o, p]
      gemmInto(col, 0, wt, 0, prod, 0, P, Kc, Og, bias?.data.subarray(g * Og, (g + 1) * Og));
      for (let o = 0; o < Og; o++) {
        const oPlane = (n * O + g * Og + o) * P;
        for (let p = 0; p < P; p++) out[oPlane + p] = prod[p * Og + o]!;
      }
    }
  }
  return { dtype: 'float32', shape: [N, O, Ho, Wo], data: out }; // [N, O, Ho, Wo]
}
