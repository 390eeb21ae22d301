/**
 * Edge-case golden vectors (suite "edge"): saturation at both ends, zero points at 0 and 2^b − 1,
 * all-zero and all-maximum inputs (largest accumulator magnitudes), and odd shapes that no tile
 * size (R = C = 8) divides.
 */
import type { GoldenCase } from '../format';
import { gemmUniformCase, gemmCagCase, gemmHluqCase } from './builders';

const S = 'edge';

export const EDGE_CASES: readonly GoldenCase[] = [
  gemmUniformCase('gemm-uniform/saturate_both_ends_b4', S, 201, { M: 4, K: 12, N: 6, bits: 4, outScaleFactor: 0.05 }, 'output scale 20× too small: most codes saturate at 0 or 15'),
  gemmUniformCase('gemm-uniform/zero_points_0_b4', S, 202, { M: 3, K: 10, N: 5, bits: 4, zx: 0, zw: 0 }),
  gemmUniformCase('gemm-uniform/zero_points_15_b4', S, 203, { M: 3, K: 10, N: 5, bits: 4, zx: 15, zw: 15 }),
  gemmUniformCase('gemm-uniform/all_zero_x_b4', S, 204, { M: 2, K: 9, N: 4, bits: 4, x: 'zero' }),
  gemmUniformCase('gemm-uniform/largest_magnitude_b4', S, 205, { M: 2, K: 64, N: 3, bits: 4, x: 'max', w: 'max', zx: 0, zw: 0 }, 'acc = K·15·15 = 14400 on every entry'),
  gemmUniformCase('gemm-uniform/largest_negative_b8', S, 206, { M: 2, K: 64, N: 3, bits: 8, x: 'max', w: 'zero', zx: 0, zw: 255 }, 'acc = −K·255·255 = −4161600'),
  gemmUniformCase('gemm-uniform/odd_m7k13n5_b4', S, 207, { M: 7, K: 13, N: 5, bits: 4 }),
  gemmCagCase('gemm-cag/odd_m7k13n5_g4_b4', S, 211, { M: 7, K: 13, N: 5, bits: 4, G: 4 }, 'some groups may be empty'),
  gemmCagCase('gemm-cag/zero_points_15_b4', S, 212, { M: 3, K: 11, N: 4, bits: 4, G: 2, zx: 15 }),
  gemmHluqCase('gemm-hluq/odd_m7k13n5_b4', S, 221, { M: 7, K: 13, N: 5, bits: 4, g: 0.25 }),
  gemmHluqCase('gemm-hluq/all_max_codes_b4', S, 222, { M: 2, K: 16, N: 3, bits: 4, g: 0.25, x: 'max' }),
  gemmHluqCase('gemm-hluq/all_zero_codes_b4', S, 223, { M: 2, K: 16, N: 3, bits: 4, g: 0.25, x: 'zero' }, 'code 0 = exact zero: accumulators are 0, y = requant(bias)'),
];
