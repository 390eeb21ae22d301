/**
 * Conformance checker for the `uniform` component (authors-reference README §1): `calc_qparams`,
 * per-tensor / per-channel fake quant, and the LSQ float32 grad-scaling identity.
 * Tolerance: exact everywhere (integer codes, float32 scales and float32 fake-quant outputs are
 * bit-identical when every float32 operation is emulated).
 */
import { tensor } from '../tensor';
import { calcQParams, fakeQuantPerChannel, fakeQuantPerTensor, qRange, quantizePerTensor } from '../quant/uniform';
import { lsqEffectiveScale, lsqForwardPerTensor, lsqGradFactor } from '../quant/lsq';
import { compareArrays, compareScalar, compareValue, getF32, getNumber, param } from './compare';
import type { ComponentChecker, ConformanceCase, OutputCheck } from './types';

const EXACT = { kind: 'exact' } as const;

function qparamsCase(c: ConformanceCase): OutputCheck[] {
  const bits = param(c, 'bit');
  const symmetric = c.params['symmetric'] === true;
  const mn = getF32(c, 'inputs.min_val').data;
  const mx = getF32(c, 'inputs.max_val').data;
  const s = new Float64Array(mn.length);
  const z = new Float64Array(mn.length);
  for (let i = 0; i < mn.length; i++) {
    const q = calcQParams(mn[i]!, mx[i]!, { bits, symmetric });
    s[i] = q.scale;
    z[i] = q.zeroPoint;
  }
  return [compareArrays('scale', s, getF32(c, 'outputs.scale').data, EXACT), compareArrays('zero_point', z, getF32(c, 'outputs.zero_point').data, EXACT)];
}

function perTensorCase(c: ConformanceCase): OutputCheck[] {
  const bits = param(c, 'bit');
  const symmetric = c.params['symmetric'] === true;
  const { qmin, qmax } = qRange(bits, symmetric);
  const xa = getF32(c, 'inputs.x');
  const x = tensor(xa.shape, xa.data);
  const checks: OutputCheck[] = [];
  let scale: number;
  let zeroPoint: number;
  if ('scale' in c.params) {
    scale = param(c, 'scale');
    zeroPoint = param(c, 'zero_point');
  } else {
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of x.data) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    ({ scale, zeroPoint } = calcQParams(mn, mx, { bits, symmetric }));
    checks.push(compareScalar('min_val', mn, getNumber(c, 'outputs.min_val'), EXACT), compareScalar('max_val', mx, getNumber(c, 'outputs.max_val'), EXACT));
    checks.push(compareScalar('scale', scale, getNumber(c, 'outputs.scale'), EXACT), compareScalar('zero_point', zeroPoint, getNumber(c, 'outputs.zero_point'), EXACT));
  }
  const p = { scale, zeroPoint, qmin, qmax };
  checks.push(compareArrays('y', fakeQuantPerTensor(x, p).data, getF32(c, 'outputs.y').data, EXACT));
  if ('codes' in c.outputs) checks.push(compareArrays('codes', quantizePerTensor(x, p).data, getF32(c, 'outputs.codes').data, EXACT));
  return checks;
}

function perChannelCase(c: ConformanceCase): OutputCheck[] {
  const bits = param(c, 'bit');
  const { qmin, qmax } = qRange(bits);
  const mn = getF32(c, 'inputs.min_val').data;
  const mx = getF32(c, 'inputs.max_val').data;
  const scales = new Float32Array(mn.length);
  const zeroPoints = new Int32Array(mn.length);
  for (let i = 0; i < mn.length; i++) {
    const q = calcQParams(mn[i]!, mx[i]!, { bits });
    scales[i] = q.scale;
    zeroPoints[i] = q.zeroPoint;
  }
  const xa = getF32(c, 'inputs.x');
  const y = fakeQuantPerChannel(tensor(xa.shape, xa.data), { scales, zeroPoints, axis: param(c, 'ch_axis'), qmin, qmax });
  return [
    compareArrays('scale', scales, getF32(c, 'outputs.scale').data, EXACT),
    compareArrays('zero_point', zeroPoints, getF32(c, 'outputs.zero_point').data, EXACT),
    compareArrays('y', y.data, getF32(c, 'outputs.y').data, EXACT, { got: y.shape, ref: getF32(c, 'outputs.y').shape }),
  ];
}

function lsqCase(c: ConformanceCase): OutputCheck[] {
  const qmin = param(c, 'quant_min');
  const qmax = param(c, 'quant_max');
  const zeroPoint = param(c, 'zero_point');
  const scales = getF32(c, 'inputs.scales').data;
  const xa = getF32(c, 'inputs.x');
  const x = tensor(xa.shape, xa.data);
  const g = lsqGradFactor(param(c, 'numel'), qmax);
  const eff = Float32Array.from(scales, (s) => lsqEffectiveScale(s, g));
  let changed = 0;
  for (let i = 0; i < eff.length; i++) if (eff[i] !== scales[i]) changed++;
  const yLsq = lsqForwardPerTensor(x, { scale: scales[0]!, zeroPoint, qmin, qmax }, { referenceCompat: true }).data;
  const yPlain = fakeQuantPerTensor(x, { scale: scales[0]!, zeroPoint, qmin, qmax }).data;
  let differ = 0;
  for (let i = 0; i < yLsq.length; i++) if (yLsq[i] !== yPlain[i]) differ++;
  return [
    compareScalar('grad_factor (float32)', g, Math.fround(param(c, 'grad_factor')), EXACT),
    compareArrays('scales_effective', eff, getF32(c, 'outputs.scales_effective').data, EXACT),
    compareValue('num_changed', changed, c.outputs['num_changed']),
    compareArrays('y_lsq', yLsq, getF32(c, 'outputs.y_lsq').data, EXACT),
    compareArrays('y_plain_scale', yPlain, getF32(c, 'outputs.y_plain_scale').data, EXACT),
    compareValue('num_y_differ', differ, c.outputs['num_y_differ']),
  ];
}

/**
 * Run one `uniform` case and compare every output.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.2, §2.3)
 * @source authors-reference README §1 (uniform)
 * @deviation none
 * @precision exact
 */
export const checkUniform: ComponentChecker = (c) => {
  if (c.case.startsWith('calc_qparams_')) return qparamsCase(c);
  if (c.case.startsWith('fakequant_per_tensor_')) return perTensorCase(c);
  if (c.case.startsWith('fakequant_per_channel_')) return perChannelCase(c);
  if (c.case.startsWith('lsq_grad_scale_identity_')) return lsqCase(c);
  throw new Error(`uniform: no interpretation for case '${c.case}'`);
};
