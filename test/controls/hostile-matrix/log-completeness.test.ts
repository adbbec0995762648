import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../../lib/adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runTest } from '../control-harness.ts';

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

/** A log with an event every 10 minutes on 2026-11-01 (UTC) and around it, then `plant`. */
async function cell(schema: string, plant: string, options: { nullable?: boolean } = {}): Promise<void> {
  const notNull = options.nullable ? '' : 'NOT NULL';
  await env.sql(
    url,
    `CREATE SCHEMA ${schema};
     CREATE TABLE ${schema}.audit_log ("timestamp" timestamptz ${notNull}, user_id text, action text, resource_id text, success boolean);
     INSERT INTO ${schema}.audit_log SELECT ts, 'u' || (extract(minute FROM ts)::int % 3), 'login', NULL, true
       FROM generate_series('2026-10-31T23:05:00Z'::timestamptz, '2026-11-02T05:55:00Z'::timestamptz, interval '10 minutes') AS ts;
     INSERT INTO ${schema}.audit_log VALUES ('2025-10-01T00:00:00Z', 'u0', 'login', NULL, true);
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
});
afterAll(async () => env?.stop());

describe('log-completeness hostile cells', () => {
  it('control: the untouched log passes (so every other cell fails because of what it plants)', async () => {
    port = portFor(url);
    await cell('control_cell', 'SELECT 1');
    const { outcome } = await check('control_cell');
    expect(outcome.reasons).toEqual([]);
    expect(outcome.verdict).toBe('pass');
  });

  it('NULL timestamps: rows without a time are not events, so their silence fails', async () => {
    await cell(
      'null_timestamp',
      `UPDATE $log SET "timestamp" = NULL WHERE "timestamp" >= '2026-11-01T10:00:00Z' AND "timestamp" < '2026-11-01T13:00:00Z'`,
      { nullable: true },
    );
    const { outcome } = await check('null_timestamp');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toMatch(
      /^audit log silent 2026-11-01T09:55:00.000Z to 2026-11-01T13:05:00.000Z/,
    );
  });

  it('NULL actions and users: they count as events but not as the required action or as users', async () => {
    await cell(
      'null_action',
      `UPDATE $log SET action = NULL, user_id = NULL WHERE "timestamp" >= '2026-11-01T00:00:00Z'`,
    );
    const { outcome } = await check('null_action');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual(['no login events in 2026-11-01']);
    expect(outcome.figures).toMatchObject({ distinctUsers: 0, gaps: 0 });
  });

  it('NULL outcomes: an all-unknown period reports no successes and no failures', async () => {
    await cell('null_success', `UPDATE $log SET success = NULL`);
    const { outcome } = await check('null_success');
    expect(outcome.figures).toMatchObject({ succeeded: 0, failed: 0, events: 144 });
  });

  it('duplicates: ten thousand copies of one event do not fill a silence', async () => {
    await cell(
      'duplicates',
      `DELETE FROM $log WHERE "timestamp" >= '2026-11-01T08:00:00Z' AND "timestamp" < '2026-11-01T20:00:00Z';
       INSERT INTO $log SELECT '2026-11-01T14:00:00Z', 'u1', 'login', NULL, true FROM generate_series(1, 10000)`,
    );
    const { outcome } = await check('duplicates');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.figures.gaps).toBe(2);
  });

  it('control characters and huge strings: "login\\n" is not login, and a 100 kB user id is counted once', async () => {
    await cell(
      'control_chars',
      `UPDATE $log SET action = 'login' || chr(10) || chr(27) || '[0m' WHERE "timestamp" >= '2026-11-01T00:00:00Z';
       UPDATE $log SET user_id = repeat('x', 100000) WHERE "timestamp" >= '2026-11-01T00:00:00Z'`,
    );
    const { outcome, evidence } = await check('control_chars');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual(['no login events in 2026-11-01']);
    expect(outcome.figures.distinctUsers).toBe(1);
    // Only aggregates reach the evidence: the huge value itself is never copied into it.
    expect(JSON.stringify(evidence.entries).length).toBeLessThan(50_000);
  });

  it('a single outlier: one event in an otherwise silent day does not pass it', async () => {
    await cell(
      'outlier',
      `DELETE FROM $log WHERE "timestamp" >= '2026-11-01T00:00:00Z' AND "timestamp" < '2026-11-02T00:00:00Z';
       INSERT INTO $log VALUES ('2026-11-01T12:00:00Z', 'u1', 'login', NULL, true)`,
    );
    const { outcome } = await check('outlier');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.figures).toMatchObject({ events: 1, gaps: 2 });
  });

  it('exactly on the boundaries: an event at the period end belongs to the next day', async () => {
    await cell(
      'on_boundary',
      `DELETE FROM $log WHERE "timestamp" >= '2026-11-01T23:00:00Z' AND "timestamp" < '2026-11-02T01:00:00Z';
       INSERT INTO $log VALUES ('2026-11-02T00:00:00Z', 'u1', 'login', NULL, true), ('2026-11-01T23:59:59.999Z', 'u1', 'login', NULL, true)`,
    );
    const { outcome } = await check('on_boundary');
    expect(outcome.verdict).toBe('fail');
    // 22:55 -> 23:59:59.999 is over the hour; 23:59:59.999 -> 00:00 is not; the event at 00:00 is not counted.
    expect(outcome.reasons[0]).toMatch(
      /^audit log silent 2026-11-01T22:55:00.000Z to 2026-11-01T23:59:59.999Z/,
    );
    expect(outcome.figures.events).toBe(144 - 6 + 1);
  });

  it('missing privileges: a role that cannot read the table gets an error naming it', async () => {
    await cell('no_select', 'SELECT 1');
    await env.sql(
      url,
      "CREATE ROLE blind_auditor LOGIN PASSWORD 'pw'; GRANT USAGE ON SCHEMA no_select TO blind_auditor",
    );
    const blind = new URL(url);
    blind.username = 'blind_auditor';
    blind.password = 'pw';
    const { outcome } = await check('no_select', {}, portFor(blind.toString()));
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons).toEqual(['table no_select.audit_log is not readable (no SELECT privilege)']);
  });
});
