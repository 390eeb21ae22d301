import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gelu, geluTanh } from '../../src/ops/gelu';
import { relu } from '../../src/ops/relu';
import { sigmoid } from '../../src/ops/sigmoid';
import { fromArray, SpecError } from '../../src/tensor';
import { tensor } from '../arbitraries/tensor';

describe('gelu / geluTanh / relu / sigmoid — edge cases', () => {
  it('gelu special values: 0 → 0, +∞ → +∞, −∞ → −0 (limit), NaN → NaN', () => {
    const y = gelu(fromArray([4], [0, Infinity, -Infinity, NaN]));
    expect(y.data[0]).toBe(0);
    expect(y.data[1]).toBe(Infinity);
    expect(Object.is(y.data[2], -0)).toBe(true);
    expect(Number.isNaN(y.data[3]!)).toBe(true);
  });
  it('geluTanh at ±∞', () => {
    const y = geluTanh(fromArray([2], [Infinity, -Infinity]));
    expect(y.data[0]).toBe(Infinity);
    expect(Object.is(y.data[1], -0)).toBe(true);
  });
  it('sigmoid saturates without overflow: σ(±100) and σ(±∞)', () => {
    expect(Array.from(sigmoid(fromArray([4], [100, -100, Infinity, -Infinity])).data)).toEqual([1, Math.fround(Math.exp(-100) / (1 + Math.exp(-100))), 1, 0]);
  });
  it('relu: NaN → NaN, −0 → 0', () => {
    const y = relu(fromArray([3], [NaN, -0, -1]));
    expect(Number.isNaN(y.data[0]!)).toBe(true);
    expect(Object.is(y.data[1], 0)).toBe(true);
    expect(y.data[2]).toBe(0);
  });
  it('non-float32 input → SpecError', () => {
    expect(() => gelu({ dtype: 'int32', shape: [1], data: new Int32Array(1) } as never)).toThrow(SpecError);
  });
});

describe('gelu / geluTanh / relu / sigmoid — oracle', () => {
  it('gelu matches Φ computed by Simpson integration of the normal density (|Δ| < 1e-6)', () => {
    const phi = (x: number): number => {
      // Φ(x) = ½ + ∫₀ˣ φ(t) dt by composite Simpson with 2000 panels (error ≪ 1e-9 for |x| ≤ 6)
      const n = 2000;
      const h = x / n;
      let s = 0;
      for (let i = 0; i <= n; i++) {
        const t = i * h;
        const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
        s += w * Math.exp(-t * t / 2);
      }
      return 0.5 + (s * h) / 3 / Math.sqrt(2 * Math.PI);
    };
    fc.assert(
      fc.property(fc.float({ min: -6, max: 6, noNaN: true }), (v) => {
        const x = Math.fround(v);
        // tolerance: float32 storage (≤ 6·2^-24 ≈ 3.6e-7) plus integration error
        expect(Math.abs(gelu(fromArray([1], [x])).data[0]! - x * phi(x))).toBeLessThan(1e-6);
      }),
      { numRuns: 30 },
    );
  });
  it('geluTanh stays within 1e-3 of exact gelu on [−6, 6] (known approximation error ≈ 5e-4)', () => {
    fc.assert(
      fc.property(tensor({ min: -6, max: 6 }), (x) => {
        const a = gelu(x).data;
        const b = geluTanh(x).data;
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-3);
      }),
    );
  });
});

describe('gelu / geluTanh / relu / sigmoid — laws', () => {
  it('gelu(x) − gelu(−x) = x (Φ(x) + Φ(−x) = 1), within fp32 rounding of both terms', () => {
    fc.assert(
      fc.property(tensor({ min: -8, max: 8 }), (x) => {
        const neg = fromArray(x.shape, Array.from(x.data, (v) => -v));
        const a = gelu(x).data;
        const b = gelu(neg).data;
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]! - x.data[i]!)).toBeLessThanOrEqual(2 * 2 ** -24 * 8 + 1e-12);
      }),
    );
  });
  it('relu(x) − relu(−x) = x exactly', () => {
    fc.assert(
      fc.property(tensor({ min: -1e6, max: 1e6 }), (x) => {
        const neg = fromArray(x.shape, Array.from(x.data, (v) => -v));
        const a = relu(x).data;
        const b = relu(neg).data;
        expect(a.every((v, i) => v - b[i]! === x.data[i]!)).toBe(true);
      }),
    );
  });
  it('σ(x) + σ(−x) = 1 within 2 fp32 roundings, and σ is monotone', () => {
    fc.assert(
      fc.property(tensor({ min: -40, max: 40 }), (x) => {
        const neg = fromArray(x.shape, Array.from(x.data, (v) => -v));
        const a = sigmoid(x).data;
        const b = sigmoid(neg).data;
        for (let i = 0; i < a.length; i++) {
          expect(Math.abs(a[i]! + b[i]! - 1)).toBeLessThanOrEqual(2 ** -23);
          for (let j = 0; j < a.length; j++) if (x.data[i]! < x.data[j]!) expect(a[i]!).toBeLessThanOrEqual(a[j]!);
        }
      }),
    );
  });
});

describe('gelu / geluTanh / relu / sigmoid — conformance', () => {
  it('PyTorch nn.GELU() values: gelu(1) = 0.8413447, gelu(−1) = −0.15865526', () => {
    const y = gelu(fromArray([2], [1, -1]));
    expect(y.data[0]).toBe(Math.fround(0.8413447460685429));
    expect(y.data[1]).toBe(Math.fround(-0.15865525393145707));
  });
  it('PyTorch nn.GELU(approximate="tanh")(1) = 0.8411920', () => {
    expect(Math.abs(geluTanh(fromArray([1], [1])).data[0]! - 0.841192)).toBeLessThan(1e-6);
  });
});
