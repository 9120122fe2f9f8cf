import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'pipelines/*/test/**/*.test.ts'],
    // Generous: CLI and crash tests spawn processes, and CI shares two cores with them.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: keep parallelism modest so wire tests that spawn processes stay reliable.
    maxWorkers: 2,
  },
});
