/**
 * Seeded pseudo-random numbers for everything that must be reproducible (k-means++ seeding, synthetic
 * weights, golden-vector inputs, point grids). Same seed → same sequence on every platform.
 *
 * Generator: SplitMix32 seeding of xoshiro128** (Blackman & Vigna, 2018); 32-bit integer arithmetic
 * only (Math.imul, >>> 0), so the stream is bit-identical across JS engines.
 */

// TYPES

export interface Rng {
  /** Next unsigned 32-bit integer. */
  nextU32(): number;
  /** Uniform float64 in [0, 1) with 32 random bits. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal N(0, 1) by Box–Muller (uses two uniforms per call; no caching, so order is simple). */
  normal(): number;
}

// MAIN

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Create a seeded generator (xoshiro128**). */
export function createRng(seed: number): Rng {
  const sm = splitmix32(seed);
  let a = sm(), b = sm(), c = sm(), d = sm();
  if ((a | b | c | d) === 0) a = 1;
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a; d ^= b; b ^= c; a ^= d;
    c ^= t;
    d = rotl(d, 11);
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    return result;
  };
  const next = (): number => nextU32() / 4294967296;
  return {
    nextU32,
    next,
    int: (n: number) => Math.floor(next() * n),
    normal: () => {
      let u = next();
      while (u === 0) u = next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}
