import { defineConfig } from 'vitest/config';
import { INTEGRATION_TESTS } from './vitest.config.ts';

/**
 * The test run Stryker repeats for every mutant: only the unit tests of the mutated modules (no
 * PostgreSQL, no emulators; the same exclusion list as the unit project), so `npm run mutate`
 * finishes on two shared cores. The integration suites keep covering the SQL; these cover the
 * decisions made on its results (scripted sessions and in-memory ports stand in for the systems).
 */
export default defineConfig({
  test: {
    include: [
      'test/shared/period.test.ts',
      'test/risks/**/*.test.ts',
      'test/controls/**/*.test.ts',
      'test/restore/**/*.test.ts',
    ],
    exclude: INTEGRATION_TESTS,
    pool: 'threads',
    isolate: false,
    maxWorkers: 1,
    testTimeout: 10_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
