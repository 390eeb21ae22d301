/**
 * Op-level golden cases (suite "ops"): one or more per integer op at 4 bits, a few at 6 and 8 bits.
 * Seeds are fixed per case; `ahcq golden --seed N` offsets them (recorded in desc.json).
 */
import { f32 } from '../../tensor';
import type { GoldenCase } from '../format';
import { gemmUniformCase, gemmCagCase, gemmHluqCase, requantCase, encodeCase, geluHluqCase, lnqAttentionCase } from './builders';

const S = 'ops';

export const OP_CASES: readonly GoldenCase[] = [
  gemmUniformCase('gemm-uniform/b4_m4k16n8', S, 101, { M: 4, K: 16, N: 8, bits: 4 }),
  gemmUniformCase('gemm-uniform/b6_m3k20n6', S, 102, { M: 3, K: 20, N: 6, bits: 6 }),
  gemmUniformCase('gemm-uniform/b8_m3k9n4', S, 103, { M: 3, K: 9, N: 4, bits: 8 }),
  gemmUniformCase('gemm-uniform/b4_dequant_m3k8n4', S, 104, { M: 3, K: 8, N: 4, bits: 4, dequant: true }, 'float32 output: y = f32(f32(acc + bias)·scale_f32[n])'),
  gemmCagCase('gemm-cag/b4_g4_m4k32n8', S, 111, { M: 4, K: 32, N: 8, bits: 4, G: 4 }),
  gemmCagCase('gemm-cag/b6_g3_m5k13n7', S, 112, { M: 5, K: 13, N: 7, bits: 6, G: 3 }),
  gemmHluqCase('gemm-hluq/b4_g0p25_m4k16n8', S, 121, { M: 4, K: 16, N: 8, bits: 4, g: 0.25 }),
  gemmHluqCase('gemm-hluq/b4_g0p5_m3k24n5', S, 122, { M: 3, K: 24, N: 5, bits: 4, g: 0.5 }),
  gemmHluqCase('gemm-hluq/b6_g0p125_m3k10n4', S, 123, { M: 3, K: 10, N: 4, bits: 6, g: 0.125 }),
  requantCase('requant/b4_m6n5', S, 131, 6, 5, 4, 'row 0 saturates low; column 0 is ×½ (exact ties round half up)'),
  requantCase('requant/b8_m4n3', S, 132, 4, 3, 8),
  encodeCase('encode/uniform_b4', S, 141, { kind: 'uniform', p: { scale: f32(0.1), zero: 7, bits: 4 } }),
  encodeCase('encode/hluq_b4_g0p25', S, 142, { kind: 'hluq', p: { version: 'v4', bits: 4, m: f32(-0.17), sLog: f32(0.25), sUni: f32(0.1), g: 0.25 } }),
  encodeCase('encode/lnq_b4', S, 143, { kind: 'lnq', p: { bits: 4, s: f32(0.8), alpha: f32(32) } }),
  encodeCase('encode/lnq_b8', S, 144, { kind: 'lnq', p: { bits: 8, s: f32(1), alpha: f32(100) } }),
  geluHluqCase('gelu-hluq/b4_n48', S, 151, 48, { version: 'v4', bits: 4, m: f32(-0.17), sLog: f32(0.25), sUni: f32(0.1), g: 0.25 }),
  lnqAttentionCase('lnq-attention/b4_m8t8d4', S, 161, { M: 8, T: 8, D: 4, Dv: 4, bits: 4, lnq: { bits: 4, s: f32(1), alpha: f32(32) } }),
  lnqAttentionCase('lnq-attention/b4_m5t11d6', S, 162, { M: 5, T: 11, D: 6, Dv: 3, bits: 4, lnq: { bits: 4, s: f32(0.9), alpha: f32(64) } }),
];
