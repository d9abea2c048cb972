import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal SDK runs workflows in worker threads of its own; forks keep them apart from vitest's.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
