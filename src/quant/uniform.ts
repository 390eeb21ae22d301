/**
 * Uniform affine quantization: code range, `calc_qparams`, and the per-tensor / per-channel fake
 * quantizer every other AHCQ-SAM component builds on (METHOD.md §2.1–§2.2).
 *
 * Legend: `x` real input (float32), `s` scale, `z` integer zero point, `q` integer code,
 * `x̂` dequantized value, `b` bits, `qmin/qmax` code range, `C` channels along `axis`.
 *
 * Float32 emulation: the reference divides (`x / s`, one float32 rounding) before rounding to an
 * integer; the dequantized value `(q − z)·s` is one float32 product. Every `Math.fround` below marks
 * one float32 operation of the reference.
 */
import { type Tensor, specRequire, requireFinite, roundHalfEven, clamp, f32, numel, tensor } from '../tensor';
import { requireBits, type QRange, type UniformParams, type PerChannelParams, type AffineParams } from './qparams';

// TYPES

export interface CalcQParamsOptions {
  readonly bits: number;
  readonly symmetric?: boolean;
  /**
   * `float32` (default): the reference's float32 tensors. `float64`: the AvgMSEFast path, where the
   * range arrives as float64 and only `eps` is float32 (authors-reference README §2).
   */
  readonly precision?: 'float32' | 'float64';
}

// CONSTANTS

/** Lower bound of a scale, `float32(1e-8)` (the reference observers' `eps`). */
export const QPARAMS_EPS = f32(1e-8);

// MAIN

/**
 * Integer code range of a b-bit uniform quantizer.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.1)
 * @equation asymmetric: [0, 2^b − 1];  symmetric: [−2^(b−1), 2^(b−1) − 1]
 * @deviation none
 * @precision exact
 */
export function qRange(bits: number, symmetric = false): { qmin: number; qmax: number } {
  requireBits('qRange', bits);
  return symmetric ? { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/**
 * Scale and zero point covering the range [mn, mx] (always widened to include 0).
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/observer.py#calculate_qparams
 * @equation mn⁻ = min(mn, 0), mx⁺ = max(mx, 0);  s = max((mx⁺ − mn⁻)/(qmax − qmin), ε);
 *           z = clamp(qmin − ⌊mn⁻/s⌉, qmin, qmax);  symmetric: s = max(max(−mn⁻, mx⁺)/((qmax − qmin)/2), ε), z = 0
 * @deviation none; ⌊·⌉ is round-half-to-even (torch.round); ε = float32(1e-8)
 * @precision float32 ops emulated (default) or float64 with float32 ε (`precision: 'float64'`)
 */
export function calcQParams(mn: number, mx: number, opts: CalcQParamsOptions): { scale: number; zeroPoint: number } {
  const fn = 'calcQParams';
  specRequire(Number.isFinite(mn), { fn, what: 'mn', rule: 'be finite', got: mn });
  specRequire(Number.isFinite(mx), { fn, what: 'mx', rule: 'be finite', got: mx });
  const { qmin, qmax } = qRange(opts.bits, opts.symmetric ?? false);
  return calcQParamsKernel(mn, mx, qmin, qmax, opts.symmetric ?? false, opts.precision === 'float64');
}

/**
 * Unchecked kernel of calcQParams (finite inputs, valid range).
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function calcQParamsKernel(mn: number, mx: number, qmin: number, qmax: number, symmetric: boolean, float64: boolean): { scale: number; zeroPoint: number } {
  const r = float64 ? (v: number) => v : f32;
  const mnNeg = Math.min(mn, 0);
  const mxPos = Math.max(mx, 0);
  if (symmetric) {
    const half = r((qmax - qmin) / 2);
    const scale = Math.max(r(Math.max(-mnNeg, mxPos) / half), QPARAMS_EPS);
    return { scale, zeroPoint: 0 };
  }
  const scale = Math.max(r(r(mxPos - mnNeg) / (qmax - qmin)), QPARAMS_EPS);
  const zeroPoint = clamp(qmin - roundHalfEven(r(mnNeg / scale)), qmin, qmax);
  return { scale, zeroPoint: zeroPoint + 0 }; // + 0 turns a −0 into +0
}

/**
 * Unchecked kernel: the integer code of `x`.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function quantizeKernel(x: number, s: number, z: number, qmin: number, qmax: number): number {
  return clamp(roundHalfEven(f32(x / s)) + z, qmin, qmax);
}

/**
 * Unchecked kernel: fake-quantized `x` (float32).
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @deviation none (no argument checks: callers validate once per tensor)
 * @precision as the checked function it serves
 */
export function fakeQuantKernel(x: number, s: number, z: number, qmin: number, qmax: number): number {
  return f32((clamp(roundHalfEven(f32(x / s)) + z, qmin, qmax) - z) * s);
}

function requireAffine(fn: string, s: number, z: number, r: QRange): void {
  specRequire(Number.isFinite(s) && s > 0, { fn, what: 'scale', rule: 'be finite and > 0', got: s, ref: 'AHCQ-SAM:v4 §Uniform' });
  specRequire(Number.isInteger(r.qmin) && Number.isInteger(r.qmax) && r.qmin < r.qmax, {
    fn,
    what: 'qmin, qmax',
    rule: 'be integers with qmin < qmax',
    got: [r.qmin, r.qmax],
  });
  specRequire(Number.isInteger(z), { fn, what: 'zeroPoint', rule: 'be an integer', got: z, ref: 'AHCQ-SAM:v4 §Uniform' });
}

/**
 * The integer code of one value.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @equation q = clamp(⌊x/s⌉ + z, qmin, qmax)
 * @deviation none; ⌊·⌉ is round-half-to-even applied to float32(x/s)
 * @precision exact (given the float32 quotient)
 */
export function quantizeUniform(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  requireAffine('quantizeUniform', scale, zeroPoint, { qmin, qmax });
  specRequire(Number.isFinite(x), { fn: 'quantizeUniform', what: 'x', rule: 'be finite', got: x });
  return quantizeKernel(x, scale, zeroPoint, qmin, qmax);
}

/**
 * The real value of a code.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @equation x̂ = (q − z)·s
 * @deviation none
 * @precision one float32 product
 */
export function dequantizeUniform(q: number, scale: number, zeroPoint: number): number {
  specRequire(Number.isInteger(q), { fn: 'dequantizeUniform', what: 'q', rule: 'be an integer', got: q });
  specRequire(Number.isFinite(scale) && scale > 0, { fn: 'dequantizeUniform', what: 'scale', rule: 'be finite and > 0', got: scale });
  return f32((q - zeroPoint) * scale);
}

/**
 * Quantize then dequantize one value (the reference's `fake_quantize_per_tensor_affine`).
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @equation x̂ = (clamp(⌊x/s⌉ + z, qmin, qmax) − z)·s
 * @deviation none
 * @precision float32 ops emulated; bit-exact against the reference
 */
export function fakeQuantUniform(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  requireAffine('fakeQuantUniform', scale, zeroPoint, { qmin, qmax });
  specRequire(Number.isFinite(x), { fn: 'fakeQuantUniform', what: 'x', rule: 'be finite', got: x });
  return fakeQuantKernel(x, scale, zeroPoint, qmin, qmax);
}

function requireTensor(fn: string, x: Tensor): void {
  specRequire(numel(x.shape) > 0, { fn, what: 'x', rule: 'be non-empty', got: x.shape });
  requireFinite(fn, 'x', x.data);
}

/**
 * Per-tensor fake quantization of a float32 tensor.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @equation x̂ᵢ = (clamp(⌊xᵢ/s⌉ + z, qmin, qmax) − z)·s
 * @deviation none
 * @precision float32 ops emulated; bit-exact
 */
export function fakeQuantPerTensor(x: Tensor, p: UniformParams): Tensor {
  const fn = 'fakeQuantPerTensor';
  requireAffine(fn, p.scale, p.zeroPoint, p);
  requireTensor(fn, x);
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = fakeQuantKernel(x.data[i]!, p.scale, p.zeroPoint, p.qmin, p.qmax);
  return tensor(x.shape, y);
}

/**
 * Per-tensor integer codes of a float32 tensor.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @equation qᵢ = clamp(⌊xᵢ/s⌉ + z, qmin, qmax)
 * @deviation none
 * @precision exact (given float32 quotients)
 */
export function quantizePerTensor(x: Tensor, p: UniformParams): Tensor<'int32'> {
  const fn = 'quantizePerTensor';
  requireAffine(fn, p.scale, p.zeroPoint, p);
  requireTensor(fn, x);
  const q = new Int32Array(x.data.length);
  for (let i = 0; i < q.length; i++) q[i] = quantizeKernel(x.data[i]!, p.scale, p.zeroPoint, p.qmin, p.qmax);
  return tensor(x.shape, q, 'int32');
}

/**
 * Split a shape around a channel axis: `[outer, C, inner]` with `C = shape[axis]`.
 * @source PyTorch torch.fake_quantize_per_channel_affine#axis (negative axes count from the end)
 * @equation shape = [outer…, C, inner…]
 * @deviation none
 * @precision exact
 */
export function channelSplit(fn: string, shape: readonly number[], axis: number): { outer: number; channels: number; inner: number; axis: number } {
  const rank = shape.length;
  specRequire(Number.isInteger(axis) && axis >= -rank && axis < rank, { fn, what: 'axis', rule: `be an integer in [${-rank}, ${rank - 1}]`, got: axis });
  const a = axis < 0 ? axis + rank : axis;
  return { outer: numel(shape.slice(0, a)), channels: shape[a]!, inner: numel(shape.slice(a + 1)), axis: a };
}

function requirePerChannel(fn: string, x: Tensor, p: PerChannelParams): { outer: number; channels: number; inner: number } {
  requireTensor(fn, x);
  const sp = channelSplit(fn, x.shape, p.axis);
  specRequire(p.scales.length === sp.channels, { fn, what: 'scales.length', rule: `equal x.shape[axis] = ${sp.channels}`, got: p.scales.length });
  specRequire(p.zeroPoints.length === sp.channels, { fn, what: 'zeroPoints.length', rule: `equal x.shape[axis] = ${sp.channels}`, got: p.zeroPoints.length });
  for (let c = 0; c < sp.channels; c++) requireAffine(`${fn} (channel ${c})`, p.scales[c]!, p.zeroPoints[c]!, p);
  return sp;
}

/**
 * Per-channel fake quantization along `axis` (0 for weights, −1 for CAG activations).
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @equation x̂[…, c, …] = (clamp(⌊x/s_c⌉ + z_c, qmin, qmax) − z_c)·s_c
 * @deviation none
 * @precision float32 ops emulated; bit-exact
 */
export function fakeQuantPerChannel(x: Tensor, p: PerChannelParams): Tensor {
  const { outer, channels, inner } = requirePerChannel('fakeQuantPerChannel', x, p);
  const y = new Float32Array(x.data.length);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = p.scales[c]!;
      const z = p.zeroPoints[c]!;
      for (let k = 0; k < inner; k++, i++) y[i] = fakeQuantKernel(x.data[i]!, s, z, p.qmin, p.qmax);
    }
  }
  return tensor(x.shape, y);
}

/**
 * Per-channel integer codes along `axis`.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2)
 * @equation q[…, c, …] = clamp(⌊x/s_c⌉ + z_c, qmin, qmax)
 * @deviation none
 * @precision exact (given float32 quotients)
 */
export function quantizePerChannel(x: Tensor, p: PerChannelParams): Tensor<'int32'> {
  const { outer, channels, inner } = requirePerChannel('quantizePerChannel', x, p);
  const q = new Int32Array(x.data.length);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      for (let k = 0; k < inner; k++, i++) q[i] = quantizeKernel(x.data[i]!, p.scales[c]!, p.zeroPoints[c]!, p.qmin, p.qmax);
    }
  }
  return tensor(x.shape, q, 'int32');
}

export type { AffineParams, UniformParams, PerChannelParams };
