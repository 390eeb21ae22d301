/**
 * Conformance checker for the `big` component of the authors-reference vectors
 * (`../shared/fixtures/authors-reference/README.md` §9).
 *
 * Exact: is_bimodal, num_peaks, peaks, local_maxima_unfiltered, sign, folded q/k weights and biases.
 * Relative 1e-12 (of max|ref|): kde_x, kde_y, height_threshold, kde_factor, kde_covariance — the
 * reference sums in NumPy/BLAS order (pairwise / unrolled), we sum sequentially in float64.
 */
import { judgeBimodal, bigSigns } from '../calib/big';
import { foldBigSigns } from '../quant/big';
import { tensor, type Tensor } from '../tensor';
import { relCheck } from './acnr';
import { decodeArray } from './arrays';
import type { ComponentChecker, ConformanceCase, OutputCheck } from './types';

// MAIN

const REL = 1e-12;

function t32(c: ConformanceCase, v: unknown, where: string): Tensor {
  const a = decodeArray(v, c.dir, where);
  return tensor(a.shape, Float32Array.from(a.data));
}

function exactArray(name: string, got: ArrayLike<number>, ref: ArrayLike<number>): OutputCheck {
  if (got.length !== ref.length) return { name, ok: false, tolerance: 'exact', detail: `got [${Array.from(got).join(',')}], reference [${Array.from(ref).join(',')}]` };
  let bad = 0, first = -1;
  for (let i = 0; i < ref.length; i++) if (got[i]! + 0 !== ref[i]! + 0) { bad++; if (first < 0) first = i; }
  return { name, ok: bad === 0, tolerance: 'exact', detail: bad === 0 ? `all ${ref.length} equal` : `${bad} differ, first at [${first}]: ${got[first]} vs ${ref[first]}` };
}

/**
 * Run one `big` case (bimodality judgement, signs, fold) and compare every output.
 * @paper AHCQ-SAM:v4 §4.1 (METHOD.md; PTQ4SAM BIG)
 * @source authors-reference README §9 (big)
 * @deviation none
 * @precision exact decisions and folds; KDE values rel 1e-12
 */
export const checkBig: ComponentChecker = (c: ConformanceCase): readonly OutputCheck[] => {
  const keys = t32(c, c.inputs['keys'], 'inputs.keys');
  const o = c.outputs;
  const j = judgeBimodal(keys, {
    gridPoints: Number(c.params['global_num'] ?? 128),
    peakHeight: Number(c.params['peak_height'] ?? 0.01),
    peakDistance: Number(c.params['peak_distance'] ?? 32),
  });
  const checks: OutputCheck[] = [
    { name: 'is_bimodal', ok: j.isBimodal === o['is_bimodal'], tolerance: 'exact', detail: `got ${j.isBimodal}, reference ${String(o['is_bimodal'])}` },
    { name: 'num_peaks', ok: j.peaks.length === o['num_peaks'], tolerance: 'exact', detail: `got ${j.peaks.length}, reference ${String(o['num_peaks'])}` },
    exactArray('peaks', j.peaks, decodeArray(o['peaks'], c.dir, 'peaks').data),
    exactArray('local_maxima_unfiltered', j.localMaxima, decodeArray(o['local_maxima_unfiltered'], c.dir, 'local_maxima_unfiltered').data),
    relCheck('kde_x', j.kdeX, decodeArray(o['kde_x'], c.dir, 'kde_x').data, REL),
    relCheck('kde_y', j.kdeY, decodeArray(o['kde_y'], c.dir, 'kde_y').data, REL),
    relCheck('height_threshold', [j.heightThreshold], [Number(o['height_threshold'])], REL),
    relCheck('kde_factor', [j.kde.factor], [Number(o['kde_factor'])], REL),
    relCheck('kde_covariance', [j.kde.covariance], [Number(o['kde_covariance'])], REL),
  ];
  if (o['sign'] !== undefined) {
    const signs = bigSigns(keys);
    checks.push(exactArray('sign', signs, decodeArray(o['sign'], c.dir, 'sign').data));
    const folded = foldBigSigns(
      { weight: t32(c, c.inputs['q_proj_weight'], 'q_proj_weight'), bias: t32(c, c.inputs['q_proj_bias'], 'q_proj_bias') },
      { weight: t32(c, c.inputs['k_proj_weight'], 'k_proj_weight'), bias: t32(c, c.inputs['k_proj_bias'], 'k_proj_bias') },
      signs,
    );
    checks.push(exactArray('q_proj_weight_folded', folded.qProj.weight.data, decodeArray(o['q_proj_weight_folded'], c.dir, 'q').data));
    checks.push(exactArray('q_proj_bias_folded', folded.qProj.bias.data, decodeArray(o['q_proj_bias_folded'], c.dir, 'q').data));
    checks.push(exactArray('k_proj_weight_folded', folded.kProj.weight.data, decodeArray(o['k_proj_weight_folded'], c.dir, 'k').data));
    checks.push(exactArray('k_proj_bias_folded', folded.kProj.bias.data, decodeArray(o['k_proj_bias_folded'], c.dir, 'k').data));
  }
  return checks;
};
