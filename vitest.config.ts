import { defineConfig } from 'vitest/config';

/**
 * Integration tests: real PostgreSQL, the emulators, CDK synth and bundling, child processes. Every
 * other test file is a unit test, and the unit project's guard (test/support/unit-guard.ts) fails
 * any unit test that opens a socket or starts a process, naming this list, so a misfiled test
 * cannot hide here. New integration files can also just be named `*.int.test.ts` or `*.e2e.test.ts`.
 */
export const INTEGRATION_TESTS = [
  'test/**/*.int.test.ts',
  'test/**/*.e2e.test.ts',
  'test/deployed/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/local/**/*.test.ts',
  'test/adapters/postgres/**/*.test.ts',
  'test/adapters/s3/**/*.test.ts',
  'test/adapters/sns/**/*.test.ts',
  'test/adapters/sqs/**/*.test.ts',
  'test/adapters/dynamodb/**/*.test.ts',
  'test/controls/access-review.test.ts',
  'test/controls/encryption-config.test.ts',
  'test/controls/log-completeness.test.ts',
  'test/controls/manual-attestation.test.ts',
  'test/controls/restore-verification.test.ts',
  'test/controls/schedule-health.test.ts',
  'test/controls/secret-rotation.test.ts',
  'test/controls/vulnerability-scan.test.ts',
  'test/controls/differential/**/*.test.ts',
  'test/controls/hostile-matrix/**/*.test.ts',
  'test/audit/audit-html.test.ts',
  'test/risks/heat-map-html.test.ts',
  'test/risks/risks-check-command.test.ts',
  'test/risks/sign-off.test.ts',
  'test/export/export-archive.test.ts',
  'test/export/index-html.test.ts',
  'test/functions/handlers.test.ts',
  'test/infra/app.test.ts',
  'test/infra/bundling.test.ts',
  'test/infra/soc2-evidence-stack.test.ts',
  'test/notify/slack-forwarder.test.ts',
  'test/restore/restore-validation.test.ts',
  'test/risks/risk-handlers.test.ts',
  'test/risks/run-risk-evaluation.test.ts',
  'test/runs/run-control.test.ts',
  'test/verify/tamper.test.ts',
  'test/verify/verify-command.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: INTEGRATION_TESTS,
          setupFiles: ['test/support/unit-guard.ts'],
          // Unit tests share no state worth isolating; importing the modules once per worker instead
          // of once per file is most of their run time.
          isolate: false,
          testTimeout: 10_000,
          // Unit tests run first (seconds), then the integration tests with their own worker limit.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION_TESTS,
          // One PostgreSQL server for the run; each file creates its own database on it.
          globalSetup: ['test/support/global-setup.ts'],
          // Two workers match the 2-core machines; each file boots its own emulators.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          // Synth, bundling and spawned CLIs take 10-30 s on a quiet 2-core machine, several times
          // that when the machine is shared; a hung test still fails, only later.
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
