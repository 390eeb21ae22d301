import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  compileLinearUniform, forwardLinearUniform, compileLinearCag, forwardLinearCag, compileLinearHluq, forwardLinearHluq,
  uniformEncoderThresholds, hluqEncoderThresholds, compileLnq, encodeTensor, requantize,
} from '../../src/int/compile';
import { quantizeMultiplier } from '../../src/int/fixed-point';
import { quantizeUniform, dequantizeUniform } from '../../src/quant/uniform';
import { quantizeHluq, dequantizeHluq, type HluqParams } from '../../src/quant/hluq';
import { quantizeLnq, lnqDecodeTable, type LnqParams } from '../../src/quant/lnq';
import { createRng, SpecError, type Rng, type Tensor } from '../../src/tensor';

const i32 = (shape: number[], v: ArrayLike<number>): Tensor<'int32'> => ({ dtype: 'int32', shape, data: Int32Array.from(v) });
const codes = (rng: Rng, n: number, bits: number): Int32Array => Int32Array.from({ length: n }, () => rng.int(2 ** bits));
const f = Math.fround;

/** A random linear layer: weight codes, per-row scales/zeros, bias, activation quantizer, output quantizer sized to the output range. */
function randomLayer(seed: number, bits = 4) {
  const rng = createRng(seed);
  const M = 1 + rng.int(5), K = 1 + rng.int(24), N = 1 + rng.int(6);
  const w = codes(rng, N * K, bits), x = codes(rng, M * K, bits);
  const wScales = Array.from({ length: N }, () => f(0.005 + 0.05 * rng.next()));
  const wZeros = Array.from({ length: N }, () => rng.int(2 ** bits));
  const bias = Array.from({ length: N }, () => f(rng.normal() * 0.1));
  const inScale = f(0.01 + 0.1 * rng.next()), inZero = rng.int(2 ** bits);
  // output scale: covers ≈ the typical |y| so codes use the range (some saturate on purpose)
  const yMax = inScale * 0.03 * (2 ** bits) * Math.sqrt(K) * 2 ** bits / 4 + 0.2;
  const out = { scale: f(2 * yMax / 2 ** bits), zero: 2 ** (bits - 1), bits };
  return { rng, M, K, N, w, x, wScales, wZeros, bias, inScale, inZero, out, bits };
}

/** Fake-quant reference output (float32 y) from dequantized operands: src/quant definitions, fp64 accumulation. */
function fakeQuantY(M: number, K: number, N: number, xhat: (m: number, k: number) => number, what: (n: number, k: number) => number, bias: number[]): Float32Array {
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = bias[n]!;
    for (let k = 0; k < K; k++) s += xhat(m, k) * what(n, k);
    y[m * N + n] = s;
  }
  return y;
}

/** Count |Δcode| between the integer path and the fake-quant path's quantizeUniform(y). */
function compareCodes(yInt: Int32Array, yFake: Float32Array, out: { scale: number; zero: number; bits: number }): { maxDiff: number; mismatches: number } {
  let maxDiff = 0, mismatches = 0;
  for (let i = 0; i < yInt.length; i++) {
    const d = Math.abs(yInt[i]! - quantizeUniform(yFake[i]!, out.scale, out.zero, 0, 2 ** out.bits - 1));
    maxDiff = Math.max(maxDiff, d);
    if (d !== 0) mismatches++;
  }
  return { maxDiff, mismatches };
}

function uniformCase(seed: number) {
  const L = randomLayer(seed);
  const c = compileLinearUniform({ wCodes: i32([L.N, L.K], L.w), wScales: L.wScales, wZeros: L.wZeros, bias: L.bias, bits: L.bits, inScale: L.inScale, inZero: L.inZero, out: L.out });
  const r = forwardLinearUniform(c, i32([L.M, L.K], L.x), L.bits);
  const yFake = fakeQuantY(L.M, L.K, L.N, (m, k) => dequantizeUniform(L.x[m * L.K + k]!, L.inScale, L.inZero), (n, k) => dequantizeUniform(L.w[n * L.K + k]!, L.wScales[n]!, L.wZeros[n]!), L.bias);
  return { L, c, r, yFake };
}

function cagCase(seed: number) {
  const L = randomLayer(seed);
  const G = 1 + L.rng.int(4);
  const labels = Array.from({ length: L.K }, () => L.rng.int(G));
  // group scales within [¼, 1]·max so every M_g ≥ 2^13 (relative multiplier error ≤ 2^−14)
  const groupScales = Array.from({ length: G }, () => f(L.inScale * (0.25 + 0.75 * L.rng.next())));
  const groupZeros = Array.from({ length: G }, () => L.rng.int(2 ** L.bits));
  const c = compileLinearCag({ wCodes: i32([L.N, L.K], L.w), wScales: L.wScales, wZeros: L.wZeros, bias: L.bias, bits: L.bits, labels, groupScales, groupZeros, out: L.out });
  const r = forwardLinearCag(c, i32([L.M, L.K], L.x), L.bits);
  const yFake = fakeQuantY(L.M, L.K, L.N, (m, k) => dequantizeUniform(L.x[m * L.K + k]!, groupScales[labels[k]!]!, groupZeros[labels[k]!]!), (n, k) => dequantizeUniform(L.w[n * L.K + k]!, L.wScales[n]!, L.wZeros[n]!), L.bias);
  return { L, c, r, yFake, labels, groupScales, groupZeros, G };
}

function hluqCase(seed: number) {
  const L = randomLayer(seed);
  const p: HluqParams = { version: 'v4', bits: L.bits, m: f(-0.17 * L.rng.next()), sLog: f(0.05 + 0.3 * L.rng.next()), sUni: f(0.02 + 0.1 * L.rng.next()), g: [0.125, 0.25, 0.5][L.rng.int(3)]! };
  const c = compileLinearHluq({ wCodes: i32([L.N, L.K], L.w), wScales: L.wScales, wZeros: L.wZeros, bias: L.bias, bits: L.bits, hluq: p, out: L.out });
  const r = forwardLinearHluq(c, i32([L.M, L.K], L.x));
  const yFake = fakeQuantY(L.M, L.K, L.N, (m, k) => dequantizeHluq(L.x[m * L.K + k]!, p), (n, k) => dequantizeUniform(L.w[n * L.K + k]!, L.wScales[n]!, L.wZeros[n]!), L.bias);
  return { L, c, r, yFake, p };
}

describe('compile fake-quant layers to integers', () => {
  describe('edge cases', () => {
    const base = { wCodes: i32([2, 3], [0, 1, 2, 3, 4, 5]), wScales: [0.1, 0.2], wZeros: [1, 2], bias: [0, 0], bits: 4, inScale: 0.05, inZero: 3 };
    it('rejects codes out of range, mismatched lengths, bad scales and zero points, naming the field', () => {
      expect(() => compileLinearUniform({ ...base, wCodes: i32([2, 3], [0, 1, 2, 3, 4, 16]) })).toThrow(/wCodes\[5\]/);
      expect(() => compileLinearUniform({ ...base, wScales: [0.1] })).toThrow(/wScales.length/);
      expect(() => compileLinearUniform({ ...base, wScales: [0.1, Number.NaN] })).toThrow(/wScales\[1\]/);
      expect(() => compileLinearUniform({ ...base, inZero: 16 })).toThrow(/inZero/);
      expect(() => compileLinearUniform({ ...base, bits: 9 })).toThrow(SpecError);
      expect(() => compileLinearUniform({ ...base, out: { scale: 0.1, zero: 16, bits: 4 } })).toThrow(/out.zero/);
      expect(() => compileLinearCag({ ...base, labels: [0, 1], groupScales: [1, 1], groupZeros: [0, 0] })).toThrow(/labels.length/);
      expect(() => compileLinearCag({ ...base, labels: [0, 1, 2], groupScales: [1, 1], groupZeros: [0, 0] })).toThrow(/labels\[2\]/);
      expect(() => compileLinearCag({ ...base, labels: [0, 1, 1], groupScales: [1, 1e-9], groupZeros: [0, 0] })).toThrow(/groupScales\[1\]/);
    });
    it('rejects a bias that does not fit the accumulator and activation codes out of range', () => {
      expect(() => compileLinearUniform({ ...base, bias: [1e12, 0] })).toThrow(/bias\[0\]/);
      const c = compileLinearUniform(base);
      expect(() => forwardLinearUniform(c, i32([1, 3], [0, 0, 16]), 4)).toThrow(/x\[2\]/);
      expect(() => forwardLinearUniform(c, i32([1, 2], [0, 0]), 4)).toThrow(/x.shape/);
    });
    it('empty trailing CAG groups get empty column ranges; requant saturates at both ends', () => {
      const c = compileLinearCag({ ...base, labels: [0, 0, 0], groupScales: [0.05, 0.05, 0.05], groupZeros: [3, 0, 15], out: { scale: 1e-3, zero: 8, bits: 4 } });
      expect(c.starts).toEqual([0, 3, 3, 3]);
      const y = forwardLinearCag(c, i32([2, 3], [15, 15, 15, 0, 0, 0]), 4).y;
      expect(Array.from(y.data)).toEqual([8, 15, 8, 0]); // row 0 has ΣW̃ = 0 → z_o; row 1 saturates high (X = 15) and low (X = 0)
      const r = requantize(i32([1, 3], [-(2 ** 30), 0, 2 ** 30]), [quantizeMultiplier(1), quantizeMultiplier(1), quantizeMultiplier(1)], 7, 4);
      expect(Array.from(r.data)).toEqual([0, 7, 15]);
    });
    it('requant ties round half up (−1.5 → −1, 2.5 → 3), unlike the half-even fake-quant rule', () => {
      const half = quantizeMultiplier(0.5);
      expect(Array.from(requantize(i32([1, 2], [-3, 5]), [half, half], 8, 8).data)).toEqual([7, 11]);
    });
  });

  describe('oracle (naive loops written from the definitions)', () => {
    it('uniform: wide = Σ_k (W − zw)(X − zx) + ⌊b/(s_x s_w)⌉', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const { L, r } = uniformCase(seed);
        for (let m = 0; m < L.M; m++) for (let n = 0; n < L.N; n++) {
          let s = 0;
          for (let k = 0; k < L.K; k++) s += (L.w[n * L.K + k]! - L.wZeros[n]!) * (L.x[m * L.K + k]! - L.inZero);
          expect(r.acc.data[m * L.N + n]).toBe(s);
          const unit = L.inScale * L.wScales[n]!;
          const q = L.bias[n]! / unit, fl = Math.floor(q);
          const bInt = q - fl === 0.5 ? (fl % 2 === 0 ? fl : fl + 1) : Math.floor(q + 0.5);
          expect(r.wide[m * L.N + n]).toBe(s + bInt);
        }
      }));
    });
    it('CAG: folded wide accumulator equals Σ_g M_g·Σ_{k: ℓ(k)=g} W̃·(X − Z_g) + ⌊b/unit⌉ in the original channel order', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const { L, c, r, labels, groupZeros, G } = cagCase(seed);
        expect(Math.max(...c.groupMults)).toBe(2 ** 15); // the largest group scale is s_ref: M = 2^F exactly
        for (let m = 0; m < L.M; m++) for (let n = 0; n < L.N; n++) {
          let s = 0;
          for (let g = 0; g < G; g++) {
            let part = 0;
            for (let k = 0; k < L.K; k++) if (labels[k] === g) part += (L.w[n * L.K + k]! - L.wZeros[n]!) * (L.x[m * L.K + k]! - groupZeros[g]!);
            s += c.groupMults[g]! * part;
          }
          let foldedZ = 0;
          for (let g = 0; g < G; g++) for (let k = 0; k < L.K; k++) if (labels[k] === g) foldedZ += c.groupMults[g]! * groupZeros[g]! * (L.w[n * L.K + k]! - L.wZeros[n]!);
          expect(r.wide[m * L.N + n]! - c.bias[n]! - foldedZ).toBe(s);
        }
      }));
    });
    it('HLUQ: accLog/accUni equal the integer value decomposition of each code (no code shared with src/int/gemm)', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const { L, c, r } = hluqCase(seed);
        const gb = c.guardBits;
        for (let m = 0; m < L.M; m++) for (let n = 0; n < L.N; n++) {
          let lg = 0, un = 0;
          for (let k = 0; k < L.K; k++) {
            const q = L.x[m * L.K + k]!, wt = L.w[n * L.K + k]! - L.wZeros[n]!;
            if (q === 0) continue;
            if (q < c.lLog) lg += Math.floor(wt * 2 ** gb / 2 ** (c.lLog - q));
            else { lg += wt * 2 ** gb; un += wt * (q - c.lLog); }
          }
          expect(r.accLog.data[m * L.N + n]).toBe(lg);
          expect(r.accUni.data[m * L.N + n]).toBe(un);
          expect(r.wide[m * L.N + n]).toBe(c.multLog * lg + c.multUni * un + c.bias[n]!);
        }
      }));
    });
  });

  describe('laws (integer path vs fake-quant path)', () => {
    it('encoders by construction: threshold codes equal quantizeUniform / quantizeHluq / quantizeLnq on every float32 tried', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 1, maxLength: 30 }), (seed, xs) => {
        const rng = createRng(seed);
        const bits = [4, 6, 8][rng.int(3)]!;
        const u = { scale: f(0.01 + rng.next() * 0.2), zero: rng.int(2 ** bits), bits };
        const hp: HluqParams = { version: 'v4', bits, m: f(-0.2 * rng.next()), sLog: f(0.05 + rng.next()), sUni: f(0.01 + 0.1 * rng.next()), g: 0.25 };
        const lp: LnqParams = { bits, s: f(0.2 + 0.8 * rng.next()), alpha: f(1 + 100 * rng.next()) };
        const tu = uniformEncoderThresholds(u), th = hluqEncoderThresholds(hp), tl = compileLnq(lp).thresholds;
        // probe the given points and each threshold and its float32 predecessor (the exact boundaries)
        const probes = [...xs, ...Array.from(tu).slice(0, 8), ...Array.from(th).slice(0, 8), ...Array.from(tl).slice(0, 8)].filter((v) => Number.isFinite(v));
        for (const x of probes) {
          const xm = f(x - Math.abs(x) * 2 ** -24);
          for (const v of [x, xm].filter((t) => Number.isFinite(t))) {
            expect(encodeTensor(i32f([1], [v]), tu).data[0]).toBe(quantizeUniform(v, u.scale, u.zero, 0, 2 ** bits - 1));
            expect(encodeTensor(i32f([1], [v]), th).data[0]).toBe(quantizeHluq(v, hp));
            expect(encodeTensor(i32f([1], [v]), tl).data[0]).toBe(quantizeLnq(v, lp));
          }
        }
      }), { numRuns: 20 });
    });
    it('LNQ decoder table is within 2^−(F+1) of p̂', () => {
      const lp: LnqParams = { bits: 4, s: 0.7, alpha: 30 };
      const { table, fracBits } = compileLnq(lp);
      const ref = lnqDecodeTable(lp);
      for (let q = 0; q < table.length; q++) expect(Math.abs(table[q]! * 2 ** -fracBits - ref[q]!)).toBeLessThanOrEqual(2 ** -(fracBits + 1));
    });
    // Bound: the integer path differs from exact real arithmetic by ≤ ½·unit (bias) + |wide|·unit·2^−16
    // (16-bit multiplier) (+ 2^−14 relative for CAG/HLUQ path multipliers); the fake-quant path by float32
    // roundings (≈2^−24 relative per operand). For these layers the sum is far below one output step, so
    // the two codes can differ only where y/s_o lies within that error of a rounding boundary (or on an
    // exact tie: half-up vs half-even) — by one code, never more.
    it('uniform, CAG, HLUQ: output codes differ from the fake-quant codes by at most one', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        for (const mk of [uniformCase, cagCase, hluqCase]) {
          const { r, yFake, L } = mk(seed);
          expect(compareCodes(r.y.data as Int32Array, yFake, L.out).maxDiff).toBeLessThanOrEqual(1);
        }
      }));
    });
    it('measured mismatch rate over 300 seeded layers is below 2 % (prints the rate)', () => {
      const rates: string[] = [];
      for (const [name, mk] of [['uniform', uniformCase], ['cag', cagCase], ['hluq', hluqCase]] as const) {
        let total = 0, mism = 0, maxDiff = 0;
        for (let seed = 1; seed <= 300; seed++) {
          const { r, yFake, L } = mk(seed);
          const c = compareCodes(r.y.data as Int32Array, yFake, L.out);
          total += yFake.length; mism += c.mismatches; maxDiff = Math.max(maxDiff, c.maxDiff);
        }
        rates.push(`${name}: ${mism}/${total} = ${((100 * mism) / total).toFixed(3)} % (max |Δ| ${maxDiff})`);
        expect(maxDiff).toBeLessThanOrEqual(1);
        expect(mism / total).toBeLessThan(0.02);
      }
      console.log(`integer vs fake-quant code mismatches: ${rates.join('; ')}`);
    });
    it('dequant output stays within ½·unit + float32 rounding of the fake-quant float output', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const L = randomLayer(seed);
        const c = compileLinearUniform({ wCodes: i32([L.N, L.K], L.w), wScales: L.wScales, wZeros: L.wZeros, bias: L.bias, bits: L.bits, inScale: L.inScale, inZero: L.inZero });
        const r = forwardLinearUniform(c, i32([L.M, L.K], L.x), L.bits);
        const yFake = fakeQuantY(L.M, L.K, L.N, (m, k) => dequantizeUniform(L.x[m * L.K + k]!, L.inScale, L.inZero), (n, k) => dequantizeUniform(L.w[n * L.K + k]!, L.wScales[n]!, L.wZeros[n]!), L.bias);
        for (let i = 0; i < yFake.length; i++) {
          const unit = L.inScale * L.wScales[i % L.N]!;
          // ½ unit from the bias, 2^−22 relative for float32 operands/stores on both sides (K·15·15 terms bounded by |wide|+K·225)
          const tol = 0.5 * unit + 2 ** -21 * (Math.abs(yFake[i]!) + unit * L.K * 225) + 1e-12;
          expect(Math.abs((r.y.data[i] as number) - yFake[i]!)).toBeLessThanOrEqual(tol);
        }
      }));
    });
    it('CAG compiled on a permuted channel order gives the same outputs (permutation equivariance)', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const { L, r, labels, groupScales, groupZeros } = cagCase(seed);
        const rng = createRng(seed ^ 0x5a5a);
        const p = Array.from({ length: L.K }, (_, i) => i);
        for (let i = L.K - 1; i > 0; i--) { const j = rng.int(i + 1); [p[i], p[j]] = [p[j]!, p[i]!]; }
        const wP = Int32Array.from({ length: L.N * L.K }, (_, i) => L.w[Math.floor(i / L.K) * L.K + p[i % L.K]!]!);
        const xP = Int32Array.from({ length: L.M * L.K }, (_, i) => L.x[Math.floor(i / L.K) * L.K + p[i % L.K]!]!);
        const c2 = compileLinearCag({ wCodes: i32([L.N, L.K], wP), wScales: L.wScales, wZeros: L.wZeros, bias: L.bias, bits: L.bits, labels: p.map((k) => labels[k]!), groupScales, groupZeros, out: L.out });
        const r2 = forwardLinearCag(c2, i32([L.M, L.K], xP), L.bits);
        expect(Array.from(r2.y.data)).toEqual(Array.from(r.y.data));
      }));
    });
  });
});

function i32f(shape: number[], v: number[]): Tensor<'float32'> {
  return { dtype: 'float32', shape, data: Float32Array.from(v) };
}
