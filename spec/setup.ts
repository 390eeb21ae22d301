/**
 * Global test setup (STYLE.md §6.7 runner conventions).
 * fast-check: 200 runs on CI, 50 locally; FC_SEED pins the seed to replay a failure.
 */
import fc from 'fast-check';

fc.configureGlobal({
  numRuns: process.env.CI ? 200 : 50,
  seed: Number(process.env.FC_SEED) || undefined,
});
