import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { runTest } from './control-harness.ts';

/**
 * Restore verification with a schema map: the restored copy lives in the source database itself,
 * in schema `app_restored`, and is compared table by table with `app`.
 */
const RP = '2026-11-15T12:00:00Z';

const SOURCE_AND_COPY = `
CREATE SCHEMA app;
CREATE TABLE app.orders (id bigint PRIMARY KEY, customer text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE app.customers (id int PRIMARY KEY, name text, created_at timestamptz NOT NULL);
INSERT INTO app.orders SELECT i, 'c' || (i % 50), '${RP}'::timestamptz - i * interval '10 minutes' FROM generate_series(1, 300) AS i;
INSERT INTO app.customers SELECT i, 'customer ' || i, '${RP}'::timestamptz - interval '30 days' FROM generate_series(1, 50) AS i;
CREATE SCHEMA app_restored;
CREATE TABLE app_restored.orders (LIKE app.orders INCLUDING ALL);
CREATE TABLE app_restored.customers (LIKE app.customers INCLUDING ALL);
INSERT INTO app_restored.orders SELECT * FROM app.orders;
INSERT INTO app_restored.customers SELECT * FROM app.customers;
CREATE TABLE public.soc2_restore_log (recovery_point timestamptz, started_at timestamptz, completed_at timestamptz);
INSERT INTO public.soc2_restore_log VALUES ('${RP}', '2026-11-15T13:00:00Z', '2026-11-15T13:20:00Z');
`;

describe('restore-verification with a schema map (source and copy in one database)', () => {
  let env: TestEnvironment;
  let postgres: PostgresPort;
  const run = (test: Record<string, unknown>) =>
    runTest({
      test: {
        type: 'restore-verification',
        sourceTarget: 'app',
        restoredTarget: 'app',
        schemas: { app: 'app_restored' },
        restoreLog: {},
        ...test,
      },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: '2026-12-01T00:10:00Z',
      ports: { postgres },
    });

  beforeAll(async () => {
    env = await startTestEnvironment();
    const good = await env.createDatabase('restore_map_good');
    await env.sql(good, SOURCE_AND_COPY);
    const bad = await env.createDatabase('restore_map_bad');
    await env.sql(
      bad,
      `${SOURCE_AND_COPY}
       DELETE FROM app_restored.orders WHERE id = 42;
       INSERT INTO app_restored.customers VALUES (999, 'intruder', '${RP}'::timestamptz - interval '40 days');
       CREATE TABLE app_restored.scratch (id int PRIMARY KEY);`,
    );
    postgres = makePostgresPort(
      [
        { name: 'app', connection: { env: 'GOOD_URL' }, statementTimeoutMs: 5000 },
        { name: 'bad', connection: { env: 'BAD_URL' }, statementTimeoutMs: 5000 },
      ],
      envConnectionResolver({ GOOD_URL: good, BAD_URL: bad }),
    );
  });
  afterAll(async () => env?.stop());

  it('passes when the copy in app_restored matches app, reporting tables under their source names', async () => {
    const { outcome } = await run({});
    expect(outcome.reasons).toEqual([]);
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toMatchObject({ tables: 2, matching: 2, differing: 0, missing: 0 });
  });

  it('fails naming the missing and extra primary keys, and the table only in the copy', async () => {
    const { outcome } = await run({ sourceTarget: 'bad', restoredTarget: 'bad' });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'table app.customers: 51 rows restored, 50 in the source',
      'table app.orders: 299 rows restored, 300 in the source',
    ]);
    expect(outcome.warnings).toContain('tables only in the restored database: app_restored.scratch');
    const tables = (outcome.details as { tables: { table: string; differences: unknown }[] }).tables;
    expect(tables.find((t) => t.table === 'app.orders')?.differences).toMatchObject({
      missingKeys: ['42'],
      extraKeys: [],
    });
    expect(tables.find((t) => t.table === 'app.customers')?.differences).toMatchObject({
      missingKeys: [],
      extraKeys: ['999'],
    });
  });

  it('rejects one database compared with itself under the same schema names', async () => {
    await expect(run({ schemas: ['app'] })).rejects.toThrow(
      /restored target must differ from the source target, unless `schemas` maps/,
    );
    await expect(run({ schemas: { app: 'app' } })).rejects.toThrow(/restored target must differ/);
  });

  it('rejects a map sending two source schemas to one restored schema', async () => {
    await expect(run({ schemas: { app: 'copy', billing: 'copy' } })).rejects.toThrow(
      /cannot map to the same restored schema/,
    );
  });
});
