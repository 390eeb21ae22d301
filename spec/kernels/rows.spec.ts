import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, type Tensor } from '../../src/tensor';
import { createFastBackend, referenceBackend, type FastBackend } from '../../src/kernels/backend';

// Row-kernel tolerances against the fp64 reference ops (u = 2^-24):
// - gelu: rational erf fit |error| ≤ 3.9e-7 absolute (measured in f32 arithmetic, rows-kernel.ts), which
//   enters as ½|x|·Δerf, plus a few ulp of f32 rounding on ½x(1 + erf): |Δ| ≤ 4e-7·|x| + 1e-37
//   (measured max 2.5e-7·|x| on [−16, 16]).
// - softmax: the f32 argument x − m carries u·|x − m| absolute error (→ relative error of e^(x−m)),
//   exp itself ≤ ~4 ulp, the f32 sum of C terms ≤ C·u relative: |Δyᵢ| ≤ (|xᵢ − m| + C + 10)·u·yᵢ + 1e-37.
// - layerNorm: μ and rstd rounded to f32 (u each, ε to f32 adds ≤ u/2 to rstd), then 4 f32 ops:
//   |Δ| ≤ 8u·((|x − μ| + |μ|)·rstd·|γ| + |β|) + 1e-37.
const U = 2 ** -24;

function rand(rng: ReturnType<typeof createRng>, shape: number[], scale = 1, offset = 0): Tensor {
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = (rng.next() * 2 - 1) * scale + offset;
  return { dtype: 'float32', shape, data: d };
}
const t1 = (v: number[]): Tensor => ({ dtype: 'float32', shape: [v.length], data: Float32Array.from(v) });

function expectGeluClose(x: Tensor, fast: Tensor, ref: Tensor): void {
  for (let i = 0; i < x.data.length; i++) {
    const bound = 4e-7 * Math.abs(x.data[i]!) + 1e-37;
    const err = Math.abs(fast.data[i]! - ref.data[i]!);
    if (!(err <= bound)) expect.fail(`gelu(${x.data[i]}) fast ${fast.data[i]} vs ${ref.data[i]}: |Δ| = ${err} > ${bound}`);
  }
}
function expectSoftmaxClose(x: Tensor, fast: Tensor, ref: Tensor): void {
  const C = x.shape[x.shape.length - 1]!;
  for (let r = 0; r < x.data.length / C; r++) {
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, x.data[r * C + j]!);
    for (let j = 0; j < C; j++) {
      const i = r * C + j;
      const bound = (Math.abs(x.data[i]! - m) + C + 10) * U * ref.data[i]! + 1e-37;
      const err = Math.abs(fast.data[i]! - ref.data[i]!);
      if (!(err <= bound)) expect.fail(`softmax[${r}, ${j}] fast ${fast.data[i]} vs ${ref.data[i]}: |Δ| = ${err} > ${bound}`);
    }
  }
}
function expectLayerNormClose(x: Tensor, g: Tensor, b: Tensor, eps: number, fast: Tensor, ref: Tensor): void {
  const C = x.shape[x.shape.length - 1]!;
  for (let r = 0; r < x.data.length / C; r++) {
    let s = 0;
    for (let j = 0; j < C; j++) s += x.data[r * C + j]!;
    const mu = s / C;
    let v = 0;
    for (let j = 0; j < C; j++) v += (x.data[r * C + j]! - mu) ** 2;
    const rstd = 1 / Math.sqrt(v / C + eps);
    for (let j = 0; j < C; j++) {
      const i = r * C + j;
      const bound = 8 * U * ((Math.abs(x.data[i]! - mu) + Math.abs(mu)) * rstd * Math.abs(g.data[j]!) + Math.abs(b.data[j]!)) + 1e-37;
      const err = Math.abs(fast.data[i]! - ref.data[i]!);
      if (!(err <= bound)) expect.fail(`layerNorm[${r}, ${j}] fast ${fast.data[i]} vs ${ref.data[i]}: |Δ| = ${err} > ${bound}`);
    }
  }
}

let fast1: FastBackend;
let fast2: FastBackend;
beforeAll(async () => {
  fast1 = await createFastBackend({ threads: 1 });
  fast2 = await createFastBackend({ threads: 2 });
});
afterAll(async () => {
  await fast1.dispose();
  await fast2.dispose();
});

describe('fast gelu / softmax / layerNorm — edge cases', () => {
  it('gelu special values match the reference bit for bit (±0, ±∞, NaN, |x| ≥ 15)', () => {
    const x = t1([0, -0, Infinity, -Infinity, NaN, 15, -15, 16, -16, 40, -40, 3.4e38, -3.4e38]);
    const fast = fast1.gelu(x);
    const ref = referenceBackend.gelu(x);
    for (let i = 0; i < x.data.length; i++) expect(Object.is(fast.data[i], ref.data[i]), `gelu(${x.data[i]}) = ${fast.data[i]} vs ${ref.data[i]}`).toBe(true);
  });
  it('gelu of tiny and denormal inputs is within the bound (≈ x/2)', () => {
    const x = t1([1e-30, -1e-30, 1e-38, -1e-40, 1e-45, 2e-7, -2e-7]);
    expectGeluClose(x, fast1.gelu(x), referenceBackend.gelu(x));
  });
  it.each([
    ['NaN entry', [1, NaN, 2]],
    ['+∞ entry', [1, Infinity, 2]],
    ['all −∞', [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity]],
  ])('softmax row with %s is NaN, as the reference', (_n, v) => {
    const y = fast1.softmax(t1(v));
    expect([...y.data].every(Number.isNaN)).toBe(true);
    expect([...referenceBackend.softmax(t1(v)).data].every(Number.isNaN)).toBe(true);
  });
  it('softmax: −∞ entries get exactly 0, C = 1 gives exactly 1, a 1e30 spread is one-hot', () => {
    expect([...fast1.softmax(t1([-Infinity, 0, -Infinity])).data]).toEqual([0, 1, 0]);
    expect([...fast1.softmax(t1([123.5])).data]).toEqual([1]);
    expect([...fast1.softmax(t1([1e30, -1e30, 0, 5, 7])).data]).toEqual([1, 0, 0, 0, 0]);
  });
  it('layerNorm: C = 1 and constant rows give exactly β', () => {
    const b = t1([0.25]);
    expect([...fast1.layerNorm({ dtype: 'float32', shape: [3, 1], data: Float32Array.of(5, -2, 0) }, t1([2]), b, { epsilon: 1e-6 }).data]).toEqual([0.25, 0.25, 0.25]);
    const y = fast1.layerNorm(t1([7, 7, 7, 7, 7]), t1([1, 2, 3, 4, 5]), t1([1, -1, 0.5, 0, 2]), { epsilon: 1e-5 });
    expect([...y.data]).toEqual([1, -1, 0.5, 0, 2]);
  });
  it('fast softmax along a non-last axis falls back to the reference (identical bits)', () => {
    const x = rand(createRng(4), [3, 5, 2]);
    expect(fast1.softmax(x, { axis: 1 }).data).toEqual(referenceBackend.softmax(x, { axis: 1 }).data);
  });
  it('layerNorm rejects a missing epsilon with the reference message', () => {
    const x = rand(createRng(1), [2, 4]);
    let msg = '';
    try {
      referenceBackend.layerNorm(x, t1([1, 1, 1, 1]), t1([0, 0, 0, 0]), {} as { epsilon: number });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/epsilon/);
    expect(() => fast1.layerNorm(x, t1([1, 1, 1, 1]), t1([0, 0, 0, 0]), {} as { epsilon: number })).toThrow(msg);
  });
});

const rowCase = fc.record({
  R: fc.integer({ min: 1, max: 40 }),
  C: fc.integer({ min: 1, max: 70 }),
  scale: fc.constantFrom(0.01, 1, 8, 100),
  offset: fc.constantFrom(0, 3, -50),
  seed: fc.integer({ min: 0, max: 1 << 30 }),
});

describe('fast gelu / softmax / layerNorm — oracle (reference ops)', () => {
  it('gelu on random tensors (magnitudes 0.01 … 100) is within 4e-7·|x|', () => {
    fc.assert(
      fc.property(rowCase, ({ R, C, scale, seed }) => {
        const x = rand(createRng(seed), [R, C], scale);
        expectGeluClose(x, fast1.gelu(x), referenceBackend.gelu(x));
      }),
    );
  });
  it('gelu on a dense grid of [−16, 16] (2^17 points, 2 threads) is within 4e-7·|x|', () => {
    const n = 1 << 17;
    const x: Tensor = { dtype: 'float32', shape: [n], data: Float32Array.from({ length: n }, (_, i) => -16 + (32 * i) / n) };
    expectGeluClose(x, fast2.gelu(x), referenceBackend.gelu(x));
  });
  it('softmax rows (C not a multiple of 4 included) are within (|x − m| + C + 10)·u·y', () => {
    fc.assert(
      fc.property(rowCase, ({ R, C, scale, offset, seed }) => {
        const x = rand(createRng(seed), [R, C], scale, offset);
        expectSoftmaxClose(x, fast1.softmax(x), referenceBackend.softmax(x));
      }),
    );
  });
  it('layerNorm rows (offset means, C not a multiple of 4) are within 8u·((|x−μ|+|μ|)·rstd·|γ| + |β|)', () => {
    fc.assert(
      fc.property(rowCase, fc.constantFrom(1e-6, 1e-5), ({ R, C, scale, offset, seed }, eps) => {
        const rng = createRng(seed);
        const x = rand(rng, [R, C], scale, offset);
        const g = rand(rng, [C]);
        const b = rand(rng, [C]);
        expectLayerNormClose(x, g, b, eps, fast1.layerNorm(x, g, b, { epsilon: eps }), referenceBackend.layerNorm(x, g, b, { epsilon: eps }));
      }),
    );
  });
  it('attention-sized rows on 2 threads: softmax [12·49, 196] and layerNorm [196, 768]', () => {
    const rng = createRng(17);
    const a = rand(rng, [588, 196], 6);
    expectSoftmaxClose(a, fast2.softmax(a), referenceBackend.softmax(a));
    const x = rand(rng, [196, 768], 2, 0.5);
    const g = rand(rng, [768]);
    const b = rand(rng, [768]);
    expectLayerNormClose(x, g, b, 1e-6, fast2.layerNorm(x, g, b, { epsilon: 1e-6 }), referenceBackend.layerNorm(x, g, b, { epsilon: 1e-6 }));
  });
});

describe('fast gelu / softmax / layerNorm — laws', () => {
  it('softmax rows sum to 1 within (C + 2)·u', () => {
    fc.assert(
      fc.property(rowCase, ({ R, C, scale, offset, seed }) => {
        const y = fast1.softmax(rand(createRng(seed), [R, C], scale, offset));
        for (let r = 0; r < R; r++) {
          let s = 0;
          for (let j = 0; j < C; j++) s += y.data[r * C + j]!;
          expect(Math.abs(s - 1)).toBeLessThanOrEqual((C + 2) * U);
        }
      }),
    );
  });
  it('gelu is monotone on x ≥ 0 and 1 thread equals 2 threads bit for bit', () => {
    const n = 1 << 16;
    const x: Tensor = { dtype: 'float32', shape: [n], data: Float32Array.from({ length: n }, (_, i) => (10 * i) / n) };
    const y1 = fast1.gelu(x);
    let firstDrop = -1;
    for (let i = 1; i < n && firstDrop < 0; i++) if (!(y1.data[i]! >= y1.data[i - 1]!)) firstDrop = i;
    expect(firstDrop).toBe(-1);
    expect(fast2.gelu(x).data).toEqual(y1.data);
  });
  it('layerNorm with γ = 1, β = 0 has per-row mean ≈ 0 and biased variance ≈ 1 − ε-effect', () => {
    const rng = createRng(23);
    const x = rand(rng, [9, 64], 3, 1);
    const y = fast1.layerNorm(x, t1(new Array(64).fill(1)), t1(new Array(64).fill(0)), { epsilon: 1e-6 });
    for (let r = 0; r < 9; r++) {
      let s = 0;
      let q = 0;
      for (let j = 0; j < 64; j++) s += y.data[r * 64 + j]!;
      for (let j = 0; j < 64; j++) q += (y.data[r * 64 + j]! - s / 64) ** 2;
      // f32 outputs of magnitude ≤ ~3: mean of 64 values within 64·4u·3, variance within 1e-5 (ε/σ² ≈ 3e-7 plus rounding)
      expect(Math.abs(s / 64)).toBeLessThan(1e-5);
      expect(Math.abs(q / 64 - 1)).toBeLessThan(1e-5);
    }
  });
});
