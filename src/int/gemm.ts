/**
 * Integer GEMMs of the quantized datapath: uniform (per-tensor activation zero point), CAG
 * (G partial sums over contiguous channel groups, each with its own zero point) and HLUQ (two
 * accumulators: a power-of-two path by shifts and a uniform path by MACs).
 *
 * Legend: X [M, K] activation codes; W [N, K] weight codes (PyTorch Linear layout, per output row
 * zero point zw[n]); acc [M, N] (or [G, M, N]) integer accumulators. Codes are non-negative
 * integers < 2^bits. All arithmetic is on integers far below 2^53, so every result is exact.
 *
 * @hardware hw-model PE array (output-stationary) with row decoders; fpga/hls GEMM kernels
 */
import { specRequire, roundHalfEven, type Tensor } from '../tensor';

// TYPES

/** Integer operands of one GEMM. `x` is [M, K], `w` is [N, K]. */
export interface IntGemmOperands {
  readonly x: Tensor<'int32'>;
  readonly w: Tensor<'int32'>;
  /** Per output row weight zero point, length N. */
  readonly zw: Int32Array;
}

/** Contiguous channel groups: group g covers channels [starts[g], starts[g+1]) (starts has G+1 entries). */
export interface ChannelGroups {
  readonly starts: readonly number[];
  /** Activation zero point of each group, length G. */
  readonly zeroPoints: readonly number[];
}

/** HLUQ code geometry: code 0 = zero, 1..Llog−1 log levels (e = Llog − c), Llog..2^b−1 uniform (u = c − Llog). */
export interface HluqCodeMap {
  readonly bits: number;
  readonly lLog: number;
}

// MAIN

/** int32 accumulators must not wrap: a sum outside [−2^31, 2^31) is a precondition failure of the operands. */
function invariantInt32(fn: string, s: number): void {
  if (s < -2147483648 || s > 2147483647) specRequire(false, { fn, what: 'accumulator', rule: 'fit in int32 (operands too large for K)', got: s });
}

function checkOperands(fn: string, o: IntGemmOperands): { M: number; K: number; N: number } {
  specRequire(o.x.shape.length === 2, { fn, what: 'x.shape', rule: 'be [M, K]', got: o.x.shape });
  specRequire(o.w.shape.length === 2, { fn, what: 'w.shape', rule: 'be [N, K]', got: o.w.shape });
  const [M, K] = o.x.shape as [number, number];
  const [N, Kw] = o.w.shape as [number, number];
  specRequire(Kw === K, { fn, what: 'w.shape[1]', rule: `equal x.shape[1] = ${K}`, got: Kw });
  specRequire(o.zw.length === N, { fn, what: 'zw.length', rule: `equal N = ${N}`, got: o.zw.length });
  return { M, K, N };
}

/**
 * Uniform integer GEMM with zero points on both operands.
 * @paper AHCQ-SAM:v4 §FPGA (INT4×INT4 MAC, INT32 accumulator); METHOD.md §2.2
 * @equation acc[m,n] = Σ_k (W[n,k] − zw[n]) · (X[m,k] − zx)
 * @deviation none
 * @precision exact
 */
export function gemmUniform(o: IntGemmOperands, zx: number): Tensor<'int32'> {
  const { M, K, N } = checkOperands('gemmUniform', o);
  const acc = new Int32Array(M * N); // [M, N]
  const x = o.x.data, w = o.w.data;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      const zwn = o.zw[n]!;
      for (let k = 0; k < K; k++) s += (w[n * K + k]! - zwn) * (x[m * K + k]! - zx);
      invariantInt32('gemmUniform', s);
      acc[m * N + n] = s;
    }
  }
  return { dtype: 'int32', shape: [M, N], data: acc };
}

/**
 * CAG integer GEMM: one partial sum per contiguous channel group, each with its group zero point.
 * The channels must already be permuted so that groups are contiguous (`cagGroupPermutation`).
 * @paper AHCQ-SAM:v4 §CAG; METHOD.md §3.3 integer mapping
 * @equation acc[g,m,n] = Σ_{k ∈ g} (W[n,k] − zw[n]) · (X[m,k] − Z_g)
 * @deviation none
 * @precision exact
 */
export function gemmCag(o: IntGemmOperands, groups: ChannelGroups): Tensor<'int32'> {
  const fn = 'gemmCag';
  const { M, K, N } = checkOperands(fn, o);
  const G = groups.zeroPoints.length;
  specRequire(groups.starts.length === G + 1 && groups.starts[0] === 0 && groups.starts[G] === K, {
    fn, what: 'groups.starts', rule: `be G+1 = ${G + 1} ascending offsets from 0 to K = ${K}`, got: groups.starts,
  });
  for (let g = 0; g < G; g++) {
    specRequire(groups.starts[g + 1]! >= groups.starts[g]!, { fn, what: `groups.starts[${g + 1}]`, rule: 'be ≥ the previous offset', got: groups.starts[g + 1] });
  }
  const acc = new Int32Array(G * M * N); // [G, M, N]
  const x = o.x.data, w = o.w.data;
  for (let g = 0; g < G; g++) {
    const k0 = groups.starts[g]!, k1 = groups.starts[g + 1]!, z = groups.zeroPoints[g]!;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        const zwn = o.zw[n]!;
        for (let k = k0; k < k1; k++) s += (w[n * K + k]! - zwn) * (x[m * K + k]! - z);
        invariantInt32('gemmCag', s);
        acc[(g * M + m) * N + n] = s;
      }
    }
  }
  return { dtype: 'int32', shape: [G, M, N], data: acc };
}

/**
 * HLUQ integer GEMM with two accumulators (X holds HLUQ codes).
 * The log path is a fixed-point accumulator with `guardBits` fractional bits (unit s_log·2^−guardBits):
 * a log-region code with exponent e contributes ⌊W̃·2^guardBits / 2^e⌋ (an arithmetic right shift of
 * the weight, exact whenever e ≤ guardBits); a uniform-region code contributes W̃·2^guardBits (its
 * s_log offset) to accLog and W̃·u to accUni; code 0 contributes nothing. The real output is then
 *   y = s_w[n] · ( s_log·2^−guardBits·accLog + s_uni·accUni + m·Σ_k W̃[n,k] ) + b[n].
 * With the default guardBits = Llog − 1 every contribution is exact; a smaller value truncates only
 * the deepest log levels (error < |W̃|·s_log·2^−guardBits per element).
 * @paper AHCQ-SAM:v4 §HLUQ ("power-of-two" log region); METHOD.md §3.2 integer mapping
 * @equation accLog[m,n] = Σ_{k: c∈log} ⌊W̃·2^(gb−e(c))⌋ + Σ_{k: c∈uni} W̃·2^gb;  accUni[m,n] = Σ_{k: c∈uni} W̃·u(c);  W̃ = W − zw[n]
 * @deviation none for guardBits ≥ Llog − 1
 * @precision exact (int32 accumulators; the precondition keeps them from overflowing)
 */
export function gemmHluq(o: IntGemmOperands, map: HluqCodeMap, guardBits: number = map.lLog - 1): { accLog: Tensor<'int32'>; accUni: Tensor<'int32'> } {
  const fn = 'gemmHluq';
  const { M, K, N } = checkOperands(fn, o);
  const L = 2 ** map.bits;
  specRequire(map.lLog >= 1 && map.lLog < L, { fn, what: 'map.lLog', rule: `be in [1, 2^bits − 1]`, got: map.lLog });
  specRequire(Number.isInteger(guardBits) && guardBits >= 0, { fn, what: 'guardBits', rule: 'be a non-negative integer', got: guardBits });
  let wMax = 0;
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wMax = Math.max(wMax, Math.abs(o.w.data[n * K + k]! - o.zw[n]!));
  specRequire(K * wMax * Math.max(2 ** guardBits, L - map.lLog) < 2 ** 31, {
    fn, what: 'guardBits', rule: `keep K·max|W̃|·max(2^guardBits, Luni) below 2^31 (int32 accumulators); lower it`, got: guardBits,
  });
  const accLog = new Int32Array(M * N), accUni = new Int32Array(M * N);
  const x = o.x.data, w = o.w.data;
  const one = 2 ** guardBits;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sl = 0, su = 0;
      const zwn = o.zw[n]!;
      for (let k = 0; k < K; k++) {
        const c = x[m * K + k]!;
        if (c === 0) continue;
        const wt = w[n * K + k]! - zwn;
        if (c < map.lLog) {
          const e = map.lLog - c; // 1..Llog−1
          sl += Math.floor((wt * one) / 2 ** e); // arithmetic shift right by e
        } else {
          sl += wt * one;
          su += wt * (c - map.lLog);
        }
      }
      accLog[m * N + n] = sl;
      accUni[m * N + n] = su;
    }
  }
  return { accLog: { dtype: 'int32', shape: [M, N], data: accLog }, accUni: { dtype: 'int32', shape: [M, N], data: accUni } };
}

/** Row sums Σ_k (W[n,k] − zw[n]) — the constant that folds activation offsets (HLUQ `m`, CAG Z_g) into the bias. */
export function weightRowSums(w: Tensor<'int32'>, zw: Int32Array): Int32Array {
  const [N, K] = w.shape as [number, number];
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += w.data[n * K + k]! - zw[n]!;
    out[n] = s;
  }
  return out;
}

/**
 * LNQ attention-value product: attention codes are decoded through a fixed-point table D[q] ≈ p̂(q)·2^F
 * (per layer, (N_q + 1) entries) and multiplied with the zero-point-corrected value codes.
 * @paper AHCQ-SAM:v4 §LNQ, §FPGA (BRAM look-up tables); METHOD.md §3.4 hardware mapping
 * @equation acc[m,d] = Σ_t D[P[m,t]] · (V[t,d] − z_v);   y ≈ s_v·2^−F·acc
 * @deviation none (D is given; its rounding from p̂ is `lnqDecodeFixed`'s)
 * @precision exact
 */
export function gemmLnqPv(p: Tensor<'int32'>, table: Int32Array, v: Tensor<'int32'>, zv: number): Tensor<'int32'> {
  const fn = 'gemmLnqPv';
  specRequire(p.shape.length === 2 && v.shape.length === 2, { fn, what: 'p, v', rule: 'be 2-D [M, T] and [T, D]', got: [p.shape, v.shape] });
  const [M, T] = p.shape as [number, number];
  const [Tv, D] = v.shape as [number, number];
  specRequire(Tv === T, { fn, what: 'v.shape[0]', rule: `equal p.shape[1] = ${T}`, got: Tv });
  for (let i = 0; i < p.data.length; i++) {
    const q = p.data[i]!;
    if (q < 0 || q >= table.length) specRequire(false, { fn, what: `p[${i}]`, rule: `be a code in [0, ${table.length - 1}]`, got: q });
  }
  const acc = new Int32Array(M * D);
  for (let m = 0; m < M; m++) {
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += table[p.data[m * T + t]!]! * (v.data[t * D + d]! - zv);
      acc[m * D + d] = s;
    }
  }
  return { dtype: 'int32', shape: [M, D], data: acc };
}

/**
 * Fixed-point decoder table: D[q] = ⌊p̂(q)·2^F⌉ (half-even), computed once offline.
 * @equation D[q] = roundHalfEven(p̂_q · 2^F)
 * @precision |D[q]·2^−F − p̂_q| ≤ 2^−(F+1)
 */
export function lnqDecodeFixed(values: ArrayLike<number>, fracBits: number): Int32Array {
  specRequire(Number.isInteger(fracBits) && fracBits >= 1 && fracBits <= 24, { fn: 'lnqDecodeFixed', what: 'fracBits', rule: 'be an integer in [1, 24]', got: fracBits });
  const out = new Int32Array(values.length);
  for (let q = 0; q < values.length; q++) {
    const v = values[q]!;
    // LNQ's top level p̂(N_q) is computed in float32 and may exceed 1 by one float32 ulp (2^-23).
    specRequire(Number.isFinite(v) && v >= 0 && v <= 1 + 2 ** -23, { fn: 'lnqDecodeFixed', what: `values[${q}]`, rule: 'be a probability in [0, 1 + 2^-23]', got: v });
    out[q] = roundHalfEven(v * 2 ** fracBits);
  }
  return out;
}
