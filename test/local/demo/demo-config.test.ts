import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoResultsStore } from '../../../lib/adapters/dynamodb/dynamodb-results.ts';
import { envConnectionResolver, makePostgresPort } from '../../../lib/adapters/postgres/postgres-port.ts';
import { loadConfig } from '../../../lib/config/load-config.ts';
import type { Config } from '../../../lib/config/schema.ts';
import { type ControlOutcome, EvidenceLog, errorOutcome } from '../../../lib/controls/outcome.ts';
import type { ControlPorts } from '../../../lib/controls/ports.ts';
import { runControlTest } from '../../../lib/controls/registry.ts';
import { seedAuditLog } from '../../../lib/local/demo/seed-audit-log.ts';
import { seedControlDemoData } from '../../../lib/local/demo/seed-control-data.ts';
import { lastCompletePeriod } from '../../../lib/shared/period.ts';
import { makeControlPorts } from '../../../lib/wiring/make-control-ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';

const AS_OF = new Date('2026-12-01T00:15:00Z');

/** The example configuration on the demo data: each test type shows its one deliberate failure. */
describe('soc2-evidence.yaml on the demo data', () => {
  let env: TestEnvironment;
  let config: Config;
  let ports: ControlPorts;

  async function run(controlId: string): Promise<ControlOutcome> {
    const control = config.controls.find((candidate) => candidate.id === controlId);
    if (!control) throw new Error(`no control ${controlId}`);
    try {
      return await runControlTest(control.test, {
        control,
        period: lastCompletePeriod(control.cadence, AS_OF, config.timeZone),
        asOf: AS_OF,
        now: AS_OF,
        ports,
        evidence: new EvidenceLog(),
      });
    } catch (error) {
      return errorOutcome((error as Error).message);
    }
  }

  beforeAll(async () => {
    env = await startTestEnvironment();
    config = await loadConfig('soc2-evidence.yaml');
    const app = await env.createDatabase('demo_app');
    const restored = await env.createDatabase('demo_restored');
    const client = new pg.Client({ connectionString: app });
    await client.connect();
    const gapStart = new Date('2026-11-12T09:00:00Z');
    try {
      await seedAuditLog(client, {
        from: new Date(AS_OF.getTime() - 380 * 86_400_000),
        to: AS_OF,
        gap: { start: gapStart, end: new Date(gapStart.getTime() + 4.5 * 3_600_000) },
      });
    } finally {
      await client.end();
    }
    await seedControlDemoData({
      appDatabaseUrl: app,
      restoredDatabaseUrl: restored,
      s3: env.clients.s3,
      bucket: env.resources.evidenceBucket,
      asOf: AS_OF,
    });
    const postgres = makePostgresPort(
      config.targets,
      envConnectionResolver({ DATABASE_URL: app, RESTORE_DATABASE_URL: restored }),
    );
    const results = makeDynamoResultsStore(env.clients.dynamodb, env.resources.resultsTable);
    ports = makeControlPorts(config, env.clients, postgres, results, env.resources.evidenceBucket, {
      awsApis: false,
    });
  });
  afterAll(async () => env?.stop());

  it('secrets-rotation fails only on the key rotated 120 days ago', async () => {
    const outcome = await run('secrets-rotation');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      expect.stringMatching(/^API token signing key was last rotated 120 days ago .*over the P90D maximum$/),
    ]);
  });

  it('backup-restore fails only on the order missing from the restore', async () => {
    const outcome = await run('backup-restore');
    expect(outcome.reasons).toEqual(['table app.orders: 4986 rows restored, 4987 in the source']);
    expect(outcome.figures).toMatchObject({ tables: 3, matching: 2, restoreMinutes: 37, rpoLagMinutes: 0 });
  });

  it('vulnerability-scanning fails only because the newest report is stale', async () => {
    const outcome = await run('vulnerability-scanning');
    expect(outcome.reasons).toEqual([
      expect.stringMatching(/^newest scan report .*2026-11-21\.json is 215\.8 h old .*over the P7D limit$/),
    ]);
    expect(outcome.figures).toMatchObject({ reports: 3, pastSla: 0 });
  });

  it('access-review fails only on the dormant account', async () => {
    const outcome = await run('access-review');
    expect(outcome.reasons).toEqual([
      '1 enabled accounts have had no successful login for P90D: dan.dormant (last login 140 days ago)',
    ]);
  });

  it('the incident-response attestation is missing while the penetration test report is on file', async () => {
    expect((await run('incident-response-tabletop')).reasons).toEqual([
      expect.stringMatching(/^evidence not provided: expected the tabletop exercise report .* for 2025$/),
    ]);
    expect((await run('penetration-test')).verdict).toBe('pass');
  });

  it('schedule-health names the weekly verdict still missing when nothing has run yet', async () => {
    const outcome = await run('schedule-health');
    expect(outcome.reasons).toEqual(['vulnerability-scanning: no verdict for 2026-W48']);
  });
});
