/**
 * Fused multi-head attention over the kernel runtime, for an interleaved q|k|v projection
 * (src/ops/qkv-attention.ts, TinyViT) and for separate q, k, v projections (src/ops/multi-head-attention.ts,
 * SAM's decoder): no slice or permute copies. The q operand of every (item, head) product is read in
 * place from qkv (row stride 3·C); kₕᵀ and vₕ are packed straight from qkv into k-major NR = 8 panels;
 * the logits of all products sit in one scratch block with rows padded to a multiple of 4 (−∞ lanes),
 * are scaled, biased and soft-maxed in place, and P·vₕ is written by the GEMM at its head's column
 * offset of the [Bw, N, C] output (row stride C), i.e. the heads come out already merged.
 *
 * Legend: Bw items (windows), N tokens, H heads, hd head dim, C = H·hd, Np = ⌈N/4⌉·4.
 */
import type { Tensor } from '../tensor';
import { qkvAttentionGeometry } from '../ops/qkv-attention';
import { multiHeadAttentionGeometry } from '../ops/multi-head-attention';
import { alloc, f32At } from './arena';
import { gemmF32Batch, type GemmF32Task, type PackedF32 } from './gemm';
import { GEMM_NR, PANEL_STEP_BYTES } from './gemm-kernel';
import { inputAddress, produceF32 } from './resident';
import { softmaxInPlace } from './rows';
import type { KernelRuntime } from './runtime';

// TYPES

/** One operand of the per-(item, head) products: element (b, h, t, e) at data[base(b, h) + t·ld + e]. */
interface HeadOperand {
  readonly data: Float32Array;
  readonly base: (b: number, h: number) => number;
  readonly ld: number;
}

// MAIN

/**
 * Per item b and head h: P = softmax(s·QₕKₕᵀ + bias) over the Nk keys, Yₕ = P·Vₕ written at
 * y + base_y(b, h) with row stride ldy (floats). Q is read in place from the arena (byte address
 * `qPtr` of q.data); Kₕᵀ and Vₕ are packed into NR = 8 panels; logits rows padded to ⌈Nk/4⌉·4 (−∞).
 * The caller holds the scratch mark (this allocates scratch at the arena top).
 */
function attentionCore(
  rt: KernelRuntime, Bn: number, H: number, Nq: number, Nk: number, dk: number, dv: number, s: number,
  q: HeadOperand, qPtr: number, k: HeadOperand, v: HeadOperand, bias: Float32Array | undefined,
  y: number, yBase: (b: number, h: number) => number, ldy: number,
): void {
  const BH = Bn * H;
  const Np = Math.ceil(Nk / 4) * 4;
  // (1) Kₕᵀ per (item, head) as B [dk, Nk]: panels of 8 keys, written in order (panel, d, column)
  const kPanels = Math.ceil(Nk / GEMM_NR);
  const kBytes = kPanels * dk * PANEL_STEP_BYTES;
  const kPtr = alloc(rt.arena, BH * kBytes);
  const kv = f32At(rt.arena, kPtr, (BH * kBytes) / 4);
  // (2) Vₕ per (item, head) as B [Nk, dv]: panels of 8 columns, written in order (panel, key, column)
  const vPanels = Math.ceil(dv / GEMM_NR);
  const vBytes = vPanels * Nk * PANEL_STEP_BYTES;
  const vPtr = alloc(rt.arena, BH * vBytes);
  const vv = f32At(rt.arena, vPtr, (BH * vBytes) / 4);
  const kd = k.data;
  const vd = v.data;
  for (let b = 0; b < Bn; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kb = k.base(b, h);
      let o = (bh * kBytes) / 4;
      for (let p = 0; p < kPanels; p++) {
        const t0 = p * GEMM_NR;
        const w = Math.min(GEMM_NR, Nk - t0);
        for (let d = 0; d < dk; d++) {
          let s0 = kb + t0 * k.ld + d;
          for (let c = 0; c < w; c++, s0 += k.ld) kv[o + c] = kd[s0]!;
          for (let c = w; c < GEMM_NR; c++) kv[o + c] = 0;
          o += GEMM_NR;
        }
      }
      const vb = v.base(b, h);
      o = (bh * vBytes) / 4;
      for (let p = 0; p < vPanels; p++) {
        const d0 = p * GEMM_NR;
        const w = Math.min(GEMM_NR, dv - d0);
        for (let t = 0; t < Nk; t++) {
          const s0 = vb + t * v.ld + d0;
          for (let c = 0; c < w; c++) vv[o + c] = vd[s0 + c]!;
          for (let c = w; c < GEMM_NR; c++) vv[o + c] = 0;
          o += GEMM_NR;
        }
      }
    }
  }
  // (3) logits Lₕ = Qₕ·Kₕᵀ [Nq, Np] per (item, head), Q read in place
  const lPtr = alloc(rt.arena, BH * Nq * Np * 4);
  const qk: GemmF32Task[] = [];
  for (let b = 0; b < Bn; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const packed: PackedF32 = { kind: 'f32', ptr: kPtr + bh * kBytes, K: dk, N: Nk, panels: kPanels, biasPtr: 0 };
      qk.push({ a: qPtr + q.base(b, h) * 4, lda: q.ld, packed, c: lPtr + bh * Nq * Np * 4, ldc: Np, m: Nq });
    }
  }
  gemmF32Batch(rt, qk);
  // (4) scale, bias (suffix-broadcast over [Bn, H, Nq, Nk]), −∞ padding lanes, softmax in place
  const L = f32At(rt.arena, lPtr, BH * Nq * Np);
  const sf = Math.fround(s);
  const Lb = bias ? bias.length : 1;
  for (let r = 0; r < BH * Nq; r++) {
    const o = r * Np;
    if (bias === undefined) for (let j = 0; j < Nk; j++) L[o + j] = L[o + j]! * sf;
    else {
      const bo = (r * Nk) % Lb;
      for (let j = 0; j < Nk; j++) L[o + j] = Math.fround(L[o + j]! * sf) + bias[bo + j]!;
    }
    for (let j = Nk; j < Np; j++) L[o + j] = -Infinity;
  }
  softmaxInPlace(rt, lPtr, BH * Nq, Np);
  // (5) Yₕ = P·Vₕ at its head's column offset of the output
  const pv: GemmF32Task[] = [];
  for (let b = 0; b < Bn; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const packed: PackedF32 = { kind: 'f32', ptr: vPtr + bh * vBytes, K: Nk, N: dv, panels: vPanels, biasPtr: 0 };
      pv.push({ a: lPtr + bh * Nq * Np * 4, lda: Np, packed, c: y + yBase(b, h) * 4, ldc: ldy, m: Nq });
    }
  }
  gemmF32Batch(rt, pv);
}

/**
 * Fast `qkvAttention`: qkv [Bw, N, H, 3·hd] → [Bw, N, H·hd] (an arena view inside a resident scope).
 * @source src/ops/qkv-attention.ts (the definition)
 * @equation Oₕ = softmax(fl32(fl32(qₕ·kₕᵀ)·fl32(s)) + Aₕ)·vₕ, heads concatenated
 * @deviation both products accumulate in float32 (reference: float64); softmax by the f32x4 row kernel
 * @precision as gemmF32Batch (K = hd, then K = N) and softmaxRows
 */
export function qkvAttentionFast(rt: KernelRuntime, qkv: Tensor, s: number, bias?: Tensor): Tensor {
  const { Bw, N, H, hd } = qkvAttentionGeometry(qkv, s, bias);
  const C = H * hd;
  const ld = 3 * C; // floats per token row of qkv
  const src = qkv.data as Float32Array;
  const head = (b: number, h: number): number => b * N * ld + h * 3 * hd; // qₕ of token 0 of item b
  const data = produceF32(rt, Bw * N * C, (y) => {
    const xp = inputAddress(rt, src);
    attentionCore(rt, Bw, H, N, N, hd, hd, s,
      { data: src, base: head, ld }, xp,
      { data: src, base: (b, h) => head(b, h) + hd, ld },
      { data: src, base: (b, h) => head(b, h) + 2 * hd, ld },
      bias?.data as Float32Array | undefined, y, (b, h) => b * N * C + h * hd, C);
  });
  return { dtype: 'float32', shape: [Bw, N, C], data }; // [Bw, N, C]
}

/**
 * Fast `multiHeadAttention`: q [B, Nq, H·d], k [B, Nk, H·d], v [B, Nk, H·dv] → [B, Nq, H·dv] without
 * head split/merge copies (an arena view inside a resident scope).
 * @source src/ops/multi-head-attention.ts (the definition)
 * @equation Yₕ = softmax(fl32(fl32(Qₕ·Kₕᵀ)·fl32(s)))·Vₕ, heads concatenated
 * @deviation both products accumulate in float32 (reference: float64); softmax by the f32x4 row kernel
 * @precision as gemmF32Batch (K = d, then K = Nk) and softmaxRows
 */
export function multiHeadAttentionFast(rt: KernelRuntime, q: Tensor, k: Tensor, v: Tensor, heads: number, s: number): Tensor {
  const { B, Nq, Nk, d, dv } = multiHeadAttentionGeometry(q, k, v, heads, s);
  const C = heads * d;
  const Cv = heads * dv;
  const data = produceF32(rt, B * Nq * Cv, (y) => {
    const qPtr = inputAddress(rt, q.data as Float32Array);
    attentionCore(rt, B, heads, Nq, Nk, d, dv, s,
      { data: q.data as Float32Array, base: (b, h) => b * Nq * C + h * d, ld: C }, qPtr,
      { data: k.data as Float32Array, base: (b, h) => b * Nk * C + h * d, ld: C },
      { data: v.data as Float32Array, base: (b, h) => b * Nk * Cv + h * dv, ld: Cv },
      undefined, y, (b, h) => b * Nq * Cv + h * dv, Cv);
  });
  return { dtype: 'float32', shape: [B, Nq, Cv], data }; // [B, Nq, H·dv]
}
