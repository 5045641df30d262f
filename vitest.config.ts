import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code, the simulator, in-process servers) runs files in parallel;
// `integration` (real processes: kdmq serve, Kamailio 5.6.3, sipp, tshark, Chromium) runs one
// file at a time, so a test that drives load (sipp at 1 000/s) never competes with another for
// the machine's two cores. `npm test` runs both, one after the other.
const integration = ['test/e2e/**/*.test.ts', 'test/interop/**/*.test.ts', 'test/ops/**/*.test.ts'];

export default defineConfig({
  test: {
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: integration, maxWorkers: 2 } },
      { extends: true, test: { name: 'integration', include: integration, fileParallelism: false } },
    ],
  },
});
