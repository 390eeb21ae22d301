/**
 * The integer stages of a golden `tinyvit_block` case (fixtures/golden/blocks, src/int/block-tinyvit.ts)
 * as RTL jobs for the golden testbench (fpga/rtl/tb/tb_golden.sv): every GEMM of the block on the PE
 * array and every threshold encoder on the encoder unit, each with its tensors as testbench `.hex` files
 * (x, w, acc | acc_log + acc_uni, y for a GEMM; x, q for an encoder) and its parameter image.
 *
 * Where the tensors come from (each stage's `source` says it again):
 *   stored in the case: x1 (qkv input codes), qkv (q | k | v codes), p_codes, o (proj input codes);
 *   not stored, recomputed by the integer reference `tinyVitBlockInt` (src/int/block-tinyvit.ts) from the
 *   case's input x: every GEMM accumulator, the float32 vector-unit outputs that feed the encoders
 *   (ln1, probs, a, ln2, gelu) and the codes after the attention (conv codes, x2, fc2 input codes).
 * `blockReferenceAgreement` checks that this recomputation reproduces every stored vector bit for bit.
 *
 * Stage list (the case's 7 × 7 window: M = 49 tokens, C = 128, 4 heads of hd = 32, hidden 512):
 *   enc.qkv_in.g0…g3  CAG encoder, one job per channel group (ln1 → stored x1)
 *   gemm.qkv_q/k/v    CAG GEMM + requant (stored x1 → stored qkv columns)
 *   gemm.qk.h0…h3     QKᵀ uniform GEMM per head (stored q, k → s_acc)
 *   enc.lnq           LNQ encoder (probs → stored p_codes)
 *   gemm.pv.h0…h3     D[p_codes]·(V − zv) LNQ GEMM + requant per head (stored p_codes, v → stored o)
 *   gemm.proj         uniform GEMM, dequant output (stored o → acc; the float32 dequant is the vector unit)
 *   enc.conv_in       uniform encoder (a → conv codes)
 *   gemm.dw.c0…c15    depthwise 3 × 3 conv, 8 channels per job as a block-diagonal uniform GEMM (K = 8·9)
 *   enc.fc1_in.g0…g3  CAG encoder per group (ln2 → x2)
 *   gemm.fc1.n0, n1   CAG GEMM, dequant output, in two column halves (testbench memory)
 *   enc.fc2_in        HLUQ encoder (gelu → fc2 input codes)
 *   gemm.fc2          HLUQ GEMM, dequant output (acc_log, acc_uni)
 */
import { FormatError, specRequire, type Tensor } from '../../src/tensor';
import type { GoldenCaseRead } from '../../src/golden/reader';
import { readTinyVitBlockParams } from '../../src/golden/cases/block-tinyvit';
import { tinyVitBlockInt, depthwise3x3Int, type TinyVitBlockInt, type TinyVitBlockTrace } from '../../src/int/block-tinyvit';
import { forwardLinearCag, forwardLinearUniform, forwardLinearHluq } from '../../src/int/compile';
import { gemmUniform, gemmLnqPv } from '../../src/int/gemm';
import { layerNormRowF32 } from '../../src/int/vector-f32';
import { gemmJobFromParams } from './golden-adapter';
import { gemmImage, encoderImage, type RtlGoldenImage } from './rtl-golden';
import type { ArrayConfig, TileJob } from './types';

// TYPES

/** A tensor as a testbench `.hex` file: one element per line, `bits` wide (32: two's complement / IEEE bits). */
export interface HexTensor {
  readonly values: ArrayLike<number>;
  readonly bits: 4 | 8 | 32;
  /** float32 values written as their bit patterns. */
  readonly float?: boolean;
}

/** One GEMM stage of the block on the PE array. */
export interface BlockGemmStage {
  readonly kind: 'gemm';
  readonly name: string;
  /** The layer job (row operands already gathered through perm for CAG), for the stepped model. */
  readonly job: TileJob;
  readonly requant: boolean;
  readonly outBits: number;
  readonly image: RtlGoldenImage;
  /** Testbench files: x (ungathered), w [N, K], acc [nb, M, N] or acc_log + acc_uni, y when requant. */
  readonly files: ReadonlyMap<string, HexTensor>;
  /** Expected accumulators [nb, M, N] (bank-major) and codes [M, N] (null without requant). */
  readonly acc: Int32Array;
  readonly y: Int32Array | null;
  /** Where each tensor comes from (stored in the case or recomputed by the integer reference). */
  readonly source: string;
}

/** One encoder stage of the block on the threshold encoder unit. */
export interface BlockEncoderStage {
  readonly kind: 'encoder';
  readonly name: string;
  readonly x: Float32Array;
  readonly thresholds: Float32Array;
  /** Expected codes. */
  readonly q: Int32Array;
  readonly image: RtlGoldenImage;
  readonly files: ReadonlyMap<string, HexTensor>;
  readonly source: string;
}

export type BlockStage = BlockGemmStage | BlockEncoderStage;

/** The block's stages and the reference trace they were cut from. */
export interface BlockStages {
  readonly stages: readonly BlockStage[];
  readonly block: TinyVitBlockInt;
  readonly trace: TinyVitBlockTrace;
}

// HELPERS

type P = Record<string, unknown>;
const i32 = (shape: number[], data: Int32Array): Tensor<'int32'> => ({ dtype: 'int32', shape, data });

function stored(c: GoldenCaseRead, name: string, shape: readonly number[]): Int32Array {
  const t = c.outputs.get(name)?.tensor ?? c.inputs.get(name)?.tensor;
  const src = `${c.dir}/desc.json`;
  if (!t || t.dtype === 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new FormatError(src, `tensor ${name} must be an integer tensor of shape [${shape.join(', ')}]`);
  }
  return Int32Array.from(t.data);
}

/** Columns [c0, c0 + n) of a row-major [M, W] array → [M, n]. */
function cols(a: ArrayLike<number>, M: number, W: number, c0: number, n: number): Int32Array {
  const out = new Int32Array(M * n); // [M, n]
  for (let m = 0; m < M; m++) for (let j = 0; j < n; j++) out[m * n + j] = a[m * W + c0 + j]!;
  return out;
}

/** Hex digit code of weights stored as a `w_hex` string in desc.json. */
function wHex(p: P, N: number, K: number, src: string, what: string): Int32Array {
  const s = p['w_hex'];
  if (typeof s !== 'string' || s.length !== N * K || !/^[0-9a-f]*$/.test(s)) throw new FormatError(src, `params.${what}.w_hex must hold ${N * K} one-digit codes`);
  return Int32Array.from({ length: N * K }, (_, i) => Number.parseInt(s[i]!, 16));
}

function obj(p: P, k: string, src: string): P {
  const v = p[k];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(src, `params.${k} must be an object`);
  return v as P;
}

function gemmStage(cfg: ArrayConfig, kmax: number, nbmax: number, name: string, built: { job: TileJob; requant: boolean; outBits: number },
  x: Int32Array, acc: Int32Array, y: Int32Array | null, source: string, perm: readonly number[] | null = null): BlockGemmStage {
  const { job, requant, outBits } = built;
  const image = gemmImage(cfg, job, requant, kmax, nbmax, { perm });
  const files = new Map<string, HexTensor>([['x', { values: x, bits: 8 }], ['w', { values: job.b, bits: 8 }]]);
  if (job.mode === 'hluq') {
    const mn = job.M * job.N;
    files.set('acc_log', { values: acc.subarray(0, mn), bits: 32 }).set('acc_uni', { values: acc.subarray(mn, 2 * mn), bits: 32 });
  } else files.set('acc', { values: acc, bits: 32 });
  if (requant) {
    specRequire(y !== null, { fn: 'tinyVitBlockStages', what: `${name}.y`, rule: 'be given for a requant stage', got: y });
    files.set('y', { values: y!, bits: 8 });
  }
  return { kind: 'gemm', name, job, requant, outBits, image, files, acc, y: requant ? y : null, source };
}

function encoderStage(name: string, x: Float32Array, thresholds: Float32Array, q: Int32Array, source: string): BlockEncoderStage {
  const files = new Map<string, HexTensor>([['x', { values: x, bits: 32, float: true }], ['q', { values: q, bits: 8 }]]);
  return { kind: 'encoder', name, x, thresholds, q, image: encoderImage(x.length, thresholds), files, source };
}

// MAIN

/**
 * Cut a golden `tinyvit_block` case into its integer stages on an R × C core with KMAX and NBMAX
 * (arch from desc.json); null for any other op. Inputs and expected outputs are the case's stored
 * vectors where the case stores them, otherwise the integer reference recomputed from the case's x
 * (see the module header; each stage's `source` names them).
 * @paper AHCQ-SAM:v4 §FPGA; docs/hardware.md §RTL scope
 * @source src/int/block-tinyvit.ts#tinyVitBlockInt (stage order and operands)
 * @equation depthwise job j (channels 8j … 8j+7): a[p, 9i+t] = X_pad[p ⊕ t, 8j+i], b[i, 9i′+t] = W[8j+i, t] if i′ = i else zw[8j+i]
 *   (off-diagonal (b − zb) = 0, padding a = z_x) ⇒ acc[p, i] = Σ_t (W[c, t] − zw[c])·(X[p ⊕ t, c] − z_x), c = 8j+i
 * @deviation the depthwise conv is charged by the system model as vector-unit work (9 cycles/element); here it
 *   runs on the PE array as a block-diagonal GEMM and its counter is that GEMM's closed form
 * @precision exact
 */
export function tinyVitBlockStages(c: GoldenCaseRead, kmax: number, nbmax: number): BlockStages | null {
  if (c.desc.op !== 'tinyvit_block') return null;
  const src = `${c.dir}/desc.json`;
  const params = c.desc.params as P;
  const { block, H, W } = readTinyVitBlockParams(c.desc.params, src);
  const xin = c.inputs.get('x')?.tensor;
  if (!xin || xin.dtype !== 'float32') throw new FormatError(src, 'input x must be a float32 tensor');
  const trace = tinyVitBlockInt(block, xin as Tensor<'float32'>);
  const cfg: ArrayConfig = { rows: c.desc.arch.R, cols: c.desc.arch.C };
  const Cc = block.C, L = H * W, heads = block.heads, hd = Cc / heads, N = block.windowSize ** 2, Hd = block.hidden, b = block.bits;
  specRequire(L === N, { fn: 'tinyVitBlockStages', what: 'map', rule: `be one window (H·W = ${N})`, got: [H, W] });
  const x1 = stored(c, 'x1', [L, Cc]), qkv = stored(c, 'qkv', [L, 3 * Cc]), pCodes = stored(c, 'p_codes', [heads, N, N]), o = stored(c, 'o', [L, Cc]);
  const stages: BlockStage[] = [];

  // CAG encoder of the qkv input: one job per group (the encoder holds one table)
  const cagEnc = (tag: string, x: Float32Array, q: Int32Array, enc: TinyVitBlockInt['qkvIn'], src2: string): void => {
    enc.tables.forEach((th, g) => {
      const ch = Array.from(enc.labels).flatMap((l, k) => (l === g ? [k] : []));
      if (ch.length === 0) return;
      const xs = new Float32Array(L * ch.length), qs = new Int32Array(L * ch.length); // [L, |group|]
      for (let m = 0; m < L; m++) ch.forEach((k, j) => { xs[m * ch.length + j] = x[m * Cc + k]!; qs[m * ch.length + j] = q[m * Cc + k]!; });
      stages.push(encoderStage(`enc.${tag}.g${g}`, xs, th, qs, `${src2}; channels of group ${g} (${ch.length})`));
    });
  };
  cagEnc('qkv_in', trace.ln1, x1, block.qkvIn, 'x: ln1 recomputed (vector unit); q: stored x1');

  // qkv CAG GEMMs: stored x1 → stored q | k | v codes
  const x1t = i32([L, Cc], x1);
  (['q', 'k', 'v'] as const).forEach((part, i) => {
    const p = obj(params, `qkv_${part}`, src);
    const w = wHex(p, Cc, Cc, src, `qkv_${part}`);
    const built = gemmJobFromParams('gemm_cag', p, x1t, i32([Cc, Cc], w), src);
    const acc = forwardLinearCag(block.qkv[i]!, x1t, b).acc.data as Int32Array;
    stages.push(gemmStage(cfg, kmax, nbmax, `gemm.qkv_${part}`, built, x1, acc, cols(qkv, L, 3 * Cc, i * Cc, Cc),
      `x: stored x1; y: stored qkv[:, ${i * Cc}:${(i + 1) * Cc}]; acc: recomputed (forwardLinearCag)`, p['perm'] as number[]));
  });

  // per head: QKᵀ (uniform) and D[p_codes]·(V − zv) (LNQ + requant)
  const zq = (block.qkv[0].output as { zero: number }).zero, zk = (block.qkv[1].output as { zero: number }).zero, zv = (block.qkv[2].output as { zero: number }).zero;
  const probs = trace.probs;
  stages.push(encoderStage('enc.lnq', probs, block.lnq.thresholds, pCodes, 'x: softmax output recomputed (vector unit); q: stored p_codes'));
  for (let h = 0; h < heads; h++) {
    const qh = cols(qkv, L, 3 * Cc, h * hd, hd), kh = cols(qkv, L, 3 * Cc, Cc + h * hd, hd), vh = cols(qkv, L, 3 * Cc, 2 * Cc + h * hd, hd); // [N, hd]
    const qkJob: TileJob = { mode: 'uniform', aBits: b, bBits: b, M: N, N, K: hd, a: qh, b: kh, zb: new Int32Array(N).fill(zk), za: zq };
    const sAcc = gemmUniform({ x: i32([N, hd], qh), w: i32([N, hd], kh), zw: new Int32Array(N).fill(zk) }, zq).data as Int32Array;
    stages.push(gemmStage(cfg, kmax, nbmax, `gemm.qk.h${h}`, { job: qkJob, requant: false, outBits: 32 }, qh, sAcc, null,
      `x: stored qkv q of head ${h}; w: stored qkv k of head ${h}; acc: recomputed (gemmUniform)`));
    const ph = pCodes.subarray(h * N * N, (h + 1) * N * N); // [N, N]
    const vt = new Int32Array(hd * N); // [hd, N] = Vᵀ
    for (let t = 0; t < N; t++) for (let d = 0; d < hd; d++) vt[d * N + t] = vh[t * hd + d]!;
    const pv = block.pvOut;
    const pvJob: TileJob = {
      mode: 'lnq', aBits: block.lnq.bits, bBits: b, M: N, N: hd, K: N, a: Int32Array.from(ph), b: vt, zb: new Int32Array(hd).fill(zv), lnqTable: block.lnq.table,
      ppu: { combine: [1], bias: new Float64Array(hd), scale: Array.from({ length: hd }, () => pv.scale), zy: pv.zero, lo: 0, hi: 2 ** b - 1 },
    };
    const pvAcc = gemmLnqPv(i32([N, N], Int32Array.from(ph)), block.lnq.table, i32([N, hd], vh), zv).data as Int32Array;
    stages.push(gemmStage(cfg, kmax, nbmax, `gemm.pv.h${h}`, { job: pvJob, requant: true, outBits: b }, Int32Array.from(ph), pvAcc, cols(o, L, Cc, h * hd, hd),
      `x: stored p_codes[${h}]; w: stored qkv v of head ${h} (transposed); y: stored o[:, ${h * hd}:${(h + 1) * hd}]; acc: recomputed (gemmLnqPv)`));
  }

  // proj: stored o → acc (dequant output on the vector unit)
  const pj = obj(params, 'proj', src);
  const ot = i32([L, Cc], o);
  stages.push(gemmStage(cfg, kmax, nbmax, 'gemm.proj', gemmJobFromParams('gemm_uniform', pj, ot, i32([Cc, Cc], wHex(pj, Cc, Cc, src, 'proj')), src), o,
    forwardLinearUniform(block.proj, ot, b).acc.data as Int32Array, null, 'x: stored o; acc: recomputed (forwardLinearUniform); y: float32 dequant (vector unit, not run)'));

  // conv input encoder and the depthwise 3×3 conv (8 channels per block-diagonal job)
  stages.push(encoderStage('enc.conv_in', trace.a, block.convIn.thresholds, trace.convCodes, 'x: attention output + residual recomputed (vector unit); q: recomputed conv codes'));
  const lc = block.localConv, dwAcc = depthwise3x3Int(lc, trace.convCodes, H, W).acc; // [H, W, C]
  const G8 = cfg.cols;
  for (let c0 = 0; c0 < Cc; c0 += G8) {
    const nc = Math.min(G8, Cc - c0), K = 9 * nc;
    const a = new Int32Array(L * K), wt = new Int32Array(nc * K), acc = new Int32Array(L * nc); // [L, K], [nc, K], [L, nc]
    for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) for (let i = 0; i < nc; i++) for (let t = 0; t < 9; t++) {
      const rr = r + Math.floor(t / 3) - 1, qq = q + (t % 3) - 1;
      const inside = rr >= 0 && rr < H && qq >= 0 && qq < W;
      a[(r * W + q) * K + 9 * i + t] = inside ? trace.convCodes[(rr * W + qq) * Cc + c0 + i]! : lc.zx;
    }
    for (let i = 0; i < nc; i++) for (let i2 = 0; i2 < nc; i2++) for (let t = 0; t < 9; t++) wt[i * K + 9 * i2 + t] = i2 === i ? lc.w.data[(c0 + i) * 9 + t]! : lc.zw[c0 + i]!;
    for (let pnt = 0; pnt < L; pnt++) for (let i = 0; i < nc; i++) acc[pnt * nc + i] = dwAcc[pnt * Cc + c0 + i]!;
    const job: TileJob = { mode: 'uniform', aBits: b, bBits: b, M: L, N: nc, K, a, b: wt, zb: lc.zw.slice(c0, c0 + nc), za: lc.zx };
    stages.push(gemmStage(cfg, kmax, nbmax, `gemm.dw.c${c0 / G8}`, { job, requant: false, outBits: 32 }, a, acc, null,
      `channels ${c0}…${c0 + nc - 1}; x: im2col of the recomputed conv codes (padding = z_x); acc: recomputed (depthwise3x3Int); y: float32 dequant (vector unit, not run)`));
  }

  // MLP: fc1 input encoder (per CAG group), fc1 in two column halves, fc2 input encoder, fc2
  const ln2 = new Float32Array(L * Cc); // [L, C]
  for (let m = 0; m < L; m++) ln2.set(layerNormRowF32(trace.c.subarray(m * Cc, (m + 1) * Cc), block.mlpNorm.gamma, block.mlpNorm.beta, block.epsilon), m * Cc);
  cagEnc('fc1_in', ln2, trace.x2, block.fc1In, 'x: ln2 recomputed (vector unit); q: recomputed x2');
  const f1 = obj(params, 'fc1', src);
  const x2t = i32([L, Cc], trace.x2);
  const w1 = wHex(f1, Hd, Cc, src, 'fc1');
  const acc1 = forwardLinearCag(block.fc1, x2t, b).acc.data as Int32Array; // [G, L, Hd]
  const G1 = block.fc1.groupMults.length, half = Hd / 2;
  for (let s = 0; s < 2; s++) {
    const n0 = s * half;
    const ps: P = { ...f1, zw: (f1['zw'] as number[]).slice(n0, n0 + half), bias: (f1['bias'] as number[]).slice(n0, n0 + half) };
    const acc = new Int32Array(G1 * L * half); // [G, L, Hd/2]
    for (let g = 0; g < G1; g++) acc.set(cols(acc1.subarray(g * L * Hd, (g + 1) * L * Hd), L, Hd, n0, half), g * L * half);
    stages.push(gemmStage(cfg, kmax, nbmax, `gemm.fc1.n${s}`, gemmJobFromParams('gemm_cag', ps, x2t, i32([half, Cc], w1.slice(n0 * Cc, (n0 + half) * Cc)), src), trace.x2, acc, null,
      `columns ${n0}…${n0 + half - 1}; x: recomputed x2; acc: recomputed (forwardLinearCag); y: float32 dequant (vector unit, not run)`, f1['perm'] as number[]));
  }
  stages.push(encoderStage('enc.fc2_in', trace.gelu, block.fc2In.thresholds, trace.fc2In, 'x: GELU output recomputed (vector unit); q: recomputed fc2 input codes'));
  const f2 = obj(params, 'fc2', src);
  const x3t = i32([L, Hd], trace.fc2In);
  const r2 = forwardLinearHluq(block.fc2, x3t);
  const acc2 = new Int32Array(2 * L * Cc); // [2, L, C]: log bank, uniform bank
  acc2.set(r2.accLog.data, 0);
  acc2.set(r2.accUni.data, L * Cc);
  stages.push(gemmStage(cfg, kmax, nbmax, 'gemm.fc2', gemmJobFromParams('gemm_hluq', f2, x3t, i32([Cc, Hd], wHex(f2, Cc, Hd, src, 'fc2')), src), trace.fc2In, acc2, null,
    'x: recomputed fc2 input codes; acc_log, acc_uni: recomputed (forwardLinearHluq); y: float32 dequant (vector unit, not run)'));
  return { stages, block, trace };
}

/**
 * Names of the stored vectors of a `tinyvit_block` case that the recomputed trace does NOT reproduce
 * bit for bit (x1, qkv, p_codes, o codes; y float32 bit patterns); empty when the recomputation agrees.
 * @precision exact
 */
export function blockReferenceAgreement(c: GoldenCaseRead, trace: TinyVitBlockTrace): string[] {
  const bad: string[] = [];
  const same = (name: string, got: ArrayLike<number>): void => {
    const t = c.outputs.get(name)?.tensor;
    if (!t || t.data.length !== got.length) { bad.push(name); return; }
    for (let i = 0; i < got.length; i++) if (!Object.is(t.data[i], got[i])) { bad.push(name); return; }
  };
  same('x1', trace.x1);
  same('qkv', trace.qkv);
  same('p_codes', trace.pCodes);
  same('o', trace.o);
  same('y', trace.y);
  return bad;
}

/**
 * `$readmemh` text of a testbench tensor: one element per line, 8 hex digits for 32-bit values
 * (two's complement, or the float32 bit pattern), 2 digits for codes.
 * @precision exact
 */
export function hexTensorText(t: HexTensor): string {
  const n = t.values.length;
  const lines = new Array<string>(n);
  if (t.float) {
    const u = new Uint32Array(Float32Array.from(t.values).buffer);
    for (let i = 0; i < n; i++) lines[i] = u[i]!.toString(16).padStart(8, '0');
  } else if (t.bits === 32) {
    for (let i = 0; i < n; i++) lines[i] = (t.values[i]! >>> 0).toString(16).padStart(8, '0');
  } else {
    for (let i = 0; i < n; i++) {
      const v = t.values[i]!;
      specRequire(Number.isInteger(v) && v >= 0 && v < 2 ** t.bits, { fn: 'hexTensorText', what: `values[${i}]`, rule: `be a ${t.bits}-bit code`, got: v });
      lines[i] = v.toString(16).padStart(2, '0');
    }
  }
  return lines.join('\n') + '\n';
}
