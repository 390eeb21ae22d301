/**
 * Conformance checker for the `lnq` component (authors-reference README §6).
 * Modes: `forward_*` outputs are produced with the flag named in `params.outputs_by_flag`
 * (`y_runtime`/`codes_runtime`: referenceCompat = true, N_q = 2^b; `y_search`/`codes_search`: false,
 * N_q = 2^b − 1); `observer_*` test outputs use `params.referenceCompat`.
 * Tolerances:
 *  - codes: exact;
 *  - values: lnq-ulp:2 — a 1-ulp difference of PyTorch's float32 exp at magnitude 1 + α·p̂ becomes
 *    ulp(1 + α·p̂)/α after `− 1` and `/ α` (README: "LNQ with very small alpha amplifies…");
 *  - observer: chosen α exact; chosen scale rel 1e-3. The objective `mean|Q(P)·V − P·V|^2.4` goes through a
 *    float32 batched matmul and mean whose BLAS/PyTorch summation order cannot be reproduced; the
 *    objective is piecewise constant in s (it changes only when a code boundary crosses an input), so
 *    Brent's path ends on a different plateau point (measured per-search ≤ 0.75 %, averaged scale
 *    ≤ 2.6e-5 rel). `y_test_runtime` is recomputed from the reference's chosen (s, α), testing the
 *    forward in isolation; the first search's bounds depend only on the data (exact).
 */
import { tensor } from '../tensor';
import { fakeQuantLnqTensor, quantizeLnqTensor, type LnqParams } from '../quant/lnq';
import { initLogTransform, observeLogTransform, finalizeLogTransform } from '../calib/log-transform';
import { compareArrays, compareScalar, compareValue, getF32, getNumber, getValue, param } from './compare';
import { flagFor } from './hluq';
import type { ComponentChecker, ConformanceCase, OutputCheck } from './types';

const EXACT = { kind: 'exact' } as const;

function forwardCase(c: ConformanceCase): OutputCheck[] {
  const p: LnqParams = { bits: param(c, 'bit'), s: param(c, 'scale'), alpha: param(c, 'alpha') };
  const xa = getF32(c, 'inputs.x');
  const x = tensor(xa.shape, xa.data);
  const checks: OutputCheck[] = [];
  for (const kind of ['runtime', 'search']) {
    const referenceCompat = flagFor(c, `y_${kind}`, 'referenceCompat');
    const y = fakeQuantLnqTensor(x, p, { referenceCompat });
    checks.push(compareArrays(`y_${kind}`, y.data, getF32(c, `outputs.y_${kind}`).data, { kind: 'lnq-ulp', n: 2, alpha: Math.fround(p.alpha) }));
    if (`codes_${kind}` in c.outputs) checks.push(compareArrays(`codes_${kind}`, quantizeLnqTensor(x, p, { referenceCompat }).data, getF32(c, `outputs.codes_${kind}`).data, EXACT));
  }
  return checks;
}

function observerCase(c: ConformanceCase): OutputCheck[] {
  const bits = param(c, 'bit');
  const referenceCompat = c.params['referenceCompat'];
  if (typeof referenceCompat !== 'boolean') throw new Error(`lnq/${c.case}: params.referenceCompat missing`);
  const opts = { bits, alphas: c.params['alphas'] as number[] | undefined, p: c.params['p'] as number | undefined };
  const Ps = getValue(c, 'inputs.P_batches') as unknown[];
  let st = initLogTransform(opts);
  Ps.forEach((_, i) => {
    const P = getF32(c, `inputs.P_batches[${i}]`);
    const V = getF32(c, `inputs.V_batches[${i}]`);
    st = observeLogTransform(st, tensor(P.shape, P.data), tensor(V.shape, V.data), opts);
  });
  const fin = finalizeLogTransform(st, opts);
  const refTrace = getValue(c, 'outputs.per_batch_per_alpha') as { bounds: number[] }[][];
  const pt = getF32(c, 'inputs.P_test');
  const alpha = getNumber(c, 'outputs.chosen_alpha');
  const yRef = fakeQuantLnqTensor(tensor(pt.shape, pt.data), { bits, s: getNumber(c, 'outputs.chosen_scale_float32'), alpha }, { referenceCompat });
  const SCALE = { kind: 'rel', r: 1e-3 } as const;
  return [
    compareValue('chosen_alpha', fin.alpha, c.outputs['chosen_alpha']),
    compareScalar('chosen_scale', fin.scale, getNumber(c, 'outputs.chosen_scale'), SCALE),
    compareScalar('chosen_scale_float32', fin.scaleF32, getNumber(c, 'outputs.chosen_scale_float32'), SCALE),
    compareArrays('per_batch_per_alpha[*][0].bounds', st.searches.flatMap((s) => [...s[0]!.bounds]), refTrace.flatMap((t) => t[0]!.bounds), EXACT),
    compareArrays('y_test_runtime (reference s, α)', yRef.data, getF32(c, 'outputs.y_test_runtime').data, { kind: 'lnq-ulp', n: 2, alpha: Math.fround(alpha) }),
  ];
}

/**
 * Run one `lnq` case and compare every output.
 * @paper AHCQ-SAM:v4 §LNQ (METHOD.md §3.4)
 * @source authors-reference README §6 (lnq)
 * @deviation observer objective accumulated in float64 (see file header)
 * @precision codes exact; values lnq-ulp:2; observer scale rel 1e-3
 */
export const checkLnq: ComponentChecker = (c) => {
  if (c.case.startsWith('forward_')) return forwardCase(c);
  if (c.case.startsWith('observer_')) return observerCase(c);
  throw new Error(`lnq: no interpretation for case '${c.case}'`);
};
