/**
 * Fidelity metrics of a quantized model against the FP32 model (METHOD.md Project decision 4):
 * mask IoU, signal-to-quantization-noise ratio, cosine similarity, and a pooled SQNR accumulator.
 */
import { specRequire, type Tensor } from '../tensor';

// TYPES

/** Energies pooled over several tensors: SQNR = 10·log10(Σ signal² / Σ noise²). */
export interface SqnrAccumulator {
  readonly signal: number;
  readonly noise: number;
}

// MAIN

/**
 * IoU of the binary masks `logits > 0` of two equally shaped logit tensors (1 when both are empty).
 * @paper SAM (Kirillov et al. 2023) mask IoU; AHCQ-SAM:v4 fidelity protocol (METHOD.md Project decision 4)
 * @equation IoU = |{a > 0} ∩ {b > 0}| / |{a > 0} ∪ {b > 0}|
 * @deviation none
 * @precision exact (integer counts)
 */
export function maskIoU(a: Tensor, b: Tensor): number {
  specRequire(a.data.length === b.data.length && a.data.length > 0, { fn: 'maskIoU', what: 'b.shape', rule: `equal a.shape [${a.shape.join(',')}] (non-empty)`, got: b.shape });
  let inter = 0, uni = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]! > 0, y = b.data[i]! > 0;
    if (x && y) inter++;
    if (x || y) uni++;
  }
  return uni === 0 ? 1 : inter / uni;
}

/**
 * Add one (reference, approximation) pair to a pooled SQNR accumulator.
 * @equation S += Σ r², N += Σ (r − x)²
 * @deviation none
 * @precision fp64-accumulate
 */
export function accumulateSqnr(acc: SqnrAccumulator, ref: Tensor, x: Tensor): SqnrAccumulator {
  specRequire(ref.data.length === x.data.length, { fn: 'accumulateSqnr', what: 'x.shape', rule: `equal ref.shape [${ref.shape.join(',')}]`, got: x.shape });
  let s = 0, n = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const r = ref.data[i]!;
    const d = r - x.data[i]!;
    s += r * r;
    n += d * d;
  }
  return { signal: acc.signal + s, noise: acc.noise + n };
}

/**
 * SQNR in dB of an accumulator (+∞ when the noise is zero).
 * @equation SQNR = 10·log10(S / N)
 * @deviation none
 * @precision fp64
 */
export function sqnrDb(acc: SqnrAccumulator): number {
  return acc.noise === 0 ? Infinity : 10 * Math.log10(acc.signal / acc.noise);
}

/**
 * Cosine similarity of two equally long tensors (1 when both are zero).
 * @equation cos = ⟨a, b⟩ / (‖a‖·‖b‖)
 * @deviation none
 * @precision fp64-accumulate
 */
export function cosineSimilarity(a: Tensor, b: Tensor): number {
  specRequire(a.data.length === b.data.length, { fn: 'cosineSimilarity', what: 'b.shape', rule: `equal a.shape [${a.shape.join(',')}]`, got: b.shape });
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!, y = b.data[i]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 && bb === 0) return 1;
  if (aa === 0 || bb === 0) return 0;
  return ab / Math.sqrt(aa * bb);
}
