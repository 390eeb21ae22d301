/**
 * Drivers of the row kernels (GELU, softmax over the last axis, LayerNorm over the last axis) over
 * the kernel runtime: copy into the arena with rows padded to a multiple of 4 floats, split rows
 * (or vectors) over the threads, copy out. Callers validate shapes (see backend.ts).
 *
 * Legend: R rows, C row length, Cp = ⌈C/4⌉·4 padded row length.
 */
import { alloc, f32At } from './arena';
import { inputAddress, produceF32 } from './resident';
import type { PoolCall } from './pool';
import { runOnThreads, type KernelRuntime, type KernelName } from './runtime';

// CONSTANTS

/** Below this many elements a row kernel runs on the calling thread only. */
export const ROWS_PARALLEL_MIN = 1 << 15;

// MAIN

function split(total: number, threads: number, parallel: boolean): [number, number][] {
  const t = parallel ? threads : 1;
  const share = Math.ceil(total / t);
  const out: [number, number][] = [];
  for (let i = 0; i < t; i++) {
    const s = i * share;
    const e = Math.min(total, s + share);
    if (e > s) out.push([s, e - s]);
  }
  return out;
}

function run(rt: KernelRuntime, name: KernelName, calls: number[][]): void {
  runOnThreads(rt, calls.map((args): PoolCall => ({ fn: rt.fnIndex[name], args })));
}

/**
 * Element-wise exact-form GELU of a float32 array.
 * @source PyTorch nn.GELU(approximate="none")
 * @equation gelu(x) = ½·x·(1 + erf(x/√2)); x > 15 → x, x < −15 → −0
 * @deviation erf by a rational fit z·P(z²)/Q(z²) on z = x/√2 clamped to [−4, 4] (Eigen's fast float erf
 *   coefficients; |erf error| ≤ 3.9e-7), so the negative tail has absolute, not relative, accuracy
 * @precision f32x4: |Δ| ≤ 4e-7·|x| + 1e-37 vs the fp64 reference (measured ≤ 2.5e-7·|x| on [−16, 16])
 */
export function geluRows(rt: KernelRuntime, x: Float32Array): Float32Array {
  const n = x.length;
  const nv = Math.ceil(n / 4);
  return produceF32(rt, n, (yp) => {
    const xp = inputAddress(rt, x); // the kernel reads ⌈n/4⌉ vectors: allocations carry 64 bytes of slack
    run(rt, 'gelu', split(nv, rt.threads, n >= ROWS_PARALLEL_MIN).map(([s, c]) => [xp + s * 16, yp + s * 16, c]));
  });
}

/**
 * GELU in place over `n` floats at byte address `ptr` of the arena (the allocation must extend to a
 * multiple of 4 floats: arena allocations carry 64 bytes of slack).
 * @source PyTorch nn.GELU(approximate="none")
 * @equation x ← ½·x·(1 + erf(x/√2))
 * @deviation as geluRows
 * @precision as geluRows
 */
export function geluInPlace(rt: KernelRuntime, ptr: number, n: number): void {
  const nv = Math.ceil(n / 4);
  run(rt, 'gelu', split(nv, rt.threads, n >= ROWS_PARALLEL_MIN).map(([s, c]) => [ptr + s * 16, ptr + s * 16, c]));
}

/** The address of x [R, C] as [R, Cp]: in place when Cp = C (resident or copied), otherwise copied with `fill` padding. */
function putPadded(rt: KernelRuntime, x: Float32Array, R: number, C: number, Cp: number, fill: number): number {
  if (Cp === C) return inputAddress(rt, x);
  const p = alloc(rt.arena, R * Cp * 4);
  const v = f32At(rt.arena, p, R * Cp);
  for (let r = 0; r < R; r++) {
    v.set(x.subarray(r * C, (r + 1) * C), r * Cp);
    v.fill(fill, r * Cp + C, (r + 1) * Cp);
  }
  return p;
}

/** Run `kernel(xp, yp)` over rows padded to Cp and return the [R, C] result (resident inside a scope). */
function padded(rt: KernelRuntime, R: number, C: number, Cp: number, xp: () => number, kernel: (xp: number, yp: number) => void): Float32Array {
  return produceF32(rt, R * C, (y) => {
    const x = xp();
    if (Cp === C) {
      kernel(x, y);
      return;
    }
    const yp = alloc(rt.arena, R * Cp * 4);
    kernel(x, yp);
    const src = f32At(rt.arena, yp, R * Cp);
    const dst = f32At(rt.arena, y, R * C);
    for (let r = 0; r < R; r++) dst.set(src.subarray(r * Cp, r * Cp + C), r * C);
  });
}

/**
 * Softmax over each row of x [R, C] (max-subtracted).
 * @source PyTorch torch.softmax(dim = −1)
 * @equation yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m), m = maxⱼ xⱼ
 * @deviation exp by Cody–Waite + degree-7 polynomial, arguments < −87 flushed to 0 (true value < 1.7e-38); sum in f32
 * @precision f32x4; NaN / +∞ / all-−∞ rows give NaN rows as the reference
 */
export function softmaxRows(rt: KernelRuntime, x: Float32Array, R: number, C: number): Float32Array {
  const Cp = Math.ceil(C / 4) * 4;
  return padded(rt, R, C, Cp, () => putPadded(rt, x, R, C, Cp, -Infinity), (xp, yp) =>
    run(rt, 'softmax', split(R, rt.threads, R * C >= ROWS_PARALLEL_MIN).map(([s, c]) => [xp + s * Cp * 4, yp + s * Cp * 4, c, Cp / 4])));
}

/**
 * LayerNorm over each row of x [R, C] with gamma, beta [C].
 * @source PyTorch F.layer_norm (biased variance)
 * @equation y = (x − μ)·(σ² + ε)^(−½)·γ + β
 * @deviation μ and rstd rounded to float32 before the f32x4 normalisation; ε rounded to float32
 * @precision statistics fp64, normalisation f32: |Δ| ≤ 4·2⁻²⁴·((|x − μ| + |μ|)·rstd·|γ| + |β|)
 */
export function layerNormRows(rt: KernelRuntime, x: Float32Array, R: number, C: number, gamma: Float32Array, beta: Float32Array, epsilon: number): Float32Array {
  const Cp = Math.ceil(C / 4) * 4;
  const epsBits = new Int32Array(Float32Array.of(epsilon).buffer)[0]!;
  return padded(rt, R, C, Cp, () => putPadded(rt, x, R, C, Cp, 0), (xp, yp) => {
    const gp = putVector(rt, gamma, Cp);
    const bp = putVector(rt, beta, Cp);
    run(rt, 'layernorm', split(R, rt.threads, R * C >= ROWS_PARALLEL_MIN).map(([s, c]) => [xp + s * Cp * 4, yp + s * Cp * 4, c, Cp / 4, C, gp, bp, epsBits]));
  });
}

/** Copy a vector into scratch, zero-padded to `Cp` floats. */
function putVector(rt: KernelRuntime, v: Float32Array, Cp: number): number {
  const p = alloc(rt.arena, Cp * 4);
  const d = f32At(rt.arena, p, Cp);
  d.fill(0);
  d.set(v);
  return p;
}

/**
 * Softmax in place over `R` rows of `Cp` floats (Cp a multiple of 4) at byte address `ptr`; padding
 * lanes of a row must hold −∞ (they come out 0).
 * @source PyTorch torch.softmax(dim = −1)
 * @equation yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)
 * @deviation as softmaxRows
 * @precision as softmaxRows
 */
export function softmaxInPlace(rt: KernelRuntime, ptr: number, R: number, Cp: number): void {
  run(rt, 'softmax', split(R, rt.threads, R * Cp >= ROWS_PARALLEL_MIN).map(([s, c]) => [ptr + s * Cp * 4, ptr + s * Cp * 4, c, Cp / 4]));
}
