/**
 * Test oracle: SAM's ImageEncoderViT assembled from the naive oracles in this folder (conv, layer norm,
 * attention) plus inline naive window partition, exact GELU via @stdlib erf, and residual adds.
 * Shares no code with src/ beyond the Tensor type. Square token grids and windows only.
 */
import erf from '@stdlib/math-base-special-erf';
import type { Tensor } from '../../src/tensor';
import { conv2dLoop } from './conv2d-loop';
import { layerNorm2dLoop, layerNormLoop } from './norm-loop';
import { attentionLoop } from './attention-loop';

export interface EncoderLoopConfig {
  imgSize: number;
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  windowSize: number;
  globalAttnIndexes: readonly number[];
  lnEps: number;
  layerNorm2dEps: number;
}

const T = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'float32', shape, data });

function linearLoop(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const [O, I] = w.shape as [number, number];
  const R = x.data.length / I;
  const out = new Float32Array(R * O);
  for (let r = 0; r < R; r++)
    for (let o = 0; o < O; o++) {
      let s = b.data[o]!;
      for (let i = 0; i < I; i++) s += x.data[r * I + i]! * w.data[o * I + i]!;
      out[r * O + o] = s;
    }
  return T([...x.shape.slice(0, -1), O], out);
}

/** x [1, 3, S, S] → [1, outChans, G, G]. */
export function imageEncoderLoop(x: Tensor, w: Record<string, Tensor>, cfg: EncoderLoopConfig): Tensor {
  const G = cfg.imgSize / cfg.patchSize;
  const E = cfg.embedDim;
  const pe = conv2dLoop(x, w['patch_embed.proj.weight']!, w['patch_embed.proj.bias']!, { stride: [cfg.patchSize, cfg.patchSize], padding: [0, 0], dilation: [1, 1], groups: 1 });
  // NCHW → NHWC, + pos_embed
  let t = new Float32Array(G * G * E);
  for (let c = 0; c < E; c++) for (let p = 0; p < G * G; p++) t[p * E + c] = pe.data[c * G * G + p]! + w['pos_embed']!.data[p * E + c]!;
  for (let i = 0; i < cfg.depth; i++) {
    const b = `blocks.${i}`;
    const n1 = layerNormLoop(T([1, G, G, E], t), w[`${b}.norm1.weight`]!, w[`${b}.norm1.bias`]!, cfg.lnEps);
    const aw = { qkvW: w[`${b}.attn.qkv.weight`]!, qkvB: w[`${b}.attn.qkv.bias`]!, projW: w[`${b}.attn.proj.weight`]!, projB: w[`${b}.attn.proj.bias`]!, relH: w[`${b}.attn.rel_pos_h`], relW: w[`${b}.attn.rel_pos_w`] };
    let a: Float32Array;
    if (cfg.globalAttnIndexes.includes(i) || cfg.windowSize === 0) {
      a = attentionLoop(n1, aw, cfg.numHeads).data;
    } else {
      const ws = cfg.windowSize;
      const n = Math.ceil(G / ws);
      a = new Float32Array(G * G * E);
      for (let wy = 0; wy < n; wy++)
        for (let wx = 0; wx < n; wx++) {
          const win = new Float32Array(ws * ws * E); // zero padded
          for (let r = 0; r < ws; r++) for (let c = 0; c < ws; c++) for (let e = 0; e < E; e++) {
            const y = wy * ws + r;
            const z = wx * ws + c;
            if (y < G && z < G) win[(r * ws + c) * E + e] = n1.data[(y * G + z) * E + e]!;
          }
          const o = attentionLoop(T([1, ws, ws, E], win), aw, cfg.numHeads).data;
          for (let r = 0; r < ws; r++) for (let c = 0; c < ws; c++) for (let e = 0; e < E; e++) {
            const y = wy * ws + r;
            const z = wx * ws + c;
            if (y < G && z < G) a[(y * G + z) * E + e] = o[(r * ws + c) * E + e]!;
          }
        }
    }
    const y = t.map((v, k) => v + a[k]!);
    const n2 = layerNormLoop(T([1, G, G, E], y), w[`${b}.norm2.weight`]!, w[`${b}.norm2.bias`]!, cfg.lnEps);
    const h = linearLoop(n2, w[`${b}.mlp.lin1.weight`]!, w[`${b}.mlp.lin1.bias`]!);
    const g = T(h.shape as number[], h.data.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))));
    const m = linearLoop(g, w[`${b}.mlp.lin2.weight`]!, w[`${b}.mlp.lin2.bias`]!);
    t = y.map((v, k) => v + m.data[k]!);
  }
  const nchw = new Float32Array(E * G * G);
  for (let p = 0; p < G * G; p++) for (let c = 0; c < E; c++) nchw[c * G * G + p] = t[p * E + c]!;
  const one = { stride: [1, 1] as [number, number], padding: [0, 0] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
  const n0 = conv2dLoop(T([1, E, G, G], nchw), w['neck.0.weight']!, undefined, one);
  const n1 = layerNorm2dLoop(n0, w['neck.1.weight']!, w['neck.1.bias']!, cfg.layerNorm2dEps);
  const n2 = conv2dLoop(n1, w['neck.2.weight']!, undefined, { ...one, padding: [1, 1] });
  return layerNorm2dLoop(n2, w['neck.3.weight']!, w['neck.3.bias']!, cfg.layerNorm2dEps);
}
