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
    // Every non-key column zeroed: the key checksum cannot see it, the row checksum can.
    for (const [name, log] of [
      ['restore_zeroed', `('${RP}', '2026-11-15T13:00:00Z', '2026-11-15T13:35:00Z')`],
      ['restore_unfinished', `('2023-03-01T00:00:00Z', '2026-11-20T01:00:00Z', NULL)`],
      ['restore_old_point', `('2023-03-01T00:00:00Z', '2026-11-20T01:00:00Z', '2026-11-20T01:30:00Z')`],
    ] as const) {
      await env.sql(env.postgresUrl, `CREATE DATABASE ${name} TEMPLATE restore_ok`);
      await env.sql(
        source.replace('/restore_source', `/${name}`),
        `UPDATE orders SET customer = '0'; UPDATE customers SET name = '0' WHERE id > 45;
         TRUNCATE soc2_restore_log; INSERT INTO soc2_restore_log VALUES ${log};`,
      );
    }
    const url = (name: string) => source.replace('/restore_source', `/${name}`);
    postgres = makePostgresPort(
      [
        { name: 'zeroed', connection: { env: 'ZEROED_URL' }, statementTimeoutMs: 5000 },
        { name: 'unfinished', connection: { env: 'UNFINISHED_URL' }, statementTimeoutMs: 5000 },
        { name: 'old-point', connection: { env: 'OLD_POINT_URL' }, statementTimeoutMs: 5000 },
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
        ZEROED_URL: url('restore_zeroed'),
        UNFINISHED_URL: url('restore_unfinished'),
        OLD_POINT_URL: url('restore_old_point'),
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
    expect(outcome.reasons.slice(0, 2)).toEqual([
      'the newest restore completed 2026-10-15T13:20:00.000Z, before 2026-11 began: no restore was tested in the period',
      "the recovery point 2026-10-15T12:00:00.000Z is not in 2026-11: the restore does not show the period's backups can be restored",
    ]);
  });

  it('fails when the only restore on record never completed, whatever it restored', async () => {
    const { outcome } = await run({
      restoredTarget: 'unfinished',
      timestampColumns: { page_views: 'viewed_at' },
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toBe(
      'restore log public.soc2_restore_log records no restore completed by 2026-12-01T00:10:00.000Z (1 unfinished): no restore was tested in 2026-11',
    );
  });

  it('fails a completed restore whose recovery point lies outside the period', async () => {
    const { outcome } = await run({
      restoredTarget: 'old-point',
      timestampColumns: { page_views: 'viewed_at' },
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toBe(
      "the recovery point 2023-03-01T00:00:00.000Z is not in 2026-11: the restore does not show the period's backups can be restored",
    );
  });

  it('finds zeroed non-key columns with checksum: rows, naming the changed keys', async () => {
    const keys = await run({ restoredTarget: 'zeroed', timestampColumns: { page_views: 'viewed_at' } });
    // The key checksum alone cannot see changed values: the reason checksum: rows exists.
    expect(keys.outcome.verdict).toBe('pass');
    const rows = await run({
      restoredTarget: 'zeroed',
      timestampColumns: { page_views: 'viewed_at' },
      checksum: 'rows',
      reportKeys: 3,
    });
    expect(rows.outcome.verdict).toBe('fail');
    expect(rows.outcome.reasons).toEqual([
      'table public.customers: same 50 rows counted but the whole row (checksum: rows) checksum differs',
      'table public.orders: same 500 rows counted but the whole row (checksum: rows) checksum differs',
    ]);
    const tables = (rows.outcome.details as { tables: { table: string; differences: unknown }[] }).tables;
    expect(tables.find((t) => t.table === 'public.customers')?.differences).toEqual({
      missingKeys: [],
      extraKeys: [],
      changedKeys: ['46', '47', '48'],
      truncated: true,
    });
    // Above the size limit a table falls back to its key checksum, and says so.
    const small = await run({
      restoredTarget: 'zeroed',
      timestampColumns: { page_views: 'viewed_at' },
      checksum: 'rows',
      rowChecksumMaxBytes: 1,
    });
    expect(small.outcome.verdict).toBe('pass');
  });

  it('names the first missing and extra primary keys of a differing table', async () => {
    const { outcome } = await run({ restoredTarget: 'bad', timestampColumns: { page_views: 'viewed_at' } });
    const tables = (outcome.details as { tables: { table: string; differences: unknown }[] }).tables;
    expect(tables.find((t) => t.table === 'public.orders')?.differences).toEqual({
      missingKeys: ['42'],
      extraKeys: [],
      changedKeys: [],
      truncated: false,
    });
    expect(tables.find((t) => t.table === 'public.customers')?.differences).toEqual({
      missingKeys: ['7'],
      extraKeys: ['1007'],
      changedKeys: [],
      truncated: false,
    });
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
