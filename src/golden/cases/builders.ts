/**
 * Case builders shared by the catalogue files: each returns a `GoldenCase` whose `make` draws seeded
 * inputs and float quantizer parameters, compiles them with `src/int/compile.ts`, and stores only
 * integers (and float32 bit patterns) in the params. `run` is the op's reference (`runGoldenOp`).
 */
import { f32, roundHalfEven, clamp, type Rng, type Tensor } from '../../tensor';
import { compileLinearUniform, compileLinearCag, compileLinearHluq, uniformEncoderThresholds, hluqEncoderThresholds, compileLnq, type OutputQuant } from '../../int/compile';
import { quantizeMultiplier } from '../../int/fixed-point';
import { dequantizeUniform } from '../../quant/uniform';
import { dequantizeHluq, type HluqParams } from '../../quant/hluq';
import type { LnqParams } from '../../quant/lnq';
import { float32Key, float32FromKey } from '../../int/threshold-encoder';
import { runGoldenOp, uniformParams, cagParams, hluqParams } from '../ops';
import { f32Hex, type GoldenCase, type GoldenOp, type GoldenTensor } from '../format';
import type { JsonObject } from '../json';

// TYPES

/** How a code tensor is filled: random codes, all zero, all 2^b − 1, or one constant. */
export type Fill = 'random' | 'zero' | 'max' | number;

export interface GemmShape {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly bits: number;
  readonly x?: Fill;
  readonly w?: Fill;
  /** Fixed activation / weight zero point (default random). */
  readonly zx?: number;
  readonly zw?: number;
  /** Multiplies the output scale sized to the real output range (< 1 forces saturation). */
  readonly outScaleFactor?: number;
  /** Output stays float32 (dequant stage) instead of requantised codes. */
  readonly dequant?: boolean;
  /** Activation bits of the input (HLUQ); default `bits`. */
  readonly actBits?: number;
}

// HELPERS

export const i32 = (shape: number[], data: Int32Array): Tensor<'int32'> => ({ dtype: 'int32', shape, data });
export const codeTensor = (name: string, shape: number[], data: Int32Array, bits: number): GoldenTensor => ({ name, tensor: i32(shape, data), bits, signed: false });

export function fillCodes(rng: Rng, n: number, bits: number, fill: Fill = 'random'): Int32Array {
  const q = 2 ** bits;
  if (fill === 'zero') return new Int32Array(n);
  if (fill === 'max') return new Int32Array(n).fill(q - 1);
  if (typeof fill === 'number') return new Int32Array(n).fill(fill);
  return Int32Array.from({ length: n }, () => rng.int(q));
}

/** Output quantizer covering [lo, hi] of the real outputs, scaled by `factor`. */
export function outputQuant(lo: number, hi: number, bits: number, factor = 1): OutputQuant {
  const qmax = 2 ** bits - 1;
  const span = Math.max(hi - Math.min(lo, 0), 1e-3);
  const scale = f32((span / qmax) * factor);
  return { scale, zero: clamp(roundHalfEven(-Math.min(lo, 0) / scale), 0, qmax), bits };
}

/** Real outputs y[m,n] = Σ_k x̂[m,k]·ŵ[n,k] + b[n] in float64 (used only to size the output quantizer). */
function realRange(M: number, K: number, N: number, xhat: (i: number) => number, what: (i: number) => number, bias: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = bias[n]!;
    for (let k = 0; k < K; k++) s += xhat(m * K + k) * what(n * K + k);
    lo = Math.min(lo, s); hi = Math.max(hi, s);
  }
  return [lo, hi];
}

function weights(rng: Rng, s: GemmShape) {
  const w = fillCodes(rng, s.N * s.K, s.bits, s.w);
  const wScales = Array.from({ length: s.N }, () => f32(0.002 + 0.03 * rng.next()));
  const wZeros = Array.from({ length: s.N }, () => s.zw ?? rng.int(2 ** s.bits));
  const bias = Array.from({ length: s.N }, () => f32(0.05 * rng.normal()));
  return { w, wScales, wZeros, bias, what: (i: number) => dequantizeUniform(w[i]!, wScales[Math.floor(i / s.K)]!, wZeros[Math.floor(i / s.K)]!) };
}

const runOf = (op: GoldenOp) => (inputs: ReadonlyMap<string, GoldenTensor>, params: JsonObject) => runGoldenOp(op, inputs, params);

// BUILDERS

/** Uniform GEMM case (per-tensor activation, per-row weights), requantised or dequantised output. */
export function gemmUniformCase(id: string, suite: string, seed: number, s: GemmShape, notes?: string): GoldenCase {
  return {
    id, suite, op: 'gemm_uniform', seed, citation: 'AHCQ-SAM:v4 §FPGA (INT4×INT4 MAC, INT32 accumulator); METHOD.md §2.2', notes,
    run: runOf('gemm_uniform'),
    make(rng) {
      const W = weights(rng, s);
      const x = fillCodes(rng, s.M * s.K, s.bits, s.x);
      const inScale = f32(0.01 + 0.1 * rng.next()), inZero = s.zx ?? rng.int(2 ** s.bits);
      const [lo, hi] = realRange(s.M, s.K, s.N, (i) => dequantizeUniform(x[i]!, inScale, inZero), W.what, W.bias);
      const out = s.dequant ? undefined : outputQuant(lo, hi, s.bits, s.outScaleFactor);
      const c = compileLinearUniform({ wCodes: i32([s.N, s.K], W.w), wScales: W.wScales, wZeros: W.wZeros, bias: W.bias, bits: s.bits, inScale, inZero, out });
      return { inputs: [codeTensor('x', [s.M, s.K], x, s.bits), codeTensor('w', [s.N, s.K], W.w, s.bits)], params: uniformParams(c, s.bits) };
    },
  };
}

/** CAG GEMM case: G groups of random channels, group scales within [¼, 1] of the largest. */
export function gemmCagCase(id: string, suite: string, seed: number, s: GemmShape & { readonly G: number }, notes?: string): GoldenCase {
  return {
    id, suite, op: 'gemm_cag', seed, citation: 'AHCQ-SAM:v4 §3.3 CAG (G partial sums per output); HARDWARE.md §4.2', notes,
    run: runOf('gemm_cag'),
    make(rng) {
      const W = weights(rng, s);
      const x = fillCodes(rng, s.M * s.K, s.bits, s.x);
      const labels = Array.from({ length: s.K }, () => rng.int(s.G));
      const groupScales = Array.from({ length: s.G }, () => f32(0.02 + 0.1 * rng.next()));
      const groupZeros = Array.from({ length: s.G }, () => s.zx ?? rng.int(2 ** s.bits));
      const [lo, hi] = realRange(s.M, s.K, s.N, (i) => dequantizeUniform(x[i]!, groupScales[labels[i % s.K]!]!, groupZeros[labels[i % s.K]!]!), W.what, W.bias);
      const out = s.dequant ? undefined : outputQuant(lo, hi, s.bits, s.outScaleFactor);
      const c = compileLinearCag({ wCodes: i32([s.N, s.K], W.w), wScales: W.wScales, wZeros: W.wZeros, bias: W.bias, bits: s.bits, labels, groupScales, groupZeros, out });
      return { inputs: [codeTensor('x', [s.M, s.K], x, s.bits), codeTensor('w', [s.N, s.K], Int32Array.from(c.w.data), s.bits)], params: cagParams(c, s.bits) };
    },
  };
}

/** HLUQ GEMM case: input codes are HLUQ codes (post-GELU), weights uniform. */
export function gemmHluqCase(id: string, suite: string, seed: number, s: GemmShape & { readonly g: number }, notes?: string): GoldenCase {
  const ab = s.actBits ?? s.bits;
  return {
    id, suite, op: 'gemm_hluq', seed, citation: 'AHCQ-SAM:v4 §HLUQ (log region by shifts, uniform region by MACs); HARDWARE.md §1.3', notes,
    run: runOf('gemm_hluq'),
    make(rng) {
      const W = weights(rng, s);
      const x = fillCodes(rng, s.M * s.K, ab, s.x);
      const p: HluqParams = { version: 'v4', bits: ab, m: f32(-0.17), sLog: f32(0.05 + 0.2 * rng.next()), sUni: f32(0.02 + 0.05 * rng.next()), g: s.g };
      const [lo, hi] = realRange(s.M, s.K, s.N, (i) => dequantizeHluq(x[i]!, p), W.what, W.bias);
      const out = s.dequant ? undefined : outputQuant(lo, hi, s.bits, s.outScaleFactor);
      const c = compileLinearHluq({ wCodes: i32([s.N, s.K], W.w), wScales: W.wScales, wZeros: W.wZeros, bias: W.bias, bits: s.bits, hluq: p, out });
      return { inputs: [codeTensor('x', [s.M, s.K], x, ab), codeTensor('w', [s.N, s.K], W.w, s.bits)], params: hluqParams(c, s.bits) };
    },
  };
}

/** Requantisation case: int32 accumulators (including exact ties and saturating values) → b-bit codes. */
export function requantCase(id: string, suite: string, seed: number, M: number, N: number, bits: number, notes?: string): GoldenCase {
  return {
    id, suite, op: 'requant', seed, citation: 'HARDWARE.md §4.2 (TOSA apply_scale, round half up); docs/integer-datapath.md', notes,
    run: runOf('requant'),
    make(rng) {
      const scales = Array.from({ length: N }, (_, n) => quantizeMultiplier(n === 0 ? 0.5 : n === 1 ? 2 ** -20 : 2 ** (-12 * rng.next()) * (0.5 + rng.next())));
      const acc = Int32Array.from({ length: M * N }, (_, i) => {
        const r = rng.int(4), sc = scales[i % N]!;
        if (i < N) return -(2 ** 31) + (i % 2); // saturates low
        if (r === 0) return rng.int(2 ** 31) * (rng.int(2) ? 1 : -1); // mostly saturates
        if (r === 1) return 2 * rng.int(2 ** bits) + 1 - 2 ** bits; // odd values: exact ties under ×½
        return Math.floor((2 * rng.next() - 1) * 2 ** bits * 2 ** sc.shift / sc.mult); // spans the code range
      });
      const zero = rng.int(2 ** bits);
      return {
        inputs: [{ name: 'acc', tensor: i32([M, N], acc), bits: 32, signed: true }],
        params: { mult: scales.map((x) => x.mult), shift: scales.map((x) => x.shift), zero, bits },
      };
    },
  };
}

/** Float32 probes around every threshold (the threshold, its predecessor and successor) plus random values in [lo, hi]. */
export function probes(rng: Rng, th: Float32Array, lo: number, hi: number, nRandom: number): Float32Array {
  const v: number[] = [];
  for (const t of th) {
    if (!Number.isFinite(t) || Math.abs(t) > 1e30) continue;
    const k = float32Key(t);
    v.push(float32FromKey(k - 1), t, float32FromKey(k + 1));
  }
  for (let i = 0; i < nRandom; i++) v.push(f32(lo + (hi - lo) * rng.next()));
  return Float32Array.from(v);
}

/** Encoder case: a threshold table (uniform, HLUQ or LNQ) applied to probes at every boundary. */
export function encodeCase(id: string, suite: string, seed: number, q: { kind: 'uniform'; p: OutputQuant } | { kind: 'hluq'; p: HluqParams } | { kind: 'lnq'; p: LnqParams }, notes?: string): GoldenCase {
  return {
    id, suite, op: 'encode', seed, citation: 'docs/integer-datapath.md Encoders; HARDWARE.md §1.3 (threshold tables)', notes,
    run: runOf('encode'),
    make(rng) {
      const th = q.kind === 'uniform' ? uniformEncoderThresholds(q.p) : q.kind === 'hluq' ? hluqEncoderThresholds(q.p) : compileLnq(q.p).thresholds;
      const [lo, hi] = q.kind === 'lnq' ? [-0.05, 1.05] : q.kind === 'hluq' ? [-0.3, 1.5] : [-2, 2];
      const x = probes(rng, th, lo, hi, 40);
      return { inputs: [{ name: 'x', tensor: { dtype: 'float32', shape: [x.length], data: x }, bits: 32, signed: true }], params: { quantizer: q.kind, bits: q.p.bits, thresholds_f32: Array.from(th, f32Hex) } };
    },
  };
}

/** GELU on the float32 vector unit, then the HLUQ encoder (the MLP fc1 → fc2 boundary). */
export function geluHluqCase(id: string, suite: string, seed: number, n: number, p: HluqParams): GoldenCase {
  return {
    id, suite, op: 'gelu_hluq', seed, citation: 'docs/integer-datapath.md Vector unit (GELU tanh form, IEEE + − × ÷ only); AHCQ-SAM:v4 §HLUQ',
    run: runOf('gelu_hluq'),
    make(rng) {
      const x = Float32Array.from({ length: n }, (_, i) => (i < 4 ? [0, -0, 9, -9][i]! : f32(8 * rng.next() - 4)));
      return { inputs: [{ name: 'x', tensor: { dtype: 'float32', shape: [n], data: x }, bits: 32, signed: true }], params: { bits: p.bits, thresholds_f32: Array.from(hluqEncoderThresholds(p), f32Hex) } };
    },
  };
}

/** LNQ attention: QKᵀ → softmax (vector unit) → LNQ encode → D[p]·(V − z_v) → requant. */
export function lnqAttentionCase(id: string, suite: string, seed: number, s: { M: number; T: number; D: number; Dv: number; bits: number; lnq: LnqParams }): GoldenCase {
  return {
    id, suite, op: 'lnq_attention', seed, citation: 'AHCQ-SAM:v4 §LNQ, §FPGA (BRAM look-up tables); METHOD.md §3.4; docs/integer-datapath.md', notes: 'score = f32(f32(s_acc)·score_scale); softmax per row (vector unit); p_codes by thresholds; y = requant(Σ_t D[p_codes]·(V − z_v))',
    run: runOf('lnq_attention'),
    make(rng) {
      const b = s.bits;
      const q = fillCodes(rng, s.M * s.D, b), k = fillCodes(rng, s.T * s.D, b), v = fillCodes(rng, s.T * s.Dv, b);
      const zq = rng.int(2 ** b), zk = rng.int(2 ** b), zv = rng.int(2 ** b);
      const sq = f32(0.1 + 0.4 * rng.next()), sk = f32(0.1 + 0.4 * rng.next());
      const { thresholds, table, fracBits } = compileLnq(s.lnq);
      // output quantizer = the value quantizer (s_v, z_v) → multiplier 2^−F (the attention average keeps V's range)
      const ms = quantizeMultiplier(2 ** -fracBits);
      return {
        inputs: [codeTensor('q', [s.M, s.D], q, b), codeTensor('k', [s.T, s.D], k, b), codeTensor('v', [s.T, s.Dv], v, b)],
        params: {
          bits: b, zq, zk, zv, score_scale_f32: [f32Hex(f32(f32(sq * sk) / f32(Math.sqrt(s.D))))],
          lnq: { bits: s.lnq.bits, thresholds_f32: Array.from(thresholds, f32Hex), table: Array.from(table), frac_bits: fracBits },
          out: { mult: new Array<number>(s.Dv).fill(ms.mult), shift: new Array<number>(s.Dv).fill(ms.shift), zero: zv, bits: b },
        },
      };
    },
  };
}
