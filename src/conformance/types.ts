/**
 * Types shared by the conformance runner (`ahcq conformance --vectors DIR`) and its per-component
 * checkers. The vector format is documented in `../shared/fixtures/authors-reference/README.md`:
 * `index.json` lists `{component, case, file}`; each case JSON holds `params`, `inputs`, `outputs`, `notes`.
 */

// TYPES

/** A case JSON as read from disk, plus the folder it lives in (for `.npy` references). */
export interface ConformanceCase {
  readonly component: string;
  readonly case: string;
  readonly seed?: number;
  readonly params: Record<string, unknown>;
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly notes?: string;
  /** Absolute folder of the case file; `ARRAY.npy` paths are relative to it. */
  readonly dir: string;
}

/** One compared output of a case. */
export interface OutputCheck {
  /** Output path, e.g. `y` or `stages[2].scales`. */
  readonly name: string;
  readonly ok: boolean;
  /** e.g. `exact`, `ulp:4`, `rel:1e-6`, `abs:1e-5`. */
  readonly tolerance: string;
  /** Human-readable worst discrepancy, e.g. `max |Δ| 3e-9 at [12]`. */
  readonly detail: string;
}

export interface CaseResult {
  readonly component: string;
  readonly case: string;
  readonly ok: boolean;
  readonly checks: readonly OutputCheck[];
  /** Set when the case could not be interpreted (always a failure, never a skip). */
  readonly error?: string;
}

/** Runs one case of a component through this implementation and compares every output. */
export type ComponentChecker = (c: ConformanceCase) => readonly OutputCheck[];
