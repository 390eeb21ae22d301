/**
 * One quantized Linear layer on the fast backend's integer GEMM (docs/integer-datapath.md
 * "Model-level integer inference on the fast backend"): the float input is encoded to activation
 * codes once, straight into wasm memory, by wasm kernels that reproduce the tap's code function
 * exactly (src/kernels/int-ops.ts: `quantizeKernel`'s float ops for LSQ / CAG, the HLUQ threshold
 * table derived from `hluqCodeKernel`); the codes are multiplied by the prepacked integer weight codes
 * with `gemmInt` (exact int32 accumulators, zero points corrected in the kernel); the accumulators are
 * rescaled (and the CAG / HLUQ groups combined) once to float32 in float64 arithmetic by a wasm kernel.
 *
 * Legend: x [M, K] float input (rows = all leading axes), q_x activation codes, W [N, K] weight codes
 * (per output row n: scale s_w[n], zero point zw[n]), W̃ = W − zw[n], acc int32 accumulator, b bias.
 * CAG: G groups, channel c in group ℓ(c) with (S_g, Z_g); groups are made contiguous by the
 * `cagGroupPermutation` column order. HLUQ: L_log log levels, gb = L_log − 1 guard bits, a₁ / a₂ the
 * log-path / uniform-path integer operands of a code (docs/integer-datapath.md HLUQ row).
 */
import { numel, specRequire, type Tensor } from '../tensor';
import { alloc, arenaAddress, f32At, mark, release, u8At } from '../kernels/arena';
import { gemmInt, packInt8, type PackedInt } from '../kernels/gemm';
import { geluInPlace } from '../kernels/rows';
import type { KernelRuntime } from '../kernels/runtime';
import { createIntKernels, encodeHluqTable, encodeUniform, encodeUniformCols, hluqThresholds, rescaleAccumulators, type HluqThresholds, type IntKernels } from '../kernels/int-ops';
import { hluqCodeKernel, hluqLevelSplit, type HluqParams } from '../quant/hluq';
import { cagGroupPermutation } from '../quant/cag';
import type { QuantizedWeight } from './weight-range';
import type { ActParams } from './act-quant';

// TYPES

/** The input quantizer of an integer layer (the site's `ActParams` plus the HLUQ compatibility flag). */
export type IntInputQuant =
  | { readonly kind: 'lsq'; readonly scale: number; readonly zeroPoint: number; readonly qmin: number; readonly qmax: number }
  | { readonly kind: 'cag'; readonly bits: number; readonly groupScales: readonly number[]; readonly groupZeroPoints: readonly number[]; readonly labels: readonly number[] }
  | { readonly kind: 'hluq'; readonly params: HluqParams; readonly referenceCompat: boolean };

/** One contiguous channel range of the packed layer with its activation scale / zero point. */
export interface IntGroup {
  /** Columns [start, end) of the (permuted) code row. */
  readonly start: number;
  readonly end: number;
  /** Activation zero point subtracted inside the kernel (CAG Z_g, LSQ z; 0 for the HLUQ paths). */
  readonly zeroPoint: number;
  readonly packed: PackedInt;
}

/** A Linear layer compiled for the fast integer GEMM (weights packed in the runtime's arena). */
export interface IntLinearLayer {
  readonly input: IntInputQuant;
  readonly K: number;
  readonly N: number;
  /** Accumulator groups: 1 (LSQ), G (CAG), 2 (HLUQ: log path, uniform path — same packed weights). */
  readonly groups: readonly IntGroup[];
  /** perm[j] = input channel written to code column j (CAG; identity otherwise). */
  readonly perm: Int32Array;
  /** Real value of one accumulator step, per group and output row: scale[g·N + n] (float64). */
  readonly scale: Float64Array;
  /** Constant real offset per output row (HLUQ m·s_w[n]·Σ_k W̃[n,k]; 0 otherwise). */
  readonly offset: Float64Array;
  /** HLUQ code → (a₁, a₂) operand tables (empty for LSQ / CAG). */
  readonly hluqA1: Uint8Array;
  readonly hluqA2: Uint8Array;
  /** HLUQ threshold table of the wasm encoder (null for LSQ / CAG). */
  readonly hluqThr: HluqThresholds | null;
  /** CAG per-column (permuted order) scale and zero point of the wasm encoder (empty otherwise). */
  readonly colScale: Float64Array;
  readonly colZero: Float32Array;
  /** The elementwise kernels (encode, rescale) instantiated on the runtime. */
  readonly kernels: IntKernels;
}

/** Optional outputs of `intLinearForward` for tests and audits. */
export interface IntLinearDetail {
  /** Input codes in the ORIGINAL channel order, [M, K] (HLUQ: the HLUQ codes). */
  readonly codes: Int32Array;
  /** Raw int32 accumulators per group, [groups, M, N] (CAG groups in group order). */
  readonly acc: Int32Array;
  /** The rescaled float32 output before the optional GELU, [M, N]. */
  readonly y0: Float32Array;
}

// CONSTANTS

/** Accumulator bytes per row chunk (bounds the scratch memory of one call; rows are a multiple of 4). */
const CHUNK_ACC_BYTES = 1 << 24;

// HELPERS

/** Why an activation quantizer cannot run on the integer GEMM (null: it can). */
export function intInputQuant(p: ActParams, referenceCompat: boolean): { quant: IntInputQuant | null; reason: string | null } {
  switch (p.kind) {
    case 'lsq':
      if (!(p.qmin >= 0 && p.qmax <= 255)) return { quant: null, reason: `lsq codes [${p.qmin}, ${p.qmax}] are not uint8` };
      return { quant: { kind: 'lsq', scale: p.scale, zeroPoint: p.zeroPoint, qmin: p.qmin, qmax: p.qmax }, reason: null };
    case 'cag':
      if (p.bits > 8) return { quant: null, reason: `cag bits ${p.bits} > 8` };
      return { quant: { kind: 'cag', bits: p.bits, groupScales: p.groupScales, groupZeroPoints: p.groupZeroPoints, labels: p.labels }, reason: null };
    case 'hluq': {
      const { lLog, lUni } = hluqLevelSplit(p.params, 'intInputQuant');
      // a₁ = 2^(gb − e) with gb = L_log − 1 must fit a uint8 operand, a₂ = u ≤ L_uni − 1 too
      if (2 ** (lLog - 1) > 255 || lUni - 1 > 255) return { quant: null, reason: `hluq L_log = ${lLog}: log-path operand 2^${lLog - 1} exceeds uint8` };
      return { quant: { kind: 'hluq', params: p.params, referenceCompat }, reason: null };
    }
    default:
      return { quant: null, reason: `${p.kind} is not a Linear-input quantizer` };
  }
}

/** Weight codes as int8 operands: codes ≤ 127 as is, otherwise shifted by −128 (zero points with them). */
function weightOperands(w: QuantizedWeight, cols: Int32Array): { data: Int8Array; zb: Int32Array } {
  const [N, K] = w.shape as [number, number];
  const shift = w.bits >= 8 ? 128 : 0;
  const Kc = cols.length;
  const data = new Int8Array(N * Kc); // [N, Kc]
  for (let n = 0; n < N; n++) for (let j = 0; j < Kc; j++) data[n * Kc + j] = w.codes[n * K + cols[j]!]! - shift;
  const zb = Int32Array.from(w.zeroPoints, (z) => z - shift);
  return { data, zb };
}

// MAIN

/**
 * Pack a quantized Linear weight and its input quantizer for the fast integer GEMM (once per layer;
 * the packs live in the runtime's arena until the runtime is disposed).
 * @paper AHCQ-SAM:v4 §3.3 (CAG: G partial sums after channel reordering), §3.2 (HLUQ two paths)
 * @source docs/integer-datapath.md (GEMMs table); src/int/compile.ts (the hardware form of the same layers)
 * @equation LSQ: scale[n] = s_x·s_w[n];  CAG: perm = stable sort by ℓ, scale[g, n] = S_g·s_w[n];
 *           HLUQ: scale[log, n] = s_log·2^−gb·s_w[n], scale[uni, n] = s_uni·s_w[n], offset[n] = m·s_w[n]·Σ_k W̃[n,k]
 * @deviation none: scales stay float64 (no fixed-point multipliers, no integer bias — that is the
 *   hardware datapath of src/int, not this fast path)
 * @precision exact integer operands; scales in float64
 */
export function packIntLinear(rt: KernelRuntime, w: QuantizedWeight, input: IntInputQuant, kernels?: IntKernels): IntLinearLayer {
  const fn = 'packIntLinear';
  specRequire(kernels === undefined || kernels.rt === rt, { fn, what: 'kernels', rule: 'be instantiated on the same runtime', got: 'another runtime' });
  const ks = kernels ?? createIntKernels(rt);
  const noCols = { colScale: new Float64Array(0), colZero: new Float32Array(0) };
  specRequire(w.shape.length === 2, { fn, what: 'w.shape', rule: 'be [N, K] (a Linear weight)', got: w.shape });
  const [N, K] = w.shape as [number, number];
  specRequire(N >= 1 && K >= 1, { fn, what: 'w.shape', rule: 'have N ≥ 1 and K ≥ 1', got: w.shape });
  specRequire(w.codes.length === N * K && w.scales.length === N && w.zeroPoints.length === N, { fn, what: 'w', rule: `hold N·K codes and N scales / zero points (N = ${N}, K = ${K})`, got: [w.codes.length, w.scales.length, w.zeroPoints.length] });
  specRequire(Number.isInteger(w.bits) && w.bits >= 2 && w.bits <= 8, { fn, what: 'w.bits', rule: 'be an integer in [2, 8]', got: w.bits });
  const identity = Int32Array.from({ length: K }, (_, k) => k);
  const empty = new Uint8Array(0);
  if (input.kind === 'lsq') {
    specRequire(Number.isFinite(input.scale) && input.scale > 0, { fn, what: 'input.scale', rule: 'be finite and > 0', got: input.scale });
    specRequire(Number.isInteger(input.zeroPoint) && input.zeroPoint >= input.qmin && input.zeroPoint <= input.qmax && input.qmin >= 0 && input.qmax <= 255, { fn, what: 'input.zeroPoint, qmin, qmax', rule: 'be integers with 0 ≤ qmin ≤ z ≤ qmax ≤ 255', got: [input.zeroPoint, input.qmin, input.qmax] });
    const op = weightOperands(w, identity);
    const packed = packInt8(rt, op.data, K, N, 'nk', op.zb);
    const scale = Float64Array.from(w.scales, (s) => input.scale * s);
    return { input, K, N, groups: [{ start: 0, end: K, zeroPoint: input.zeroPoint, packed }], perm: identity, scale, offset: new Float64Array(N), hluqA1: empty, hluqA2: empty, hluqThr: null, ...noCols, kernels: ks };
  }
  if (input.kind === 'cag') {
    const G = input.groupScales.length;
    specRequire(input.labels.length === K, { fn, what: 'input.labels.length', rule: `equal K = ${K}`, got: input.labels.length });
    specRequire(G >= 1 && input.groupZeroPoints.length === G, { fn, what: 'input.groupZeroPoints.length', rule: `equal groupScales.length = ${G} (≥ 1)`, got: input.groupZeroPoints.length });
    const qmax = 2 ** input.bits - 1;
    for (let g = 0; g < G; g++) {
      specRequire(Number.isFinite(input.groupScales[g]!) && input.groupScales[g]! > 0, { fn, what: `input.groupScales[${g}]`, rule: 'be finite and > 0', got: input.groupScales[g] });
      specRequire(Number.isInteger(input.groupZeroPoints[g]!) && input.groupZeroPoints[g]! >= 0 && input.groupZeroPoints[g]! <= qmax, { fn, what: `input.groupZeroPoints[${g}]`, rule: `be an integer in [0, ${qmax}]`, got: input.groupZeroPoints[g] });
    }
    for (let k = 0; k < K; k++) specRequire(Number.isInteger(input.labels[k]!) && input.labels[k]! >= 0 && input.labels[k]! < G, { fn, what: `input.labels[${k}]`, rule: `be an integer in [0, ${G})`, got: input.labels[k] });
    const pm = cagGroupPermutation(input.labels);
    const groups: IntGroup[] = [];
    const used: number[] = [];
    for (let g = 0; g < G; g++) {
      const start = g + 1 < pm.offsets.length ? pm.offsets[g]! : K;
      const end = g + 1 < pm.offsets.length ? pm.offsets[g + 1]! : K;
      if (end === start) continue; // an empty group contributes nothing
      const op = weightOperands(w, pm.perm.subarray(start, end));
      groups.push({ start, end, zeroPoint: input.groupZeroPoints[g]!, packed: packInt8(rt, op.data, end - start, N, 'nk', op.zb) });
      used.push(g);
    }
    const scale = new Float64Array(groups.length * N);
    used.forEach((g, i) => {
      for (let n = 0; n < N; n++) scale[i * N + n] = input.groupScales[g]! * w.scales[n]!;
    });
    const colScale = Float64Array.from(pm.perm, (c) => input.groupScales[input.labels[c]!]!);
    const colZero = Float32Array.from(pm.perm, (c) => input.groupZeroPoints[input.labels[c]!]!);
    return { input, K, N, groups, perm: pm.perm, scale, offset: new Float64Array(N), hluqA1: empty, hluqA2: empty, hluqThr: null, colScale, colZero, kernels: ks };
  }
  const p = input.params;
  const { L, lLog, lUni } = hluqLevelSplit(p, fn);
  specRequire(2 ** (lLog - 1) <= 255 && lUni - 1 <= 255, { fn, what: 'input.params.g', rule: 'give L_log ≤ 8 levels so the log-path operand 2^(L_log−1) fits uint8 (use fake-quant otherwise)', got: p.g });
  const gb = lLog - 1;
  // code c → a₁ (log path, unit s_log·2^−gb) and a₂ (uniform path, unit s_uni)
  const a1 = new Uint8Array(L), a2 = new Uint8Array(L);
  for (let c = 1; c < L; c++) {
    a1[c] = c < lLog ? 2 ** (c - 1) : 2 ** gb; // s_log·2^(c − L_log) = s_log·2^−gb·2^(c−1);  uniform: s_log = s_log·2^−gb·2^gb
    a2[c] = c < lLog ? 0 : c - lLog;
  }
  const op = weightOperands(w, identity);
  const packed = packInt8(rt, op.data, K, N, 'nk', op.zb);
  const scale = new Float64Array(2 * N), offset = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    scale[n] = p.sLog * 2 ** -gb * w.scales[n]!;
    scale[N + n] = p.sUni * w.scales[n]!;
    let r = 0;
    for (let k = 0; k < K; k++) r += w.codes[n * K + k]! - w.zeroPoints[n]!;
    offset[n] = p.m * w.scales[n]! * r;
  }
  return {
    input, K, N,
    groups: [{ start: 0, end: K, zeroPoint: 0, packed }, { start: K, end: 2 * K, zeroPoint: 0, packed }],
    perm: identity, scale, offset, hluqA1: a1, hluqA2: a2,
    // the 16-level table kernel covers b ≤ 4; wider HLUQ codes use the JS code function
    hluqThr: L <= 16 ? hluqThresholds(p, input.referenceCompat) : null, ...noCols, kernels: ks,
  };
}

/**
 * Encode one row chunk (float32 rows at `xPtr` in the arena) into the code buffer at `codesPtr` with
 * the wasm kernels: [rows, K] bytes (LSQ; CAG in permuted column order) or, for HLUQ, two planes
 * [rows, K] of a₁ then a₂; optionally copy the original-order codes into `detail` (from row r0).
 * Returns the index (within the chunk) of the first non-finite input, or −1.
 */
function encodeRows(L: IntLinearLayer, xPtr: number, r0: number, rows: number, codesPtr: number, detail: Int32Array | null): number {
  const K = L.K, q = L.input, k = L.kernels, rt = k.rt;
  const n = rows * K;
  if (q.kind === 'lsq') {
    const bad = encodeUniform(k, q, xPtr, n, codesPtr);
    if (detail && bad < 0) detail.set(u8At(rt.arena, codesPtr, n), r0 * K);
    return bad;
  }
  if (q.kind === 'cag') {
    const bad = encodeUniformCols(k, xPtr, rows, L.perm, L.colScale, L.colZero, 0, 2 ** q.bits - 1, codesPtr);
    if (detail && bad < 0) {
      const c = u8At(rt.arena, codesPtr, n);
      for (let r = 0; r < rows; r++) for (let j = 0; j < K; j++) detail[(r0 + r) * K + L.perm[j]!] = c[r * K + j]!;
    }
    return bad;
  }
  const p = q.params;
  if (L.hluqThr) {
    const m0 = mark(rt.arena);
    try {
      const qc = detail ? alloc(rt.arena, n, 16) : 0;
      const bad = encodeHluqTable(k, L.hluqThr, p, q.referenceCompat, xPtr, n, L.hluqA1, L.hluqA2, codesPtr, codesPtr + n, qc);
      if (detail && bad < 0) detail.set(u8At(rt.arena, qc, n), r0 * K);
      return bad;
    } finally {
      release(rt.arena, m0);
    }
  }
  // b > 4: the JS code function (the table kernel holds 16 levels)
  const { lLog, lUni } = hluqLevelSplit(p, 'intLinearForward');
  const xv = f32At(rt.arena, xPtr, n), a1 = u8At(rt.arena, codesPtr, n), a2 = u8At(rt.arena, codesPtr + n, n);
  for (let i = 0; i < n; i++) {
    const v = xv[i]!;
    if (v - v !== 0) return i;
    const c = hluqCodeKernel(v, p, lLog, lUni, q.referenceCompat);
    a1[i] = L.hluqA1[c]!;
    a2[i] = L.hluqA2[c]!;
    if (detail) detail[r0 * K + i] = c;
  }
  return -1;
}

/**
 * Run a packed integer layer on a float input x [..., K]: encode, integer GEMM per accumulator
 * group, one float64 rescale per output, stored as float32 (optionally followed by the fast
 * backend's GELU kernel).
 * @paper AHCQ-SAM:v4 §3.2, §3.3 (integer mapping of CAG / HLUQ); METHOD.md §2.2
 * @source docs/integer-datapath.md "Model-level integer inference on the fast backend"
 * @equation LSQ: y = f32(s_x·s_w[n]·Σ_k W̃[n,k]·(q_x − z_x) + b[n]);
 *           CAG: y = f32(Σ_g S_g·s_w[n]·Σ_{k∈g} W̃[n,k]·(q_x − Z_g) + b[n]);
 *           HLUQ: y = f32(s_w[n]·(s_log·2^−gb·Σ W̃·a₁ + s_uni·Σ W̃·a₂ + m·Σ_k W̃[n,k]) + b[n])
 * @deviation none against the fake-quant layer except summation: the fake path sums float32 products of
 *   f32-rounded dequantized operands in float32; here the sums are exact and rounded once
 * @precision exact int32 accumulators; rescale in float64, one float32 rounding
 *   (|y − y_fakequant| ≤ (K + 6)·2⁻²⁴·(Σ_k |x̂_k|·|ŵ_nk| + |b_n|) + HLUQ's m term, see the spec)
 */
export function intLinearForward(
  rt: KernelRuntime,
  L: IntLinearLayer,
  x: Tensor,
  bias: Float32Array | undefined,
  opts: { readonly gelu?: boolean; readonly site?: string; readonly detail?: boolean } = {},
): { y: Tensor<'float32'>; detail?: IntLinearDetail } {
  const fn = 'intLinearForward';
  const { K, N } = L;
  specRequire(x.dtype === 'float32' && x.shape.length >= 1 && x.shape[x.shape.length - 1] === K, { fn, what: 'x', rule: `be a float32 tensor [..., ${K}]`, got: [x.dtype, x.shape] });
  specRequire(bias === undefined || bias.length === N, { fn, what: 'bias.length', rule: `equal N = ${N}`, got: bias?.length });
  const M = numel(x.shape.slice(0, -1));
  const xd = x.data as Float32Array;
  const y = new Float32Array(M * N); // [..., N]
  const nG = L.groups.length;
  const detail = opts.detail ? { codes: new Int32Array(M * K), acc: new Int32Array(nG * M * N), y0: new Float32Array(M * N) } : undefined;
  const hluq = L.input.kind === 'hluq';
  const chunk = Math.max(4, Math.floor(CHUNK_ACC_BYTES / (4 * N * nG) / 4) * 4);
  const site = opts.site ?? 'x';
  specRequire(L.kernels.rt === rt, { fn, what: 'L', rule: 'be packed on this runtime', got: 'another runtime' });
  const xAt = arenaAddress(rt.arena, xd);
  // ob[n] = offset[n] + b[n] (float64), the constant term of every output column
  const ob = Float64Array.from(L.offset, (o, n) => o + (bias ? bias[n]! : 0));
  for (let r0 = 0; r0 < M; r0 += chunk) {
    const rows = Math.min(chunk, M - r0);
    const m0 = mark(rt.arena);
    try {
      // x rows in place when they live in the arena, else copied into scratch
      let xPtr = xAt >= 0 && xAt % 4 === 0 ? xAt + r0 * K * 4 : -1;
      if (xPtr < 0) {
        xPtr = alloc(rt.arena, rows * K * 4, 16);
        f32At(rt.arena, xPtr, rows * K).set(xd.subarray(r0 * K, (r0 + rows) * K));
      }
      const codesPtr = alloc(rt.arena, rows * K * (hluq ? 2 : 1), 16);
      const accPtr = alloc(rt.arena, nG * rows * N * 4);
      // (1) encode: the tap's quantizer as wasm kernels (codes identical to its code function)
      const bad = encodeRows(L, xPtr, r0, rows, codesPtr, detail?.codes ?? null);
      if (bad >= 0) specRequire(false, { fn, what: `${site}[${r0 * K + bad}]`, rule: 'be finite (an integer-layer input)', got: xd[r0 * K + bad] });
      // (2) one exact integer GEMM per accumulator group: Σ_k (A − za)·(B − zb[n])
      L.groups.forEach((g, gi) => gemmInt(rt, hluq ? codesPtr + gi * rows * K : codesPtr + g.start, K, false, g.zeroPoint, g.packed, accPtr + gi * rows * N * 4, N, rows));
      if (detail) {
        const acc = new Int32Array(rt.arena.memory.buffer, accPtr, nG * rows * N);
        for (let gi = 0; gi < nG; gi++) detail.acc.set(acc.subarray(gi * rows * N, (gi + 1) * rows * N), gi * M * N + r0 * N);
      }
      // (3) rescale in place over group 0: y = f32(ob[n] + Σ_g scale[g, n]·acc_g) in float64 (wasm)
      rescaleAccumulators(L.kernels, accPtr, rows * N * 4, nG, rows, N, L.scale, ob, accPtr);
      if (detail) detail.y0.set(f32At(rt.arena, accPtr, rows * N), r0 * N);
      if (opts.gelu) geluInPlace(rt, accPtr, rows * N);
      y.set(f32At(rt.arena, accPtr, rows * N), r0 * N);
    } finally {
      release(rt.arena, m0);
    }
  }
  return { y: { dtype: 'float32', shape: [...x.shape.slice(0, -1), N], data: y }, detail };
}
