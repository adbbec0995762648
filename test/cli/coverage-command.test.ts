import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import {
  CLI_CONFIG,
  capture,
  resultsEnv,
  seedVerdicts,
  spawnCli,
  writeCliConfig,
} from '../audit/cli-fixture.ts';
import { QUARTERS, verdict } from '../audit/fixtures.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

let env: TestEnvironment;
let dir: string;
let configPath: string;

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  dir = await mkdtemp(join(tmpdir(), 'soc2-coverage-'));
  configPath = await writeCliConfig(dir);
  await seedVerdicts(env, [
    ...QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'pass')),
    verdict('pentest', 'annual', '2025', 'pass'),
    // Recorded later, for periods after the first --as-of below.
    verdict('access-review', 'quarterly', '2026-Q4', 'fail'),
  ]);
});

afterAll(async () => {
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const args = (...rest: string[]) => ['coverage', '--config', configPath, ...rest];

describe('soc2-evidence coverage', () => {
  it('exits 0 when every in-scope criterion has a control whose latest verdict passed', async () => {
    const run = capture(resultsEnv(env));
    expect(await main(args('--as-of', '2026-12-01', '--json'), run.io)).toBe(0);
    const model = JSON.parse(run.stdout());
    expect(model.mode).toBe('verdicts');
    expect(model.criteria.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual([
      ['CC6.1', 'passing'],
      ['CC6.2', 'passing'],
      ['CC9.2', 'passing'],
      ['P1.1', 'not-evidenced'],
    ]);
    expect(model.criteria[0].controls[0].latest).toMatchObject({
      key: 'access-review quarterly 2026-Q3',
      manifestKey: 'evidence/access-review/quarterly/2026-Q3/run/manifest.json',
    });
  });

  it("exits 1 when a criterion's latest verdict failed, and prints it", async () => {
    const run = capture(resultsEnv(env));
    expect(await main(args('--as-of', '2027-01-01'), run.io)).toBe(1);
    expect(run.stdout()).toMatch(/CC6\.1\s+Access Credentials\s+FAILING/);
    expect(run.stdout()).toContain('access-review (quarterly, security): fail 2026-Q4');
    expect(run.stdout()).toContain('Blocking (in scope, not passing): CC6.1, CC6.2');
  });

  it('exits 1 when the window holds no verdict (an empty table): nothing passes by default', async () => {
    const run = capture(resultsEnv(env));
    expect(await main(args('--as-of', '2029-01-01', '--from', '2028-06-01'), run.io)).toBe(1);
    expect(run.stdout()).toContain('no verdict in the window');
  });

  it('without SOC2_RESULTS_TABLE, prints coverage by design only and says so', async () => {
    const run = capture({});
    expect(await main(args('--as-of', '2026-12-01'), run.io)).toBe(0);
    expect(run.stdout()).toContain('by design only (verdicts not read: set SOC2_RESULTS_TABLE');
    expect(run.stdout()).toMatch(/CC6\.1\s+Access Credentials\s+BY DESIGN/);
  });

  it('exits 2 for bad usage or a control naming a criterion outside the catalogue', async () => {
    const bad = await writeCliConfig(
      dir,
      'bad.yaml',
      CLI_CONFIG.replace('criteria: [CC9.2]', 'criteria: [CC9.3]'),
    );
    const badConfig = capture({});
    expect(await main(['coverage', '--config', bad], badConfig.io)).toBe(2);
    expect(badConfig.stderr()).toContain('controls[1].criteria[0]: unknown criterion "CC9.3"');
    const badDate = capture({});
    expect(await main(args('--from', '2026-13-01'), badDate.io)).toBe(2);
    expect(badDate.stderr()).toContain('--from: expected a date');
    const help = capture({});
    expect(await main(['coverage', '--help'], help.io)).toBe(0);
    expect(help.stdout()).toContain('Exit codes:');
  });

  it('as a spawned process: exit 1 with the failing criterion, exit 2 for a bad date', async () => {
    const failing = await spawnCli(args('--as-of', '2027-01-01'), resultsEnv(env));
    expect(failing.stdout).toMatch(/CC6\.1\s+Access Credentials\s+FAILING/);
    expect(failing.code).toBe(1);
    const usage = await spawnCli(args('--from', 'yesterday'), {});
    expect(usage.stderr).toContain('--from: expected a date');
    expect(usage.code).toBe(2);
    // Each spawn compiles the CLI through tsx: seconds on a loaded machine.
  }, 240_000);
});
