import { defineConfig } from 'vitest/config';

/**
 * The test run Stryker repeats for every mutant: only fast tests of pure verdict logic (no
 * PostgreSQL, no emulators), so `npm run mutate` finishes on two shared cores. The integration
 * suites keep covering the SQL; these cover the decisions made on its results.
 */
export default defineConfig({
  test: {
    include: [
      'test/shared/period.test.ts',
      'test/risks/evaluate-register.test.ts',
      'test/controls/**/*.unit.test.ts',
      'test/restore/compare-databases.test.ts',
    ],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 10_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
