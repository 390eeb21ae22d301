/**
 * Test helper: run authors-reference cases of one component through the conformance runner and
 * assert that every compared output is within its stated tolerance. Skips (with the reason) when the
 * shared fixtures are absent.
 */
import { expect } from 'vitest';
import { hasShared, sharedPath } from '../helpers/shared';
import { readIndex, runCase } from '../../src/conformance/runner';

export const VECTORS_PARTS = ['fixtures', 'authors-reference'] as const;
export const VECTORS_PRESENT = hasShared(...VECTORS_PARTS, 'index.json');
export const VECTORS_DIR = sharedPath(...VECTORS_PARTS);

/** Case names of a component in the index (empty when the fixtures are absent). */
export function caseNames(component: string, prefix = ''): string[] {
  if (!VECTORS_PRESENT) return [];
  return readIndex(VECTORS_DIR)
    .filter((e) => e.component === component && e.case.startsWith(prefix))
    .map((e) => e.case);
}

/** Run one case and expect it to pass, reporting failing checks. */
export function expectCasePasses(component: string, name: string): void {
  const e = readIndex(VECTORS_DIR).find((x) => x.component === component && x.case === name);
  expect(e, `${component}/${name} in index.json`).toBeDefined();
  const r = runCase(VECTORS_DIR, e!);
  const failing = r.checks.filter((k) => !k.ok).map((k) => `${k.name} [${k.tolerance}] ${k.detail}`);
  expect(r.error ?? null).toBeNull();
  expect(failing).toEqual([]);
  expect(r.checks.length).toBeGreaterThan(0);
  expect(r.ok).toBe(true);
}
