/**
 * Parameter records shared by the quantizers of `src/quant` and the searches of `src/calib`,
 * plus the one place that validates a bit width.
 *
 * Legend: `b` bit width, `qmin`/`qmax` integer code range, `s` scale (step Δ), `z` integer zero point.
 */
import { specRequire } from '../tensor';

// TYPES

/** Integer code range of a uniform quantizer. */
export interface QRange {
  readonly qmin: number;
  readonly qmax: number;
}

/** Per-tensor affine parameters: scale `s > 0` and integer zero point `z`. */
export interface AffineParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Per-tensor affine parameters together with the code range. */
export interface UniformParams extends AffineParams, QRange {}

/** Per-channel affine parameters along `axis` (negative counts from the end). */
export interface PerChannelParams extends QRange {
  readonly scales: ArrayLike<number>;
  readonly zeroPoints: ArrayLike<number>;
  readonly axis: number;
}

/** Options shared by quantizers that have a reference-code quirk (METHOD.md, Project decision 1). */
export interface CompatOptions {
  /** Reproduce the authors' reference-code behaviour instead of the intended semantics. */
  readonly referenceCompat?: boolean;
}

// MAIN

/** Smallest and largest supported bit width (METHOD.md §2.1 uses 4–8; 2–16 keeps codes in int32). */
export const MIN_BITS = 2;
export const MAX_BITS = 16;

/**
 * Require `bits` to be an integer in [2, 16]; `fn` names the caller in the SpecError.
 * @paper AHCQ-SAM:v4 §Uniform (METHOD.md §2.1)
 * @equation b ∈ ℤ, 2 ≤ b ≤ 16
 * @deviation none (the paper uses b ∈ {4, 5, 6}; wider range for tests and golden vectors)
 * @precision exact
 */
export function requireBits(fn: string, bits: number): void {
  specRequire(Number.isInteger(bits) && bits >= MIN_BITS && bits <= MAX_BITS, {
    fn,
    what: 'bits',
    rule: `be an integer in [${MIN_BITS}, ${MAX_BITS}]`,
    got: bits,
    ref: 'AHCQ-SAM:v4 §Uniform',
  });
}
