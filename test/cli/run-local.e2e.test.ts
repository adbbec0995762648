import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { seedAuditLog } from '../../lib/local/demo/seed-audit-log.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { auditLogControl, securityOwner } from '../support/config-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

/**
 * The user's path of issue 12, as processes: `run --local --backfill` on a PostgreSQL database that
 * is not the demo's, a second `run --local` that sees the first's history, `export --local`, and
 * `verify` of both the archive and the state folder. Timings are printed for docs/local.md.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'soc2-evidence.mjs');

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

function cli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
        timeout: 600_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr),
          seconds: (Date.now() - started) / 1000,
        });
      },
    );
  });
}

// The user's own schema: a weekly, a monthly and a quarterly control on one audit log.
const CONFIG = stringify({
  timeZone: 'UTC',
  owners: [securityOwner],
  targets: [{ name: 'app', connection: { env: 'DATABASE_URL' } }],
  controls: [
    auditLogControl({ id: 'log-weekly', cadence: 'weekly' }),
    auditLogControl({ id: 'log-monthly', cadence: 'monthly' }),
    auditLogControl({ id: 'log-quarterly', cadence: 'quarterly' }),
  ],
});

describe('run --local as a user runs it', { timeout: 900_000 }, () => {
  let env: TestEnvironment;
  let dir: string;
  let databaseUrl: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'soc2-run-local-'));
    await writeFile(join(dir, 'soc2-evidence.yaml'), CONFIG);
    env = await startTestEnvironment();
    databaseUrl = await env.createDatabase('run_local_user_app');
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await seedAuditLog(client, {
      from: new Date('2025-12-20T00:00:00Z'),
      to: new Date('2026-12-01T12:00:00Z'),
      gap: { start: new Date('2026-06-10T10:00:00Z'), end: new Date('2026-06-10T14:00:00Z') },
    });
    await client.end();
  });
  afterAll(async () => {
    console.log(`run --local timings (s): ${JSON.stringify(timings)}`);
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('backfills a year, sees it in the next run, exports it and verifies archive and folder', async () => {
    const backfill = await cli(
      ['run', '--local', '--backfill', '2026-01-01', '--as-of', '2026-12-01T06:00:00Z', '--json'],
      { DATABASE_URL: databaseUrl },
      dir,
    );
    timings.backfill = backfill.seconds;
    const first = JSON.parse(backfill.stdout);
    expect(first.failedJobs).toEqual([]);
    const periods = (id: string) =>
      first.results
        .filter((r: { controlId: string }) => r.controlId === id)
        .map((r: { periodKey: string }) => r.periodKey);
    expect(periods('log-monthly')).toHaveLength(11);
    expect(periods('log-quarterly')).toEqual(['2026-Q1', '2026-Q2', '2026-Q3']);
    expect(periods('log-weekly')[0]).toBe('2026-W01');
    expect(periods('log-weekly').at(-1)).toBe('2026-W48');
    // The 4 h silence of 10 June fails its week, month and quarter, and nothing else.
    const failed = first.results.filter((r: { verdict: string }) => r.verdict !== 'pass');
    expect(failed.map((r: { periodKey: string }) => r.periodKey).sort()).toEqual([
      '2026-06',
      '2026-Q2',
      '2026-W24',
    ]);
    expect(backfill.code).toBe(1);
    expect(first.local.checkpoints).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir, '.soc2-evidence', 'evidence-bucket', 'checkpoints'))).toBe(true);
    const notices = (await readFile(join(dir, '.soc2-evidence', 'notifications.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(notices.map((line) => JSON.parse(line).control).sort()).toEqual([
      'log-monthly',
      'log-quarterly',
      'log-weekly',
    ]);

    const again = await cli(
      ['run', '--local', '--as-of', '2026-12-01T07:00:00Z', '--json'],
      { DATABASE_URL: databaseUrl },
      dir,
    );
    timings.secondRun = again.seconds;
    const second = JSON.parse(again.stdout);
    expect(
      second.results.map((r: { periodKey: string; attempts: number }) => [r.periodKey, r.attempts]),
    ).toEqual([
      ['2026-W48', 2],
      ['2026-11', 2],
      ['2026-Q3', 2],
    ]);
    expect(again.code).toBe(0);

    const archive = join(dir, 'year.zip');
    const exported = await cli(
      ['export', '--local', '--from', '2026-01-01', '--to', '2026-11-30', '--out', archive],
      {},
      dir,
    );
    timings.export = exported.seconds;
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toMatch(/Wrote .*year\.zip/);
    expect(exported.code).toBe(0);

    const verified = await cli(['verify', archive], {}, dir);
    timings.verifyArchive = verified.seconds;
    expect(verified.stdout).toMatch(/VERIFIED: 65 artifact\(s\)/);
    expect(verified.code).toBe(0);

    const folder = await cli(['verify', '--local'], {}, dir);
    timings.verifyFolder = folder.seconds;
    expect(folder.stdout).toMatch(/VERIFIED: 65 artifact\(s\)/);
    expect(folder.code).toBe(0);
  });

  it('risks --with-verdicts --local reads the verdicts of the state folder', async () => {
    const config = join(ROOT, 'soc2-evidence.yaml');
    const risks = await cli(
      ['risks', '--with-verdicts', '--local', '--config', config, '--as-of', '2026-12-01'],
      {},
      dir,
    );
    expect(risks.stdout).toMatch(/Risk register as of 2026-12-01/);
    expect(risks.code).toBe(0);
    const none = await cli(
      ['risks', '--with-verdicts', '--local', '--state', join(dir, 'never-run'), '--config', config],
      {},
      dir,
    );
    expect(none.stderr).toContain('run `soc2-evidence run --local` first');
    expect(none.code).toBe(2);
  });

  it('fails verify once a file of the state folder is altered', async () => {
    const copy = join(dir, 'tampered');
    const { cp, readdir } = await import('node:fs/promises');
    await cp(join(dir, '.soc2-evidence', 'evidence-bucket'), copy, { recursive: true });
    const results = (await readdir(copy, { recursive: true })).filter((file) => file.endsWith('result.json'));
    const victim = join(copy, results[0] ?? 'missing');
    const { chmod } = await import('node:fs/promises');
    await chmod(victim, 0o644);
    await writeFile(victim, `${await readFile(victim, 'utf8')} `);
    const result = await cli(['verify', copy], {}, dir);
    expect(result.stdout).toMatch(/FAILED/);
    expect(result.code).toBe(1);
  });

  it('refuses a state folder another live process holds, naming it', async () => {
    const state = join(dir, 'busy');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'lock'), `${process.pid}\n`);
    const result = await cli(['run', '--local', '--state', state], { DATABASE_URL: databaseUrl }, dir);
    expect(result.stderr).toContain(`in use by process ${process.pid}`);
    expect(result.code).toBe(2);
  });

  it('run --json names every job that recorded nothing, with its cause; text says so first', async () => {
    // The results table's endpoint points nowhere: no job can be recorded.
    const nowhere = {
      ...env.services.awsEnv,
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      [ENV.resultsTable]: env.resources.resultsTable,
      [ENV.evidenceBucket]: env.resources.evidenceBucket,
      [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
      DATABASE_URL: databaseUrl,
    };
    const json = await cli(['run', '--as-of', '2026-12-01T06:00:00Z', '--json'], nowhere, dir);
    const output = JSON.parse(json.stdout);
    expect(output.results).toEqual([]);
    expect(output.failedJobs).toHaveLength(3);
    for (const failure of output.failedJobs) {
      expect(failure).toMatchObject({ control: expect.stringMatching(/^log-/), period: expect.any(String) });
      expect(failure.cause).toMatch(/ECONNREFUSED|connect/i);
    }
    expect(json.code).toBe(1);

    const text = await cli(['run', '--as-of', '2026-12-01T06:00:00Z'], nowhere, dir);
    expect(text.stdout).not.toContain('No controls were due');
    expect(text.stdout.split('\n')[0]).toMatch(/^3 job\(s\) FAILED and recorded nothing/);
    expect(text.stdout).toMatch(/log-monthly monthly 2026-11: .*(ECONNREFUSED|connect)/i);
    expect(text.code).toBe(1);
  });
});
