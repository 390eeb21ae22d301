/**
 * Conformance checker for the `adaround` component (authors-reference README §3).
 * Tolerances:
 *  - hard (α ≥ 0 rounding): exact;
 *  - α init: ulp:4 (one float32 log; measured ≤ 1 ulp);
 *  - h(α): abs 5e-7 — h = σ(α)·1.2 − 0.1 is formed at magnitude ~1, so a 1-ulp difference of PyTorch's
 *    vectorised expf shows as a few ulp(1.0) = 1.2e-7 absolute (measured ≤ 8 ulp of small h values);
 *  - soft: per element |Δ| ≤ 2·s_c·(ulp32(qmax) + 5e-7): the h error enters before ⌊W/s⌋ + h + z is
 *    rounded at magnitude ≤ qmax and is then scaled by s_c;
 *  - round_loss: rel 1e-6 (a float32 sum whose order PyTorch chooses).
 */
import { tensor, type Tensor } from '../tensor';
import { adaroundH, adaroundHard, adaroundInitAlpha, adaroundRoundLoss, adaroundSoft } from '../quant/adaround';
import { channelSplit } from '../quant/uniform';
import type { PerChannelParams } from '../quant/qparams';
import { compareArrays, compareScalar, getF32, getNumber, getValue, param, ulp32 } from './compare';
import type { ComponentChecker, ConformanceCase, OutputCheck } from './types';

const EXACT = { kind: 'exact' } as const;

function softBound(w: Tensor, p: PerChannelParams): Float64Array {
  const { outer, channels, inner } = channelSplit('checkAdaround', w.shape, p.axis);
  const a = new Float64Array(w.data.length);
  for (let o = 0, i = 0; o < outer; o++) for (let c = 0; c < channels; c++) for (let k = 0; k < inner; k++, i++) a[i] = 2 * p.scales[c]! * (ulp32(p.qmax) + 5e-7);
  return a;
}

/**
 * Run one `adaround` case and compare every output.
 * @paper AHCQ-SAM:v4 §AdaRound (METHOD.md §2.5)
 * @source authors-reference README §3 (adaround)
 * @deviation none
 * @precision hard exact; α, h, soft within the few-ulp bounds above
 */
export const checkAdaround: ComponentChecker = (c: ConformanceCase): readonly OutputCheck[] => {
  if (!/^(given_qparams|mse_calibrated)_/.test(c.case)) throw new Error(`adaround: no interpretation for case '${c.case}'`);
  const wa = getF32(c, 'inputs.weight');
  const w = tensor(wa.shape, wa.data);
  const p: PerChannelParams = {
    scales: getF32(c, 'inputs.scale').data,
    zeroPoints: getF32(c, 'inputs.zero_point').data,
    axis: param(c, 'ch_axis'),
    qmin: param(c, 'quant_min'),
    qmax: param(c, 'quant_max'),
  };
  const ag = getF32(c, 'inputs.alpha_given');
  const alphaGiven = tensor(ag.shape, ag.data);
  const alphaInit = adaroundInitAlpha(w, p);
  const H = { kind: 'abs', a: 5e-7 } as const;
  const SOFT = { kind: 'abs-each', a: softBound(w, p), why: '2·s_c·(ulp(qmax)+5e-7)' } as const;
  const checks: OutputCheck[] = [
    compareArrays('alpha_init', alphaInit.data, getF32(c, 'outputs.alpha_init').data, { kind: 'ulp', n: 4 }),
    compareArrays('h_init', Float32Array.from(alphaInit.data, adaroundH), getF32(c, 'outputs.h_init').data, H),
    compareArrays('soft_init', adaroundSoft(w, alphaInit, p).data, getF32(c, 'outputs.soft_init').data, SOFT),
    compareArrays('hard_init', adaroundHard(w, alphaInit, p).data, getF32(c, 'outputs.hard_init').data, EXACT),
    compareArrays('h_given', Float32Array.from(alphaGiven.data, adaroundH), getF32(c, 'outputs.h_given').data, H),
    compareArrays('soft_given', adaroundSoft(w, alphaGiven, p).data, getF32(c, 'outputs.soft_given').data, SOFT),
    compareArrays('hard_given', adaroundHard(w, alphaGiven, p).data, getF32(c, 'outputs.hard_given').data, EXACT),
  ];
  const rl = getValue(c, 'outputs.round_loss') as Record<string, unknown>;
  for (const key of Object.keys(rl)) {
    const m = /^b(\d+)$/.exec(key);
    if (!m) throw new Error(`adaround: unknown round_loss entry '${key}'`);
    checks.push(compareScalar(`round_loss.${key}`, adaroundRoundLoss(alphaGiven, Number(m[1]), Number(c.params['round_loss_weight'] ?? 0.01)), getNumber(c, `outputs.round_loss.${key}`), { kind: 'rel', r: 1e-6 }));
  }
  return checks;
};
