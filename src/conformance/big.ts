/**
 * Conformance checker for the `big` component of the authors-reference vectors
 * (`../shared/fixtures/authors-reference/README.md`). Placeholder until the implementation lands.
 */
import type { ComponentChecker, OutputCheck } from './types';

/**
 * Run one `big` case through this implementation and compare every output.
 * @paper AHCQ-SAM:v4 §3
 * @deviation not implemented yet: always reports a single failing check.
 * @precision exact
 */
export const checkBig: ComponentChecker = (): readonly OutputCheck[] => [
  { name: '*', ok: false, tolerance: 'exact', detail: 'not implemented yet' },
];
