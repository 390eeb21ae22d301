/**
 * Conformance checker for the `agq` component (authors-reference README §7).
 * Tolerances: forward outputs exact; observer: chosen τ exact, chosen scale rel 1e-3 (same reasons as
 * LNQ: the float32 matmul/mean summation order of the objective is not reproduced and the objective is
 * piecewise constant in s; measured ≤ 1.3e-4), `y_test` recomputed from the reference's chosen (s, τ):
 * exact; first search bounds: exact.
 */
import { tensor } from '../tensor';
import { fakeQuantAgqTensor } from '../quant/agq';
import { initLogAvgMseFast, observeLogAvgMseFast, finalizeLogAvgMseFast } from '../calib/log-avg-mse-fast';
import { compareArrays, compareScalar, compareValue, getF32, getNumber, getValue, param } from './compare';
import type { ComponentChecker, ConformanceCase, OutputCheck } from './types';

const EXACT = { kind: 'exact' } as const;

function forwardCase(c: ConformanceCase): OutputCheck[] {
  const xa = getF32(c, 'inputs.x');
  const y = fakeQuantAgqTensor(tensor(xa.shape, xa.data), { bits: param(c, 'bit'), s: param(c, 'scale'), tau: param(c, 'tau') });
  return [compareArrays('y', y.data, getF32(c, 'outputs.y').data, EXACT)];
}

function observerCase(c: ConformanceCase): OutputCheck[] {
  const bits = param(c, 'bit');
  const opts = { bits, taus: c.params['taus'] as number[] | undefined, p: c.params['p'] as number | undefined };
  const Ps = getValue(c, 'inputs.P_batches') as unknown[];
  let st = initLogAvgMseFast(opts);
  Ps.forEach((_, i) => {
    const P = getF32(c, `inputs.P_batches[${i}]`);
    const V = getF32(c, `inputs.V_batches[${i}]`);
    st = observeLogAvgMseFast(st, tensor(P.shape, P.data), tensor(V.shape, V.data), opts);
  });
  const fin = finalizeLogAvgMseFast(st, opts);
  const refTrace = getValue(c, 'outputs.per_batch_per_tau') as { bounds: number[] }[][];
  const pt = getF32(c, 'inputs.P_test');
  const yRef = fakeQuantAgqTensor(tensor(pt.shape, pt.data), { bits, s: getNumber(c, 'outputs.chosen_scale_float32'), tau: getNumber(c, 'outputs.chosen_tau') });
  const SCALE = { kind: 'rel', r: 1e-3 } as const;
  return [
    compareValue('chosen_tau', fin.tau, c.outputs['chosen_tau']),
    compareScalar('chosen_scale', fin.scale, getNumber(c, 'outputs.chosen_scale'), SCALE),
    compareScalar('chosen_scale_float32', fin.scaleF32, getNumber(c, 'outputs.chosen_scale_float32'), SCALE),
    compareArrays('per_batch_per_tau[*][0].bounds', st.searches.flatMap((s) => [...s[0]!.bounds]), refTrace.flatMap((t) => t[0]!.bounds), EXACT),
    compareArrays('y_test (reference s, τ)', yRef.data, getF32(c, 'outputs.y_test').data, EXACT),
  ];
}

/**
 * Run one `agq` case and compare every output.
 * @paper AHCQ-SAM:v4 §AGQ (METHOD.md §4.2)
 * @source authors-reference README §7 (agq)
 * @deviation observer objective accumulated in float64 (see file header)
 * @precision forward exact; observer scale rel 1e-3
 */
export const checkAgq: ComponentChecker = (c) => {
  if (c.case.startsWith('forward_')) return forwardCase(c);
  if (c.case.startsWith('observer_')) return observerCase(c);
  throw new Error(`agq: no interpretation for case '${c.case}'`);
};
