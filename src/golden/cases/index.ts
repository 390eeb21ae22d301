/**
 * The golden-vector catalogue: every case, in a fixed order. The writer, `golden:check` and
 * spec/golden all iterate this list.
 */
import type { GoldenCase } from '../format';
import { OP_CASES } from './ops';
import { EDGE_CASES } from './edge';
import { LAYER_CASES } from './layers';
import { BLOCK_CASES } from './block-tinyvit';

export const GOLDEN_CASES: readonly GoldenCase[] = [...OP_CASES, ...EDGE_CASES, ...LAYER_CASES, ...BLOCK_CASES];

/** Suites present in the catalogue, in order of first appearance. */
export const GOLDEN_SUITES: readonly string[] = [...new Set(GOLDEN_CASES.map((c) => c.suite))];
