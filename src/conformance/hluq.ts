/**
 * Conformance checker for the `hluq` component (authors-reference README §4).
 * Modes: `forward_*` cases name the flag of each output in `params.outputs_by_flag`; each output is
 * produced with that flag (`y`: referenceCompat = true, `y_intended`: false). `hybridparam_*` cases run
 * with `params.referenceCompat`.
 * `x_range` is the R the scales were built from (not recomputable from x, which holds edge values), so
 * the check is that `s_log`, `s_uni` follow from it exactly.
 * Tolerances: exact for every HLUQ output, mask, count, running min/max, chosen (r, g) and scales; the
 * search losses are float32 means of a Linear layer's output (PyTorch's summation order) — rel 1e-5
 * (measured ≤ 7.5e-7).
 */
import { f32, tensor } from '../tensor';
import { fakeQuantHluqTensor, hluqLevelSplit, type HluqParams } from '../quant/hluq';
import { initHybridParam, observeHybridParam, finalizeHybridParam, hluqParamsFromRange } from '../calib/hybrid-param';
import { compareArrays, compareScalar, compareValue, getF32, getNumber, getValue, param } from './compare';
import type { ComponentChecker, ConformanceCase, OutputCheck } from './types';

const EXACT = { kind: 'exact' } as const;

/**
 * The flag an output was produced with, from `params.outputs_by_flag`.
 * @source authors-reference README "Flags"
 * @deviation none
 * @precision exact
 */
export function flagFor(c: ConformanceCase, output: string, flag: string): boolean {
  const map = c.params['outputs_by_flag'] as Record<string, Record<string, unknown>> | undefined;
  const v = map?.[output]?.[flag];
  if (typeof v !== 'boolean') throw new Error(`${c.component}/${c.case}: params.outputs_by_flag.${output}.${flag} missing`);
  return v;
}

function forwardCase(c: ConformanceCase): OutputCheck[] {
  const p: HluqParams = { version: 'v4', bits: param(c, 'bit'), m: param(c, 'fp_min'), sLog: param(c, 'scale_log'), sUni: param(c, 'scale_uni'), g: param(c, 'grid_rate') };
  const { lLog } = hluqLevelSplit(p);
  const xa = getF32(c, 'inputs.x');
  const x = tensor(xa.shape, xa.data);
  const checks: OutputCheck[] = [];
  for (const out of ['y', 'y_intended']) {
    const y = fakeQuantHluqTensor(x, p, { referenceCompat: flagFor(c, out, 'referenceCompat') });
    checks.push(compareArrays(out, y.data, getF32(c, `outputs.${out}`).data, EXACT));
  }
  // the quirk hits uniform-region elements whose raw x − m is ≥ L_log
  const mask = Float64Array.from(x.data, (v) => {
    const xs = f32(v - p.m);
    return xs > p.sLog && xs >= lLog ? 1 : 0;
  });
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i]!;
  checks.push(compareArrays('quirk_mask', mask, getF32(c, 'outputs.quirk_mask').data, EXACT));
  checks.push(compareValue('quirk_count', count, c.outputs['quirk_count']));
  // x_range is the generator's R (data before the edge values were inserted): the scales must follow
  // from it exactly as the calibration builds them
  const r = param(c, 'range_rate_used_to_build_scales');
  const built = hluqParamsFromRange(0, getNumber(c, 'outputs.x_range'), r, p.g, p.bits);
  checks.push(compareScalar('scale_log from x_range', built.sLog, p.sLog, EXACT));
  checks.push(compareScalar('scale_uni from x_range', built.sUni, p.sUni, EXACT));
  return checks;
}

function hybridParamCase(c: ConformanceCase): OutputCheck[] {
  const bits = param(c, 'bit');
  const referenceCompat = c.params['referenceCompat'];
  if (typeof referenceCompat !== 'boolean') throw new Error(`hluq/${c.case}: params.referenceCompat missing`);
  const opts = { bits, referenceCompat, rangeRates: c.params['range_rate_space'] as number[] | undefined, gridRates: c.params['grid_rate_space'] as number[] | undefined };
  const wa = getF32(c, 'inputs.linear_weight');
  const ba = getF32(c, 'inputs.linear_bias');
  const next = { weight: tensor(wa.shape, wa.data), bias: tensor(ba.shape, ba.data) };
  const list = getValue(c, 'inputs.batches') as unknown[];
  let st = initHybridParam();
  const mins: number[] = [];
  const maxs: number[] = [];
  list.forEach((_, i) => {
    const b = getF32(c, `inputs.batches[${i}]`);
    st = observeHybridParam(st, tensor(b.shape, b.data), next, opts);
    mins.push(st.min);
    maxs.push(st.max);
  });
  const fin = finalizeHybridParam(st, opts);
  const xt = getF32(c, 'inputs.x_test');
  const y = fakeQuantHluqTensor(tensor(xt.shape, xt.data), fin.params, { referenceCompat });
  const LOSS = { kind: 'rel', r: 1e-5 } as const;
  return [
    compareArrays('min_val_after_batch', mins, getF32(c, 'outputs.min_val_after_batch').data, EXACT),
    compareArrays('max_val_after_batch', maxs, getF32(c, 'outputs.max_val_after_batch').data, EXACT),
    compareValue('config_grid', fin.configGrid, c.outputs['config_grid']),
    compareArrays('loss_per_batch', st.lossPerBatch.flatMap((l) => Array.from(l)), getF32(c, 'outputs.loss_per_batch').data, LOSS),
    compareArrays('loss_avg', fin.lossAvg, getF32(c, 'outputs.loss_avg').data, LOSS),
    compareValue('best_range_rate', fin.rangeRate, c.outputs['best_range_rate']),
    compareValue('best_grid_rate', fin.gridRate, c.outputs['best_grid_rate']),
    compareScalar('fp_min', fin.params.m, getNumber(c, 'outputs.fp_min'), EXACT),
    compareScalar('scale_log', fin.params.sLog, getNumber(c, 'outputs.scale_log'), EXACT),
    compareScalar('scale_uni', fin.params.sUni, getNumber(c, 'outputs.scale_uni'), EXACT),
    compareArrays('y_test', y.data, getF32(c, 'outputs.y_test').data, EXACT),
  ];
}

/**
 * Run one `hluq` case and compare every output.
 * @paper AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)
 * @source authors-reference README §4 (hluq)
 * @deviation none
 * @precision exact (search losses rel 1e-5)
 */
export const checkHluq: ComponentChecker = (c) => {
  if (c.case.startsWith('forward_')) return forwardCase(c);
  if (c.case.startsWith('hybridparam_')) return hybridParamCase(c);
  throw new Error(`hluq: no interpretation for case '${c.case}'`);
};
