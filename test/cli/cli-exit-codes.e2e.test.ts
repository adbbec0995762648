import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedAuditLog } from '../../lib/local/demo/seed-audit-log.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { auditLogConfigYaml } from '../support/config-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { evidenceFixture, runResult, syncEvidence } from '../verify/evidence-fixture.ts';
import { cli, spawnCli } from './support/spawn-cli.ts';

/**
 * The CLI as users run it: a real process (`node bin/soc2-evidence.mjs` and `npx soc2-evidence`),
 * exit code and output asserted. In-process tests of `main()` cannot see the exit code the process
 * ends with (a dependency's exit hook used to turn every code into 0), so these spawn the binary.
 */
const CONFIG = auditLogConfigYaml();

// npx resolves the package's own `bin` offline; --no-install keeps it from ever asking a registry.
const npx = (args: readonly string[]) =>
  spawnCli('npx', ['--offline', '--no-install', 'soc2-evidence', ...args]);

// Each case starts one to five processes (tsx compiles the CLI each time): minutes on a loaded machine.
describe('soc2-evidence as a process', { timeout: 180_000 }, () => {
  let env: TestEnvironment;
  let dir: string;
  let configPath: string;
  let appUrl: string;
  let evidenceFolder: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'soc2-cli-e2e-'));
    configPath = join(dir, 'soc2-evidence.yaml');
    await writeFile(configPath, CONFIG);
    env = await startTestEnvironment();
    appUrl = await env.createDatabase('cli_e2e_app');
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    await seedAuditLog(client, {
      from: new Date('2026-08-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      gap: { start: new Date('2026-10-06T10:00:00Z'), end: new Date('2026-10-06T14:00:00Z') },
    });
    await client.end();
    const evidence = evidenceFixture(env);
    for (const month of ['2026-01', '2026-02', '2026-03']) {
      await evidence.record(runResult({ controlId: 'backups', cadence: 'monthly', periodKey: month }));
    }
    // What the deployed checkpoint writer does hourly: without it verify cannot tell a dropped control.
    await evidence.checkpoint(
      [{ id: 'backups', cadence: 'monthly', addedOn: '2026-01-01' }],
      new Date('2026-04-09T12:00:00Z'),
    );
    evidenceFolder = join(dir, 'evidence');
    await syncEvidence(env.clients.s3, env.resources.evidenceBucket, evidenceFolder);
  });
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const runEnv = () => ({
    ...env.services.awsEnv,
    [ENV.resultsTable]: env.resources.resultsTable,
    [ENV.evidenceBucket]: env.resources.evidenceBucket,
    [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
    APP_URL: appUrl,
  });

  it('run: exits 0 when every control passes', async () => {
    const result = await cli(
      ['run', '--config', configPath, '--cadence', 'monthly', '--as-of', '2026-10-01'],
      runEnv(),
    );
    expect(result.stdout).toContain('PASS');
    expect(result.code).toBe(0);
  });

  it('run: exits 1 when a control fails, printing its reasons', async () => {
    const result = await cli(
      ['run', '--config', configPath, '--cadence', 'monthly', '--as-of', '2026-11-01', '--json'],
      runEnv(),
    );
    expect(result.code).toBe(1);
    const output = JSON.parse(result.stdout);
    expect(output.results[0]).toMatchObject({
      controlId: 'audit-log',
      periodKey: '2026-10',
      verdict: 'fail',
    });
  });

  it('run: exits 2 for an unknown cadence, listing the valid ones', async () => {
    const result = await cli(['run', '--config', configPath, '--cadence', 'bogus'], runEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown cadence "bogus"; expected one of daily, weekly, monthly');
  });

  it('run: exits 2 for an unknown option, with the command help', async () => {
    const result = await cli(['run', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*Usage: soc2-evidence run/);
  });

  it('run: exits 2 naming the bad field of an invalid config', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, CONFIG.replace('cadence: monthly', 'cadence: hourly'));
    const result = await cli(['run', '--config', bad], runEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('controls[0].cadence');
  });

  it('run: exits 2 naming the missing resource variables', async () => {
    const result = await cli(['run', '--config', configPath], { APP_URL: appUrl });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(ENV.resultsTable);
  });

  it('verify: exits 0 when everything holds', async () => {
    const result = await cli(['verify', evidenceFolder, '--as-of', '2026-04-10T00:00:00Z']);
    expect(result.stdout).toMatch(/VERIFIED: 3 artifact\(s\)/);
    expect(result.code).toBe(0);
  });

  it('verify: exits 1 when an artifact was altered, printing FAILED', async () => {
    const tampered = join(dir, 'tampered');
    await syncEvidence(env.clients.s3, env.resources.evidenceBucket, tampered);
    const files = (await readdir(tampered, { recursive: true })).filter(
      (file) => file.startsWith('backups') && !/manifest|\.sig$|\.pem$/.test(file) && file.endsWith('.json'),
    );
    const victim = join(tampered, files[0] ?? 'missing');
    await writeFile(victim, `${await readFile(victim, 'utf8')} `);
    const result = await cli(['verify', tampered, '--as-of', '2026-04-10T00:00:00Z']);
    expect(result.stdout).toMatch(/FAILED: \d+ problem\(s\)/);
    expect(result.code).toBe(1);
  });

  it('verify: exits 2 for a path that does not exist', async () => {
    const result = await cli(['verify', '/nonexistent']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read /nonexistent');
  });

  it('risks: exits 0 for the example register and 2 for a config without one', async () => {
    const ok = await cli(['risks', '--as-of', '2026-12-01']);
    expect(ok.stdout).toMatch(/Risk register as of 2026-12-01/);
    expect(ok.code).toBe(0);
    const none = await cli(['risks', '--config', configPath]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('has no riskRegister');
  });

  it('export: exits 2 when the range is missing', async () => {
    const result = await cli(['export', '--out', join(dir, 'x.zip')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--from and --to are required');
  });

  it('main: exits 0 for --help and --version, 2 for no command and an unknown one', async () => {
    const [help, version, none, unknown, demoHelp] = await Promise.all([
      cli(['--help']),
      cli(['--version']),
      cli([]),
      cli(['frobnicate']),
      cli(['demo', '--help']),
    ]);
    expect([help.code, version.code, none.code, unknown.code, demoHelp.code]).toEqual([0, 0, 2, 2, 0]);
    expect(help.stdout).toContain('Exit codes: 0 success');
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(demoHelp.stdout).toContain('Usage: soc2-evidence demo');
  });

  it('npx soc2-evidence: the package entry keeps the exit codes', async () => {
    const [version, missing] = await Promise.all([npx(['--version']), npx(['verify', '/nonexistent'])]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read /nonexistent');
  });
});
