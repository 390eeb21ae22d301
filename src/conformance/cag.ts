/**
 * Conformance checker for the `cag` component of the authors-reference vectors
 * (`../shared/fixtures/authors-reference/README.md`). Placeholder until the implementation lands.
 */
import type { ComponentChecker, OutputCheck } from './types';

/**
 * Run one `cag` case through this implementation and compare every output.
 * @paper AHCQ-SAM:v4 §3
 * @deviation not implemented yet: always reports a single failing check.
 * @precision exact
 */
export const checkCag: ComponentChecker = (): readonly OutputCheck[] => [
  { name: '*', ok: false, tolerance: 'exact', detail: 'not implemented yet' },
];
