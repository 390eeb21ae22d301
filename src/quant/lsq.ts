/**
 * LSQ: the learnable-scale uniform activation quantizer (forward with the reference's float32
 * gradient-scaling identity, and its straight-through gradients) (METHOD.md §2.3).
 *
 * Legend: `x` input, `s` scale (learned), `z` zero point (frozen), `g` gradient scale,
 * `N` elements per scale (numel per tensor, numel/C per channel), `v = x/s`.
 */
import { type Tensor, specRequire, requireFinite, roundHalfEven, f32, numel, tensor, FLOAT32_EPS } from '../tensor';
import { fakeQuantKernel, channelSplit } from './uniform';
import type { UniformParams, PerChannelParams, CompatOptions } from './qparams';

// TYPES

/** Straight-through gradients of one LSQ forward. */
export interface LsqGrad {
  /** ∂L/∂x: upstream gradient where the code is inside [qmin, qmax], else 0. */
  readonly gradX: Float32Array;
  /** ∂L/∂s (per tensor: length 1; per channel: length C), already multiplied by g. */
  readonly gradScale: Float64Array;
}

// MAIN

/**
 * LSQ gradient scale for N elements per scale.
 * @paper AHCQ-SAM:v4 §LSQ (METHOD.md §2.3)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#LSQFakeQuantize.forward
 * @equation g = 1/√(N·qmax), N = numel/C
 * @deviation none
 * @precision computed in float64, returned as float32 (the reference's float32 scalar)
 */
export function lsqGradFactor(numelPerScale: number, qmax: number): number {
  specRequire(Number.isInteger(numelPerScale) && numelPerScale > 0, { fn: 'lsqGradFactor', what: 'numelPerScale', rule: 'be a positive integer', got: numelPerScale });
  specRequire(Number.isInteger(qmax) && qmax > 0, { fn: 'lsqGradFactor', what: 'qmax', rule: 'be a positive integer', got: qmax });
  return f32(1 / Math.sqrt(numelPerScale * qmax));
}

/**
 * The scale the reference's LSQ forward actually uses: `s' = (s − s·g) + s·g` in float32 (the
 * grad-scaling identity `s·g + stop_grad(s − s·g)` evaluated numerically), preceded by `s ← max(|s|, eps)`.
 * @paper AHCQ-SAM:v4 §LSQ (METHOD.md §2.3)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#LSQFakeQuantize.forward
 * @equation s₁ = max(|s|, ε_f32);  s' = fl(fl(s₁ − fl(s₁·g)) + fl(s₁·g))
 * @deviation none; the identity differs from s₁ by 1 ulp for ≈0.1 % of scales
 * @precision float32 ops emulated; bit-exact
 */
export function lsqEffectiveScale(s: number, g: number): number {
  specRequire(Number.isFinite(s), { fn: 'lsqEffectiveScale', what: 's', rule: 'be finite', got: s });
  specRequire(Number.isFinite(g) && g > 0, { fn: 'lsqEffectiveScale', what: 'g', rule: 'be finite and > 0', got: g });
  const s1 = lsqClampScale(s);
  const sg = f32(s1 * g);
  return f32(f32(s1 - sg) + sg);
}

/**
 * The reference's scale guard on every LSQ forward with the observer off.
 * @paper AHCQ-SAM:v4 §LSQ (METHOD.md §2.3)
 * @equation s ← max(|s|, 1.19e-7)
 * @deviation none
 * @precision exact
 */
export function lsqClampScale(s: number): number {
  return Math.max(Math.abs(s), FLOAT32_EPS);
}

/**
 * LSQ per-tensor forward; `referenceCompat` applies the float32 grad-scaling identity to s.
 * @paper AHCQ-SAM:v4 §LSQ (METHOD.md §2.3)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#LSQFakeQuantize.forward
 * @equation x̂ = (clamp(⌊x/s'⌉ + z, qmin, qmax) − z)·s'
 * @deviation default s' = max(|s|, ε); `referenceCompat: true` uses s' = (s − s·g) + s·g in float32
 * @precision float32 ops emulated; bit-exact
 */
export function lsqForwardPerTensor(x: Tensor, p: UniformParams, opts: CompatOptions = {}): Tensor {
  const fn = 'lsqForwardPerTensor';
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  specRequire(Number.isInteger(p.zeroPoint), { fn, what: 'zeroPoint', rule: 'be an integer', got: p.zeroPoint });
  const s = opts.referenceCompat ? lsqEffectiveScale(p.scale, lsqGradFactor(x.data.length, p.qmax)) : lsqClampScale(p.scale);
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = fakeQuantKernel(x.data[i]!, s, p.zeroPoint, p.qmin, p.qmax);
  return tensor(x.shape, y);
}

/**
 * LSQ per-channel forward (the per-channel quantizer CAG trains before grouping).
 * @paper AHCQ-SAM:v4 §LSQ (METHOD.md §2.3, §3.3)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#GroupLSQFakeQuantize.forward
 * @equation x̂[…, c, …] = (clamp(⌊x/s'_c⌉ + z_c, qmin, qmax) − z_c)·s'_c,  g = 1/√(numel/C·qmax)
 * @deviation as lsqForwardPerTensor
 * @precision float32 ops emulated; bit-exact
 */
export function lsqForwardPerChannel(x: Tensor, p: PerChannelParams, opts: CompatOptions = {}): Tensor {
  const fn = 'lsqForwardPerChannel';
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
  const { outer, channels, inner } = channelSplit(fn, x.shape, p.axis);
  specRequire(p.scales.length === channels && p.zeroPoints.length === channels, { fn, what: 'scales/zeroPoints length', rule: `equal ${channels}`, got: [p.scales.length, p.zeroPoints.length] });
  const g = lsqGradFactor(x.data.length / channels, p.qmax);
  const sEff = Array.from({ length: channels }, (_, c) => (opts.referenceCompat ? lsqEffectiveScale(p.scales[c]!, g) : lsqClampScale(p.scales[c]!)));
  const y = new Float32Array(x.data.length);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      for (let k = 0; k < inner; k++, i++) y[i] = fakeQuantKernel(x.data[i]!, sEff[c]!, p.zeroPoints[c]!, p.qmin, p.qmax);
    }
  }
  return tensor(x.shape, y);
}

/**
 * Straight-through gradients of the LSQ per-tensor forward for an upstream gradient `gradOut`.
 * @paper AHCQ-SAM:v4 §LSQ (METHOD.md §2.3)
 * @equation ∂x̂/∂x = 1[qmin ≤ ⌊v⌉+z ≤ qmax];  ∂x̂/∂s = ⌊v⌉ − v inside, qmax − z above, qmin − z below;
 *           ∂L/∂s = g·Σᵢ gradOutᵢ·∂x̂ᵢ/∂s, v = x/s, g = 1/√(N·qmax)
 * @deviation none (STE: round treated as identity in the backward pass)
 * @precision fp64-accumulate
 */
export function lsqBackwardPerTensor(x: Tensor, gradOut: Tensor, p: UniformParams): LsqGrad {
  const fn = 'lsqBackwardPerTensor';
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  specRequire(gradOut.data.length === x.data.length, { fn, what: 'gradOut.shape', rule: 'equal x.shape', got: gradOut.shape });
  specRequire(Number.isFinite(p.scale) && p.scale > 0, { fn, what: 'scale', rule: 'be finite and > 0', got: p.scale });
  requireFinite(fn, 'x', x.data);
  const g = lsqGradFactor(x.data.length, p.qmax);
  const gradX = new Float32Array(x.data.length);
  let acc = 0;
  for (let i = 0; i < x.data.length; i++) {
    const v = f32(x.data[i]! / p.scale);
    const r = roundHalfEven(v);
    const qUnclamped = r + p.zeroPoint;
    let ds: number;
    if (qUnclamped > p.qmax) ds = p.qmax - p.zeroPoint;
    else if (qUnclamped < p.qmin) ds = p.qmin - p.zeroPoint;
    else {
      ds = r - v;
      gradX[i] = gradOut.data[i]!;
    }
    acc += gradOut.data[i]! * ds;
  }
  return { gradX, gradScale: Float64Array.of(acc * g) };
}
