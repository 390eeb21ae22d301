import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, SpecError } from '../../src/tensor';
import { alloc, f32At, i32At, mark, release } from '../../src/kernels/arena';
import { gemmF32, gemmF32Batch, gemmInt, packF32, packInt8 } from '../../src/kernels/gemm';
import { createKernelRuntime, disposeKernelRuntime, relaxedSimdAvailable, type KernelRuntime } from '../../src/kernels/runtime';
import { matmulIntLoop, matmulLoop, transposeLoop } from './oracles';

// fp32 error bound: every product and every partial sum is rounded once to float32 (unit roundoff
// u = 2^-24), so |Ĉ − C| ≤ γ_(K+1)·Σ_k |A[i,k]·B[k,j]| with γ_n = n·u/(1 − n·u) (Higham, Accuracy and
// Stability of Numerical Algorithms, §3.1). We use (K + 2)·u·Σ|ab|·1.01 plus 1e-30 for all-zero rows.
const U = 2 ** -24;
function expectWithinGemmBound(got: Float32Array, ref: { c: Float64Array; absSum: Float64Array }, K: number, extra = 0): void {
  for (let i = 0; i < ref.c.length; i++) {
    const bound = (K + 2) * U * ref.absSum[i]! * 1.01 + extra + 1e-30;
    const err = Math.abs(got[i]! - ref.c[i]!);
    if (!(err <= bound)) expect.fail(`C[${i}] = ${got[i]} vs ${ref.c[i]} (|Δ| = ${err} > bound ${bound})`);
  }
}

function randF32(rng: ReturnType<typeof createRng>, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.next() * 2 - 1;
  return x;
}

/** Copy a JS array into fresh arena memory and return its byte address. */
function put(rt: KernelRuntime, x: Float32Array): number {
  const p = alloc(rt.arena, x.length * 4);
  f32At(rt.arena, p, x.length).set(x);
  return p;
}

/** Run C = A·B (+bias) through the kernel (B given [K, N] or [N, K]) and return C as a JS array. */
function runF32(rt: KernelRuntime, a: Float32Array, b: Float32Array, M: number, K: number, N: number, opts: { layout?: 'kn' | 'nk'; bias?: Float32Array; kc?: number; nc?: number } = {}): Float32Array {
  const m0 = mark(rt.arena);
  try {
    const packed = packF32(rt, b, K, N, opts.layout ?? 'kn', opts.bias);
    const ap = put(rt, a);
    const cp = alloc(rt.arena, M * N * 4);
    f32At(rt.arena, cp, M * N).fill(NaN); // every output must be written
    gemmF32(rt, ap, K, packed, cp, N, M, { blocking: { kc: opts.kc ?? 256, nc: opts.nc ?? 32 } });
    return f32At(rt.arena, cp, M * N).slice();
  } finally {
    release(rt.arena, m0);
  }
}

const dims = fc.record({ M: fc.integer({ min: 1, max: 37 }), K: fc.integer({ min: 1, max: 70 }), N: fc.integer({ min: 1, max: 41 }), seed: fc.integer({ min: 0, max: 1 << 30 }) });

let rt1: KernelRuntime;
let rt2: KernelRuntime;
beforeAll(async () => {
  rt1 = await createKernelRuntime({ threads: 1 });
  rt2 = await createKernelRuntime({ threads: 2 });
});
afterAll(async () => {
  await disposeKernelRuntime(rt1);
  await disposeKernelRuntime(rt2);
});

describe('gemmF32 — edge cases', () => {
  it.each([
    ['1×1×1', 1, 1, 1],
    ['M=4, N=8 exact tile', 4, 3, 8],
    ['M=5 (MR edge), N=9 (NR edge)', 5, 7, 9],
    ['M=3, N=7 (single partial tile)', 3, 2, 7],
    ['N=1', 6, 5, 1],
    ['K=1', 9, 1, 17],
  ])('%s matches the naive loop', (_name, M, K, N) => {
    const rng = createRng(M * 1000 + K * 10 + N);
    const a = randF32(rng, M * K);
    const b = randF32(rng, K * N);
    expectWithinGemmBound(runF32(rt1, a, b, M, K, N), matmulLoop(a, b, M, K, N), K);
  });
  it('K = 0 gives C = bias (or zeros)', () => {
    const bias = Float32Array.from([1, -2, 3]);
    expect([...runF32(rt1, new Float32Array(0), new Float32Array(0), 2, 0, 3, { bias })]).toEqual([1, -2, 3, 1, -2, 3]);
    expect([...runF32(rt1, new Float32Array(0), new Float32Array(0), 2, 0, 3)]).toEqual([0, 0, 0, 0, 0, 0]);
  });
  it('small integers give exact results (every partial sum representable)', () => {
    const M = 6, K = 11, N = 13;
    const a = Float32Array.from({ length: M * K }, (_, i) => ((i * 7) % 11) - 5);
    const b = Float32Array.from({ length: K * N }, (_, i) => ((i * 3) % 7) - 3);
    expect([...runF32(rt1, a, b, M, K, N)]).toEqual([...matmulLoop(a, b, M, K, N).c]);
  });
  it('rejects a B of the wrong length, a bias of the wrong length and a too-small lda', () => {
    expect(() => packF32(rt1, new Float32Array(5), 2, 3, 'kn')).toThrow(SpecError);
    expect(() => packF32(rt1, new Float32Array(6), 2, 3, 'kn', new Float32Array(2))).toThrow(/bias.length/);
    const m0 = mark(rt1.arena);
    const p = packF32(rt1, new Float32Array(6), 2, 3, 'kn');
    expect(() => gemmF32(rt1, 1024, 1, p, 1024, 3, 4)).toThrow(/lda/);
    release(rt1.arena, m0);
  });
});

describe('gemmF32 — oracle', () => {
  it('random shapes (incl. non-multiples of 4×8) are within the fp32 summation bound', () => {
    fc.assert(
      fc.property(dims, ({ M, K, N, seed }) => {
        const rng = createRng(seed);
        const a = randF32(rng, M * K);
        const b = randF32(rng, K * N);
        expectWithinGemmBound(runF32(rt1, a, b, M, K, N), matmulLoop(a, b, M, K, N), K);
      }),
    );
  });
  it('tiny cache blocks (kc = 3, nc = 1) exercise the K/N blocking loop and the accumulate mode', () => {
    fc.assert(
      fc.property(dims, ({ M, K, N, seed }) => {
        const rng = createRng(seed);
        const a = randF32(rng, M * K);
        const b = randF32(rng, K * N);
        const bias = randF32(rng, N);
        const ref = matmulLoop(a, b, M, K, N);
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) ref.c[i * N + j] += bias[j]!;
        // the bias adds one more rounding: allow (K+2)·u·|bias| on top
        expectWithinGemmBound(runF32(rt1, a, b, M, K, N, { bias, kc: 3, nc: 1 }), ref, K, (K + 2) * U);
      }),
    );
  });
  it('the 2-thread runtime matches the naive loop on large enough shapes to split', () => {
    const rng = createRng(7);
    for (const [M, K, N] of [[67, 45, 70], [130, 33, 29], [9, 300, 100]] as const) {
      const a = randF32(rng, M * K);
      const b = randF32(rng, K * N);
      expectWithinGemmBound(runF32(rt2, a, b, M, K, N), matmulLoop(a, b, M, K, N), K);
    }
  });
  // Node 20 validates relaxed SIMD only behind a V8 flag; setting it here affects this test file's
  // own forked process only (vitest pool: forks). Newer Node ships relaxed SIMD on by default.
  if (!relaxedSimdAvailable()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  it.skipIf(!relaxedSimdAvailable())('relaxed FMA kernel (when the engine validates it) stays within the same bound, on 2 threads', async () => {
    const rtF = await createKernelRuntime({ threads: 2, fma: true });
    try {
      expect(rtF.fma).toBe(true);
      const rng = createRng(3);
      for (const [M, K, N] of [[13, 29, 19], [67, 301, 45]] as const) {
        const a = randF32(rng, M * K);
        const b = randF32(rng, K * N);
        expectWithinGemmBound(runF32(rtF, a, b, M, K, N), matmulLoop(a, b, M, K, N), K);
      }
    } finally {
      await disposeKernelRuntime(rtF);
    }
  });
});

describe('gemmF32 — laws', () => {
  it("'nk' packing of Wᵀ equals 'kn' packing of W (bit-identical outputs)", () => {
    fc.assert(
      fc.property(dims, ({ M, K, N, seed }) => {
        const rng = createRng(seed);
        const a = randF32(rng, M * K);
        const w = randF32(rng, N * K); // [N, K]
        const viaNk = runF32(rt1, a, w, M, K, N, { layout: 'nk' });
        const viaKn = runF32(rt1, a, transposeLoop(w, N, K), M, K, N, { layout: 'kn' });
        expect(viaNk).toEqual(viaKn);
      }),
      { numRuns: 20 },
    );
  });
  it('1 thread and 2 threads give bit-identical results (same summation order per element)', () => {
    const rng = createRng(11);
    const [M, K, N] = [101, 77, 53];
    const a = randF32(rng, M * K);
    const b = randF32(rng, K * N);
    expect(runF32(rt2, a, b, M, K, N)).toEqual(runF32(rt1, a, b, M, K, N));
  });
  it('a batch equals the products run one by one, and accumulate adds A·B onto C', () => {
    const rng = createRng(5);
    const [M, K, N] = [19, 23, 21];
    const a = randF32(rng, M * K);
    const b = randF32(rng, K * N);
    const m0 = mark(rt2.arena);
    try {
      const packed = packF32(rt2, b, K, N, 'kn');
      const ap = put(rt2, a);
      const c1 = alloc(rt2.arena, M * N * 4);
      const c2 = alloc(rt2.arena, M * N * 4);
      const tasks = Array.from({ length: 6 }, () => ({ a: ap, lda: K, packed, c: c1, ldc: N, m: M }));
      gemmF32Batch(rt2, [...tasks.slice(0, 5), { a: ap, lda: K, packed, c: c2, ldc: N, m: M }]);
      expect(f32At(rt2.arena, c2, M * N)).toEqual(f32At(rt2.arena, c1, M * N));
      const once = f32At(rt2.arena, c1, M * N).slice();
      // accumulate onto zeros: 0 + p₁ = p₁ exactly, then the same summation sequence → bit-identical
      f32At(rt2.arena, c2, M * N).fill(0);
      gemmF32(rt2, ap, K, packed, c2, N, M, { accumulate: true });
      expect(f32At(rt2.arena, c2, M * N)).toEqual(once);
      // accumulate onto D: within the summation bound with |D| as one more term
      const d = randF32(rng, M * N);
      f32At(rt2.arena, c2, M * N).set(d);
      gemmF32(rt2, ap, K, packed, c2, N, M, { accumulate: true });
      const ref = matmulLoop(a, b, M, K, N);
      for (let i = 0; i < M * N; i++) {
        ref.c[i] += d[i]!;
        ref.absSum[i] += Math.abs(d[i]!);
      }
      expectWithinGemmBound(f32At(rt2.arena, c2, M * N), ref, K);
    } finally {
      release(rt2.arena, m0);
    }
  });
});

// integer GEMM --------------------------------------------------------------

function runInt(rt: KernelRuntime, a: Int8Array | Uint8Array, b: Int8Array, M: number, K: number, N: number, za: number, zb: Int32Array, opts: { kc?: number; nc?: number } = {}): Int32Array {
  const m0 = mark(rt.arena);
  try {
    const packed = packInt8(rt, b, K, N, 'kn', zb);
    const ap = alloc(rt.arena, Math.max(1, M * K));
    new Uint8Array(rt.arena.memory.buffer, ap, M * K).set(new Uint8Array(a.buffer, a.byteOffset, a.length));
    const cp = alloc(rt.arena, M * N * 4);
    i32At(rt.arena, cp, M * N).fill(0x7eadbeef);
    gemmInt(rt, ap, K, a instanceof Int8Array, za, packed, cp, N, M, { kc: opts.kc ?? 256, nc: opts.nc ?? 32 });
    return i32At(rt.arena, cp, M * N).slice();
  } finally {
    release(rt.arena, m0);
  }
}

const intCase = fc.record({
  M: fc.integer({ min: 1, max: 30 }),
  K: fc.integer({ min: 1, max: 80 }),
  N: fc.integer({ min: 1, max: 30 }),
  seed: fc.integer({ min: 0, max: 1 << 30 }),
  signedA: fc.boolean(),
  int4: fc.boolean(),
});

function randCodes(rng: ReturnType<typeof createRng>, n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + rng.int(hi - lo + 1));
}

describe('gemmInt — edge cases', () => {
  it('extreme codes (−128·−128 products, K odd) are exact', () => {
    const [M, K, N] = [5, 33, 9];
    const a = new Int8Array(M * K).fill(-128);
    const b = new Int8Array(K * N).fill(-128);
    const zb = new Int32Array(N);
    expect([...runInt(rt1, a, b, M, K, N, 0, zb)]).toEqual(new Array(M * N).fill(16384 * K));
  });
  it('uint8 A = 255 with za = 0 and B = −128 with zb = 127 is exact (largest magnitudes)', () => {
    const [M, K, N] = [3, 257, 10];
    const a = new Uint8Array(M * K).fill(255);
    const b = new Int8Array(K * N).fill(-128);
    const zb = new Int32Array(N).fill(127);
    expect([...runInt(rt1, a, b, M, K, N, 0, zb)]).toEqual(new Array(M * N).fill(255 * -255 * K));
  });
  it('rejects out-of-range zero points and K above the int32-safe bound', () => {
    expect(() => packInt8(rt1, new Int8Array(4), 2, 2, 'kn', 300)).toThrow(SpecError);
    expect(() => packInt8(rt1, new Int8Array(40000), 40000, 1, 'kn')).toThrow(/K must be ≤ 32768/);
    const m0 = mark(rt1.arena);
    const p = packInt8(rt1, new Int8Array(4), 2, 2, 'kn');
    expect(() => gemmInt(rt1, 1024, 2, true, 200, p, 1024, 2, 2)).toThrow(/za/);
    release(rt1.arena, m0);
  });
});

describe('gemmInt — oracle', () => {
  it('int8 / uint8 / int4 codes with zero points equal the plain integer loop exactly', () => {
    fc.assert(
      fc.property(intCase, ({ M, K, N, seed, signedA, int4 }) => {
        const rng = createRng(seed);
        const [alo, ahi] = int4 ? (signedA ? [-8, 7] : [0, 15]) : signedA ? [-128, 127] : [0, 255];
        const [blo, bhi] = int4 ? [-8, 7] : [-128, 127];
        const av = randCodes(rng, M * K, alo, ahi);
        const bv = randCodes(rng, K * N, blo, bhi);
        const za = alo + rng.int(ahi - alo + 1);
        const zb = Int32Array.from(randCodes(rng, N, blo, bhi));
        const a = signedA ? Int8Array.from(av) : Uint8Array.from(av);
        const got = runInt(rt1, a, Int8Array.from(bv), M, K, N, za, zb, { kc: 1 + rng.int(20), nc: 1 + rng.int(3) });
        expect([...got]).toEqual([...matmulIntLoop(av, bv, M, K, N, za, zb)]);
      }),
    );
  });
  it('2 threads equal the plain integer loop exactly', () => {
    const rng = createRng(9);
    const [M, K, N] = [97, 129, 45];
    const av = randCodes(rng, M * K, -128, 127);
    const bv = randCodes(rng, K * N, -128, 127);
    const zb = Int32Array.from(randCodes(rng, N, -5, 5));
    const got = runInt(rt2, Int8Array.from(av), Int8Array.from(bv), M, K, N, 3, zb);
    expect([...got]).toEqual([...matmulIntLoop(av, bv, M, K, N, 3, zb)]);
  });
});

describe('gemmInt — laws', () => {
  it('shifting A codes by d and za by d leaves C unchanged (zero-point algebra)', () => {
    fc.assert(
      fc.property(intCase, fc.integer({ min: 0, max: 100 }), ({ M, K, N, seed }, d) => {
        const rng = createRng(seed);
        const av = randCodes(rng, M * K, 0, 155);
        const bv = Int8Array.from(randCodes(rng, K * N, -128, 127));
        const zb = new Int32Array(N);
        const c0 = runInt(rt1, Uint8Array.from(av), bv, M, K, N, 0, zb);
        const c1 = runInt(rt1, Uint8Array.from(av.map((v) => v + d)), bv, M, K, N, d, zb);
        expect(c1).toEqual(c0);
      }),
      { numRuns: 20 },
    );
  });
});
