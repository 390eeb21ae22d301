/**
 * Replays the shared authors-reference vectors (../shared/fixtures/authors-reference) through the
 * conformance runner. Every case of the components owned by the quantizer-primitives area must pass;
 * acnr / cag / big are run too (their checkers belong to the ACNR/CAG/BIG area).
 * Tolerances are stated per component in src/conformance/<component>.ts and docs/paper-map.md.
 */
import { describe, expect, it } from 'vitest';
import { readIndex, runConformance, summarize } from '../../src/conformance/runner';
import { VECTORS_DIR, VECTORS_PRESENT, caseNames, expectCasePasses } from './helpers';

const OWN = ['uniform', 'observers', 'adaround', 'hluq', 'lnq', 'agq'];
const OTHER = ['cag', 'acnr', 'big'];

describe.skipIf(!VECTORS_PRESENT)('authors-reference vectors', () => {
  it('index.json lists 92 cases in 9 components, all with a checker', () => {
    const idx = readIndex(VECTORS_DIR);
    expect(idx.length).toBe(92);
    expect(new Set(idx.map((e) => e.component))).toEqual(new Set([...OWN, ...OTHER]));
  });
  for (const comp of OWN) {
    describe(comp, () => {
      it.each(caseNames(comp))('%s', (name) => expectCasePasses(comp, name));
    });
  }
  describe('other areas (acnr, cag, big)', () => {
    for (const comp of OTHER) it.each(caseNames(comp))(`${comp}/%s`, (name) => expectCasePasses(comp, name));
  });
  it('runConformance over the whole directory agrees with the per-case runs', () => {
    const res = runConformance(VECTORS_DIR, { components: ['uniform', 'hluq'] });
    expect(summarize(res)).toEqual([
      { component: 'uniform', passed: 23, failed: 0 },
      { component: 'hluq', passed: 12, failed: 0 },
    ]);
  });
});

describe('runner without fixtures', () => {
  it('documents why it skips when the shared fixtures are absent', () => {
    expect(typeof VECTORS_PRESENT).toBe('boolean');
    if (!VECTORS_PRESENT) console.warn(`authors-reference vectors absent at ${VECTORS_DIR}; conformance cases skipped`);
  });
});
