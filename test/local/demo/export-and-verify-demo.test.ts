import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAndVerifyDemo } from '../../../lib/local/demo/export-and-verify-demo.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { evidenceFixture, MONTHS_2026, runResult } from '../../verify/evidence-fixture.ts';

let env: TestEnvironment;
let work: string;

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-demo-export-'));
  const evidence = evidenceFixture(env);
  for (const month of MONTHS_2026) {
    await evidence.record(
      runResult({
        controlId: 'audit-log',
        cadence: 'monthly',
        periodKey: month,
        verdict: month === '2026-11' ? 'fail' : 'pass',
      }),
    );
  }
  await evidence.checkpoint(
    [{ id: 'audit-log', cadence: 'monthly', addedOn: '2026-01-01' }],
    new Date('2027-01-02T12:00:00Z'),
  );
});

afterAll(async () => {
  await env?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('exportAndVerifyDemo (the end of npm start)', () => {
  it('exports the demo year from the local bucket and verifies the archive offline', async () => {
    const outFile = join(work, 'demo-2026.zip');
    const result = await exportAndVerifyDemo({
      clients: env.clients,
      resources: env.resources,
      from: '2026-01-01',
      to: '2026-12-31',
      outFile,
      asOf: new Date('2027-01-03T00:00:00Z'),
      extraFiles: { 'oscal/poam.json': { 'plan-of-action-and-milestones': {} } },
    });
    expect(result.ok).toBe(true);
    expect(result.export).toMatchObject({ manifests: 12, controls: 1, evidenceObjects: 38 });
    expect(result.report.problems).toEqual([]);
    expect(result.summary).toMatch(
      /12 signed run\(s\) of 1 control\(s\); 11 passed, 1 failed, 0 errored, 0 without evidence\./,
    );
    expect(result.summary).toMatch(
      /Verified offline: 12 artifact\(s\) match, 12 signature\(s\) valid, 1 chain\(s\) intact\./,
    );
    expect(result.details).toContain('VERIFIED');
  });
});
