/**
 * The backend seam: one record of the compute-heavy ops, passed explicitly by the caller (no
 * registry, no global switch). `referenceBackend` is the readable specification (src/ops);
 * `createFastBackend()` returns the same signatures computed by the wasm-SIMD kernels on a shared
 * memory with a worker pool. Inputs and outputs are ordinary float32 `Tensor`s; outside a resident
 * scope every op copies its result out of wasm memory into a fresh JS array, inside `scoped(...)`
 * (src/kernels/resident.ts) results stay in the arena and resident inputs are read in place. Weights
 * given to `linear` are prepacked once and cached per backend (keyed by the weight's data array:
 * tensors are immutable by project convention, so a weight array mutated in place after its first use
 * would be served stale; packs live until `dispose`).
 */
import { conv2dGeometry } from '../ops/conv2d';
import { matmulGeometry } from '../ops/matmul';
import { convTranspose2d, layerNorm2d, softmax, type Conv2dAttrs, type ConvTranspose2dAttrs, type LayerNormAttrs, type SoftmaxAttrs } from '../ops';
import type { Backend } from '../ops/backend';
import { denseImagePe } from '../nn/position-embedding-random';
import { broadcastIndex, broadcastShapes } from '../ops/broadcast';
import { normalizeAxis, requireInput, requirePair, requirePositiveInt, requireRank } from '../ops/check';
import { requireEpsilon } from '../ops/layer-norm';
import { numel, requireShape, specRequire, type Tensor } from '../tensor';
import { alloc, f32At, mark, release } from './arena';
import { inputAddress, newF32, produceF32, residentScope } from './resident';
import { multiHeadAttentionFast, qkvAttentionFast } from './attention';
import { conv2dDepthwise, conv2dDepthwiseWasm, conv2dGemm, type ConvGeometry } from './conv';
import { gemmF32Batch, packF32, type GemmF32Task, type PackedF32 } from './gemm';
import { fastAdd, fastInterpolateBilinear, fastPad, fastPermute, fastRelu, fastScale, fastScaleAdd, fastSlice } from './elementwise';
import { geluInPlace, geluRows, layerNormRows, softmaxInPlace, softmaxRows } from './rows';
import { createKernelRuntime, disposeKernelRuntime, type KernelRuntime, type RuntimeOptions } from './runtime';

// TYPES

export type { Backend } from '../ops/backend';
export { referenceBackend } from '../ops/backend';

/** The fast backend: a Backend plus its runtime and an explicit, idempotent `dispose`. */
export interface FastBackend extends Backend {
  readonly runtime: KernelRuntime;
  dispose(): Promise<void>;
}

// MAIN

/**
 * A weight-derived arena object (pack, padded bias) from `cache`, built persistently when no resident
 * scope is open; inside a scope a miss builds it transiently in the caller's scratch space and queues
 * the persistent build for after the outermost scope (the cache never points into scope memory).
 */
function cachedArena<T>(rt: KernelRuntime, cache: WeakMap<Float32Array, T>, key: Float32Array, ok: (v: T) => boolean, build: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined && ok(hit)) return hit;
  if (rt.resident.depth === 0) {
    const v = build();
    cache.set(key, v);
    return v;
  }
  rt.resident.pending.push(() => {
    const h = cache.get(key);
    if (h === undefined || !ok(h)) cache.set(key, build());
  });
  return build();
}

/** fast `linear`: x [..., K] · Wᵀ + b with W [N, K] prepacked once per weight (and bias) array. */
function fastLinear(rt: KernelRuntime, cache: WeakMap<Float32Array, PackedF32>, biasCache: WeakMap<Float32Array, number>, x: Tensor, weight: Tensor, bias?: Tensor, gelu = false): Tensor {
  const fn = 'linear';
  requireInput(fn, 'x', x);
  requireInput(fn, 'weight', weight);
  requireRank(fn, 'x', x, 1, true);
  requireRank(fn, 'weight', weight, 2);
  const K = x.shape[x.shape.length - 1]!;
  const N = weight.shape[0]!;
  specRequire(weight.shape[1] === K, { fn, what: 'weight.shape[1]', rule: `equal x.shape[-1] = ${K}`, got: weight.shape[1] });
  if (bias !== undefined) {
    requireInput(fn, 'bias', bias);
    requireShape(fn, 'bias', bias, [N]);
  }
  const M = numel(x.shape.slice(0, -1));
  // weights packed once into the persistent part of the arena (below every scratch mark and scope)
  const wd = weight.data as Float32Array;
  const packOf = (): PackedF32 => cachedArena(rt, cache, wd, (p) => p.K === K && p.N === N, () => packF32(rt, wd, K, N, 'nk'));
  const biasOf = (panels: number): number => !bias ? 0 : cachedArena(rt, biasCache, bias.data as Float32Array, () => true, () => {
    const p = alloc(rt.arena, panels * 32);
    const bv = f32At(rt.arena, p, panels * 8);
    bv.fill(0);
    bv.set(bias.data);
    return p;
  });
  const pre = rt.resident.depth === 0 ? packOf() : undefined;
  const preBias = pre ? biasOf(pre.panels) : 0;
  const data = produceF32(rt, M * N, (c) => {
    const packed = pre ?? packOf();
    const biasPtr = pre ? preBias : biasOf(packed.panels);
    const a = inputAddress(rt, x.data as Float32Array);
    gemmF32Batch(rt, [{ a, lda: K, packed: { ...packed, biasPtr }, c, ldc: N, m: M }]);
    if (gelu) geluInPlace(rt, c, M * N);
  });
  return { dtype: 'float32', shape: [...x.shape.slice(0, -1), N], data }; // [..., N]
}

/** Validate a batched matmul and compute it at byte address `c` with row stride `ldc` (caller holds a mark for the scratch B packs). */
function matmulInto(rt: KernelRuntime, a: Tensor, b: Tensor, c: number, ldc: number): void {
  const { M, K, N, bBatch, nb, ia, ib } = matmulGeometry(a, b);
  const aPtr = inputAddress(rt, a.data as Float32Array);
  const nbB = numel(bBatch);
  const packs: PackedF32[] = [];
  for (let t = 0; t < nbB; t++) packs.push(packF32(rt, (b.data as Float32Array).subarray(t * K * N, (t + 1) * K * N), K, N, 'kn'));
  const tasks: GemmF32Task[] = [];
  for (let t = 0; t < nb; t++) tasks.push({ a: aPtr + ia[t]! * M * K * 4, lda: K, packed: packs[ib[t]!]!, c: c + t * M * ldc * 4, ldc, m: M });
  gemmF32Batch(rt, tasks);
}

/** fast `matmul`: batched [..., M, K] × [..., K, N] with NumPy batch broadcasting; B packed per call. */
function fastMatmul(rt: KernelRuntime, a: Tensor, b: Tensor): Tensor {
  const { M, N, batch, nb } = matmulGeometry(a, b);
  const data = produceF32(rt, nb * M * N, (c) => matmulInto(rt, a, b, c, N));
  return { dtype: 'float32', shape: [...batch, M, N], data }; // [..., M, N]
}

/**
 * fast `attentionProbs`: the batched product, its scaling and (suffix-broadcast) bias applied in place
 * in wasm memory, then the softmax row kernel; one copy out. Bias shapes other than a suffix of the
 * logits run the reference composition.
 * @source src/ops/backend.ts#attentionProbs (the definition)
 * @equation P = softmax(fl32(fl32(Q·Kᵀ)·fl32(s)) + b) over the last axis
 * @deviation as matmul (fp32 accumulation) and softmax (f32x4 exp) of this backend
 * @precision as fastMatmul then fastSoftmax; the scale/bias step is bit-identical to scaleAdd
 */
function fastAttentionProbs(rt: KernelRuntime, q: Tensor, kT: Tensor, s: number, bias?: Tensor): Tensor {
  const { M, N, batch, nb } = matmulGeometry(q, kT);
  const shape = [...batch, M, N];
  const okBias = bias === undefined || (bias.dtype === 'float32' && bias.shape.every((d) => Number.isInteger(d) && d >= 1) && bias.shape.length <= shape.length &&
    bias.shape.every((d, i) => d === shape[shape.length - bias.shape.length + i]) && bias.data.length % N === 0);
  specRequire(typeof s === 'number' && Number.isFinite(s), { fn: 'scale', what: 's', rule: 'be a finite number', got: s });
  if (!okBias) return fastSoftmax(rt, fastScaleAdd(fastMatmul(rt, q, kT), s, bias!, (n) => newF32(rt, n)), { axis: -1 });
  const R = nb * M;
  const Np = Math.ceil(N / 4) * 4;
  const data = produceF32(rt, R * N, (y) => {
    // logits at row stride Np (padding lanes −∞ for the softmax kernel), straight into y when N = Np
    const lp = Np === N ? y : alloc(rt.arena, R * Np * 4);
    matmulInto(rt, q, kT, lp, Np);
    const v = f32At(rt.arena, lp, R * Np);
    const sf = Math.fround(s);
    const bd = bias === undefined ? undefined : (bias.data as Float32Array);
    const L = bd === undefined ? N : bd.length; // the bias repeats every L/N rows
    for (let r = 0; r < R; r++) {
      const o = r * Np;
      if (bd === undefined) for (let j = 0; j < N; j++) v[o + j] = v[o + j]! * sf;
      else {
        const bo = ((r * N) % L);
        for (let j = 0; j < N; j++) v[o + j] = Math.fround(v[o + j]! * sf) + bd[bo + j]!;
      }
      for (let j = N; j < Np; j++) v[o + j] = -Infinity;
    }
    softmaxInPlace(rt, lp, R, Np);
    if (lp !== y) {
      const out = f32At(rt.arena, y, R * N);
      for (let r = 0; r < R; r++) out.set(v.subarray(r * Np, r * Np + N), r * N);
    }
  });
  return { dtype: 'float32', shape, data };
}

/** fast `conv2d`: validation as the reference op, then depthwise direct or GEMM over packed im2col panels. */
function fastConv2d(rt: KernelRuntime, x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: Conv2dAttrs, gelu = false): Tensor {
  const { N, C, H, W, O, Cg, G, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = conv2dGeometry(x, weight, bias, attrs);
  const g: ConvGeometry = { N, C, H, W, O, G, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo };
  const depthwise = G === C && Cg === 1;
  let data = !depthwise
    ? conv2dGemm(rt, x, weight, bias, g, gelu)
    : O === C && sh === 1 && sw === 1
      ? conv2dDepthwiseWasm(rt, x, weight, bias, g, gelu)
      : conv2dDepthwise(x, weight, bias, g, (n) => newF32(rt, n));
  if (gelu && depthwise && !(O === C && sh === 1 && sw === 1)) data = geluRows(rt, data);
  return { dtype: 'float32', shape: [N, O, Ho, Wo], data }; // [N, O, Ho, Wo]
}

/** fast `gelu`: the wasm erf-form kernel. */
function fastGelu(rt: KernelRuntime, x: Tensor): Tensor {
  requireInput('gelu', 'x', x);
  return { dtype: 'float32', shape: [...x.shape], data: geluRows(rt, x.data) };
}

/** fast `softmax`: the wasm row kernel along the last axis; other axes use the reference op. */
function fastSoftmax(rt: KernelRuntime, x: Tensor, attrs?: SoftmaxAttrs): Tensor {
  const fn = 'softmax';
  requireInput(fn, 'x', x);
  const rank = x.shape.length;
  const axis = normalizeAxis(fn, 'attrs.axis', attrs?.axis ?? -1, Math.max(rank, 1));
  if (rank === 0 || axis !== rank - 1) return softmax(x, attrs);
  const C = x.shape[rank - 1]!;
  return { dtype: 'float32', shape: [...x.shape], data: softmaxRows(rt, x.data, x.data.length / C, C) };
}

/** fast `layerNorm`: the wasm row kernel (fp64 statistics, f32x4 normalisation). */
function fastLayerNorm(rt: KernelRuntime, x: Tensor, gamma: Tensor, beta: Tensor, attrs: LayerNormAttrs): Tensor {
  const fn = 'layerNorm';
  requireInput(fn, 'x', x);
  requireRank(fn, 'x', x, 1, true);
  const C = x.shape[x.shape.length - 1]!;
  requireInput(fn, 'gamma', gamma);
  requireInput(fn, 'beta', beta);
  requireShape(fn, 'gamma', gamma, [C]);
  requireShape(fn, 'beta', beta, [C]);
  const eps = requireEpsilon(fn, attrs);
  return { dtype: 'float32', shape: [...x.shape], data: layerNormRows(rt, x.data, x.data.length / C, C, gamma.data, beta.data, eps) };
}

/**
 * fast `convTranspose2d` for the non-overlapping case SAM's decoder uses (kernel = stride, no padding,
 * no output padding, dilation 1, groups 1): every input pixel writes its own kh×kw output patch, so the
 * op is one GEMM x[(b,h,w), C] · W[C, (o,i,j)] followed by a scatter (+ bias). Other cases fall back to
 * the reference op.
 * @source src/ops/conv-transpose2d.ts (the definition)
 * @equation y[b,o,h·kh+i,w·kw+j] = b_o + Σ_c x[b,c,h,w]·W[c,o,i,j]
 */
function fastConvTranspose2d(
  rt: KernelRuntime,
  be: { linear: Backend['linear'] },
  tCache: WeakMap<Float32Array, Tensor>,
  x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: ConvTranspose2dAttrs,
): Tensor {
  const [kh, kw] = [weight.shape[2], weight.shape[3]];
  const simple = x.shape.length === 4 && weight.shape.length === 4 && attrs.groups === 1 && weight.shape[0] === x.shape[1] &&
    attrs.stride[0] === kh && attrs.stride[1] === kw && attrs.padding[0] === 0 && attrs.padding[1] === 0 &&
    attrs.outputPadding[0] === 0 && attrs.outputPadding[1] === 0 && attrs.dilation[0] === 1 && attrs.dilation[1] === 1 &&
    (bias === undefined || (bias.shape.length === 1 && bias.shape[0] === weight.shape[1]));
  if (!simple) return convTranspose2d(x, weight, bias, attrs);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const O = weight.shape[1]!, KH = kh!, KW = kw!;
  // W [C, O, kh, kw] → Wt [(o,i,j), C] once per weight array (the layout `linear` takes)
  let wt = tCache.get(weight.data as Float32Array);
  if (!wt) {
    const d = new Float32Array(O * KH * KW * C);
    for (let c = 0; c < C; c++) for (let r = 0; r < O * KH * KW; r++) d[r * C + c] = weight.data[c * O * KH * KW + r]!;
    wt = { dtype: 'float32', shape: [O * KH * KW, C], data: d };
    tCache.set(weight.data as Float32Array, wt);
  }
  const newOut = (n: number): Float32Array => newF32(rt, n);
  const xt = fastPermute(x, [0, 2, 3, 1], newOut); // [B, H, W, C]
  const g = be.linear({ dtype: 'float32', shape: [B * H * W, C], data: xt.data as Float32Array }, wt); // [B·H·W, O·kh·kw]
  const Ho = H * KH, Wo = W * KW;
  const y = newOut(B * O * Ho * Wo);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const row = ((b * H + h) * W + w) * O * KH * KW;
        for (let o = 0; o < O; o++) {
          const bo = bias ? bias.data[o]! : 0;
          for (let i = 0; i < KH; i++) {
            const dst = ((b * O + o) * Ho + h * KH + i) * Wo + w * KW;
            for (let j = 0; j < KW; j++) y[dst + j] = Math.fround(g.data[row + (o * KH + i) * KW + j]! + bo);
          }
        }
      }
    }
  }
  return { dtype: 'float32', shape: [B, O, Ho, Wo], data: y };
}

/**
 * fast `denseImagePe`: the reference op computed once per (gaussian array, size) and cached for the
 * backend's lifetime (a function of the weights only); every call returns a fresh copy.
 * @source src/nn/position-embedding-random.ts#denseImagePe (the definition)
 * @equation as the reference
 * @deviation none
 * @precision bit-identical to the reference
 */
function fastDenseImagePe(rt: KernelRuntime, cache: WeakMap<Float32Array, Map<string, Tensor>>, gaussian: Tensor, size: readonly [number, number]): Tensor {
  const key = `${size?.[0]}x${size?.[1]}`;
  const data = gaussian?.data;
  let hit = data instanceof Float32Array ? cache.get(data)?.get(key) : undefined;
  if (!hit) {
    hit = denseImagePe(gaussian, size);
    if (data instanceof Float32Array) {
      const m = cache.get(data) ?? new Map<string, Tensor>();
      m.set(key, hit);
      cache.set(data, m);
    }
  }
  const copy = newF32(rt, hit.data.length);
  copy.set(hit.data);
  return { dtype: hit.dtype, shape: [...hit.shape], data: copy } as Tensor;
}

/**
 * Create the fast backend: compile the kernels, allocate the shared memory, start the worker pool.
 * layerNorm2d (and softmax over a non-last axis) are the reference ops. `scoped` opens a resident
 * scope; qkvAttention / multiHeadAttention are the fused attention kernels of src/kernels/attention.ts.
 * @source PERFORMANCE.md "Recommendation"; issue 7 (backend seam)
 * @deviation linear/matmul/conv2d (non-depthwise) accumulate in float32 inside the GEMM
 *   (reference: float64); stride-1 depthwise conv2d (one filter per channel) accumulates in float32
 *   on the wasm kernel, other depthwise convs run a JS direct loop that skips padded taps; gelu, softmax and
 *   layerNorm use f32x4 approximations of erf/exp and f32 normalisation (bounds in rows.ts)
 * @precision fp32-accumulate GEMM: |Δ| ≤ (K + 3)·2⁻²⁴·(Σ_k |a·b| + |bias|) per output, to first order
 */
export async function createFastBackend(options: RuntimeOptions = {}): Promise<FastBackend> {
  const rt = await createKernelRuntime(options);
  const cache = new WeakMap<Float32Array, PackedF32>();
  const biasCache = new WeakMap<Float32Array, number>();
  const tCache = new WeakMap<Float32Array, Tensor>();
  const peCache = new WeakMap<Float32Array, Map<string, Tensor>>();
  const linearFast: Backend['linear'] = (x, weight, bias) => fastLinear(rt, cache, biasCache, x, weight, bias);
  const newOut = (n: number): Float32Array => newF32(rt, n);
  return {
    name: `fast-wasm-simd-${rt.threads}t${rt.fma ? '-fma' : ''}`,
    runtime: rt,
    linear: linearFast,
    linearGelu: (x, weight, bias) => fastLinear(rt, cache, biasCache, x, weight, bias, true),
    conv2dGelu: (x, weight, bias, attrs) => fastConv2d(rt, x, weight, bias, attrs, true),
    matmul: (a, b) => fastMatmul(rt, a, b),
    conv2d: (x, weight, bias, attrs) => fastConv2d(rt, x, weight, bias, attrs),
    convTranspose2d: (x, weight, bias, attrs) => fastConvTranspose2d(rt, { linear: linearFast }, tCache, x, weight, bias, attrs),
    layerNorm: (x, gamma, beta, attrs) => fastLayerNorm(rt, x, gamma, beta, attrs),
    layerNorm2d,
    gelu: (x) => fastGelu(rt, x),
    softmax: (x, attrs) => fastSoftmax(rt, x, attrs),
    denseImagePe: (gaussian, size) => fastDenseImagePe(rt, peCache, gaussian, size),
    interpolateBilinear: (x, attrs) => fastInterpolateBilinear(x, attrs, newOut),
    attentionProbs: (q, kT, scale, bias) => fastAttentionProbs(rt, q, kT, scale, bias),
    qkvAttention: (qkv, scale, bias) => qkvAttentionFast(rt, qkv, scale, bias),
    multiHeadAttention: (q, k, v, heads, scale) => multiHeadAttentionFast(rt, q, k, v, heads, scale),
    add: (a, b) => fastAdd(a, b, newOut),
    scaleAdd: (x, s, b) => fastScaleAdd(x, s, b, newOut),
    scale: (x, s) => fastScale(x, s, newOut),
    relu: (x) => fastRelu(x, newOut),
    permute: (x, perm) => fastPermute(x, perm, newOut),
    slice: (x, starts, ends) => fastSlice(x, starts, ends, newOut),
    pad: (x, pads, value) => fastPad(x, pads, value, newOut),
    scoped: (body) => residentScope(rt, body),
    dispose: () => disposeKernelRuntime(rt),
  };
}
