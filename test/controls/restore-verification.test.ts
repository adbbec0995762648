import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { runTest } from './control-harness.ts';

const RP = '2026-11-15T12:00:00Z';
const AS_OF = '2026-12-01T00:10:00Z';

describe('restore-verification', () => {
  let env: TestEnvironment;
  let postgres: PostgresPort;
  const run = (test: Record<string, unknown>) =>
    runTest({
      test: {
        type: 'restore-verification',
        sourceTarget: 'app',
        restoredTarget: 'restored',
        restoreLog: {},
        ...test,
      },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: AS_OF,
      ports: { postgres },
    });

  beforeAll(async () => {
    env = await startTestEnvironment();
    const source = await env.createDatabase('restore_source');
    await env.sql(
      source,
      `CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, created_at timestamptz NOT NULL);
       CREATE TABLE customers (id int PRIMARY KEY, name text, created_at timestamptz NOT NULL);
       CREATE TABLE settings (key text PRIMARY KEY, value text);
       CREATE TABLE page_views (viewed_at timestamptz NOT NULL, path text);
       INSERT INTO orders SELECT i, 'c' || (i % 50), '${RP}'::timestamptz - i * interval '10 minutes' FROM generate_series(1, 500) AS i;
       INSERT INTO customers SELECT i, 'customer ' || i, '${RP}'::timestamptz - interval '30 days' + i * interval '1 hour' FROM generate_series(1, 50) AS i;
       INSERT INTO settings VALUES ('theme', 'dark'), ('locale', 'en');
       INSERT INTO page_views SELECT '${RP}'::timestamptz - i * interval '1 minute', '/p' || i FROM generate_series(2, 40) AS i;`,
    );
    // The "restore": a copy of the source as it stood at the recovery point.
    await env.sql(env.postgresUrl, 'CREATE DATABASE restore_ok TEMPLATE restore_source');
    const restored = source.replace('/restore_source', '/restore_ok');
    await env.sql(
      restored,
      `CREATE TABLE soc2_restore_log (recovery_point timestamptz, started_at timestamptz, completed_at timestamptz);
       INSERT INTO soc2_restore_log VALUES ('${RP}', '2026-11-15T13:00:00Z', '2026-11-15T13:35:00Z'),
                                           ('2026-10-15T12:00:00Z', '2026-10-15T13:00:00Z', '2026-10-15T13:20:00Z');
       CREATE SCHEMA ops;
       CREATE TABLE ops.old_restore_log (recovery_point timestamptz, started_at timestamptz, completed_at timestamptz);
       INSERT INTO ops.old_restore_log VALUES ('2026-10-15T12:00:00Z', '2026-10-15T13:00:00Z', '2026-10-15T13:20:00Z');`,
    );
    // Production moved on after the recovery point: newer rows must not count against the restore.
    await env.sql(
      source,
      `INSERT INTO orders SELECT 1000 + i, 'late', '${RP}'::timestamptz + i * interval '1 minute' FROM generate_series(1, 20) AS i;
       INSERT INTO page_views VALUES ('${RP}'::timestamptz + interval '5 minutes', '/late');`,
    );
    await env.sql(env.postgresUrl, 'CREATE DATABASE restore_bad TEMPLATE restore_ok');
    const bad = source.replace('/restore_source', '/restore_bad');
    await env.sql(
      bad,
      `DELETE FROM orders WHERE id = 42;
       UPDATE customers SET id = 1007 WHERE id = 7;
       DROP TABLE settings;
       CREATE TABLE scratch (id int PRIMARY KEY);
       UPDATE soc2_restore_log SET completed_at = started_at + interval '95 minutes' WHERE recovery_point = '${RP}';`,
    );
    postgres = makePostgresPort(
      [
        { name: 'app', connection: { env: 'SOURCE_URL' }, statementTimeoutMs: 5000 },
        { name: 'restored', connection: { env: 'RESTORED_URL' }, statementTimeoutMs: 5000 },
        { name: 'bad', connection: { env: 'BAD_URL' }, statementTimeoutMs: 5000 },
        { name: 'down', connection: { env: 'DOWN_URL' }, statementTimeoutMs: 5000 },
      ],
      envConnectionResolver({
        SOURCE_URL: source,
        RESTORED_URL: restored,
        BAD_URL: bad,
        DOWN_URL: 'postgres://x:y@127.0.0.1:1/none',
      }),
      { connectTimeoutMs: 2000 },
    );
  });
  afterAll(async () => env?.stop());

  it('passes when every table matches up to the recovery point, within RPO and RTO', async () => {
    const { outcome, evidence } = await run({ timestampColumns: { page_views: 'viewed_at' } });
    expect(outcome.reasons).toEqual([]);
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toMatchObject({
      tables: 4,
      matching: 4,
      differing: 0,
      missing: 0,
      restoreMinutes: 35,
      rpoLagMinutes: 0,
    });
    expect(outcome.warnings).toEqual([
      'compared whole tables (no timestamp column): public.settings',
      'checksummed whole rows (no primary key): public.page_views',
    ]);
    // Counts and checksums are computed in SQL: every measuring query returns one aggregate row.
    const measures = evidence.entries.filter((e) => e.kind === 'sql' && /rows/.test(e.label));
    expect(measures).toHaveLength(8);
    expect(measures.every((e) => e.kind === 'sql' && e.rows.length === 1)).toBe(true);
  });

  it('fails naming each table whose rows, checksum or presence differ, and the RTO overrun', async () => {
    const { outcome } = await run({ restoredTarget: 'bad', timestampColumns: { page_views: 'viewed_at' } });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'table public.customers: same 50 rows counted but the primary key (id) checksum differs',
      'table public.orders: 499 rows restored, 500 in the source',
      'table public.settings is missing from the restored database',
      'RTO: the restore took 95 min, over the PT60M limit',
    ]);
    expect(outcome.warnings).toContain('tables only in the restored database: public.scratch');
  });

  it('fails when the newest recorded restore predates the period', async () => {
    const { outcome } = await run({
      restoreLog: { schema: 'ops', table: 'old_restore_log' },
      timestampColumns: { page_views: 'viewed_at' },
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toBe(
      'the newest restore completed 2026-10-15T13:20:00.000Z, before 2026-11 began: no restore was tested in the period',
    );
  });

  it('compares a table without a timestamp column in full and says so', async () => {
    // page_views has no candidate column, so the view logged after the recovery point makes it differ.
    const { outcome } = await run({});
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'table public.page_views: 39 rows restored, 40 in the source (whole table: no timestamp column, so rows written since the restore also count)',
    ]);
    expect(outcome.warnings[0]).toBe(
      'compared whole tables (no timestamp column): public.page_views, public.settings',
    );
  });

  it('errors when a configured timestamp column does not exist on the source', async () => {
    const { outcome } = await run({ timestampColumns: { orders: 'placed_at' } });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe(
      'column public.orders.placed_at (timestampColumns) does not exist on the source',
    );
  });

  it('errors when the restored database has no restore log', async () => {
    const { outcome } = await run({ restoredTarget: 'app', sourceTarget: 'restored' });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toMatch(/^restore log public\.soc2_restore_log does not exist on "app"/);
  });

  it('errors when the restored database is unreachable', async () => {
    const { outcome } = await run({ restoredTarget: 'down', restoreLog: undefined, recoveryPoint: RP });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('database "down" is unreachable (ECONNREFUSED)');
  });

  it('rejects a configuration with no way to know the recovery point', async () => {
    await expect(run({ restoreLog: undefined })).rejects.toThrow(/expected restoreLog or recoveryPoint/);
  });
});
