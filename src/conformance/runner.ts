/**
 * Conformance runner: reads `index.json` of a vector directory, runs every case through its
 * component's checker and returns one `CaseResult` per case. A case that cannot be read or interpreted
 * (unknown component, missing field, checker error) is a FAILURE with the reason — never a skip.
 */
import { join, dirname, resolve } from 'node:path';
import { FormatError } from '../tensor';
import { readFileOrThrow } from '../io/fs';
import { CHECKERS } from './checkers';
import type { CaseResult, ComponentChecker, ConformanceCase } from './types';

// TYPES

export interface IndexEntry {
  readonly component: string;
  readonly case: string;
  readonly file: string;
}

export interface RunOptions {
  /** Only run these components (default: all in the index). */
  readonly components?: readonly string[];
  /** Checkers to use (default: CHECKERS). */
  readonly checkers?: Readonly<Record<string, ComponentChecker>>;
}

export interface ComponentSummary {
  readonly component: string;
  readonly passed: number;
  readonly failed: number;
}

// MAIN

function parseJson(path: string, what: string): unknown {
  const text = new TextDecoder().decode(readFileOrThrow(path, what));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(path, `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Read and validate `index.json` of a vector directory.
 * @source authors-reference README "Layout and format"
 * @equation index.cases = [{component, case, file}]
 * @deviation none
 * @precision exact
 */
export function readIndex(vectorsDir: string): IndexEntry[] {
  const path = join(vectorsDir, 'index.json');
  const idx = parseJson(path, 'index.json') as { cases?: unknown };
  if (!idx || typeof idx !== 'object' || !Array.isArray(idx.cases)) throw new FormatError(path, "expected an object with a 'cases' list");
  return idx.cases.map((e: unknown, i: number) => {
    const r = e as Partial<IndexEntry>;
    if (typeof r?.component !== 'string' || typeof r.case !== 'string' || typeof r.file !== 'string') {
      throw new FormatError(path, `cases[${i}] must have string component, case and file`);
    }
    return { component: r.component, case: r.case, file: r.file };
  });
}

/**
 * Run a single index entry; never throws.
 * @source authors-reference README "Layout and format"
 * @deviation none
 * @precision exact
 */
export function runCase(vectorsDir: string, e: IndexEntry, checkers: Readonly<Record<string, ComponentChecker>> = CHECKERS): CaseResult {
  const fail = (error: string): CaseResult => ({ component: e.component, case: e.case, ok: false, checks: [], error });
  const checker = checkers[e.component];
  if (!checker) return fail(`no checker for component '${e.component}'`);
  let c: ConformanceCase;
  try {
    const path = resolve(vectorsDir, e.file);
    const raw = parseJson(path, 'case file') as Partial<ConformanceCase>;
    if (!raw || typeof raw !== 'object' || typeof raw.params !== 'object' || typeof raw.inputs !== 'object' || typeof raw.outputs !== 'object') {
      return fail(`${e.file}: case JSON must have params, inputs and outputs objects`);
    }
    c = { ...(raw as ConformanceCase), component: e.component, case: e.case, dir: dirname(path) };
  } catch (err) {
    return fail((err as Error).message);
  }
  try {
    const checks = checker(c);
    if (checks.length === 0) return fail('checker compared no outputs');
    return { component: e.component, case: e.case, ok: checks.every((k) => k.ok), checks };
  } catch (err) {
    return fail(`cannot interpret case: ${(err as Error).message}`);
  }
}

/**
 * Run every case of a vector directory.
 * @source authors-reference README "Layout and format"
 * @equation results = [check(case) for case in index.cases]
 * @deviation none
 * @precision per component, stated in each checker
 */
export function runConformance(vectorsDir: string, opts: RunOptions = {}): CaseResult[] {
  const entries = readIndex(vectorsDir).filter((e) => !opts.components || opts.components.includes(e.component));
  return entries.map((e) => runCase(vectorsDir, e, opts.checkers ?? CHECKERS));
}

/**
 * Pass/fail counts per component, in first-appearance order.
 * @source authors-reference README "Cases"
 * @equation passed_c = #{cases of c with ok}
 * @deviation none
 * @precision exact
 */
export function summarize(results: readonly CaseResult[]): ComponentSummary[] {
  const order: string[] = [];
  const counts = new Map<string, { passed: number; failed: number }>();
  for (const r of results) {
    if (!counts.has(r.component)) {
      order.push(r.component);
      counts.set(r.component, { passed: 0, failed: 0 });
    }
    const k = counts.get(r.component)!;
    if (r.ok) k.passed++;
    else k.failed++;
  }
  return order.map((component) => ({ component, ...counts.get(component)! }));
}
