import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // interop tests start real processes on loopback; keep files from fighting over the 2 cores
    fileParallelism: true,
    maxWorkers: 2,
  },
});
