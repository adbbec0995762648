import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDynamoResultsStore } from '../../lib/adapters/dynamodb/dynamodb-results.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import type { TestEnvironment } from '../support/test-environment.ts';
import type { verdict } from './fixtures.ts';

/** Two controls whose criteria are the whole (configured) catalogue, so coverage can exit 0. */
export const CLI_CONFIG = `
owners:
  - { id: security, name: Security, email: security@example.com }
targets:
  - { name: app, connection: { env: APP_URL } }
criteria:
  base: none
  items:
    - { id: CC6.1, title: Access Credentials }
    - { id: CC6.2, title: Access Removal }
    - { id: CC9.2, title: Vulnerability Management }
    - { id: P1.1, title: Privacy Notice, scope: planned }
readiness:
  base: none
  items:
    - { id: access-reviews, title: Access reviews completed, section: evidence-collection, kind: every-period, testTypes: [access-review] }
    - { id: pen-test, title: Penetration test report (annual), section: evidence-collection, kind: manual, owner: security, prefix: "attestations/penetration-test/{period}/", expects: the report }
controls:
  - id: access-review
    title: Access review
    criteria: [CC6.1, CC6.2]
    cadence: quarterly
    owner: security
    test: { type: access-review, target: app, schema: app, table: users }
  - id: pentest
    title: Pen test
    criteria: [CC9.2]
    cadence: annual
    owner: security
    test: { type: manual-attestation, prefix: "attestations/penetration-test/{period}/" }
`;

export async function writeCliConfig(
  dir: string,
  name = 'soc2-evidence.yaml',
  text = CLI_CONFIG,
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Records verdicts in the emulated results table through the real adapter. */
export async function seedVerdicts(
  env: TestEnvironment,
  verdicts: readonly ReturnType<typeof verdict>[],
): Promise<void> {
  const store = makeDynamoResultsStore(env.clients.dynamodb, env.resources.resultsTable);
  for (const v of verdicts) {
    await store.recordAttempt({
      ...v,
      warnings: [],
      runId: `run-${v.periodKey}`,
      evidenceSha256: '0'.repeat(64),
      manifestSha256: '0'.repeat(64),
      startedAt: v.lastAttemptAt,
      finishedAt: v.lastAttemptAt,
    });
  }
}

export const resultsEnv = (env: TestEnvironment, table = env.resources.resultsTable) => ({
  ...env.services.awsEnv,
  [ENV.resultsTable]: table,
});

export function capture(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env },
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}

/** Runs the real binary, as a user would. */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/soc2-evidence.mjs', ...args], {
      cwd: join(import.meta.dirname, '../..'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
