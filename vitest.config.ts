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
    // Node 20 is the product's runtime; the SDK's notice about its future Node 22 floor is known (see README).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
