import { afterAll, beforeAll, expect } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../../lib/adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { logCompletenessMatrix } from './cells/log-completeness.ts';
import { cellRole } from './postgres-fixture.ts';

/**
 * Hostile-data cells of the log-completeness matrix (docs/controls.md) not covered by
 * test/controls/log-completeness.test.ts. One server for the file, a fresh schema per cell. Each
 * cell's log is complete except for what the cell plants, so a `pass` would mean the planted data
 * fooled the check.
 */
const NOW = new Date('2026-11-02T06:00:00Z');
let env: TestEnvironment;
let url: string;
let port: PostgresPort;

function portFor(connectionUrl: string): PostgresPort {
  return makePostgresPort(
    [{ name: 'app', connection: { env: 'APP_DATABASE_URL' }, statementTimeoutMs: 10_000 }],
    envConnectionResolver({ APP_DATABASE_URL: connectionUrl }),
    { connectTimeoutMs: 2_000 },
  );
}

/**
 * A log with an event every 10 minutes on 2026-11-01 (UTC) and around it, one a day at noon for the
 * year before (the retention window), and one at 2025-10-01T00:00Z; then `plant`.
 */
async function cell(
  schema: string,
  plant: string,
  options: { nullable?: boolean; timestampType?: string } = {},
): Promise<void> {
  const notNull = options.nullable ? '' : 'NOT NULL';
  await env.sql(
    url,
    `CREATE SCHEMA ${schema};
     CREATE TABLE ${schema}.audit_log ("timestamp" ${options.timestampType ?? 'timestamptz'} ${notNull}, user_id text, action text, resource_id text, success boolean);
     INSERT INTO ${schema}.audit_log SELECT ts, 'u' || (extract(minute FROM ts)::int % 3), 'login', NULL, true
       FROM generate_series('2026-10-31T23:05:00Z'::timestamptz, '2026-11-02T05:55:00Z'::timestamptz, interval '10 minutes') AS ts;
     INSERT INTO ${schema}.audit_log VALUES ('2025-10-01T00:00:00Z', 'u0', 'login', NULL, true);
     INSERT INTO ${schema}.audit_log SELECT ts, 'u0', 'read', NULL, true
       FROM generate_series('2025-10-01T12:00:00Z'::timestamptz, '2026-10-30T12:00:00Z'::timestamptz, interval '1 day') AS ts;
     ${plant.replaceAll('$log', `${schema}.audit_log`)};
     CREATE INDEX ON ${schema}.audit_log ("timestamp");
     ANALYZE ${schema}.audit_log;`,
  );
}

const check = (schema: string, test: Record<string, unknown> = {}, postgres = port) =>
  runTest({
    test: { type: 'log-completeness', target: 'app', schema, requiredActions: ['login'], ...test },
    cadence: 'daily',
    periodKey: '2026-11-01',
    asOf: NOW,
    now: NOW,
    ports: { postgres },
  });

beforeAll(async () => {
  env = await startTestEnvironment();
  url = await env.createDatabase('hostile_log');
  port = portFor(url);
});
afterAll(async () => env?.stop());

describeMatrix('log-completeness', logCompletenessMatrix, {
  'control-untouched-log': async () => {
    await cell('control_cell', 'SELECT 1');
    return check('control_cell');
  },
  'empty-table': async () => {
    await cell('empty_table', 'TRUNCATE $log');
    return check('empty_table');
  },
  'null-timestamps': async () => {
    await cell(
      'null_timestamp',
      `UPDATE $log SET "timestamp" = NULL WHERE "timestamp" >= '2026-11-01T10:00:00Z' AND "timestamp" < '2026-11-01T13:00:00Z'`,
      { nullable: true },
    );
    return check('null_timestamp');
  },
  'null-actions-and-users': async () => {
    await cell(
      'null_action',
      `UPDATE $log SET action = NULL, user_id = NULL WHERE "timestamp" >= '2026-11-01T00:00:00Z'`,
    );
    const run = await check('null_action');
    expect(run.outcome.figures).toMatchObject({ distinctUsers: 0, gaps: 0 });
    return run;
  },
  'timestamp-column-text': async () => {
    await cell('text_timestamp', 'SELECT 1', { timestampType: 'text' });
    return check('text_timestamp');
  },
  'event-on-period-end': async () => {
    await cell(
      'on_boundary',
      `DELETE FROM $log WHERE "timestamp" >= '2026-11-01T23:00:00Z' AND "timestamp" < '2026-11-02T01:00:00Z';
       INSERT INTO $log VALUES ('2026-11-02T00:00:00Z', 'u1', 'login', NULL, true), ('2026-11-01T23:59:59.999Z', 'u1', 'login', NULL, true)`,
    );
    const run = await check('on_boundary');
    // 23:59:59.999 -> 00:00 is no silence; the event at 00:00 belongs to the next day.
    expect(run.outcome.figures.events).toBe(144 - 6 + 1);
    return run;
  },
  'future-events': async () => {
    await cell('future_event', `INSERT INTO $log VALUES ('2026-11-03T06:00:00Z', 'u1', 'login', NULL, true)`);
    return check('future_event');
  },
  'outlier-one-old-row-retention': async () => {
    await cell(
      'old_row_alone',
      `DELETE FROM $log WHERE "timestamp" > '2025-10-01T00:00:00Z' AND "timestamp" < '2026-10-31T00:00:00Z'`,
    );
    const run = await check('old_row_alone');
    // The period itself is complete: only the retention window's emptiness fails it.
    expect(run.outcome.reasons).toHaveLength(1);
    return run;
  },
  'outlier-one-event': async () => {
    await cell(
      'outlier',
      `DELETE FROM $log WHERE "timestamp" >= '2026-11-01T00:00:00Z' AND "timestamp" < '2026-11-02T00:00:00Z';
       INSERT INTO $log VALUES ('2026-11-01T12:00:00Z', 'u1', 'login', NULL, true)`,
    );
    const run = await check('outlier');
    expect(run.outcome.figures).toMatchObject({ events: 1, gaps: 2 });
    return run;
  },
  'duplicates-fill-nothing': async () => {
    await cell(
      'duplicates',
      `DELETE FROM $log WHERE "timestamp" >= '2026-11-01T08:00:00Z' AND "timestamp" < '2026-11-01T20:00:00Z';
       INSERT INTO $log SELECT '2026-11-01T14:00:00Z', 'u1', 'login', NULL, true FROM generate_series(1, 10000)`,
    );
    const run = await check('duplicates');
    expect(run.outcome.figures.gaps).toBe(2);
    return run;
  },
  'control-characters-huge-users': async () => {
    await cell(
      'control_chars',
      `UPDATE $log SET action = 'login' || chr(10) || chr(27) || '[0m' WHERE "timestamp" >= '2026-11-01T00:00:00Z';
       UPDATE $log SET user_id = repeat('x', 100000) WHERE "timestamp" >= '2026-11-01T00:00:00Z'`,
    );
    const run = await check('control_chars');
    expect(run.outcome.figures.distinctUsers).toBe(1);
    // Only aggregates reach the evidence: the huge value itself is never copied into it.
    expect(JSON.stringify(run.evidence.entries).length).toBeLessThan(50_000);
    return run;
  },
  'no-select': async () => {
    await cell('no_select', 'SELECT 1');
    const roleUrl = await cellRole(env, url, 'hm_lc_blind', 'GRANT USAGE ON SCHEMA no_select TO hm_lc_blind');
    return check('no_select', {}, portFor(roleUrl));
  },
  'row-level-security': async () => {
    await cell('rls', `INSERT INTO $log VALUES ('2026-11-03T06:00:00Z', 'u1', 'login', NULL, true)`);
    const roleUrl = await cellRole(
      env,
      url,
      'hm_lc_rls',
      `GRANT USAGE ON SCHEMA rls TO hm_lc_rls; GRANT SELECT ON rls.audit_log TO hm_lc_rls;
       ALTER TABLE rls.audit_log ENABLE ROW LEVEL SECURITY;
       CREATE POLICY no_future ON rls.audit_log FOR SELECT TO hm_lc_rls USING ("timestamp" <= '2026-11-02T06:00:00Z')`,
    );
    // With the policy applied the role would not see the future-dated event, and pass.
    return check('rls', {}, portFor(roleUrl));
  },
  'stale-log-stopped': async () => {
    await cell('stopped', `DELETE FROM $log WHERE "timestamp" >= '2026-11-01T18:00:00Z'`);
    return check('stopped');
  },
});
