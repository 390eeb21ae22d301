/**
 * Failure classes of the specification (STYLE.md §6.5; TOSA ERROR_IF vs REQUIRE, Wasm Trap vs Crash).
 *
 * - `SpecError`: the caller violated a documented precondition (shape, rank, bit width, range…).
 *   The message always has the form `<fn>: <what> must <rule> (got <value>) [<ref>]`.
 * - `InvariantError`: something that cannot happen if the specification is correct (a bug).
 * - `FormatError`: bytes at an I/O boundary (model file, checkpoint, image, vector) are malformed.
 */

// TYPES

export interface SpecViolation {
  /** Function (or CLI command) that rejected the input. */
  readonly fn: string;
  /** The argument or quantity being checked, e.g. `bits` or `x.shape[1]`. */
  readonly what: string;
  /** The rule it must satisfy, phrased to follow "must", e.g. `be an integer in [2, 16]`. */
  readonly rule: string;
  /** The offending value (stringified). */
  readonly got?: unknown;
  /** Citation key of the rule, e.g. `AHCQ-SAM:v4 §3.2` or `SAM-code@dca509f image_encoder.py`. */
  readonly ref?: string;
}

// MAIN

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The single message formatter for precondition failures. */
export function formatViolation(v: SpecViolation): string {
  const got = 'got' in v ? ` (got ${show(v.got)})` : '';
  const ref = v.ref ? ` [${v.ref}]` : '';
  return `${v.fn}: ${v.what} must ${v.rule}${got}${ref}`;
}

/** A documented precondition was violated by the caller. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  readonly violation: SpecViolation;
  constructor(v: SpecViolation) {
    super(formatViolation(v));
    this.violation = v;
  }
}

/** An internal invariant failed: a bug in this specification, never the caller's fault. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Malformed or unsupported bytes at an I/O boundary. `source` names the file or stream. */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  readonly source: string;
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.source = source;
  }
}

/** Throw `SpecError` unless `cond` holds. */
export function specRequire(cond: boolean, v: SpecViolation): asserts cond {
  if (!cond) throw new SpecError(v);
}

/** Throw `InvariantError` unless `cond` holds. */
export function invariant(cond: boolean, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}
