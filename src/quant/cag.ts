/**
 * CAG (Channel-Aware Grouping): activation channels along the last axis share G (scale, zero point)
 * pairs through a per-channel group label. This file says *what* the grouped quantizer computes and
 * how groups map to hardware (contiguous channel order, progressive schedule); choosing the groups is
 * `src/calib/cag.ts`.
 *
 * Legend (METHOD.md §3.3): C channels (last axis), G groups, ℓ(c) ∈ [0, G) label of channel c,
 * S_g group scale, Z_g group zero point, b bits.
 */
import { specRequire, type Tensor } from '../tensor';
import { fakeQuantPerChannel, qRange } from './uniform';
import { requireBits } from './qparams';

// TYPES

/** Grouped quantization parameters of one CAG layer. */
export interface CagParams {
  readonly bits: number;
  /** S_g, float32 values, length G. */
  readonly groupScales: ArrayLike<number>;
  /** Z_g, integers in [0, 2^b − 1], length G. */
  readonly groupZeroPoints: ArrayLike<number>;
  /** ℓ(c) ∈ [0, G) per channel, length C. */
  readonly labels: ArrayLike<number>;
}

/** A channel order that makes groups contiguous. */
export interface CagPermutation {
  /** perm[newPos] = original channel. */
  readonly perm: Int32Array;
  /** inverse[channel] = new position. */
  readonly inverse: Int32Array;
  /** Group g occupies new positions [offsets[g], offsets[g + 1]). */
  readonly offsets: Int32Array;
}

// CONSTANTS

/** Progress fractions at which the reference re-clusters, and the group multipliers they switch to. */
export const CAG_SCHEDULE: readonly { readonly at: number; readonly factor: number }[] = Object.freeze([
  { at: 0.2, factor: 8 },
  { at: 0.4, factor: 4 },
  { at: 0.6, factor: 2 },
  { at: 0.8, factor: 1 },
]);

// MAIN

/**
 * Validate CAG parameters and broadcast them to per-channel (scale, zero point).
 * @paper AHCQ-SAM:v4 §3.3
 * @source AHCQ-SAM sam/ahcqsam/quantization/fake_quant.py#GroupLSQFakeQuantize
 * @equation s_c = S_{ℓ(c)}, z_c = Z_{ℓ(c)}
 * @deviation none
 * @precision exact
 */
export function cagChannelParams(p: CagParams): { scales: Float32Array; zeroPoints: Int32Array } {
  const fn = 'cagChannelParams';
  requireBits(fn, p.bits);
  const { qmin, qmax } = qRange(p.bits);
  const G = p.groupScales.length;
  specRequire(G >= 1, { fn, what: 'groupScales.length', rule: 'be ≥ 1', got: G, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(p.groupZeroPoints.length === G, { fn, what: 'groupZeroPoints.length', rule: `equal groupScales.length (${G})`, got: p.groupZeroPoints.length, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(p.labels.length >= 1, { fn, what: 'labels.length', rule: 'be ≥ 1 (one label per channel)', got: p.labels.length, ref: 'AHCQ-SAM:v4 §3.3' });
  for (let g = 0; g < G; g++) {
    specRequire(Number.isFinite(p.groupScales[g]!) && p.groupScales[g]! > 0, { fn, what: `groupScales[${g}]`, rule: 'be finite and > 0', got: p.groupScales[g], ref: 'AHCQ-SAM:v4 §3.3' });
    const z = p.groupZeroPoints[g]!;
    specRequire(Number.isInteger(z) && z >= qmin && z <= qmax, { fn, what: `groupZeroPoints[${g}]`, rule: `be an integer in [${qmin}, ${qmax}]`, got: z, ref: 'AHCQ-SAM:v4 §3.3' });
  }
  const scales = new Float32Array(p.labels.length), zeroPoints = new Int32Array(p.labels.length);
  for (let c = 0; c < p.labels.length; c++) {
    const l = p.labels[c]!;
    specRequire(Number.isInteger(l) && l >= 0 && l < G, { fn, what: `labels[${c}]`, rule: `be an integer in [0, ${G})`, got: l, ref: 'AHCQ-SAM:v4 §3.3' });
    scales[c] = p.groupScales[l]!;
    zeroPoints[c] = p.groupZeroPoints[l]!;
  }
  return { scales, zeroPoints };
}

/**
 * Grouped fake quantization along the last axis: channel c uses its group's (S, Z).
 * @paper AHCQ-SAM:v4 §3.3
 * @source AHCQ-SAM sam/ahcqsam/quantization/fake_quant.py#GroupLSQFakeQuantize.forward
 * @equation x̂[…, c] = (clamp(⌊x/S_{ℓ(c)}⌉ + Z_{ℓ(c)}, 0, 2^b − 1) − Z_{ℓ(c)})·S_{ℓ(c)}
 * @deviation none; the reference's LSQ grad-scaling identity on s (1-ulp effect) is applied by
 *   `lsqForwardPerChannel(…, { referenceCompat: true })` on `cagChannelParams`, not here
 * @precision float32 ops emulated; bit-exact
 */
export function fakeQuantCag(x: Tensor, p: CagParams): Tensor {
  const fn = 'fakeQuantCag';
  specRequire(x.shape.length >= 1 && x.data.length > 0, { fn, what: 'x.shape', rule: 'be non-empty with a channel (last) axis', got: x.shape, ref: 'AHCQ-SAM:v4 §3.3' });
  const C = x.shape[x.shape.length - 1]!;
  specRequire(p.labels.length === C, { fn, what: 'labels.length', rule: `equal the channel count x.shape[-1] (${C})`, got: p.labels.length, ref: 'AHCQ-SAM:v4 §3.3' });
  const { scales, zeroPoints } = cagChannelParams(p);
  const { qmin, qmax } = qRange(p.bits);
  return fakeQuantPerChannel(x, { scales, zeroPoints, axis: -1, qmin, qmax });
}

/**
 * Channel permutation that makes every group contiguous (groups in label order, channels in their
 * original order within a group), with its inverse — the offline reordering of the integer datapath.
 * @paper AHCQ-SAM:v4 §3.3 (G partial sums per output after reordering)
 * @equation perm = stable sort of c by ℓ(c);  inverse[perm[i]] = i
 * @deviation none
 * @precision exact
 */
export function cagGroupPermutation(labels: ArrayLike<number>): CagPermutation {
  const fn = 'cagGroupPermutation';
  const C = labels.length;
  specRequire(C >= 1, { fn, what: 'labels.length', rule: 'be ≥ 1', got: C, ref: 'AHCQ-SAM:v4 §3.3' });
  let G = 0;
  for (let c = 0; c < C; c++) {
    const l = labels[c]!;
    specRequire(Number.isInteger(l) && l >= 0, { fn, what: `labels[${c}]`, rule: 'be an integer ≥ 0', got: l, ref: 'AHCQ-SAM:v4 §3.3' });
    G = Math.max(G, l + 1);
  }
  const offsets = new Int32Array(G + 1);
  for (let c = 0; c < C; c++) offsets[labels[c]! + 1]! += 1;
  for (let g = 0; g < G; g++) offsets[g + 1] = offsets[g + 1]! + offsets[g]!;
  const cursor = Int32Array.from(offsets.subarray(0, G));
  const perm = new Int32Array(C), inverse = new Int32Array(C);
  for (let c = 0; c < C; c++) {
    const pos = cursor[labels[c]!]!++;
    perm[pos] = c;
    inverse[c] = pos;
  }
  return { perm, inverse, offsets };
}

/**
 * Number of CAG groups in force at reconstruction progress p ∈ [0, 1] for final group count G:
 * per-channel (returned as `null`) before 20 %, then 8G, 4G, 2G, G from 20/40/60/80 %.
 * @paper AHCQ-SAM:v4 §3.3 (progressive grouping)
 * @source AHCQ-SAM sam/ahcqsam/solver/recon.py (group_channel at ⌊0.2T⌋, ⌊0.4T⌋, ⌊0.6T⌋, ⌊0.8T⌋)
 * @equation groups(p) = per-channel (p < 0.2), 8G (p < 0.4), 4G (p < 0.6), 2G (p < 0.8), G
 * @deviation none; for iteration counts use `cagRegroupIterations` (the reference compares
 *   iteration i with ⌊f·T⌋, which is not always i/T ≥ f)
 * @precision exact
 */
export function cagStageGroups(progress: number, G: number): number | null {
  const fn = 'cagStageGroups';
  specRequire(Number.isFinite(progress) && progress >= 0 && progress <= 1, { fn, what: 'progress', rule: 'be in [0, 1]', got: progress, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(Number.isInteger(G) && G >= 1, { fn, what: 'G', rule: 'be an integer ≥ 1', got: G, ref: 'AHCQ-SAM:v4 §3.3' });
  let groups: number | null = null;
  for (const s of CAG_SCHEDULE) if (progress >= s.at) groups = s.factor * G;
  return groups;
}

/**
 * Reconstruction iterations at which CAG re-clusters, with the group count it switches to.
 * @paper AHCQ-SAM:v4 §3.3
 * @source AHCQ-SAM sam/ahcqsam/solver/recon.py
 * @equation iters = ⌊0.2T⌋, ⌊0.4T⌋, ⌊0.6T⌋, ⌊0.8T⌋ → 8G, 4G, 2G, G
 * @deviation none
 * @precision exact
 */
export function cagRegroupIterations(T: number, G: number): { iter: number; groups: number }[] {
  specRequire(Number.isInteger(T) && T >= 1, { fn: 'cagRegroupIterations', what: 'T', rule: 'be an integer ≥ 1', got: T, ref: 'AHCQ-SAM:v4 §3.3' });
  specRequire(Number.isInteger(G) && G >= 1, { fn: 'cagRegroupIterations', what: 'G', rule: 'be an integer ≥ 1', got: G, ref: 'AHCQ-SAM:v4 §3.3' });
  return CAG_SCHEDULE.map((s) => ({ iter: Math.floor(s.at * T), groups: s.factor * G }));
}
