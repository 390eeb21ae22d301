/**
 * Fast 2-D convolution drivers over the kernel runtime: groups = 1 (and every group of a grouped
 * conv) as a GEMM whose A operand is the weight read in place ([Og, Cg·kh·kw]) and whose B operand
 * is the im2col patch matrix packed straight into k-major NR = 8 panels (no separate im2col
 * buffer, no output transpose: C [Og, Ho·Wo] is already NCHW); depthwise convs as a direct loop.
 *
 * Legend: N batch, C input channels, H×W input, O output channels, G groups, Cg = C/G, Og = O/G,
 * kh×kw kernel, Ho×Wo output, P = Ho·Wo output positions, Kc = Cg·kh·kw reduction length.
 */
import type { Tensor } from '../tensor';
import { alloc, f32At } from './arena';
import { produceF32 } from './resident';
import { gemmF32Batch, type GemmF32Task, type PackedF32 } from './gemm';
import { GEMM_NR, PANEL_STEP_BYTES } from './gemm-kernel';
import { geluInPlace } from './rows';
import { runOnThreads, type KernelRuntime } from './runtime';

// TYPES

/** Resolved geometry of one conv2d call (validated by the caller). */
export interface ConvGeometry {
  readonly N: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly O: number;
  readonly G: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly dh: number;
  readonly dw: number;
  readonly Ho: number;
  readonly Wo: number;
}

// MAIN

/**
 * Pack the im2col matrix of channels [c0, c0 + Cg) of image n as GEMM B [Kc, P] in NR = 8 panels.
 * @source PyTorch F.conv2d (zero padding); PERFORMANCE.md (k-major NR=8 panels)
 * @equation B[(c, i, j), p] = x[n, c0 + c, py·sh − ph + i·dh, px·sw − pw + j·dw] (0 outside), p = py·Wo + px
 * @deviation none
 * @precision exact (copy)
 */
export function packIm2col(rt: KernelRuntime, x: Float32Array, n: number, c0: number, Cg: number, g: ConvGeometry): PackedF32 {
  const { C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const P = Ho * Wo;
  const Kc = Cg * kh * kw;
  const panels = Math.ceil(P / GEMM_NR);
  const ptr = alloc(rt.arena, panels * Kc * PANEL_STEP_BYTES);
  const dst = f32At(rt.arena, ptr, panels * Kc * GEMM_NR);
  const plane = H * W;
  const xBase = (n * C + c0) * plane;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0) {
    // 1×1, stride 1, no padding: B[c, p] = x[c, p], packed as 8-float runs (row by row of x);
    // only the last, partial panel needs zero columns
    const full = Math.floor(P / GEMM_NR);
    if (full < panels) dst.fill(0, full * Kc * GEMM_NR);
    for (let c = 0; c < Cg; c++) {
      const src = xBase + c * plane;
      for (let p = 0; p < full; p++) {
        const o = (p * Kc + c) * GEMM_NR;
        const s = src + p * GEMM_NR;
        dst[o] = x[s]!; dst[o + 1] = x[s + 1]!; dst[o + 2] = x[s + 2]!; dst[o + 3] = x[s + 3]!;
        dst[o + 4] = x[s + 4]!; dst[o + 5] = x[s + 5]!; dst[o + 6] = x[s + 6]!; dst[o + 7] = x[s + 7]!;
      }
      if (full < panels) {
        const o = (full * Kc + c) * GEMM_NR;
        for (let col = 0; col < P - full * GEMM_NR; col++) dst[o + col] = x[src + full * GEMM_NR + col]!;
      }
    }
    return { kind: 'f32', ptr, K: Kc, N: P, panels, biasPtr: 0 };
  }
  dst.fill(0);
  for (let p = 0; p < panels; p++) {
    for (let col = 0; col < GEMM_NR; col++) {
      const pos = p * GEMM_NR + col;
      if (pos >= P) break;
      const iy0 = Math.floor(pos / Wo) * sh - ph;
      const ix0 = (pos % Wo) * sw - pw;
      let o = p * Kc * GEMM_NR + col; // (p, k = 0, col)
      for (let c = 0; c < Cg; c++) {
        const xc = xBase + c * plane;
        for (let i = 0; i < kh; i++) {
          const iy = iy0 + i * dh;
          const rowOk = iy >= 0 && iy < H;
          const xr = xc + iy * W;
          for (let j = 0; j < kw; j++, o += GEMM_NR) {
            const ix = ix0 + j * dw;
            if (rowOk && ix >= 0 && ix < W) dst[o] = x[xr + ix]!;
          }
        }
      }
    }
  }
  return { kind: 'f32', ptr, K: Kc, N: P, panels, biasPtr: 0 };
}

/**
 * conv2d for any groups with G < C or Cg > 1: per (image, group) one GEMM C[Og, P] = W_g[Og, Kc]·B[Kc, P],
 * run as one batch over the runtime's threads; bias added while copying out.
 * @source PyTorch torch.nn.functional.conv2d
 * @equation y[n, o, p] = b[o] + Σ_{c, i, j} W[o, c, i, j]·x[n, g·Cg + c, py·sh − ph + i·dh, px·sw − pw + j·dw]
 * @deviation float32 accumulation inside the GEMM (reference: float64); the output starts at the bias and
 *   each K block of the GEMM (256 k-steps) is added to it in order
 * @precision fp32-accumulate: |Δ| ≤ (Kc + 3)·2⁻²⁴·(Σ|W·x| + |b|), to first order
 */
export function conv2dGemm(rt: KernelRuntime, x: Tensor, weight: Tensor, bias: Tensor | undefined, g: ConvGeometry, gelu = false): Float32Array {
  const { N, O, G, kh, kw, Ho, Wo } = g;
  const Cg = g.C / G;
  const Og = O / G;
  const P = Ho * Wo;
  const Kc = Cg * kh * kw;
  return produceF32(rt, N * O * P, (cPtr) => {
    const wPtr = alloc(rt.arena, O * Kc * 4);
    f32At(rt.arena, wPtr, O * Kc).set(weight.data);
    // with a bias, every output row starts as its channel's bias (a native fill) and the GEMM accumulates onto it
    if (bias) {
      const c = f32At(rt.arena, cPtr, N * O * P);
      for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) c.fill(bias.data[o]!, (n * O + o) * P, (n * O + o + 1) * P);
    }
    const tasks: GemmF32Task[] = [];
    for (let n = 0; n < N; n++) {
      for (let gi = 0; gi < G; gi++) {
        const packed = packIm2col(rt, x.data as Float32Array, n, gi * Cg, Cg, g);
        tasks.push({ a: wPtr + gi * Og * Kc * 4, lda: Kc, packed, c: cPtr + (n * O + gi * Og) * P * 4, ldc: P, m: Og, accumulate: bias !== undefined });
      }
    }
    gemmF32Batch(rt, tasks);
    if (gelu) geluInPlace(rt, cPtr, N * O * P);
  });
}

/**
 * Depthwise conv2d (G = C, one input channel per group, O = m·C): a direct loop per output,
 * float64 accumulation, interior rows without bounds checks on the row index.
 * @source PyTorch torch.nn.functional.conv2d (groups = in_channels)
 * @equation y[n, o, py, px] = b[o] + Σ_{i, j} W[o, 0, i, j]·x[n, ⌊o/m⌋, py·sh − ph + i·dh, px·sw − pw + j·dw]
 * @deviation none (same fp64 accumulation order as the reference: bias, then i, j ascending)
 * @precision fp64-accumulate, fp32-store
 */
export function conv2dDepthwise(x: Tensor, weight: Tensor, bias: Tensor | undefined, g: ConvGeometry, newOut: (n: number) => Float32Array = (n) => new Float32Array(n)): Float32Array {
  const { N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const mult = O / C;
  const out = newOut(N * O * Ho * Wo);
  const xd = x.data;
  const wd = weight.data;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const xPlane = (n * C + Math.floor(o / mult)) * H * W;
      const wBase = o * kh * kw;
      const b0 = bias ? bias.data[o]! : 0;
      const oPlane = (n * O + o) * Ho * Wo;
      for (let py = 0; py < Ho; py++) {
        const iy0 = py * sh - ph;
        for (let px = 0; px < Wo; px++) {
          const ix0 = px * sw - pw;
          let s = b0;
          for (let i = 0; i < kh; i++) {
            const iy = iy0 + i * dh;
            if (iy < 0 || iy >= H) continue;
            const xr = xPlane + iy * W;
            const wr = wBase + i * kw;
            for (let j = 0; j < kw; j++) {
              const ix = ix0 + j * dw;
              if (ix >= 0 && ix < W) s += wd[wr + j]! * xd[xr + ix]!;
            }
          }
          out[oPlane + py * Wo + px] = s;
        }
      }
    }
  }
  return out;
}

/** Below this many multiply-adds a depthwise conv runs on the calling thread only. */
const DW_PARALLEL_MIN_MACS = 1 << 17;

/**
 * Depthwise conv2d with stride 1 and one filter per channel (O = C = G) on the wasm f32x4 kernel:
 * input planes copied into zero-padded rows (so the kernel has no bounds checks), 4 output columns
 * per vector, planes split over the runtime's threads.
 * @source PyTorch torch.nn.functional.conv2d (groups = in_channels, stride 1)
 * @equation y[n, c, py, px] = b[c] + Σ_{i, j} W[c, 0, i, j]·x_pad[n, c, py + i·dh, px + j·dw]
 * @deviation float32 accumulation (reference: float64), same order (bias, then i, j ascending)
 * @precision fp32-accumulate: |Δ| ≤ (kh·kw + 2)·2⁻²⁴·(Σ|W·x| + |b|), to first order
 */
export function conv2dDepthwiseWasm(rt: KernelRuntime, x: Tensor, weight: Tensor, bias: Tensor | undefined, g: ConvGeometry, gelu = false): Float32Array {
  const { N, C, H, W, kh, kw, ph, pw, dh, dw, Ho, Wo } = g;
  const wv = Math.ceil(Wo / 4);
  const Wo4 = wv * 4;
  const Hp = H + 2 * ph;
  const Wp = Math.max(W + 2 * pw, Wo4 + (kw - 1) * dw);
  const planes = N * C;
  const taps = kh * kw;
  return produceF32(rt, planes * Ho * Wo, (out) => {
    // (1) zero-padded input planes [N·C, Hp, Wp]
    const xp = alloc(rt.arena, planes * Hp * Wp * 4);
    const xv = f32At(rt.arena, xp, planes * Hp * Wp);
    const xd = x.data as Float32Array;
    for (let q = 0; q < planes; q++) {
      const o = q * Hp * Wp;
      xv.fill(0, o, o + ph * Wp); // top padding rows
      for (let r = 0; r < H; r++) {
        const row = o + (r + ph) * Wp;
        const s0 = (q * H + r) * W;
        xv.fill(0, row, row + pw);
        if (W >= 32) xv.set(xd.subarray(s0, s0 + W), row + pw); // native copy for long rows
        else for (let j = 0; j < W; j++) xv[row + pw + j] = xd[s0 + j]!;
        xv.fill(0, row + pw + W, row + Wp);
      }
      xv.fill(0, o + (H + ph) * Wp, o + Hp * Wp); // bottom padding rows
    }
    // (2) per-plane filters and biases (repeated for each image)
    const wPtr = alloc(rt.arena, planes * taps * 4);
    const bPtr = alloc(rt.arena, planes * 4);
    const wvw = f32At(rt.arena, wPtr, planes * taps);
    const bvw = f32At(rt.arena, bPtr, planes);
    for (let n = 0; n < N; n++) {
      wvw.set(weight.data, n * C * taps);
      if (bias) bvw.set(bias.data, n * C);
      else bvw.fill(0, n * C, (n + 1) * C);
    }
    // (3) kernel over plane ranges, one range per thread (straight into the output when rows need no padding)
    const yPtr = Wo4 === Wo ? out : alloc(rt.arena, planes * Ho * Wo4 * 4);
    const threads = planes * Ho * Wo * taps >= DW_PARALLEL_MIN_MACS ? rt.threads : 1;
    const share = Math.ceil(planes / threads);
    const calls = [];
    for (let t = 0; t < threads; t++) {
      const q0 = t * share;
      const count = Math.min(planes, q0 + share) - q0;
      if (count <= 0) break;
      calls.push({
        fn: rt.fnIndex.dwconv,
        args: [xp + q0 * Hp * Wp * 4, Hp * Wp * 4, Wp, wPtr + q0 * taps * 4, bPtr + q0 * 4, yPtr + q0 * Ho * Wo4 * 4, Ho * Wo4 * 4, count, Ho, wv, kh, kw, dh, dw],
      });
    }
    runOnThreads(rt, calls);
    if (gelu) geluInPlace(rt, yPtr, planes * Ho * Wo4);
    // (4) drop the padded output columns
    if (yPtr !== out) {
      const yv = f32At(rt.arena, yPtr, planes * Ho * Wo4);
      const ov = f32At(rt.arena, out, planes * Ho * Wo);
      for (let q = 0; q < planes * Ho; q++) ov.set(yv.subarray(q * Wo4, q * Wo4 + Wo), q * Wo);
    }
  });
}
