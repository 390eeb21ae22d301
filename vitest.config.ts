import { defineConfig } from 'vitest/config';

// Spec files live in spec/ (mirrors src/) and hw-model/ (the cycle model's own specs).
export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts', 'hw-model/**/*.spec.ts'],
    setupFiles: ['spec/setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
