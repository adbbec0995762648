import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.ts';
import { capture, resultsEnv, seedVerdicts, spawnCli, writeCliConfig } from '../audit/cli-fixture.ts';
import { QUARTERS, verdict } from '../audit/fixtures.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

let env: TestEnvironment;
let dir: string;
let configPath: string;

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  dir = await mkdtemp(join(tmpdir(), 'soc2-readiness-'));
  configPath = await writeCliConfig(dir);
  await seedVerdicts(env, [
    ...QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'pass')),
    verdict('pentest', 'annual', '2025', 'pass'),
    verdict('pentest', 'annual', '2026', 'fail'),
  ]);
});

afterAll(async () => {
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const args = (...rest: string[]) => ['readiness', '--config', configPath, ...rest];

describe('soc2-evidence readiness', () => {
  it('exits 0 when every item is ready, citing the verdicts behind each', async () => {
    const run = capture(resultsEnv(env));
    expect(await main(args('--as-of', '2026-12-01', '--json'), run.io)).toBe(0);
    const model = JSON.parse(run.stdout());
    expect(model).toMatchObject({ ready: true, summary: { ready: 2, 'not-ready': 0, unknown: 0 } });
    expect(model.items[0].evidence.map((e: { key: string }) => e.key)).toEqual(
      QUARTERS.map((q) => `access-review quarterly ${q}`),
    );
  });

  it('exits 1 when an item is not ready or unknown, and prints why', async () => {
    const run = capture(resultsEnv(env));
    expect(await main(args('--as-of', '2027-01-01'), run.io)).toBe(1);
    const out = run.stdout();
    expect(out).toContain('[NOT READY] Penetration test report (annual) (pen-test)');
    expect(out).toContain('pentest failed 2026');
    // 2026-Q4 has no access review: unknown, not ready by default.
    expect(out).toContain('[UNKNOWN  ] Access reviews completed (access-reviews)');
    expect(out).toContain('2026-Q4: no verdict of access-review');
  });

  it('without SOC2_RESULTS_TABLE every item is unknown and the exit code is 1', async () => {
    const run = capture({});
    expect(await main(args('--as-of', '2026-12-01'), run.io)).toBe(1);
    expect(run.stdout()).toContain('2 items: 0 ready, 0 not ready, 2 unknown.');
  });

  it('as a spawned process: exit 1 with the reasons, exit 2 for bad usage', async () => {
    const notReady = await spawnCli(args('--as-of', '2027-01-01'), resultsEnv(env));
    expect(notReady.stdout).toContain('[NOT READY] Penetration test report (annual)');
    expect(notReady.code).toBe(1);
    const usage = await spawnCli(args('--as-of', 'soon'), {});
    expect(usage.stderr).toContain('--as-of: expected a date');
    expect(usage.code).toBe(2);
    // Each spawn compiles the CLI through tsx: seconds on a loaded machine.
  }, 240_000);
});
