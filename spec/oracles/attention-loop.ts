/**
 * Test oracle: SAM ViT attention with decomposed relative position bias, written per element from the
 * official code's description (README of the sam-reference fixtures): logits = (q·hd^−½)·k + q·Rh[qh−kh+S−1] + q·Rw[qw−kw+S−1].
 * Only the square, same-size case (qh = kh = qw = kw = S, table length 2S − 1) is covered.
 */
import type { Tensor } from '../../src/tensor';

export interface AttnLoopWeights {
  qkvW: Tensor;
  qkvB: Tensor;
  projW: Tensor;
  projB: Tensor;
  relH?: Tensor;
  relW?: Tensor;
}

/** x [B, S, S, C] → [B, S, S, C]. */
export function attentionLoop(x: Tensor, w: AttnLoopWeights, nH: number): Tensor {
  const [B, S, S2, C] = x.shape as number[] as [number, number, number, number];
  const N = S * S2;
  const hd = C / nH;
  const lin = (v: ArrayLike<number>, W: Tensor, b: Tensor): number[] => {
    const O = W.shape[0]!;
    const I = W.shape[1]!;
    const r: number[] = [];
    for (let o = 0; o < O; o++) {
      let s = b.data[o]!;
      for (let i = 0; i < I; i++) s += v[i]! * W.data[o * I + i]!;
      r.push(Math.fround(s));
    }
    return r;
  };
  const out = new Float32Array(B * N * C);
  for (let b = 0; b < B; b++) {
    const qkv = [] as number[][];
    for (let t = 0; t < N; t++) qkv.push(lin(x.data.subarray((b * N + t) * C, (b * N + t + 1) * C), w.qkvW, w.qkvB));
    const merged: number[][] = Array.from({ length: N }, () => new Array<number>(C).fill(0));
    for (let h = 0; h < nH; h++) {
      const q = (t: number, c: number): number => qkv[t]![h * hd + c]!;
      const k = (t: number, c: number): number => qkv[t]![C + h * hd + c]!;
      const v = (t: number, c: number): number => qkv[t]![2 * C + h * hd + c]!;
      for (let t = 0; t < N; t++) {
        const ty = Math.floor(t / S2);
        const tx = t % S2;
        const logits: number[] = [];
        for (let u = 0; u < N; u++) {
          const uy = Math.floor(u / S2);
          const ux = u % S2;
          let s = 0;
          for (let c = 0; c < hd; c++) s += q(t, c) * hd ** -0.5 * k(u, c);
          if (w.relH && w.relW) {
            for (let c = 0; c < hd; c++) {
              s += q(t, c) * w.relH.data[(ty - uy + S - 1) * hd + c]!;
              s += q(t, c) * w.relW.data[(tx - ux + S2 - 1) * hd + c]!;
            }
          }
          logits.push(s);
        }
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const z = e.reduce((p, l) => p + l, 0);
        for (let c = 0; c < hd; c++) {
          let s = 0;
          for (let u = 0; u < N; u++) s += (e[u]! / z) * v(u, c);
          merged[t]![h * hd + c] = s;
        }
      }
    }
    for (let t = 0; t < N; t++) out.set(lin(merged[t]!, w.projW, w.projB), (b * N + t) * C);
  }
  return { dtype: 'float32', shape: [B, S, S2, C], data: out };
}
