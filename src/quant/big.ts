/**
 * BIG sign folding (PTQ4SAM Bimodal Integration): multiplying row c of both q_proj and k_proj
 * (weight and bias) by sign_c ∈ {−1, 0, 1} leaves every q·k = Σ_c q_c k_c unchanged for ±1 signs,
 * while making the key distribution unimodal. Detection lives in `src/calib/big.ts`.
 */
import { specRequire, tensor, type Tensor } from '../tensor';

// TYPES

/** A Linear projection: weight [out, in], bias [out]. */
export interface BigProjection {
  readonly weight: Tensor;
  readonly bias: Tensor;
}

// MAIN

function checkProj(fn: string, name: string, p: BigProjection, C: number): void {
  specRequire(p.weight.shape.length === 2 && p.weight.shape[0] === C, { fn, what: `${name}.weight.shape`, rule: `be [C = ${C}, in]`, got: p.weight.shape, ref: 'METHOD.md §4.1' });
  specRequire(p.bias.shape.length === 1 && p.bias.shape[0] === C, { fn, what: `${name}.bias.shape`, rule: `be [C = ${C}]`, got: p.bias.shape, ref: 'METHOD.md §4.1' });
}

function scaleRows(w: Tensor, signs: ArrayLike<number>): Tensor {
  const rows = w.shape[0]!;
  const cols = w.data.length / rows;
  const out = new Float32Array(w.data.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[r * cols + j] = w.data[r * cols + j]! * signs[r]!;
  return tensor(w.shape, out);
}

/**
 * Fold per-channel signs into the q and k projections (rows of weight and bias times sign_c).
 * @paper AHCQ-SAM:v4 §4.1 (METHOD.md; PTQ4SAM BIG)
 * @source AHCQ-SAM sam/ahcqsam/model/quant_model.py#bimodal_adjust
 * @equation W'_q[c,:] = sign_c·W_q[c,:], b'_q[c] = sign_c·b_q[c];  same for k;  q'·k' = q·k when sign_c = ±1
 * @deviation none (a 0 sign zeroes the channel in both projections, as the reference does)
 * @precision exact (multiplication by ±1 or 0)
 */
export function foldBigSigns(qProj: BigProjection, kProj: BigProjection, signs: ArrayLike<number>): { qProj: BigProjection; kProj: BigProjection } {
  const fn = 'foldBigSigns';
  const C = signs.length;
  specRequire(C >= 1, { fn, what: 'signs.length', rule: 'be ≥ 1', got: C, ref: 'METHOD.md §4.1' });
  for (let c = 0; c < C; c++) {
    const s = signs[c]!;
    specRequire(s === 1 || s === -1 || s === 0, { fn, what: `signs[${c}]`, rule: 'be −1, 0 or 1', got: s, ref: 'METHOD.md §4.1' });
  }
  checkProj(fn, 'qProj', qProj, C);
  checkProj(fn, 'kProj', kProj, C);
  return {
    qProj: { weight: scaleRows(qProj.weight, signs), bias: scaleRows(qProj.bias, signs) },
    kProj: { weight: scaleRows(kProj.weight, signs), bias: scaleRows(kProj.bias, signs) },
  };
}
