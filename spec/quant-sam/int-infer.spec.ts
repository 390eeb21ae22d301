/**
 * spec/quant-sam/int-infer: integer Linear layers on the fast backend's integer GEMM (int-layer.ts) and
 * model-level integer inference of a quantized model (int-infer.ts) against the fake-quant path.
 *
 * The model-level cases use the small target of spec/quant-sam (seeded random TinyViT 256² + the REAL
 * MobileSAM decoder) with a quantized model built directly from one FP forward's activation ranges
 * (AHCQ-SAM W4 plan: CAG, HLUQ, LSQ inputs; every weight per-channel min-max) — the full calibration
 * takes minutes and is not what is under test here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, type Tensor } from '../../src/tensor';
import { createFastBackend, type FastBackend } from '../../src/kernels/backend';
import { intInputQuant, intLinearForward, packIntLinear, type IntInputQuant } from '../../src/quant-sam/int-layer';
import { intQuantModel, type IntLayerEvent } from '../../src/quant-sam/int-infer';
import { fakeQuantModel, type QuantizedModel } from '../../src/quant-sam/pipeline';
import { applyActQuant, type ActParams } from '../../src/quant-sam/act-quant';
import { buildPlan } from '../../src/quant-sam/plan';
import { quantizeWeight, weightRanges, type QuantizedWeight } from '../../src/quant-sam/weight-range';
import { runDecoderLowRes, runEncoder, type SiteTap } from '../../src/quant-sam/model';
import { methodPreset } from '../../src/quant/presets';
import { quantizeHluqTensor, type HluqParams } from '../../src/quant/hluq';
import { compileLinearCag, compileLinearHluq, compileLinearUniform, forwardLinearCag, forwardLinearHluq, forwardLinearUniform } from '../../src/int/compile';
import { realDecoder, smallSamples, smallTarget } from './small-model';

const hasDecoder = realDecoder() !== null;
const U = 2 ** -24; // float32 unit roundoff
let fast: FastBackend;
beforeAll(async () => {
  fast = await createFastBackend();
});
afterAll(async () => {
  await fast?.dispose();
});

// ── naive oracle (shares no code with src): half-even rounding, uniform codes, exact layer value ──

function rhe(v: number): number {
  const f = Math.floor(v);
  if (v - f !== 0.5) return v - f < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}
function naiveCode(x: number, s: number, z: number, qmax: number): number {
  return Math.min(qmax, Math.max(0, rhe(Math.fround(x / s)) + z));
}
/** HLUQ code value in exact arithmetic: m (c = 0), m + s_log·2^(c − L_log) (log), m + s_log + (c − L_log)·s_uni. */
function naiveHluqValue(c: number, p: HluqParams): number {
  const lLog = 2 ** p.bits * p.g;
  if (c === 0) return p.m;
  return c < lLog ? p.m + p.sLog * 2 ** (c - lLog) : p.m + p.sLog + (c - lLog) * p.sUni;
}
/** Exact layer output in float64: Σ_k x_k·(q_w − z_w)·s_w + b, and the magnitude Σ |·| of its terms. */
function naiveLayer(xv: Float64Array, w: QuantizedWeight, bias: Float32Array | undefined, M: number): { y: Float64Array; mag: Float64Array } {
  const [N, K] = w.shape as [number, number];
  const y = new Float64Array(M * N), mag = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = bias ? bias[n]! : 0, a = Math.abs(s);
    for (let k = 0; k < K; k++) {
      const t = xv[m * K + k]! * (w.codes[n * K + k]! - w.zeroPoints[n]!) * w.scales[n]!;
      s += t;
      a += Math.abs(t);
    }
    y[m * N + n] = s;
    mag[m * N + n] = a;
  }
  return { y, mag };
}

// ── random layers ──

interface LayerCase { M: number; K: number; N: number; wBits: number; q: IntInputQuant; w: QuantizedWeight; x: Float32Array; bias: Float32Array | undefined }

const layerArb = (kind: 'lsq' | 'cag' | 'hluq'): fc.Arbitrary<LayerCase> =>
  fc.record({
    M: fc.integer({ min: 1, max: 9 }), K: fc.integer({ min: 1, max: 40 }), N: fc.integer({ min: 1, max: 19 }),
    wBits: fc.constantFrom(4, 8), aBits: fc.constantFrom(4, 8), G: fc.integer({ min: 1, max: 4 }),
    g: fc.constantFrom(1 / 8, 1 / 4, 1 / 2), hasBias: fc.boolean(), seed: fc.integer({ min: 1, max: 1 << 30 }),
  }).map((r) => {
    let st = r.seed;
    const rnd = (): number => ((st = (Math.imul(st, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const { M, K, N, wBits } = r;
    const wq = 2 ** wBits - 1;
    const codes = Uint8Array.from({ length: N * K }, () => Math.floor(rnd() * (wq + 1)));
    const w: QuantizedWeight = {
      shape: [N, K], bits: wBits, codes,
      scales: Float32Array.from({ length: N }, () => Math.fround(0.001 + rnd() * 0.05)),
      zeroPoints: Int32Array.from({ length: N }, () => Math.floor(rnd() * (wq + 1))),
    };
    const bias = r.hasBias ? Float32Array.from({ length: N }, () => Math.fround(rnd() * 2 - 1)) : undefined;
    const aq = 2 ** r.aBits - 1;
    let q: IntInputQuant;
    let lo = -1, hi = 1;
    if (kind === 'lsq') {
      q = { kind: 'lsq', scale: Math.fround(0.01 + rnd() * 0.2), zeroPoint: Math.floor(rnd() * (aq + 1)), qmin: 0, qmax: aq };
      lo = -q.scale * (aq + 2);
      hi = q.scale * (aq + 2);
    } else if (kind === 'cag') {
      const G = Math.min(r.G, K);
      const labels = Array.from({ length: K }, (_, k) => (k < G ? (k * 7) % G : Math.floor(rnd() * G))); // every group non-empty
      q = { kind: 'cag', bits: r.aBits, labels, groupScales: Array.from({ length: G }, () => Math.fround(0.01 + rnd() * 0.2)), groupZeroPoints: Array.from({ length: G }, () => Math.floor(rnd() * (aq + 1))) };
      lo = -3;
      hi = 3;
    } else {
      const params: HluqParams = { version: 'v4', bits: 4, g: r.g, m: Math.fround(-0.17 - rnd() * 0.1), sLog: Math.fround(0.1 + rnd()), sUni: Math.fround(0.05 + rnd() * 0.3) };
      q = { kind: 'hluq', params, referenceCompat: false };
      lo = params.m - 0.1;
      hi = params.m + params.sLog + 16 * params.sUni;
    }
    const x = Float32Array.from({ length: M * K }, () => Math.fround(lo + rnd() * (hi - lo)));
    if (kind === 'hluq' && x.length > 1) x[0] = (q as { params: HluqParams }).params.m; // code 0
    return { M, K, N, wBits, q, w, x, bias };
  });

const t2 = (shape: number[], data: Float32Array): Tensor => ({ dtype: 'float32', shape, data });
const int32 = (shape: number[], data: ArrayLike<number>): Tensor<'int32'> => ({ dtype: 'int32', shape, data: Int32Array.from(data) });

describe('edge cases', () => {
  it('intInputQuant names why a quantizer stays fake-quant: LNQ / AGQ, signed LSQ codes, HLUQ log operand beyond uint8', () => {
    expect(intInputQuant({ kind: 'lnq', params: { bits: 4, s: 1, alpha: 0.5 } } as ActParams, false).reason).toMatch(/not a Linear-input quantizer/);
    expect(intInputQuant({ kind: 'lsq', scale: 1, zeroPoint: 0, qmin: -8, qmax: 7 }, false).reason).toMatch(/not uint8/);
    const h8: ActParams = { kind: 'hluq', params: { version: 'v4', bits: 8, g: 1 / 2, m: 0, sLog: 1, sUni: 1 } };
    expect(intInputQuant(h8, false).reason).toMatch(/exceeds uint8/);
    expect(intInputQuant({ kind: 'hluq', params: { version: 'v4', bits: 4, g: 1 / 2, m: 0, sLog: 1, sUni: 1 } }, false).quant?.kind).toBe('hluq');
  });
  it('packIntLinear rejects a non-2-D weight and CAG labels of the wrong length; intLinearForward rejects a wrong K and a NaN input (naming the site)', () => {
    const w: QuantizedWeight = { shape: [2, 3], bits: 4, codes: Uint8Array.from([1, 2, 3, 4, 5, 6]), scales: Float32Array.from([0.1, 0.2]), zeroPoints: Int32Array.from([8, 7]) };
    const lsq: IntInputQuant = { kind: 'lsq', scale: 0.5, zeroPoint: 3, qmin: 0, qmax: 15 };
    expect(() => packIntLinear(fast.runtime, { ...w, shape: [6] }, lsq)).toThrow(/w\.shape/);
    expect(() => packIntLinear(fast.runtime, w, { kind: 'cag', bits: 4, labels: [0, 1], groupScales: [1, 1], groupZeroPoints: [0, 0] })).toThrow(/labels\.length/);
    const L = packIntLinear(fast.runtime, w, lsq);
    expect(() => intLinearForward(fast.runtime, L, t2([1, 4], new Float32Array(4)), undefined)).toThrow(SpecError);
    expect(() => intLinearForward(fast.runtime, L, t2([1, 3], Float32Array.from([0, NaN, 1])), undefined, { site: 'blk.fc1.in' })).toThrow(/blk\.fc1\.in\[1\].*finite/);
  });
  it('an empty batch (M = 0) gives an empty [0, N] output', () => {
    const w: QuantizedWeight = { shape: [2, 3], bits: 4, codes: new Uint8Array(6), scales: Float32Array.from([0.1, 0.2]), zeroPoints: Int32Array.from([8, 7]) };
    const L = packIntLinear(fast.runtime, w, { kind: 'lsq', scale: 0.5, zeroPoint: 3, qmin: 0, qmax: 15 });
    const y = intLinearForward(fast.runtime, L, t2([0, 3], new Float32Array(0)), undefined).y;
    expect(y.shape).toEqual([0, 2]);
    expect(y.data.length).toBe(0);
  });
});

describe('oracle', () => {
  it('LSQ / CAG layers: codes equal the naive half-even codes; y = the exact float64 value rounded once (|Δ| ≤ 2⁻²⁴|y| + 2⁻⁴⁸·Σ|terms|)', () => {
    fc.assert(fc.property(fc.oneof(layerArb('lsq'), layerArb('cag')), (c) => {
      const L = packIntLinear(fast.runtime, c.w, c.q);
      const r = intLinearForward(fast.runtime, L, t2([c.M, c.K], c.x), c.bias, { detail: true });
      const xv = new Float64Array(c.M * c.K);
      for (let i = 0; i < c.x.length; i++) {
        const k = i % c.K;
        const [s, z, qmax] = c.q.kind === 'lsq' ? [c.q.scale, c.q.zeroPoint, c.q.qmax] : c.q.kind === 'cag' ? [c.q.groupScales[c.q.labels[k]!]!, c.q.groupZeroPoints[c.q.labels[k]!]!, 2 ** c.q.bits - 1] : [0, 0, 0];
        const code = naiveCode(c.x[i]!, s, z, qmax);
        expect(r.detail!.codes[i]).toBe(code);
        xv[i] = (code - z) * s;
      }
      const o = naiveLayer(xv, c.w, c.bias, c.M);
      // exact integer sums; the rescale adds ≤ G+2 float64 roundings (≤ 2⁻⁵⁰ of Σ|terms| for G ≤ 4), then one float32 rounding
      for (let i = 0; i < o.y.length; i++) expect(Math.abs(r.y.data[i]! - o.y[i]!)).toBeLessThanOrEqual(U * Math.abs(o.y[i]!) + 2 ** -48 * o.mag[i]!);
    }));
  });
  it('HLUQ layers: codes equal the tap rule (quantizeHluqTensor); y = the exact value of the codes rounded once', () => {
    fc.assert(fc.property(layerArb('hluq'), (c) => {
      const p = (c.q as { params: HluqParams }).params;
      const L = packIntLinear(fast.runtime, c.w, c.q);
      const r = intLinearForward(fast.runtime, L, t2([c.M, c.K], c.x), c.bias, { detail: true });
      expect(Array.from(r.detail!.codes)).toEqual(Array.from(quantizeHluqTensor(t2([c.M, c.K], c.x), p).data));
      const o = naiveLayer(Float64Array.from(r.detail!.codes, (cd) => naiveHluqValue(cd, p)), c.w, c.bias, c.M);
      // the m·Σ W̃ offset is a separate float64 term: 2⁻⁴⁸ of Σ|terms| (which includes |m|·|W̃|·s_w per element) covers it
      for (let i = 0; i < o.y.length; i++) expect(Math.abs(r.y.data[i]! - o.y[i]!)).toBeLessThanOrEqual(U * Math.abs(o.y[i]!) + 2 ** -48 * o.mag[i]!);
    }));
  });
  it('accumulators equal src/int forwardLinearUniform / forwardLinearCag (minus Z_g·Σ_{k∈g} W̃) / forwardLinearHluq exactly', () => {
    fc.assert(fc.property(fc.oneof(layerArb('lsq'), layerArb('cag'), layerArb('hluq')), (c) => {
      const L = packIntLinear(fast.runtime, c.w, c.q);
      const r = intLinearForward(fast.runtime, L, t2([c.M, c.K], c.x), undefined, { detail: true });
      const codes = int32([c.M, c.K], r.detail!.codes);
      const spec = { wCodes: int32([c.N, c.K], c.w.codes), wScales: c.w.scales, wZeros: c.w.zeroPoints, bias: undefined, bits: c.wBits };
      const MN = c.M * c.N;
      if (c.q.kind === 'lsq') {
        const f = forwardLinearUniform(compileLinearUniform({ ...spec, bits: Math.max(c.wBits, Math.log2(c.q.qmax + 1)), inScale: c.q.scale, inZero: c.q.zeroPoint }), codes, Math.log2(c.q.qmax + 1));
        expect(Array.from(r.detail!.acc)).toEqual(Array.from(f.acc.data));
      } else if (c.q.kind === 'cag') {
        const q = c.q;
        const comp = compileLinearCag({ ...spec, bits: Math.max(c.wBits, q.bits), labels: q.labels, groupScales: q.groupScales, groupZeros: q.groupZeroPoints });
        const f = forwardLinearCag(comp, codes, q.bits); // raw-code partial sums [G, M, N], Z_g folded into their bias
        const G = q.groupScales.length;
        for (let g = 0; g < G; g++) for (let i = 0; i < MN; i++) {
          const n = i % c.N;
          let ws = 0;
          for (let k = 0; k < c.K; k++) if (q.labels[k] === g) ws += c.w.codes[n * c.K + k]! - c.w.zeroPoints[n]!;
          expect(r.detail!.acc[g * MN + i]).toBe(f.acc.data[g * MN + i]! - q.groupZeroPoints[g]! * ws);
        }
      } else {
        const f = forwardLinearHluq(compileLinearHluq({ ...spec, hluq: c.q.params }), codes);
        expect(Array.from(r.detail!.acc.subarray(0, MN))).toEqual(Array.from(f.accLog.data));
        expect(Array.from(r.detail!.acc.subarray(MN))).toEqual(Array.from(f.accUni.data));
      }
    }));
  });
});

describe('laws', () => {
  it('row permutation: permuting the rows of x permutes the rows of y bit for bit; repeated calls are byte-identical', () => {
    fc.assert(fc.property(fc.oneof(layerArb('lsq'), layerArb('cag'), layerArb('hluq')), fc.integer({ min: 0, max: 1000 }), (c, rot) => {
      const L = packIntLinear(fast.runtime, c.w, c.q);
      const y = intLinearForward(fast.runtime, L, t2([c.M, c.K], c.x), c.bias).y.data;
      const y2 = intLinearForward(fast.runtime, L, t2([c.M, c.K], c.x), c.bias).y.data;
      expect(Buffer.from(y2.buffer).equals(Buffer.from(y.buffer))).toBe(true);
      const s = rot % c.M; // rotate rows by s
      const xr = new Float32Array(c.x.length);
      for (let m = 0; m < c.M; m++) xr.set(c.x.subarray(m * c.K, (m + 1) * c.K), ((m + s) % c.M) * c.K);
      const yr = intLinearForward(fast.runtime, L, t2([c.M, c.K], xr), c.bias).y.data;
      for (let m = 0; m < c.M; m++) expect(Array.from(yr.subarray(((m + s) % c.M) * c.N, ((m + s) % c.M + 1) * c.N))).toEqual(Array.from(y.subarray(m * c.N, (m + 1) * c.N)));
    }));
  });
});

// ── model level ──

/** A W4 quantized model of the AHCQ-SAM plan from one FP forward's ranges (no searches; inputs only, not expected values). */
function rangeQuantizedModel(): { qm: QuantizedModel; target: ReturnType<typeof smallTarget>; sample: ReturnType<typeof smallSamples>[number] } {
  const target = smallTarget();
  const sample = smallSamples(1)[0]!;
  const preset = methodPreset('AHCQ-SAM', 4);
  const plan = buildPlan(target.arch, target.decoderCfg.maskDecoder.transformer, preset);
  const seen = new Map<string, { lo: Float64Array; hi: Float64Array; min: number; max: number }>();
  const observe: SiteTap = (site, t) => {
    const C = t.shape[t.shape.length - 1]!;
    const r = seen.get(site) ?? { lo: new Float64Array(C).fill(Infinity), hi: new Float64Array(C).fill(-Infinity), min: Infinity, max: -Infinity };
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i]!, c = i % C;
      r.lo[c] = Math.min(r.lo[c]!, v);
      r.hi[c] = Math.max(r.hi[c]!, v);
      r.min = Math.min(r.min, v);
      r.max = Math.max(r.max, v);
    }
    seen.set(site, r);
    return t;
  };
  const emb = runEncoder(target, target.encoderWeights, sample.input, observe, undefined, fast);
  for (const p of sample.prompts) runDecoderLowRes(target, target.decoderWeights!, emb, p, sample.geom, observe, fast);
  const qp = (lo: number, hi: number): { scale: number; zeroPoint: number } => {
    const mn = Math.min(lo, 0), mx = Math.max(hi, 0);
    const scale = Math.fround(Math.max((mx - mn) / 15, 1e-6));
    return { scale, zeroPoint: Math.min(15, Math.max(0, rhe(-mn / scale))) };
  };
  const acts: Record<string, ActParams> = {};
  for (const a of plan.activations) {
    const r = seen.get(a.site);
    if (!r) throw new Error(`site ${a.site} not reached`);
    if (a.quantizer === 'cag') {
      // 3 groups by per-channel range tercile; group (S, Z) from the group's joint range
      const C = r.lo.length;
      const order = Array.from({ length: C }, (_, c) => c).sort((p, q) => r.hi[p]! - r.lo[p]! - (r.hi[q]! - r.lo[q]!));
      const labels = new Array<number>(C);
      order.forEach((c, i) => (labels[c] = Math.min(2, Math.floor((3 * i) / C))));
      const gp = [0, 1, 2].map((g) => {
        let lo = Infinity, hi = -Infinity;
        for (let c = 0; c < C; c++) if (labels[c] === g) { lo = Math.min(lo, r.lo[c]!); hi = Math.max(hi, r.hi[c]!); }
        return qp(lo === Infinity ? 0 : lo, hi === -Infinity ? 1 : hi);
      });
      acts[a.site] = { kind: 'cag', bits: 4, labels, groupScales: gp.map((p) => p.scale), groupZeroPoints: gp.map((p) => p.zeroPoint) };
    } else if (a.quantizer === 'hluq') {
      const span = r.max - r.min;
      acts[a.site] = { kind: 'hluq', params: { version: 'v4', bits: 4, g: 1 / 2, m: Math.fround(r.min), sLog: Math.fround(span / 8), sUni: Math.fround((span * 7) / 8 / 7) } };
    } else if (a.quantizer === 'lnq') {
      // LNQ probability sites (fake-quant on the wasm threshold kernel, inside matmul's scope on TinyViT)
      acts[a.site] = { kind: 'lnq', params: { bits: 4, s: Math.fround(Math.min(1, Math.max(r.max, 1e-3))), alpha: 50 } };
    } else {
      const p = qp(r.min, r.max); // LSQ sites; AGQ probability sites get LSQ too — they stay fake-quant either way
      acts[a.site] = { kind: 'lsq', scale: p.scale, zeroPoint: p.zeroPoint, qmin: 0, qmax: 15 };
    }
  }
  const weights: Record<string, { q: QuantizedWeight; bias: Tensor | null }> = {};
  for (const l of plan.weights) {
    const rec = l.part === 'decoder' ? target.decoderWeights! : target.encoderWeights;
    const W = rec[`${l.layer}.weight`]!;
    weights[l.layer] = { q: quantizeWeight(W, 4, weightRanges(W, 4, 'minmax')), bias: rec[`${l.layer}.bias`] ?? null };
  }
  return { qm: { model: target.name, plan, seed: 0, acts, weights, big: {}, acnr: {}, calibImages: [] }, target, sample };
}

function sqnr(a: Tensor, b: Tensor): number {
  let s = 0, e = 0;
  for (let i = 0; i < a.data.length; i++) {
    s += a.data[i]! ** 2;
    e += (a.data[i]! - b.data[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}

describe.skipIf(!hasDecoder)('conformance: integer inference vs the fake-quant path (small TinyViT + real decoder, AHCQ-SAM W4 plan)', () => {
  let ctx: ReturnType<typeof rangeQuantizedModel>;
  beforeAll(() => {
    ctx = rangeQuantizedModel();
  }, 120_000);

  it('every planned Linear runs integer (CAG, HLUQ, LSQ inputs); per layer on the same input: codes decode to the tap\'s values bit for bit and y is within the derived summation bound of the fake-quant linear', () => {
    const { qm, target, sample } = ctx;
    const events: IntLayerEvent[] = [];
    const im = intQuantModel(target, qm, fast, { record: (e) => events.push(e) });
    expect(im.fakeQuantLayers).toEqual([]);
    expect(im.integerLayers.length).toBe(qm.plan.weights.filter((w) => w.kind === 'linear').length);
    const emb = runEncoder(target, im.enc, sample.input, im.tap, undefined, im.backend);
    runDecoderLowRes(target, im.dec!, emb, sample.prompts[0]!, sample.geom, im.tap, im.backend);
    expect(im.pendingCount()).toBe(0);
    expect(new Set(events.map((e) => qm.acts[e.site]!.kind))).toEqual(new Set(['lsq', 'cag', 'hluq']));
    const fq = fakeQuantModel(target, qm);
    for (const e of events) {
      const p = qm.acts[e.site]!;
      const xh = applyActQuant(e.x, p, false); // what the fake-quant tap feeds this layer
      const K = e.x.shape[e.x.shape.length - 1]!;
      // (1) codes: decoded in float32 exactly as the fake-quant quantizer dequantizes, they ARE the tap's values
      const mismatches: { i: number; code: number; decoded: number; tap: number }[] = [];
      for (let i = 0; i < e.codes.length; i++) {
        const c = e.codes[i]!;
        let v: number;
        if (p.kind === 'lsq') v = Math.fround((c - p.zeroPoint) * p.scale);
        else if (p.kind === 'cag') v = Math.fround((c - p.groupZeroPoints[p.labels[i % K]!]!) * p.groupScales[p.labels[i % K]!]!);
        else if (p.kind === 'hluq') {
          const h = p.params, lLog = 16 * h.g;
          v = c === 0 ? Math.fround(h.m) : c < lLog ? Math.fround(Math.fround(h.sLog * 2 ** (c - lLog)) + h.m) : Math.fround(Math.fround(Math.fround((c - lLog) * h.sUni) + h.sLog) + h.m);
        } else throw new Error(`unexpected integer-site quantizer ${p.kind}`);
        if (v !== xh.data[i]) mismatches.push({ i, code: c, decoded: v, tap: xh.data[i]! });
      }
      expect(mismatches.slice(0, 3), e.layer).toEqual([]);
      // (2) output: the fake path is fast.linear(x̂, ŵ, b) — float32 GEMM on float32-rounded operands.
      // Bound: ŵ = w(1+ε), |ε| ≤ u; x̂ = x(1+δ), |δ| ≤ u (LSQ/CAG: one rounding); HLUQ values carry ≤ 3 roundings of
      // partial sums ≤ |x̂| + 2|m|. The wasm GEMM errs by ≤ (K+2)u·(Σ|x̂||ŵ| + |b|) (gemm.ts @precision); the integer
      // path is exact then rounds once (u·|y|). Total ≤ (K+8)u·(Σ_k (|x̂_k| + 2|m|)·|ŵ_nk| + |b_n|), ×1.01 for O(u²).
      const W = (qm.plan.weights.find((w) => w.layer === e.layer)!.part === 'decoder' ? fq.dec! : fq.enc)[`${e.layer}.weight`]!;
      const b = (qm.plan.weights.find((w) => w.layer === e.layer)!.part === 'decoder' ? fq.dec! : fq.enc)[`${e.layer}.bias`];
      const yf = fast.linear(xh, W, b);
      const N = W.shape[0]!, M = e.codes.length / K;
      const m2 = p.kind === 'hluq' ? 2 * Math.abs(p.params.m) : 0;
      let worst = 0;
      for (let r = 0; r < M; r++) for (let n = 0; n < N; n++) {
        let a = b ? Math.abs(b.data[n]!) : 0;
        for (let k = 0; k < K; k++) a += (Math.abs(xh.data[r * K + k]!) + m2) * Math.abs(W.data[n * K + k]!);
        const bound = 1.01 * (K + 8) * U * a;
        const d = Math.abs(e.y0[r * N + n]! - yf.data[r * N + n]!);
        worst = Math.max(worst, d / bound);
      }
      expect(worst, e.layer).toBeLessThanOrEqual(1);
      // (3) a GELU layer applies the fast backend's own GELU kernel to y0
      if (e.y !== undefined && e.layer.endsWith('mlp.fc1')) expect(Buffer.from(e.y.data.buffer, e.y.data.byteOffset, e.y.data.byteLength).equals(Buffer.from(fast.gelu(t2(e.y.shape as number[], e.y0)).data.buffer))).toBe(true);
    }
  }, 120_000);

  it('end to end: embedding and masks of the integer path match the fake-quant path (≥ 60 dB SQNR), deterministically', () => {
    const { qm, target, sample } = ctx;
    const fq = fakeQuantModel(target, qm);
    const im = intQuantModel(target, qm, fast);
    const embF = runEncoder(target, fq.enc, sample.input, fq.tap, undefined, fast);
    const embI = runEncoder(target, im.enc, sample.input, im.tap, undefined, im.backend);
    const embI2 = runEncoder(target, im.enc, sample.input, im.tap, undefined, im.backend);
    expect(Buffer.from(embI2.data.buffer).equals(Buffer.from(embI.data.buffer))).toBe(true);
    // The per-layer difference is ≤ the summation bound above (~1e-6 relative); it only grows where a downstream
    // quantizer flips a code at a rounding boundary. 60 dB (0.1 % RMS) is a regression threshold for "no
    // systematic difference", far below the W4 quantization noise itself (≈ 10–25 dB, docs/integer-datapath.md).
    expect(sqnr(embF, embI)).toBeGreaterThanOrEqual(60);
    for (const pr of sample.prompts) {
      const a = runDecoderLowRes(target, fq.dec!, embF, pr, sample.geom, fq.tap, fast);
      const b = runDecoderLowRes(target, im.dec!, embF, pr, sample.geom, im.tap, im.backend);
      expect(sqnr(a.masks, b.masks)).toBeGreaterThanOrEqual(60);
    }
    expect(im.pendingCount()).toBe(0);
  }, 120_000);

  it('the wrapper refuses an integer layer whose input bypassed its site tap, and delegates every other linear unchanged', () => {
    const { qm, target } = ctx;
    const im = intQuantModel(target, qm, fast);
    const layer = im.integerLayers[0]!;
    const W = im.enc[`${layer}.weight`]!;
    const x = t2([2, W.shape[1]!], Float32Array.from({ length: 2 * W.shape[1]! }, (_, i) => Math.sin(i)));
    expect(() => im.backend.linear(x, W, im.enc[`${layer}.bias`])).toThrow(/come from its site tap/);
    const other = t2([3, W.shape[1]!], new Float32Array(3 * W.shape[1]!).fill(0.25));
    expect(Array.from(im.backend.linear(x, other, undefined).data)).toEqual(Array.from(fast.linear(x, other, undefined).data));
  });

  it('LSQ conv inputs and LNQ probabilities are quantized inside the consuming conv / matmul, bit-identical to tapping then calling the fast op; a pending input reaching any other op is refused', () => {
    const { qm, target } = ctx;
    const im = intQuantModel(target, qm, fast);
    const fq = fakeQuantModel(target, qm);
    const convSite = qm.plan.activations.find((a) => !a.feeds && qm.acts[a.site]?.kind === 'lsq' && a.site.endsWith('.in'))!;
    const probsSite = Object.keys(qm.acts).find((s) => qm.acts[s]!.kind === 'lnq' && s.endsWith('.probs'))!;
    expect(convSite).toBeDefined();
    expect(probsSite).toBeDefined();
    const layer = convSite.site.slice(0, -3);
    const W = fq.enc[`${layer}.weight`]!;
    const [O, Cg, kh, kw] = W.shape as [number, number, number, number];
    const groups = Cg === 1 && O > 1 ? O : 1; // depthwise (local_conv) or dense
    const C = Cg * groups;
    const x = t2([1, C, 9, 9], Float32Array.from({ length: C * 81 }, (_, i) => 3 * Math.sin(i * 0.37)));
    const attrs = { stride: [1, 1] as [number, number], padding: [kh >> 1, kw >> 1] as [number, number], dilation: [1, 1] as [number, number], groups };
    const want = fast.conv2d(applyActQuant(x, qm.acts[convSite.site]!, false), W, fq.enc[`${layer}.bias`], attrs);
    const got = im.backend.conv2d(im.tap(convSite.site, x), W, fq.enc[`${layer}.bias`], attrs);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    expect(im.pendingCount()).toBe(0);
    // probabilities [Bw, heads, N, N] · v [Bw, heads, N, hd]
    const P = t2([1, 2, 5, 5], Float32Array.from({ length: 50 }, (_, i) => ((i * 7) % 11) / 11));
    const V = t2([1, 2, 5, 3], Float32Array.from({ length: 30 }, (_, i) => Math.cos(i)));
    const wantP = fast.matmul(applyActQuant(P, qm.acts[probsSite]!, qm.plan.preset.referenceCompat), V);
    const gotP = im.backend.matmul(im.tap(probsSite, P, V), V);
    expect(Array.from(gotP.data)).toEqual(Array.from(wantP.data));
    // a pending (unquantized) tensor must not reach another op
    const pend = im.tap(convSite.site, x);
    expect(() => im.backend.add(pend, pend)).toThrow(/reach the layer it was tapped for/);
    const pendP = im.tap(probsSite, P, V);
    expect(() => im.backend.permute(pendP, [0, 1, 3, 2])).toThrow(/reach the layer it was tapped for/);
  });
});
