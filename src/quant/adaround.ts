/**
 * AdaRound weight rounding ("learned_hard_sigmoid"): initial α, rectified sigmoid h(α), soft and
 * hard fake-quantized weights, and the rounding regulariser (METHOD.md §2.5).
 *
 * Legend: `w` weight, `s_c`/`z_c` per-output-channel scale / zero point (axis 0 by default),
 * `α` learned rounding logit, `h(α) ∈ [0, 1]` soft rounding, `γ = −0.1`, `ζ = 1.1`, `B` annealed exponent.
 *
 * Float32 emulation of the reference: `(ζ − γ)/(rest − γ)` is Python-scalar ÷ tensor, which PyTorch
 * evaluates as `reciprocal(rest − γ) · (ζ − γ)`; Python scalars become float32 when they meet a tensor.
 */
import { type Tensor, specRequire, requireFinite, f32, clamp, numel, tensor } from '../tensor';
import { channelSplit } from './uniform';
import type { PerChannelParams } from './qparams';

// CONSTANTS

/** Stretch parameters of the rectified sigmoid (AdaRound, Nagel et al. 2020; reference defaults). */
export const ADAROUND_GAMMA = -0.1;
export const ADAROUND_ZETA = 1.1;
const ZETA_MINUS_GAMMA_F32 = f32(ADAROUND_ZETA - ADAROUND_GAMMA); // Python 1.2000000000000002 → float32
const GAMMA_F32 = f32(ADAROUND_GAMMA);

// MAIN

function requireWeights(fn: string, w: Tensor, p: PerChannelParams): { outer: number; channels: number; inner: number } {
  specRequire(numel(w.shape) > 0, { fn, what: 'w', rule: 'be non-empty', got: w.shape });
  requireFinite(fn, 'w', w.data);
  const sp = channelSplit(fn, w.shape, p.axis);
  specRequire(p.scales.length === sp.channels && p.zeroPoints.length === sp.channels, {
    fn,
    what: 'scales/zeroPoints length',
    rule: `equal w.shape[axis] = ${sp.channels}`,
    got: [p.scales.length, p.zeroPoints.length],
  });
  for (let c = 0; c < sp.channels; c++) {
    specRequire(Number.isFinite(p.scales[c]!) && p.scales[c]! > 0, { fn, what: `scales[${c}]`, rule: 'be finite and > 0', got: p.scales[c] });
    specRequire(Number.isInteger(p.zeroPoints[c]!), { fn, what: `zeroPoints[${c}]`, rule: 'be an integer', got: p.zeroPoints[c] });
  }
  return sp;
}

/** Visit every element with its channel's (s, z). */
function mapPerChannel(w: Tensor, p: PerChannelParams, sp: { outer: number; channels: number; inner: number }, f: (x: number, s: number, z: number, i: number) => number): Float32Array {
  const y = new Float32Array(w.data.length);
  for (let o = 0, i = 0; o < sp.outer; o++) {
    for (let c = 0; c < sp.channels; c++) {
      for (let k = 0; k < sp.inner; k++, i++) y[i] = f(w.data[i]!, p.scales[c]!, p.zeroPoints[c]!, i);
    }
  }
  return y;
}

/**
 * The rectified sigmoid of one logit.
 * @paper AHCQ-SAM:v4 §AdaRound (METHOD.md §2.5)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#AdaRoundFakeQuantize.get_soft_targets
 * @equation h(α) = clamp(σ(α)·(ζ − γ) + γ, 0, 1)
 * @deviation none
 * @precision float32 ops emulated; exp may differ from PyTorch's vectorised expf by 1 ulp
 */
export function adaroundH(alpha: number): number {
  const sig = f32(1 / f32(1 + f32(Math.exp(-alpha))));
  return clamp(f32(f32(sig * ZETA_MINUS_GAMMA_F32) + GAMMA_F32), 0, 1);
}

/**
 * Initial logits so that h(α) equals the fractional part of w/s.
 * @paper AHCQ-SAM:v4 §AdaRound (METHOD.md §2.5)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#AdaRoundFakeQuantize.init
 * @equation r = w/s − ⌊w/s⌋;  α = −ln((ζ − γ)/(r − γ) − 1)
 * @deviation none
 * @precision float32 ops emulated; log may differ by 1 ulp
 */
export function adaroundInitAlpha(w: Tensor, p: PerChannelParams): Tensor {
  const sp = requireWeights('adaroundInitAlpha', w, p);
  const a = mapPerChannel(w, p, sp, (x, s) => {
    const v = f32(x / s);
    const rest = f32(v - Math.floor(v));
    const ratio = f32(f32(1 / f32(rest - GAMMA_F32)) * ZETA_MINUS_GAMMA_F32);
    return f32(-f32(Math.log(f32(ratio - 1))));
  });
  return tensor(w.shape, a);
}

function adaroundApply(fn: string, w: Tensor, alpha: Tensor, p: PerChannelParams, round: (a: number) => number): Tensor {
  const sp = requireWeights(fn, w, p);
  specRequire(alpha.data.length === w.data.length, { fn, what: 'alpha.shape', rule: 'equal w.shape', got: alpha.shape });
  requireFinite(fn, 'alpha', alpha.data);
  const y = mapPerChannel(w, p, sp, (x, s, z, i) => {
    const xFloor = Math.floor(f32(x / s));
    const q = clamp(f32(f32(xFloor + round(alpha.data[i]!)) + z), p.qmin, p.qmax);
    return f32((q - z) * s);
  });
  return tensor(w.shape, y);
}

/**
 * Soft AdaRound fake-quantized weights (used during reconstruction).
 * @paper AHCQ-SAM:v4 §AdaRound (METHOD.md §2.5)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#AdaRoundFakeQuantize.forward
 * @equation Ŵ = s·(clamp(⌊W/s⌋ + h(α) + z, qmin, qmax) − z)
 * @deviation none
 * @precision float32 ops emulated; few ulp (exp inside h)
 */
export function adaroundSoft(w: Tensor, alpha: Tensor, p: PerChannelParams): Tensor {
  return adaroundApply('adaroundSoft', w, alpha, p, adaroundH);
}

/**
 * Hard AdaRound fake-quantized weights (after reconstruction); α = 0 rounds up.
 * @paper AHCQ-SAM:v4 §AdaRound (METHOD.md §2.5)
 * @source AHCQ-SAM-code sam/ahcqsam/quantization/fake_quant.py#AdaRoundFakeQuantize.forward
 * @equation Ŵ = s·(clamp(⌊W/s⌋ + [α ≥ 0] + z, qmin, qmax) − z)
 * @deviation none
 * @precision float32 ops emulated; bit-exact
 */
export function adaroundHard(w: Tensor, alpha: Tensor, p: PerChannelParams): Tensor {
  return adaroundApply('adaroundHard', w, alpha, p, (a) => (a >= 0 ? 1 : 0));
}

/**
 * The rounding regulariser of the reconstruction loss.
 * @paper AHCQ-SAM:v4 §AdaRound (METHOD.md §2.5, §5.4)
 * @source AHCQ-SAM-code sam/ahcqsam/solver/recon.py#LossFunction.__call__
 * @equation R(α) = λ·Σᵢ (1 − |2h(αᵢ) − 1|^B),  λ = 0.01 by default
 * @deviation none
 * @precision element terms float32, sum fp64-accumulate then float32 (PyTorch sums in float32)
 */
export function adaroundRoundLoss(alpha: Tensor, b: number, weight = 0.01): number {
  const fn = 'adaroundRoundLoss';
  specRequire(numel(alpha.shape) > 0, { fn, what: 'alpha', rule: 'be non-empty', got: alpha.shape });
  specRequire(Number.isFinite(b) && b > 0, { fn, what: 'b', rule: 'be finite and > 0', got: b });
  specRequire(Number.isFinite(weight), { fn, what: 'weight', rule: 'be finite', got: weight });
  requireFinite(fn, 'alpha', alpha.data);
  let acc = 0;
  for (let i = 0; i < alpha.data.length; i++) {
    const d = f32(f32(Math.abs(f32(adaroundH(alpha.data[i]!) - 0.5))) * 2);
    acc += f32(1 - f32(Math.pow(d, b)));
  }
  return f32(f32(weight) * f32(acc));
}
