import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, SpecError, type Tensor } from '../../src/tensor';
import { createFastBackend, referenceBackend, type FastBackend } from '../../src/kernels/backend';
import type { Conv2dAttrs } from '../../src/ops';
import { expectSameSpecError } from './same-error';

// Tolerance of a fast (fp32-accumulating) op against the reference (fp64-accumulate, fp32-store):
// |fast − exact| ≤ (K + 3)·u·(Σ|a·b| + |bias|) and |ref − exact| ≤ u·|exact| ≤ u·(Σ|a·b| + |bias|),
// u = 2^-24, so |fast − ref| ≤ (K + 4)·u·S with S = Σ|a·b| + |bias|, computed by the reference op on
// |a|, |b|, |bias| (its own fp32 store adds a relative u, covered by the factor 1.01).
const U = 2 ** -24;
function expectClose(fast: Tensor, ref: Tensor, absRef: Tensor, K: number): void {
  expect(fast.shape).toEqual(ref.shape);
  for (let i = 0; i < ref.data.length; i++) {
    const bound = (K + 4) * U * absRef.data[i]! * 1.01 + 1e-30;
    const err = Math.abs(fast.data[i]! - ref.data[i]!);
    if (!(err <= bound)) expect.fail(`out[${i}] fast ${fast.data[i]} vs reference ${ref.data[i]}: |Δ| = ${err} > ${bound}`);
  }
}

function rand(rng: ReturnType<typeof createRng>, shape: number[]): Tensor {
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.next() * 2 - 1;
  return { dtype: 'float32', shape, data: d };
}
const abs = (t: Tensor): Tensor => ({ dtype: 'float32', shape: t.shape, data: t.data.map(Math.abs) });

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

describe('FastBackend — edge cases', () => {
  it('referenceBackend and the fast backend expose the same op names', () => {
    const names = (b: object) => Object.keys(b).filter((k) => typeof (b as Record<string, unknown>)[k] === 'function' && k !== 'dispose').sort();
    expect(names(fast1)).toEqual(names(referenceBackend));
  });
  it.each([
    ['linear K mismatch', (b: typeof referenceBackend) => b.linear(rand(createRng(1), [2, 3]), rand(createRng(2), [4, 5]))],
    ['linear bias shape', (b: typeof referenceBackend) => b.linear(rand(createRng(1), [2, 3]), rand(createRng(2), [4, 3]), rand(createRng(3), [5]))],
    ['linear empty x', (b: typeof referenceBackend) => b.linear({ dtype: 'float32', shape: [0, 3], data: new Float32Array(0) }, rand(createRng(2), [4, 3]))],
    ['matmul K mismatch', (b: typeof referenceBackend) => b.matmul(rand(createRng(1), [2, 3]), rand(createRng(2), [4, 5]))],
    ['matmul batch not broadcastable', (b: typeof referenceBackend) => b.matmul(rand(createRng(1), [2, 2, 3]), rand(createRng(2), [3, 3, 5]))],
    ['conv2d groups', (b: typeof referenceBackend) => b.conv2d(rand(createRng(1), [1, 3, 5, 5]), rand(createRng(2), [4, 3, 3, 3]), undefined, { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 2 })],
    ['conv2d kernel too large', (b: typeof referenceBackend) => b.conv2d(rand(createRng(1), [1, 1, 2, 2]), rand(createRng(2), [1, 1, 3, 3]), undefined, { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 })],
  ])('%s: the fast op throws the same SpecError message as the reference', (_n, call) => {
    expectSameSpecError(call, fast1);
  });
  it('linear of a rank-1 x and a 1×1 weight', () => {
    const y = fast1.linear({ dtype: 'float32', shape: [1], data: Float32Array.of(3) }, { dtype: 'float32', shape: [1, 1], data: Float32Array.of(-2) }, { dtype: 'float32', shape: [1], data: Float32Array.of(0.5) });
    expect(y.shape).toEqual([1]);
    expect([...y.data]).toEqual([-5.5]);
  });
});

const linCase = fc.record({
  lead: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 2 }),
  K: fc.integer({ min: 1, max: 50 }),
  N: fc.integer({ min: 1, max: 30 }),
  withBias: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1 << 30 }),
});

describe('FastBackend — oracle (reference ops)', () => {
  it('linear matches the reference within the fp32 summation bound', () => {
    fc.assert(
      fc.property(linCase, ({ lead, K, N, withBias, seed }) => {
        const rng = createRng(seed);
        const x = rand(rng, [...lead, K]);
        const w = rand(rng, [N, K]);
        const b = withBias ? rand(rng, [N]) : undefined;
        const absRef = referenceBackend.linear(abs(x), abs(w), b && abs(b));
        expectClose(fast1.linear(x, w, b), referenceBackend.linear(x, w, b), absRef, K);
        expectClose(fast2.linear(x, w, b), referenceBackend.linear(x, w, b), absRef, K);
      }),
    );
  });
  it('batched matmul with broadcasting matches the reference', () => {
    const mmCase = fc.record({
      batchA: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      bcast: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      M: fc.integer({ min: 1, max: 20 }),
      K: fc.integer({ min: 1, max: 40 }),
      N: fc.integer({ min: 1, max: 20 }),
      seed: fc.integer({ min: 0, max: 1 << 30 }),
    });
    fc.assert(
      fc.property(mmCase, ({ batchA, bcast, M, K, N, seed }) => {
        const rng = createRng(seed);
        const batchB = batchA.map((d, i) => (bcast[i] ? 1 : d));
        const a = rand(rng, [...batchA, M, K]);
        const b = rand(rng, [...batchB, K, N]);
        const absRef = referenceBackend.matmul(abs(a), abs(b));
        expectClose(fast2.matmul(a, b), referenceBackend.matmul(a, b), absRef, K);
      }),
    );
  });
  it('conv2d (groups 1, grouped, depthwise; stride, padding, dilation) matches the reference', () => {
    const convCase = fc.record({
      N: fc.integer({ min: 1, max: 2 }),
      Cg: fc.integer({ min: 1, max: 4 }),
      G: fc.integer({ min: 1, max: 3 }),
      Og: fc.integer({ min: 1, max: 5 }),
      H: fc.integer({ min: 3, max: 11 }),
      W: fc.integer({ min: 3, max: 11 }),
      k: fc.integer({ min: 1, max: 3 }),
      s: fc.integer({ min: 1, max: 2 }),
      p: fc.integer({ min: 0, max: 2 }),
      d: fc.integer({ min: 1, max: 2 }),
      depthwise: fc.boolean(),
      withBias: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1 << 30 }),
    });
    fc.assert(
      fc.property(convCase, ({ N, Cg, G, Og, H, W, k, s, p, d, depthwise, withBias, seed }) => {
        const rng = createRng(seed);
        const cg = depthwise ? 1 : Cg;
        const groups = depthwise ? Cg * G : G;
        const C = cg * groups;
        const O = Og * groups;
        const attrs: Conv2dAttrs = { stride: [s, s], padding: [p, p], dilation: [d, d], groups };
        const x = rand(rng, [N, C, H, W]);
        const w = rand(rng, [O, cg, k, k]);
        const b = withBias ? rand(rng, [O]) : undefined;
        if (H + 2 * p < d * (k - 1) + 1 || W + 2 * p < d * (k - 1) + 1) return true; // no output: covered by edge cases
        const absRef = referenceBackend.conv2d(abs(x), abs(w), b && abs(b), attrs);
        expectClose(fast2.conv2d(x, w, b, attrs), referenceBackend.conv2d(x, w, b, attrs), absRef, cg * k * k);
        return true;
      }),
    );
  });
});

describe('FastBackend — oracle (depthwise wasm kernel on 2 threads)', () => {
  it.each([
    ['3×3 pad 1', 3, 1, 1],
    ['3×3 pad 2 dilation 2', 3, 2, 2],
    ['5×5 pad 2', 5, 2, 1],
    ['1×1 pad 0', 1, 0, 1],
  ])('stride-1 depthwise %s on [2, 8, 37, 45] matches the reference', (_n, k, p, d) => {
    const rng = createRng(31 + k * 7 + p + d);
    const attrs: Conv2dAttrs = { stride: [1, 1], padding: [p, p], dilation: [d, d], groups: 8 };
    const x = rand(rng, [2, 8, 37, 45]);
    const w = rand(rng, [8, 1, k, k]);
    const b = rand(rng, [8]);
    const absRef = referenceBackend.conv2d(abs(x), abs(w), abs(b), attrs);
    const fast = fast2.conv2d(x, w, b, attrs);
    expectClose(fast, referenceBackend.conv2d(x, w, b, attrs), absRef, k * k);
    expect(fast1.conv2d(x, w, b, attrs).data).toEqual(fast.data);
  });
});

describe('FastBackend — process lifecycle', () => {
  it.each(['nodispose', 'dispose'])('a 2-thread backend used at once under `node --import tsx` exits by itself (%s)', (mode) => {
    const fixture = fileURLToPath(new URL('./fixtures/pool-exit.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, mode], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error, String(r.error)).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    // 256 rows · 32 outputs · Σ_64 (1 · 0.5) = 262144
    expect(r.stdout.trim()).toBe('sum=262144');
  });
});

describe('FastBackend — laws', () => {
  it('1 thread and 2 threads are bit-identical, and repeated calls (cached weights) are deterministic', () => {
    const rng = createRng(42);
    const x = rand(rng, [3, 50, 64]);
    const w = rand(rng, [96, 64]);
    const b = rand(rng, [96]);
    const y1 = fast1.linear(x, w, b);
    expect(fast2.linear(x, w, b).data).toEqual(y1.data);
    expect(fast1.linear(x, w, b).data).toEqual(y1.data);
    const b2 = rand(rng, [96]);
    // a different bias with the cached weight: out(b2) − out(b) ≈ b2 − b per column
    const y2 = fast1.linear(x, w, b2);
    for (let i = 0; i < y2.data.length; i += 97) expect(Math.abs(y2.data[i]! - y1.data[i]! - (b2.data[i % 96]! - b.data[i % 96]!))).toBeLessThan(1e-5);
  });
  it('conv2d with a 1×1 kernel equals linear over channels (same GEMM, transposed layout)', () => {
    const rng = createRng(8);
    const x = rand(rng, [1, 16, 6, 7]);
    const w = rand(rng, [24, 16, 1, 1]);
    const y = fast2.conv2d(x, w, undefined, { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
    const xt = new Float32Array(42 * 16);
    for (let c = 0; c < 16; c++) for (let p = 0; p < 42; p++) xt[p * 16 + c] = x.data[c * 42 + p]!;
    const yl = fast2.linear({ dtype: 'float32', shape: [42, 16], data: xt }, { dtype: 'float32', shape: [24, 16], data: w.data });
    // same products, same k order, float32 sums → bit-identical
    for (let o = 0; o < 24; o++) for (let p = 0; p < 42; p++) expect(y.data[o * 42 + p]).toBe(yl.data[p * 24 + o]);
  });
});

describe('fast convTranspose2d — the non-overlapping (kernel = stride) case as one GEMM + scatter', () => {
  it('matches the reference op on SAM-decoder-like shapes, and falls back for other attributes', async () => {
    const { createFastBackend } = await import('../../src/kernels/backend');
    const { convTranspose2d } = await import('../../src/ops');
    const { createRng } = await import('../../src/tensor');
    const be = await createFastBackend({ threads: 1 });
    try {
      const rng = createRng(7);
      const rnd = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
      for (const [B, C, H, W, O, k, pad] of [[1, 8, 5, 3, 4, 2, 0], [2, 16, 4, 4, 8, 2, 0], [1, 6, 3, 5, 5, 3, 0], [1, 4, 4, 4, 3, 2, 1]] as const) {
        const x = { dtype: 'float32' as const, shape: [B, C, H, W], data: rnd(B * C * H * W) };
        const w = { dtype: 'float32' as const, shape: [C, O, k, k], data: rnd(C * O * k * k) };
        const b = { dtype: 'float32' as const, shape: [O], data: rnd(O) };
        const attrs = { stride: [k, k] as [number, number], padding: [pad, pad] as [number, number], outputPadding: [0, 0] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
        const ref = convTranspose2d(x, w, b, attrs);
        const got = be.convTranspose2d(x, w, b, attrs);
        expect(got.shape).toEqual(ref.shape);
        // fp32 GEMM vs fp64 reference: |Δ| ≤ (C + 3)·2^-24·Σ|x·w| per output; Σ|x·w| ≤ C·max|x|·max|w| ≲ C·25 here.
        const bound = (C + 3) * 2 ** -24 * C * 25;
        for (let i = 0; i < ref.data.length; i++) expect(Math.abs(got.data[i]! - ref.data[i]!)).toBeLessThanOrEqual(bound);
      }
    } finally {
      await be.dispose();
    }
  });
});
