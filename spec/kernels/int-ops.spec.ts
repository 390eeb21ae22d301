/**
 * spec/kernels/int-ops: the integer-inference elementwise wasm kernels (src/kernels/int-kernel.ts via
 * int-ops.ts) against naive loops (uniform codes / fake values, float64 rescale) and against the
 * reference quantizers of src/quant (HLUQ codes, LNQ fake values): every comparison is EXACT
 * (Object.is on floats, === on codes) — the kernels reproduce the float32 / float64 operation
 * sequence of their references, so no tolerance applies anywhere in this file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError, type Tensor } from '../../src/tensor';
import { createKernelRuntime, disposeKernelRuntime, type KernelRuntime } from '../../src/kernels/runtime';
import { alloc, f32At, i32At, mark, release, u8At } from '../../src/kernels/arena';
import {
  createIntKernels, encodeHluqTable, encodeUniform, encodeUniformCols, fakeQuantLnqFast, fakeQuantUniformFast,
  hluqThresholds, lnqThresholdTable, rescaleAccumulators, type IntKernels,
} from '../../src/kernels/int-ops';
import { fakeQuantPerTensor } from '../../src/quant/uniform';
import { hluqCodeKernel, hluqLevelSplit, type HluqParams } from '../../src/quant/hluq';
import { fakeQuantLnqTensor, type LnqParams } from '../../src/quant/lnq';

let rt: KernelRuntime;
let k: IntKernels;
beforeAll(async () => {
  rt = await createKernelRuntime({ threads: 1 });
  k = createIntKernels(rt);
});
afterAll(async () => {
  if (rt) await disposeKernelRuntime(rt);
});

// ── naive oracles (share no code with src) ──

/** Round half to even on a double. */
function rhe(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.floor(v);
  const d = v - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}
function naiveCode(x: number, s: number, z: number, qmin: number, qmax: number): number {
  return Math.min(qmax, Math.max(qmin, rhe(Math.fround(x / s)) + z));
}
function naiveFake(x: number, s: number, z: number, qmin: number, qmax: number): number {
  return Math.fround((naiveCode(x, s, z, qmin, qmax) - z) * s);
}

const t1 = (d: Float32Array): Tensor => ({ dtype: 'float32', shape: [d.length], data: d });
const F32_MAX = 3.4028234663852886e38;

/** float32 arrays mixing ordinary values, exact .5 ties of s, huge values (clamping) and ±0. */
function valuesArb(s: number, maxLen = 70): fc.Arbitrary<Float32Array> {
  const v = fc.oneof(
    fc.float({ min: -20, max: 20, noNaN: true }),
    fc.integer({ min: -40, max: 40 }).map((i) => Math.fround((i + 0.5) * s)), // ties (when exact in float32)
    fc.float({ min: Math.fround(-F32_MAX), max: Math.fround(F32_MAX), noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 1e-30, -1e-30),
  );
  return fc.array(v, { minLength: 1, maxLength: maxLen }).map((a) => Float32Array.from(a));
}
const scaleArb = fc.oneof(fc.float({ min: Math.fround(1e-3), max: 4, noNaN: true }), fc.double({ min: 1e-3, max: 4, noNaN: true }));

/** Copy x into arena scratch; run `body(ptr)`; release. */
function inArena<T>(x: Float32Array, body: (xp: number) => T): T {
  const m0 = mark(rt.arena);
  try {
    const xp = alloc(rt.arena, x.length * 4, 16);
    f32At(rt.arena, xp, x.length).set(x);
    return body(xp);
  } finally {
    release(rt.arena, m0);
  }
}

function hluqArb(): fc.Arbitrary<HluqParams> {
  return fc.record({
    bits: fc.integer({ min: 2, max: 4 }),
    g: fc.constantFrom(1 / 8, 1 / 4, 1 / 2),
    m: fc.float({ min: -2, max: 2, noNaN: true }),
    sLog: fc.float({ min: Math.fround(0.01), max: 8, noNaN: true }),
    sUni: fc.float({ min: Math.fround(0.01), max: 4, noNaN: true }),
  }).filter((p) => Number.isInteger(2 ** p.bits * p.g) && 2 ** p.bits * p.g >= 1)
    .map((p) => ({ version: 'v4' as const, ...p }));
}

describe('edge cases', () => {
  it('non-finite inputs are rejected with a typed error naming x (SIMD body and scalar tail), empty tensors too', () => {
    const q = { scale: 0.5, zeroPoint: 3, qmin: 0, qmax: 15 };
    for (const n of [3, 8, 9]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, n - 1]) {
          const x = new Float32Array(n).fill(1);
          x[at] = bad;
          expect(() => fakeQuantUniformFast(k, t1(x), q)).toThrow(SpecError);
          expect(() => fakeQuantUniformFast(k, t1(x), q)).toThrow(/x/);
          expect(() => fakeQuantLnqFast(k, t1(x), lnqThresholdTable({ bits: 4, s: 0.9, alpha: 20 }, false))).toThrow(SpecError);
          expect(inArena(x, (xp) => m0Code(xp, n, q))).toBe(at);
          const h = { version: 'v4' as const, bits: 4, g: 1 / 2, m: 0, sLog: 1, sUni: 0.5 };
          expect(inArena(x, (xp) => hluqBytes(h, false, xp, n).bad)).toBe(at);
        }
      }
    }
    expect(() => fakeQuantUniformFast(k, { dtype: 'float32', shape: [0], data: new Float32Array(0) }, q)).toThrow(/non-empty/);
    expect(() => fakeQuantUniformFast(k, t1(new Float32Array(4)), { ...q, scale: 0 })).toThrow(/scale/);
    expect(() => rescaleAccumulators(k, 0, 0, 2, 1, 3, new Float64Array(5), new Float64Array(3), 0)).toThrow(/sc, ob/);
  });

  it('the HLUQ table kernel refuses more than 16 levels', () => {
    const h = hluqThresholds({ version: 'v4', bits: 5, g: 1 / 4, m: 0, sLog: 1, sUni: 0.1 }, false);
    expect(() => encodeHluqTable(k, h, { version: 'v4', bits: 5, g: 1 / 4, m: 0, sLog: 1, sUni: 0.1 }, false, 0, 0, new Uint8Array(32), new Uint8Array(32), 0, 0, 0)).toThrow(/L ≤ 16/);
  });
});

function m0Code(xp: number, n: number, q: { scale: number; zeroPoint: number; qmin: number; qmax: number }): number {
  const m0 = mark(rt.arena);
  try {
    return encodeUniform(k, q, xp, n, alloc(rt.arena, n, 16));
  } finally {
    release(rt.arena, m0);
  }
}

function hluqBytes(p: HluqParams, compat: boolean, xp: number, n: number): { bad: number; c: Uint8Array; a: Uint8Array; b: Uint8Array } {
  const { L } = hluqLevelSplit(p);
  const t1b = Uint8Array.from({ length: L }, (_, i) => (i * 7 + 1) & 255), t2b = Uint8Array.from({ length: L }, (_, i) => 200 - i);
  const m0 = mark(rt.arena);
  try {
    const q1 = alloc(rt.arena, n, 16), q2 = alloc(rt.arena, n, 16), qc = alloc(rt.arena, n, 16);
    const bad = encodeHluqTable(k, hluqThresholds(p, compat), p, compat, xp, n, t1b, t2b, q1, q2, qc);
    const c = u8At(rt.arena, qc, n).slice();
    const a = u8At(rt.arena, q1, n).slice(), b = u8At(rt.arena, q2, n).slice();
    // the byte planes are the tables at the codes
    for (let i = 0; i < n && bad < 0; i++) if (a[i] !== t1b[c[i]!] || b[i] !== t2b[c[i]!]) expect.fail(`plane bytes at ${i}`);
    return { bad, c, a, b };
  } finally {
    release(rt.arena, m0);
  }
}

describe('oracle', () => {
  it('uq_fake / uq_code: bit-identical to the naive half-even quantizer (ties, clamping, ±0, any length)', () => {
    const arb = scaleArb.chain((s) => fc.tuple(fc.constant(s), valuesArb(s)));
    fc.assert(fc.property(arb, fc.integer({ min: 0, max: 15 }), fc.constantFrom(15, 255), ([s, x], z0, qmax) => {
      const z = Math.min(z0, qmax);
      const q = { scale: s, zeroPoint: z, qmin: 0, qmax };
      const y = fakeQuantUniformFast(k, t1(x), q).data;
      for (let i = 0; i < x.length; i++) if (!Object.is(y[i], naiveFake(x[i]!, s, z, 0, qmax))) return false;
      const codes = inArena(x, (xp) => {
        const qp = alloc(rt.arena, x.length, 16);
        expect(encodeUniform(k, q, xp, x.length, qp)).toBe(-1);
        return u8At(rt.arena, qp, x.length).slice();
      });
      for (let i = 0; i < x.length; i++) if (codes[i] !== naiveCode(x[i]!, s, z, 0, qmax)) return false;
      return true;
    }), { numRuns: 100 });
  });

  it('uq_code_cols: per-column scales and zero points with a column gather equal the naive codes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 19 }), fc.nat(), (rows, K, seed) => {
      let st = seed;
      const rnd = (): number => ((st = (st * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const perm = Int32Array.from({ length: K }, (_, i) => i).sort((a, b) => Math.sin(a + seed) - Math.sin(b + seed));
      const sc = Float64Array.from({ length: K }, () => 0.01 + rnd() * 2);
      const zp = Float32Array.from({ length: K }, () => Math.floor(rnd() * 16));
      const x = Float32Array.from({ length: rows * K }, (_, i) => (i % 5 === 0 ? (Math.floor(rnd() * 20) + 0.5) * sc[perm.indexOf(i % K)]! : (rnd() - 0.5) * 30));
      const codes = inArena(x, (xp) => {
        const qp = alloc(rt.arena, rows * K, 16);
        expect(encodeUniformCols(k, xp, rows, perm, sc, zp, 0, 15, qp)).toBe(-1);
        return u8At(rt.arena, qp, rows * K).slice();
      });
      for (let r = 0; r < rows; r++) for (let j = 0; j < K; j++) {
        if (codes[r * K + j] !== naiveCode(x[r * K + perm[j]!]!, sc[j]!, zp[j]!, 0, 15)) return false;
      }
      return true;
    }));
  });

  it('rescale: bit-identical to the naive float64 loop (G groups, odd and even N, full int32 accumulators, in place)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 11 }), fc.nat(), (G, rows, N, seed) => {
      let st = seed | 1;
      const rnd = (): number => ((st = (st * 1664525 + 1013904223) >>> 0) / 2 ** 32);
      const acc = Int32Array.from({ length: G * rows * N }, (_, i) => (i % 7 === 0 ? (i % 2 ? 2147483647 : -2147483648) : Math.floor((rnd() - 0.5) * 2 ** 32) | 0));
      const sc = Float64Array.from({ length: G * N }, () => (rnd() - 0.5) * 1e-4);
      const ob = Float64Array.from({ length: N }, () => (rnd() - 0.5) * 10);
      const want = new Float32Array(rows * N);
      for (let r = 0; r < rows; r++) for (let n = 0; n < N; n++) {
        let s = ob[n]!;
        for (let g = 0; g < G; g++) s += sc[g * N + n]! * acc[g * rows * N + r * N + n]!;
        want[r * N + n] = s;
      }
      const m0 = mark(rt.arena);
      try {
        const ap = alloc(rt.arena, acc.length * 4, 16);
        i32At(rt.arena, ap, acc.length).set(acc);
        rescaleAccumulators(k, ap, rows * N * 4, G, rows, N, sc, ob, ap);
        const got = f32At(rt.arena, ap, rows * N);
        for (let i = 0; i < rows * N; i++) if (!Object.is(got[i], want[i])) return false;
        return true;
      } finally {
        release(rt.arena, m0);
      }
    }));
  });
});

describe('laws', () => {
  it('HLUQ threshold encoder = hluqCodeKernel on every probed float32: random values, each threshold and its float32 predecessor (both compat modes)', () => {
    fc.assert(fc.property(hluqArb(), fc.boolean(), fc.array(fc.float({ min: -40, max: 40, noNaN: true }), { minLength: 1, maxLength: 40 }), (p, compat, vals) => {
      const { lLog, lUni } = hluqLevelSplit(p);
      const th = hluqThresholds(p, compat);
      const probes = [...vals, ...Array.from(th.thr).flatMap((t) => (Number.isFinite(t) ? [t, prevF32(t), nextF32(t)] : [])), p.m, p.m + p.sLog, lLog + p.m];
      if (Number.isFinite(th.tc)) probes.push(th.tc, prevF32(th.tc));
      const x = Float32Array.from(probes.filter((v) => Number.isFinite(Math.fround(v))));
      const r = inArena(x, (xp) => hluqBytes(p, compat, xp, x.length));
      expect(r.bad).toBe(-1);
      for (let i = 0; i < x.length; i++) {
        const want = hluqCodeKernel(x[i]!, p, lLog, lUni, compat);
        if (r.c[i] !== want) expect.fail(`x = ${x[i]}: code ${r.c[i]} ≠ ${want} (${JSON.stringify(p)}, compat ${compat})`);
      }
    }));
  });

  it('LNQ threshold + LUT fake-quant is bit-identical to fakeQuantLnqTensor (probabilities, thresholds ± 1 ulp, both N_q conventions)', () => {
    const lnqArb = fc.record({ bits: fc.integer({ min: 2, max: 6 }), s: fc.float({ min: Math.fround(0.05), max: 1, noNaN: true }), alpha: fc.float({ min: Math.fround(0.5), max: 200, noNaN: true }) });
    fc.assert(fc.property(lnqArb, fc.boolean(), fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }), (p: LnqParams, compat, vals) => {
      const t = lnqThresholdTable(p, compat);
      const probes = [...vals, ...Array.from(t.thr).flatMap((v) => (Number.isFinite(v) ? [v, prevF32(v)] : [])), -1, 2, 0];
      const x = Float32Array.from(probes);
      const got = fakeQuantLnqFast(k, t1(x), t).data;
      const want = fakeQuantLnqTensor(t1(x), p, { referenceCompat: compat }).data;
      for (let i = 0; i < x.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`p = ${x[i]}: ${got[i]} ≠ ${want[i]}`);
    }));
  });

  it('uniform fake-quant kernel = fakeQuantPerTensor (src/quant/uniform.ts) and is deterministic', () => {
    fc.assert(fc.property(scaleArb, fc.integer({ min: 0, max: 15 }), valuesArb(0.25, 100), (s, z, x) => {
      const q = { scale: s, zeroPoint: z, qmin: 0, qmax: 15 };
      const a = fakeQuantUniformFast(k, t1(x), q).data, b = fakeQuantUniformFast(k, t1(x), q).data;
      const r = fakeQuantPerTensor(t1(x), q).data;
      for (let i = 0; i < x.length; i++) if (!Object.is(a[i], r[i]) || !Object.is(a[i], b[i])) return false;
      return true;
    }));
  });
});

const buf = new Float32Array(1), bits = new Int32Array(buf.buffer);
/** The float32 just below / above a finite positive or negative float32 (not across ±0). */
function prevF32(x: number): number {
  buf[0] = x;
  if (x === 0) return -1e-45;
  bits[0]! += x > 0 ? -1 : 1;
  return buf[0]!;
}
function nextF32(x: number): number {
  buf[0] = x;
  if (x === 0) return 1e-45;
  bits[0]! += x > 0 ? 1 : -1;
  return buf[0]!;
}
