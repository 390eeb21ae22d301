/**
 * Conformance checker for the `acnr` component of the authors-reference vectors
 * (`../shared/fixtures/authors-reference/README.md` §8). Runs the project default (`acnrOneSvd`, one
 * float64 SVD per layer) for both values of the `cDoubleCount` flag (our `referenceCompat`).
 *
 * Tolerances (measured on the shared set, then given ~1000× headroom, as the README suggests):
 * - `*_float64` weights: rel 1e-9 of max|ref| (measured ≤ 1.4e-14 one-SVD, ≤ 1.1e-13 literal);
 * - float32 weights, σ, κ, C: rel 1e-4 of max|ref| (the reference runs a float32 SVD; measured ≤ 1.1e-5);
 * - `skipped`, `cutoff_index_step0`: exact.
 */
import { acnrOneSvd, type AcnrResult } from '../calib/acnr';
import { tensor, type Tensor } from '../tensor';
import { decodeArray, isArrayValue } from './arrays';
import type { ComponentChecker, ConformanceCase, OutputCheck } from './types';

// MAIN

const REL64 = 1e-9;
const REL32 = 1e-4;

function asTensor(c: ConformanceCase, v: unknown, where: string): Tensor<'float64'> {
  const a = decodeArray(v, c.dir, where);
  return tensor(a.shape, a.data, 'float64');
}

/** max|got − ref| / max|ref| as an OutputCheck. */
export function relCheck(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, rel: number): OutputCheck {
  if (got.length !== ref.length) return { name, ok: false, tolerance: `rel:${rel}`, detail: `length ${got.length} vs reference ${ref.length}` };
  let md = 0, at = -1, mr = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (!(d <= md)) { md = d; at = i; }
    mr = Math.max(mr, Math.abs(ref[i]!));
  }
  const r = mr > 0 ? md / mr : md;
  return { name, ok: r <= rel, tolerance: `rel:${rel}`, detail: `max |Δ| ${md.toExponential(2)} at [${at}] (rel ${r.toExponential(2)} of max|ref|)` };
}

function exactCheck(name: string, got: unknown, ref: unknown): OutputCheck {
  return { name, ok: got === ref, tolerance: 'exact', detail: `got ${String(got)}, reference ${String(ref)}` };
}

/**
 * Run one `acnr` case through `acnrOneSvd` (both flag values) and compare every output it names.
 * @paper AHCQ-SAM:v4 §3.1
 * @source authors-reference README §8 (acnr, flag cDoubleCount)
 * @deviation One SVD per layer (Project decision 2) instead of the reference's SVD per step; float64.
 * @precision see the file header for the tolerances
 */
export const checkAcnr: ComponentChecker = (c: ConformanceCase): readonly OutputCheck[] => {
  const weight = asTensor(c, c.inputs['weight'], 'inputs.weight');
  const deltaX = asTensor(c, c.inputs['deltaX'], 'inputs.deltaX');
  const out = c.outputs;
  const checks: OutputCheck[] = [];
  const runs = new Map<string, AcnrResult>();
  const run = (flag: 'x2quirk' | 'noquirk', K: number): AcnrResult => {
    const key = `${flag}:${K}`;
    let r = runs.get(key);
    if (!r) { r = acnrOneSvd(weight, deltaX, { K, referenceCompat: flag === 'x2quirk' }); runs.set(key, r); }
    return r;
  };
  const base = run('x2quirk', 1);
  if (typeof out['skipped'] === 'boolean') checks.push(exactCheck('skipped', base.skipped, out['skipped']));
  if (out['kappa_before'] !== undefined) checks.push(relCheck('kappa_before', [base.kappaBefore], asTensor(c, out['kappa_before'], 'kappa_before').data, REL32));
  if (out['W_out'] !== undefined) checks.push(relCheck('W_out', run('x2quirk', 20).weight.data, asTensor(c, out['W_out'], 'W_out').data, 0));
  if (out['sigma_before'] !== undefined) checks.push(relCheck('sigma_before', base.sigmaBefore, asTensor(c, out['sigma_before'], 'sigma_before').data, REL32));
  if (out['cutoff_index_step0'] !== undefined) checks.push(exactCheck('cutoff_index_step0', base.cutoffIndex, out['cutoff_index_step0']));
  for (const [name, v] of Object.entries(out)) {
    if (!isArrayValue(v)) continue;
    let m = /^W_K(\d+)_(x2quirk|noquirk)(_float64)?$/.exec(name);
    if (m) {
      const r = run(m[2] as 'x2quirk' | 'noquirk', Number(m[1]));
      checks.push(m[3] ? relCheck(name, r.weight64.data, asTensor(c, v, name).data, REL64) : relCheck(name, r.weight.data, asTensor(c, v, name).data, REL32));
      continue;
    }
    m = /^C_step0_(x2quirk|noquirk)$/.exec(name);
    if (m) { checks.push(relCheck(name, run(m[1] as 'x2quirk' | 'noquirk', 1).energy, asTensor(c, v, name).data, REL32)); continue; }
    m = /^(sigma_after|kappa_after|kappa_logged)_K(\d+)_(x2quirk|noquirk)$/.exec(name);
    if (m) {
      const r = run(m[3] as 'x2quirk' | 'noquirk', Number(m[2]));
      const got = m[1] === 'sigma_after' ? r.sigmaAfter : [m[1] === 'kappa_after' ? r.kappaAfter : r.kappaLogged];
      checks.push(relCheck(name, got, asTensor(c, v, name).data, REL32));
    }
  }
  return checks;
};
