/**
 * Fused multi-head attention on an interleaved q|k|v projection (src/ops/qkv-attention.ts) over the
 * kernel runtime: no slice or permute copies. The q operand of every (item, head) product is read in
 * place from qkv (row stride 3·C); kₕᵀ and vₕ are packed straight from qkv into k-major NR = 8 panels;
 * the logits of all products sit in one scratch block with rows padded to a multiple of 4 (−∞ lanes),
 * are scaled, biased and soft-maxed in place, and P·vₕ is written by the GEMM at its head's column
 * offset of the [Bw, N, C] output (row stride C), i.e. the heads come out already merged.
 *
 * Legend: Bw items (windows), N tokens, H heads, hd head dim, C = H·hd, Np = ⌈N/4⌉·4.
 */
import type { Tensor } from '../tensor';
import { qkvAttentionGeometry } from '../ops/qkv-attention';
import { alloc, f32At } from './arena';
import { gemmF32Batch, type GemmF32Task, type PackedF32 } from './gemm';
import { GEMM_NR, PANEL_STEP_BYTES } from './gemm-kernel';
import { inputAddress, produceF32 } from './resident';
import { softmaxInPlace } from './rows';
import type { KernelRuntime } from './runtime';

// MAIN

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
  const Np = Math.ceil(N / 4) * 4;
  const BH = Bw * H;
  const src = qkv.data as Float32Array;
  const data = produceF32(rt, Bw * N * C, (y) => {
    const xp = inputAddress(rt, src);
    // (1) kₕᵀ per (item, head) as B [hd, N]: panel p holds tokens 8p..8p+7, k-major over d
    const kPanels = Math.ceil(N / GEMM_NR);
    const kBytes = kPanels * hd * PANEL_STEP_BYTES;
    const kPtr = alloc(rt.arena, BH * kBytes);
    const kv = f32At(rt.arena, kPtr, (BH * kBytes) / 4);
    // (2) vₕ per (item, head) as B [N, hd]: panel p holds head columns 8p..8p+7, k-major over tokens
    const vPanels = Math.ceil(hd / GEMM_NR);
    const vBytes = vPanels * N * PANEL_STEP_BYTES;
    const vPtr = alloc(rt.arena, BH * vBytes);
    const vv = f32At(rt.arena, vPtr, (BH * vBytes) / 4);
    for (let b = 0; b < Bw; b++) {
      for (let h = 0; h < H; h++) {
        const bh = b * H + h;
        const head = b * N * ld + h * 3 * hd; // qₕ of token 0 of item b; kₕ at +hd, vₕ at +2·hd; tokens ld apart
        // kₕᵀ panels: written in order (panel, d, column), reading 8 token rows per panel
        let o = (bh * kBytes) / 4;
        for (let p = 0; p < kPanels; p++) {
          const t0 = p * GEMM_NR;
          const w = Math.min(GEMM_NR, N - t0);
          for (let d = 0; d < hd; d++) {
            let s0 = head + t0 * ld + hd + d;
            for (let c = 0; c < w; c++, s0 += ld) kv[o + c] = src[s0]!;
            for (let c = w; c < GEMM_NR; c++) kv[o + c] = 0;
            o += GEMM_NR;
          }
        }
        // vₕ panels: in order (panel, token, column), 8-float runs of each token's vₕ
        o = (bh * vBytes) / 4;
        for (let p = 0; p < vPanels; p++) {
          const d0 = p * GEMM_NR;
          const w = Math.min(GEMM_NR, hd - d0);
          for (let t = 0; t < N; t++) {
            const s0 = head + t * ld + 2 * hd + d0;
            for (let c = 0; c < w; c++) vv[o + c] = src[s0 + c]!;
            for (let c = w; c < GEMM_NR; c++) vv[o + c] = 0;
            o += GEMM_NR;
          }
        }
      }
    }
    // (3) logits Lₕ = qₕ·kₕᵀ [N, Np] per (item, head), q read in place (row stride 3·C)
    const lPtr = alloc(rt.arena, BH * N * Np * 4);
    const qk: GemmF32Task[] = [];
    for (let b = 0; b < Bw; b++) {
      for (let h = 0; h < H; h++) {
        const bh = b * H + h;
        const packed: PackedF32 = { kind: 'f32', ptr: kPtr + bh * kBytes, K: hd, N, panels: kPanels, biasPtr: 0 };
        qk.push({ a: xp + ((b * N * H + h) * 3 * hd) * 4, lda: ld, packed, c: lPtr + bh * N * Np * 4, ldc: Np, m: N });
      }
    }
    gemmF32Batch(rt, qk);
    // (4) scale, bias (suffix-broadcast over [Bw, H, N, N]), −∞ padding lanes, softmax in place
    const L = f32At(rt.arena, lPtr, BH * N * Np);
    const sf = Math.fround(s);
    const bd = bias?.data as Float32Array | undefined;
    const Lb = bd ? bd.length : 1;
    for (let r = 0; r < BH * N; r++) {
      const o = r * Np;
      if (bd === undefined) for (let j = 0; j < N; j++) L[o + j] = L[o + j]! * sf;
      else {
        const bo = (r * N) % Lb;
        for (let j = 0; j < N; j++) L[o + j] = Math.fround(L[o + j]! * sf) + bd[bo + j]!;
      }
      for (let j = N; j < Np; j++) L[o + j] = -Infinity;
    }
    softmaxInPlace(rt, lPtr, BH * N, Np);
    // (5) Oₕ = P·vₕ into the output at column h·hd (row stride C)
    const pv: GemmF32Task[] = [];
    for (let b = 0; b < Bw; b++) {
      for (let h = 0; h < H; h++) {
        const bh = b * H + h;
        const packed: PackedF32 = { kind: 'f32', ptr: vPtr + bh * vBytes, K: N, N: hd, panels: vPanels, biasPtr: 0 };
        pv.push({ a: lPtr + bh * N * Np * 4, lda: Np, packed, c: y + (b * N * C + h * hd) * 4, ldc: C, m: N });
      }
    }
    gemmF32Batch(rt, pv);
  });
  return { dtype: 'float32', shape: [Bw, N, C], data }; // [Bw, N, C]
}
