import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { seedAuditLog } from '../../lib/local/demo/seed-audit-log.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { auditLogConfigYaml } from '../support/config-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

const CONFIG = auditLogConfigYaml();

function capture(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env }, out, err };
}

describe('soc2-evidence CLI', () => {
  let dir: string;
  let configPath: string;
  let env: TestEnvironment;
  let appUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'soc2-cli-'));
    configPath = join(dir, 'soc2-evidence.yaml');
    await writeFile(configPath, CONFIG);
    env = await startTestEnvironment();
    appUrl = await env.createDatabase('cli_app');
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    await seedAuditLog(client, {
      from: new Date('2026-08-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      gap: { start: new Date('2026-10-06T10:00:00Z'), end: new Date('2026-10-06T14:00:00Z') },
    });
    await client.end();
  });
  afterAll(async () => {
    await env?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const awsEnv = () => ({
    ...env.services.awsEnv,
    [ENV.resultsTable]: env.resources.resultsTable,
    [ENV.evidenceBucket]: env.resources.evidenceBucket,
    [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
    APP_URL: appUrl,
  });

  it('exits 2 listing the valid cadences for an unknown --cadence', async () => {
    const { io, err } = capture(awsEnv());
    expect(await main(['run', '--config', configPath, '--cadence', 'fortnightly'], io)).toBe(2);
    expect(err.join('')).toContain(
      'unknown cadence "fortnightly"; expected one of daily, weekly, monthly, quarterly, annual',
    );
  });

  it('exits 2 naming the bad field of an invalid config', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, CONFIG.replace('cadence: monthly', 'cadence: hourly'));
    const { io, err } = capture(awsEnv());
    expect(await main(['run', '--config', bad], io)).toBe(2);
    expect(err.join('')).toContain(
      'controls[0].cadence: expected one of daily, weekly, monthly, quarterly, annual',
    );
  });

  it('exits 2 naming the missing resource variables', async () => {
    const { io, err } = capture({ APP_URL: appUrl });
    expect(await main(['run', '--config', configPath], io)).toBe(2);
    expect(err.join('')).toContain('SOC2_RESULTS_TABLE');
  });

  it('exits 2 for an unknown control and an unknown command', async () => {
    const first = capture(awsEnv());
    expect(await main(['run', '--config', configPath, '--control', 'nope'], first.io)).toBe(2);
    expect(first.err.join('')).toContain('unknown control nope');
    const second = capture();
    expect(await main(['frobnicate'], second.io)).toBe(2);
  });

  it('prints help for every command', async () => {
    for (const args of [['--help'], ['run', '--help'], ['demo', '--help']]) {
      const { io, out } = capture();
      expect(await main(args, io)).toBe(0);
      expect(out.join('')).toMatch(/Usage: soc2-evidence/);
    }
  });

  it('exits 1 when a control fails and prints JSON with the reasons', async () => {
    const { io, out } = capture(awsEnv());
    const code = await main(
      ['run', '--config', configPath, '--cadence', 'monthly', '--as-of', '2026-11-01', '--json'],
      io,
    );
    expect(code).toBe(1);
    const result = JSON.parse(out.join(''));
    expect(result.results).toHaveLength(1);
    expect(result.results[0]).toMatchObject({
      controlId: 'audit-log',
      periodKey: '2026-10',
      verdict: 'fail',
    });
    expect(result.results[0].reasons[0]).toContain('2026-10-06T');
  });

  it('exits 0 when every control passes', async () => {
    const { io, out } = capture(awsEnv());
    const code = await main(
      ['run', '--config', configPath, '--cadence', 'monthly', '--as-of', '2026-10-01'],
      io,
    );
    expect(out.join('')).toContain('PASS');
    expect(code).toBe(0);
  });
});
