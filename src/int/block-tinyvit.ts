/**
 * The integer datapath of one whole quantized TinyViT block (MobileSAM `layers.s.blocks.b`), every
 * stage an integer kernel of `src/int` or a float32 restricted-op vector-unit step, so the C++ golden
 * reader (fpga/tb/golden_reader.cpp, op `tinyvit_block`) recomputes it bit for bit.
 *
 * Stages (per 7×7 window for the attention, on the whole map for the conv and the MLP):
 *   LN₁ (vector unit) → CAG encoder → qkv CAG GEMMs (q, k, v rows) → requant to q/k/v codes →
 *   QKᵀ uniform GEMM → score = f32(f32(acc)·σ) + A (σ = s_q·s_k·hd^-½, A the attention bias) →
 *   softmax (vector unit) → LNQ encoder → LNQ·V GEMM → requant to proj-input codes →
 *   proj uniform GEMM → dequant → + x (float32) → uniform encoder → integer depthwise 3×3 conv
 *   (zero padding = the zero point) → dequant → LN₂ → CAG encoder → fc1 CAG GEMM → dequant →
 *   GELU (vector unit) → HLUQ encoder → fc2 HLUQ GEMM → dequant → + c (float32).
 *
 * Legend: x [H, W, C] block input (channel-last, one image), N = ws² tokens per window, heads h,
 * hd = C/h, hidden = 4C; "codes" are unsigned b-bit integers; every float is a float32 value.
 * Limits: H and W must be multiples of ws (no window padding; MobileSAM's 64×64 and 14×14 maps qualify).
 *
 * @hardware hw-model PE array + PPU + vector unit; fpga/tb/golden_reader.cpp `tinyvit_block`
 */
import { specRequire, f32, roundHalfEven, type Tensor } from '../tensor';
import { applyScale, saturate, quantizeMultiplier, ACC_MAX, type FixedScale } from './fixed-point';
import { gemmUniform, gemmLnqPv } from './gemm';
import { encodeByThresholds } from './threshold-encoder';
import { layerNormRowF32, softmaxRowF32, geluF32 } from './vector-f32';
import {
  compileLinearCag, compileLinearUniform, compileLinearHluq, compileLnq, uniformEncoderThresholds, hluqEncoderThresholds,
  forwardLinearCag, forwardLinearUniform, forwardLinearHluq,
  type CompiledLinearCag, type CompiledLinearUniform, type CompiledLinearHluq, type OutputQuant,
} from './compile';
import type { HluqParams } from '../quant/hluq';
import type { LnqParams } from '../quant/lnq';

// TYPES

/** A quantized weight: codes [N, K] (per output row scale and zero point) and the float bias. */
export interface QuantWeightSpec {
  readonly codes: Tensor<'int32'>;
  readonly scales: ArrayLike<number>;
  readonly zeros: ArrayLike<number>;
  readonly bias: ArrayLike<number> | undefined;
}

/** CAG activation quantizer: channel k uses group labels[k] with (groupScales[g], groupZeros[g]). */
export interface CagActSpec {
  readonly groupScales: ArrayLike<number>;
  readonly groupZeros: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
}

/** Per-tensor uniform activation quantizer (codes 0 … 2^bits − 1). */
export interface UniformActSpec {
  readonly scale: number;
  readonly zero: number;
}

/** Float fake-quant parameters of one TinyViT block (what a calibration produces). */
export interface TinyVitBlockQuantSpec {
  readonly bits: number;
  readonly heads: number;
  readonly windowSize: number;
  readonly epsilon: number;
  readonly attnNorm: { readonly gamma: Float32Array; readonly beta: Float32Array };
  readonly mlpNorm: { readonly gamma: Float32Array; readonly beta: Float32Array };
  /** Materialised attention bias [heads, N, N] (float32). */
  readonly attentionBias: Float32Array;
  readonly qkvIn: CagActSpec;
  /** qkv weight [3C, C] in the module's row order (per head: q rows, k rows, v rows). */
  readonly qkv: QuantWeightSpec;
  readonly q: UniformActSpec;
  readonly k: UniformActSpec;
  readonly v: UniformActSpec;
  readonly probs: LnqParams;
  readonly projIn: UniformActSpec;
  readonly proj: QuantWeightSpec;
  readonly convIn: UniformActSpec;
  /** Depthwise 3×3 weight as codes [C, 9] (row-major kernel taps). */
  readonly localConv: QuantWeightSpec;
  readonly fc1In: CagActSpec;
  readonly fc1: QuantWeightSpec;
  readonly fc2In: HluqParams;
  readonly fc2: QuantWeightSpec;
}

/** Integer depthwise 3×3 conv (stride 1, zero padding 1) with a per-channel float32 dequant. */
export interface CompiledDepthwise3x3 {
  /** Weight codes [C, 9]. */
  readonly w: Tensor<'int32'>;
  readonly zw: Int32Array;
  /** Input zero point (the code of real 0, used for the padding). */
  readonly zx: number;
  /** Integer bias in units s_x·s_w[c]. */
  readonly bias: Float64Array;
  /** float32 dequant scale s_x·s_w[c]. */
  readonly scales: Float32Array;
}

/** Threshold encoder of a CAG quantizer: one table per group, channel k uses tables[labels[k]]. */
export interface CagEncoder {
  readonly labels: Int32Array;
  readonly tables: readonly Float32Array[];
}

/** The compiled integer block: only integers and float32 constants. */
export interface TinyVitBlockInt {
  readonly bits: number;
  readonly C: number;
  readonly heads: number;
  readonly windowSize: number;
  readonly hidden: number;
  readonly epsilon: number;
  readonly attnNorm: { readonly gamma: Float32Array; readonly beta: Float32Array };
  readonly mlpNorm: { readonly gamma: Float32Array; readonly beta: Float32Array };
  readonly qkvIn: CagEncoder;
  /** q, k and v rows of qkv, each requantised to its own per-tensor codes; rows in (head, d) order. */
  readonly qkv: readonly [CompiledLinearCag, CompiledLinearCag, CompiledLinearCag];
  readonly scoreScale: number;
  readonly attentionBias: Float32Array;
  readonly lnq: { readonly thresholds: Float32Array; readonly table: Int32Array; readonly fracBits: number; readonly bits: number };
  /** LNQ·V accumulator (units s_v·2^−F) → proj-input codes. */
  readonly pvOut: { readonly scale: FixedScale; readonly zero: number };
  readonly proj: CompiledLinearUniform;
  readonly convIn: { readonly thresholds: Float32Array; readonly zero: number };
  readonly localConv: CompiledDepthwise3x3;
  readonly fc1In: CagEncoder;
  readonly fc1: CompiledLinearCag;
  readonly fc2In: { readonly thresholds: Float32Array };
  readonly fc2: CompiledLinearHluq;
}

/** Every intermediate of the integer block (for agreement measurements and the golden outputs). */
export interface TinyVitBlockTrace {
  /** [H·W, C] LN₁ output (window-major token order, see `windowTokens`). */
  readonly ln1: Float32Array;
  /** [H·W, C] qkv input codes. */
  readonly x1: Int32Array;
  /** [H·W, 3C] q | k | v codes per token: columns [0, C) q, [C, 2C) k, [2C, 3C) v, each in (head, d) order. */
  readonly qkv: Int32Array;
  /** [nW, heads, N, N] scores, probabilities and LNQ codes. */
  readonly scores: Float32Array;
  readonly probs: Float32Array;
  readonly pCodes: Int32Array;
  /** [H·W, C] proj input codes. */
  readonly o: Int32Array;
  /** [H, W, C] (map order) attention output with residual, conv input codes, conv output. */
  readonly a: Float32Array;
  readonly convCodes: Int32Array;
  readonly c: Float32Array;
  /** [H·W, C] fc1 input codes (map order). */
  readonly x2: Int32Array;
  /** [H·W, hidden] fc1 output (dequantized), GELU, fc2 input codes. */
  readonly fc1: Float32Array;
  readonly gelu: Float32Array;
  readonly fc2In: Int32Array;
  /** [H, W, C] block output. */
  readonly y: Float32Array;
}

// HELPERS

const FN = 'compileTinyVitBlock';

function cagEncoder(a: CagActSpec, bits: number, C: number, what: string): CagEncoder {
  specRequire(a.labels.length === C, { fn: FN, what: `${what}.labels.length`, rule: `equal C = ${C}`, got: a.labels.length });
  const tables = Array.from({ length: a.groupScales.length }, (_, g) => uniformEncoderThresholds({ scale: a.groupScales[g]!, zero: a.groupZeros[g]!, bits }));
  return { labels: Int32Array.from(a.labels), tables };
}

function rows(w: QuantWeightSpec, pick: readonly number[]): QuantWeightSpec {
  const K = w.codes.shape[1]!;
  const codes = new Int32Array(pick.length * K); // [|pick|, K]
  pick.forEach((r, i) => codes.set(w.codes.data.subarray(r * K, (r + 1) * K), i * K));
  return {
    codes: { dtype: 'int32', shape: [pick.length, K], data: codes },
    scales: pick.map((r) => w.scales[r]!), zeros: pick.map((r) => w.zeros[r]!), bias: w.bias === undefined ? undefined : pick.map((r) => w.bias![r]!),
  };
}

const outQ = (a: UniformActSpec, bits: number): OutputQuant => ({ scale: a.scale, zero: a.zero, bits });

/** Token index of (window, position) in the map: window-major order used by every per-token array. */
function mapIndex(win: number, pos: number, W: number, ws: number): number {
  const nWc = W / ws;
  const wr = Math.floor(win / nWc), wc = win % nWc;
  const r = wr * ws + Math.floor(pos / ws), c = wc * ws + (pos % ws);
  return r * W + c;
}

function encodeCag(x: Float32Array, enc: CagEncoder, M: number, C: number): Int32Array {
  const q = new Int32Array(M * C); // [M, C]
  for (let m = 0; m < M; m++) for (let k = 0; k < C; k++) q[m * C + k] = encodeByThresholds(x[m * C + k]!, enc.tables[enc.labels[k]!]!);
  return q;
}

function layerNormRows(x: Float32Array, M: number, C: number, n: { gamma: Float32Array; beta: Float32Array }, eps: number): Float32Array {
  const out = new Float32Array(M * C); // [M, C]
  for (let m = 0; m < M; m++) out.set(layerNormRowF32(x.subarray(m * C, (m + 1) * C), n.gamma, n.beta, eps), m * C);
  return out;
}

// MAIN

/**
 * Compile the float fake-quant parameters of a TinyViT block into the integer block.
 * @paper AHCQ-SAM:v4 §3.2 HLUQ, §3.3 CAG, §3.4 LNQ, §FPGA; METHOD.md §5.1 (TinyViT mapping in docs/quantization-plan.md)
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViTBlock (stage order)
 * @equation qkv rows split by head into q/k/v (row h·3hd + j, hd + j, 2hd + j); σ = f32(s_q·s_k·hd^-½);
 *   pv requant = quantizeMultiplier(s_v·2^−F / s_proj); conv bInt[c] = ⌊b[c]/(s_x·s_w[c])⌉
 * @deviation q, k, v per-tensor quantizers are an addition to the TinyViT plan (it has none, see
 *   docs/quantization-plan.md); every other rounding is the one of src/int/compile.ts
 * @precision scales in float64, stored as fixed point or float32
 */
export function compileTinyVitBlock(s: TinyVitBlockQuantSpec): TinyVitBlockInt {
  const C = s.attnNorm.gamma.length, heads = s.heads, ws = s.windowSize, N = ws * ws;
  specRequire(Number.isInteger(heads) && heads >= 1 && C % heads === 0, { fn: FN, what: 'heads', rule: `divide C = ${C}`, got: heads });
  specRequire(Number.isInteger(ws) && ws >= 1, { fn: FN, what: 'windowSize', rule: 'be a positive integer', got: ws });
  specRequire(s.qkv.codes.shape[0] === 3 * C && s.qkv.codes.shape[1] === C, { fn: FN, what: 'qkv.codes.shape', rule: `be [${3 * C}, ${C}]`, got: s.qkv.codes.shape });
  specRequire(s.attentionBias.length === heads * N * N, { fn: FN, what: 'attentionBias.length', rule: `equal heads·N² = ${heads * N * N}`, got: s.attentionBias.length });
  specRequire(s.localConv.codes.shape[0] === C && s.localConv.codes.shape[1] === 9, { fn: FN, what: 'localConv.codes.shape', rule: `be [${C}, 9]`, got: s.localConv.codes.shape });
  specRequire(Number.isFinite(s.epsilon) && s.epsilon > 0, { fn: FN, what: 'epsilon', rule: 'be finite and > 0', got: s.epsilon });
  const hd = C / heads, b = s.bits;
  const part = (o: number): number[] => Array.from({ length: C }, (_, i) => Math.floor(i / hd) * 3 * hd + o * hd + (i % hd));
  const cag = (w: QuantWeightSpec, a: CagActSpec, out?: OutputQuant): CompiledLinearCag => compileLinearCag({
    wCodes: w.codes, wScales: w.scales, wZeros: w.zeros, bias: w.bias, bits: b, labels: a.labels, groupScales: a.groupScales, groupZeros: a.groupZeros, out,
  });
  const qkv = [s.q, s.k, s.v].map((a, o) => cag(rows(s.qkv, part(o)), s.qkvIn, outQ(a, b))) as [CompiledLinearCag, CompiledLinearCag, CompiledLinearCag];
  const lnq = compileLnq(s.probs);
  // depthwise conv: unit[c] = s_x·s_w[c]
  const unit = Float64Array.from({ length: C }, (_, c) => s.convIn.scale * s.localConv.scales[c]!);
  const convBias = Float64Array.from(unit, (u, c) => {
    const v = roundHalfEven((s.localConv.bias === undefined ? 0 : s.localConv.bias[c]!) / u);
    specRequire(Math.abs(v) <= ACC_MAX, { fn: FN, what: `localConv.bias[${c}]`, rule: 'be within ±2^36 accumulator units', got: v });
    return v + 0;
  });
  return {
    bits: b, C, heads, windowSize: ws, hidden: s.fc1.codes.shape[0]!, epsilon: f32(s.epsilon),
    attnNorm: s.attnNorm, mlpNorm: s.mlpNorm,
    qkvIn: cagEncoder(s.qkvIn, b, C, 'qkvIn'), qkv,
    scoreScale: f32(s.q.scale * s.k.scale * hd ** -0.5), attentionBias: s.attentionBias,
    lnq: { ...lnq, bits: s.probs.bits },
    pvOut: { scale: quantizeMultiplier((s.v.scale * 2 ** -lnq.fracBits) / s.projIn.scale), zero: s.projIn.zero },
    proj: compileLinearUniform({ wCodes: s.proj.codes, wScales: s.proj.scales, wZeros: s.proj.zeros, bias: s.proj.bias, bits: b, inScale: s.projIn.scale, inZero: s.projIn.zero }),
    convIn: { thresholds: uniformEncoderThresholds(outQ(s.convIn, b)), zero: s.convIn.zero },
    localConv: { w: s.localConv.codes, zw: Int32Array.from(s.localConv.zeros), zx: s.convIn.zero, bias: convBias, scales: Float32Array.from(unit) },
    fc1In: cagEncoder(s.fc1In, b, C, 'fc1In'), fc1: cag(s.fc1, s.fc1In),
    fc2In: { thresholds: hluqEncoderThresholds(s.fc2In) },
    fc2: compileLinearHluq({ wCodes: s.fc2.codes, wScales: s.fc2.scales, wZeros: s.fc2.zeros, bias: s.fc2.bias, bits: b, hluq: s.fc2In }),
  };
}

/**
 * Integer depthwise 3×3 convolution (stride 1, padding 1) on codes x [H, W, C] with float32 dequant.
 * A padded position holds the zero point z_x (real 0), so it contributes (z_x − z_x) = 0: padding is skipped.
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViTBlock (local_conv: Conv2d_BN, groups = C)
 * @equation acc[y,x,c] = Σ_{i,j∈0..2} (W[c,3i+j] − zw[c])·(X[y+i−1, x+j−1, c] − z_x);  out = f32(f32(acc + bInt[c])·f32(s_x·s_w[c]))
 * @deviation none (bias rounded to accumulator units, ≤ ½ unit)
 * @precision exact integers, two float32 roundings
 */
export function depthwise3x3Int(c: CompiledDepthwise3x3, x: Int32Array, H: number, W: number): { acc: Int32Array; y: Float32Array } {
  const C = c.zw.length;
  specRequire(x.length === H * W * C, { fn: 'depthwise3x3Int', what: 'x.length', rule: `equal H·W·C = ${H * W * C}`, got: x.length });
  const acc = new Int32Array(H * W * C), y = new Float32Array(H * W * C); // [H, W, C]
  for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) for (let ch = 0; ch < C; ch++) {
    let s = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      const rr = r + i - 1, qq = q + j - 1;
      if (rr < 0 || rr >= H || qq < 0 || qq >= W) continue;
      s += (c.w.data[ch * 9 + i * 3 + j]! - c.zw[ch]!) * (x[(rr * W + qq) * C + ch]! - c.zx);
    }
    acc[(r * W + q) * C + ch] = s;
    y[(r * W + q) * C + ch] = f32(f32(s + c.bias[ch]!) * c.scales[ch]!);
  }
  return { acc, y };
}

/**
 * Run the integer block on a float32 map x [H, W, C] (H, W multiples of the window size).
 * @paper AHCQ-SAM:v4 §FPGA (integer datapath); docs/integer-datapath.md "Whole block"
 * @source MobileSAM mobile_sam/modeling/tiny_vit_sam.py#TinyViTBlock.forward, #Attention.forward, #Mlp
 * @equation a = x + proj(requant(LNQ(softmax(f32(QKᵀ)·σ + A))·V)); c = dw₃ₓ₃(enc(a)); y = c + fc₂(HLUQ(GELU(fc₁(CAG(LN(c))))))
 * @deviation GELU is the vector unit's tanh form (docs/integer-datapath.md); every requantisation rounds half up
 * @precision exact integers; float32 vector-unit ops (one rounding per IEEE operation, fixed order)
 */
export function tinyVitBlockInt(p: TinyVitBlockInt, x: Tensor<'float32'>): TinyVitBlockTrace {
  const fn = 'tinyVitBlockInt';
  specRequire(x.dtype === 'float32' && x.shape.length === 3 && x.shape[2] === p.C, { fn, what: 'x.shape', rule: `be [H, W, ${p.C}] float32`, got: x.shape });
  const [H, W, C] = x.shape as [number, number, number];
  const ws = p.windowSize, N = ws * ws, heads = p.heads, hd = C / heads, L = H * W, b = p.bits, Hd = p.hidden;
  specRequire(H >= 1 && W >= 1 && H % ws === 0 && W % ws === 0, { fn, what: 'x.shape', rule: `have H and W multiples of the window size ${ws} (no window padding)`, got: x.shape });
  for (let i = 0; i < x.data.length; i++) if (!Number.isFinite(x.data[i]!)) specRequire(false, { fn, what: `x[${i}]`, rule: 'be finite', got: x.data[i] });
  const nW = L / N, qmax = 2 ** b - 1;

  // (1) window attention: tokens in window-major order t = win·N + pos
  const xt = new Float32Array(L * C); // [nW·N, C]
  for (let t = 0; t < L; t++) xt.set(x.data.subarray(mapIndex(Math.floor(t / N), t % N, W, ws) * C, (mapIndex(Math.floor(t / N), t % N, W, ws) + 1) * C), t * C);
  const ln1 = layerNormRows(xt, L, C, p.attnNorm, p.epsilon);
  const x1 = encodeCag(ln1, p.qkvIn, L, C); // [L, C] codes
  const x1t: Tensor<'int32'> = { dtype: 'int32', shape: [L, C], data: x1 };
  const qkvY = p.qkv.map((l) => forwardLinearCag(l, x1t, b).y.data as Int32Array); // 3 × [L, C] codes
  const zq = (p.qkv[0].output as { zero: number }).zero, zk = (p.qkv[1].output as { zero: number }).zero, zv = (p.qkv[2].output as { zero: number }).zero;
  const qkv = new Int32Array(L * 3 * C); // [L, 3C]
  for (let t = 0; t < L; t++) for (let o = 0; o < 3; o++) qkv.set(qkvY[o]!.subarray(t * C, (t + 1) * C), t * 3 * C + o * C);
  const scores = new Float32Array(nW * heads * N * N), probs = new Float32Array(nW * heads * N * N), pCodes = new Int32Array(nW * heads * N * N);
  const o = new Int32Array(L * C); // [L, C] proj input codes
  const head = (src: Int32Array, win: number, h: number): Tensor<'int32'> => {
    const d = new Int32Array(N * hd); // [N, hd]
    for (let m = 0; m < N; m++) d.set(src.subarray((win * N + m) * C + h * hd, (win * N + m) * C + (h + 1) * hd), m * hd);
    return { dtype: 'int32', shape: [N, hd], data: d };
  };
  const row = new Float32Array(N);
  for (let win = 0; win < nW; win++) for (let h = 0; h < heads; h++) {
    const qh = head(qkvY[0]!, win, h), kh = head(qkvY[1]!, win, h), vh = head(qkvY[2]!, win, h);
    const sAcc = gemmUniform({ x: qh, w: kh, zw: new Int32Array(N).fill(zk) }, zq); // [N, N]
    const base = (win * heads + h) * N * N;
    for (let m = 0; m < N; m++) {
      for (let t = 0; t < N; t++) row[t] = f32(f32(f32(sAcc.data[m * N + t]!) * p.scoreScale) + p.attentionBias[(h * N + m) * N + t]!);
      scores.set(row, base + m * N);
      const pr = softmaxRowF32(row);
      probs.set(pr, base + m * N);
      for (let t = 0; t < N; t++) pCodes[base + m * N + t] = encodeByThresholds(pr[t]!, p.lnq.thresholds);
    }
    const pc: Tensor<'int32'> = { dtype: 'int32', shape: [N, N], data: pCodes.subarray(base, base + N * N) };
    const pv = gemmLnqPv(pc, p.lnq.table, vh, zv); // [N, hd]
    for (let m = 0; m < N; m++) for (let d = 0; d < hd; d++) {
      o[(win * N + m) * C + h * hd + d] = saturate(applyScale(pv.data[m * hd + d]!, p.pvOut.scale) + p.pvOut.zero, 0, qmax);
    }
  }
  const projY = forwardLinearUniform(p.proj, { dtype: 'int32', shape: [L, C], data: o }, b).y.data as Float32Array; // [L, C]
  const a = new Float32Array(L * C); // [H, W, C] map order
  for (let t = 0; t < L; t++) {
    const mi = mapIndex(Math.floor(t / N), t % N, W, ws);
    for (let k = 0; k < C; k++) a[mi * C + k] = f32(x.data[mi * C + k]! + projY[t * C + k]!);
  }
  // (2) local depthwise conv on uniform codes
  const convCodes = Int32Array.from(a, (v) => encodeByThresholds(v, p.convIn.thresholds));
  const c = depthwise3x3Int(p.localConv, convCodes, H, W).y; // [H, W, C]
  // (3) MLP on map-order tokens
  const ln2 = layerNormRows(c, L, C, p.mlpNorm, p.epsilon);
  const x2: Tensor<'int32'> = { dtype: 'int32', shape: [L, C], data: encodeCag(ln2, p.fc1In, L, C) };
  const fc1 = forwardLinearCag(p.fc1, x2, b).y.data as Float32Array; // [L, Hd]
  const gelu = Float32Array.from(fc1, geluF32);
  const fc2In = Int32Array.from(gelu, (v) => encodeByThresholds(v, p.fc2In.thresholds)); // [L, Hd]
  const m = forwardLinearHluq(p.fc2, { dtype: 'int32', shape: [L, Hd], data: fc2In }).y.data as Float32Array; // [L, C]
  const y = new Float32Array(L * C); // [H, W, C]
  for (let i = 0; i < L * C; i++) y[i] = f32(c[i]! + m[i]!);
  return { ln1, x1, qkv, scores, probs, pCodes, o, a, convCodes, c, x2: x2.data, fc1, gelu, fc2In, y };
}

/**
 * Window-major token order of a map: the map index of token t = win·N + pos (for reading the
 * per-token trace arrays ln1, x1, qkv, o in map coordinates).
 * @equation win = (r/ws)·(W/ws) + c/ws, pos = (r mod ws)·ws + c mod ws
 * @precision exact
 */
export function windowTokens(H: number, W: number, ws: number): Int32Array {
  specRequire(H % ws === 0 && W % ws === 0, { fn: 'windowTokens', what: '[H, W]', rule: `be multiples of ${ws}`, got: [H, W] });
  const N = ws * ws;
  return Int32Array.from({ length: H * W }, (_, t) => mapIndex(Math.floor(t / N), t % N, W, ws));
}
