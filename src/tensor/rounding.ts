/**
 * Rounding and float32 helpers used by every quantizer (STYLE.md §6.6; METHOD.md §2.1).
 *
 * `Math.round` rounds ties toward +∞ (it maps −2.5 to −2), which matches neither PyTorch
 * (`torch.round`), ONNX `QuantizeLinear` nor IEEE-754 roundTiesToEven. Use `roundHalfEven`.
 */

// MAIN

/**
 * Round to the nearest integer, ties to even (IEEE-754 roundTiesToEven, `torch.round`).
 * @source PyTorch torch.round; ONNX QuantizeLinear ("round half to even")
 * @equation ⌊x⌉ = nearest integer to x; if x − ⌊x⌋ = ½ exactly, the even neighbour
 * @precision exact for every finite double; NaN → NaN, ±∞ → ±∞, −0 → −0
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f; // exact: x and f are within 1 of each other and share an exponent range
  if (d < 0.5) return f === 0 && x < 0 ? -0 : f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Round a double to the nearest float32 (roundTiesToEven). Alias of `Math.fround`, named for audits. */
export const f32 = Math.fround;

/** Machine epsilon of float32: 2^-23 (≈ 1.1920929e-7), PyTorch `torch.finfo(torch.float32).eps`. */
export const FLOAT32_EPS = 1.1920928955078125e-7;

/** Clamp `x` into `[lo, hi]`. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
