/**
 * Test oracles: naive layer norm (last axis), LayerNorm2d (channel axis of NCHW) and softmax,
 * each written as the textbook formula with one-pass-per-quantity fp64 loops.
 */
import type { Tensor } from '../../src/tensor';

/** y = (x − mean)/sqrt(var + eps)·γ + β over the last axis (biased var). */
export function layerNormLoop(x: Tensor, g: Tensor, b: Tensor, eps: number): Tensor {
  const C = x.shape[x.shape.length - 1]!;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < x.data.length / C; r++) {
    const row = Array.from(x.data.subarray(r * C, (r + 1) * C));
    const mean = row.reduce((s, v) => s + v, 0) / C;
    const v = row.reduce((s, z) => s + (z - mean) ** 2, 0) / C;
    row.forEach((z, c) => (out[r * C + c] = ((z - mean) / Math.sqrt(v + eps)) * g.data[c]! + b.data[c]!));
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}

/** SAM LayerNorm2d: normalise across C at each (n, h, w). */
export function layerNorm2dLoop(x: Tensor, g: Tensor, b: Tensor, eps: number): Tensor {
  const [N, C, H, W] = x.shape as number[] as [number, number, number, number];
  const out = new Float32Array(x.data.length);
  const at = (n: number, c: number, h: number, w: number): number => ((n * C + c) * H + h) * W + w;
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) {
        let u = 0;
        for (let c = 0; c < C; c++) u += x.data[at(n, c, h, w)]!;
        u /= C;
        let s = 0;
        for (let c = 0; c < C; c++) s += (x.data[at(n, c, h, w)]! - u) ** 2;
        s /= C;
        for (let c = 0; c < C; c++) out[at(n, c, h, w)] = ((x.data[at(n, c, h, w)]! - u) / Math.sqrt(s + eps)) * g.data[c]! + b.data[c]!;
      }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}

/** softmax over the last axis: exp(x − max)/Σ exp(x − max). */
export function softmaxLastLoop(x: Tensor): Tensor {
  const L = x.shape[x.shape.length - 1]!;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < x.data.length / L; r++) {
    const row = Array.from(x.data.subarray(r * L, (r + 1) * L));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((p, v) => p + v, 0);
    e.forEach((v, i) => (out[r * L + i] = v / s));
  }
  return { dtype: 'float32', shape: [...x.shape], data: out };
}
