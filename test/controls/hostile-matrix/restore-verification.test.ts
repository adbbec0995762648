import { afterAll, beforeAll } from 'vitest';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { restoreVerificationMatrix } from './cells/restore-verification.ts';
import { asRole, portFor } from './postgres-fixture.ts';

/**
 * One source database and one faithful restored copy (made with TEMPLATE before production moved
 * on); each cell clones the copy and plants its damage in the clone, so the control cell proves
 * the untouched copy passes.
 */
const RP = '2026-11-15T12:00:00Z';
const CUTOFF = '2026-11-15T11:59:00Z';
const AS_OF = '2026-12-01T00:10:00Z';
const GOOD_LOG = `('${RP}', '2026-11-15T13:00:00Z', '2026-11-15T13:35:00Z')`;

let env: TestEnvironment;
let sourceUrl: string;
const urlOf = (database: string) => sourceUrl.replace('/hm_rv_source', `/${database}`);

/** A clone of the faithful copy with `sql` applied, reachable as target `restored`. */
async function copy(name: string, sql = ''): Promise<string> {
  await env.sql(env.postgresUrl, `CREATE DATABASE hm_rv_${name} TEMPLATE hm_rv_copy`);
  if (sql) await env.sql(urlOf(`hm_rv_${name}`), sql);
  return urlOf(`hm_rv_${name}`);
}
const logged = (row: string) => `TRUNCATE soc2_restore_log; INSERT INTO soc2_restore_log VALUES ${row};`;

function verify(restoredUrl: string, test: Record<string, unknown> = {}, source = sourceUrl) {
  return runTest({
    test: {
      type: 'restore-verification',
      sourceTarget: 'app',
      restoredTarget: 'restored',
      restoreLog: {},
      timestampColumns: { events: 'at' },
      ...test,
    },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf: AS_OF,
    ports: { postgres: portFor({ app: source, restored: restoredUrl }) },
  });
}
const damaged = async (name: string, sql: string, test: Record<string, unknown> = {}) =>
  verify(await copy(name, sql), test);

beforeAll(async () => {
  env = await startTestEnvironment();
  sourceUrl = await env.createDatabase('hm_rv_source');
  await env.sql(
    sourceUrl,
    `CREATE TABLE orders (id bigint PRIMARY KEY, customer text, created_at timestamptz NOT NULL);
     CREATE TABLE settings (key text PRIMARY KEY, value text);
     CREATE TABLE events (at timestamptz NOT NULL, body text);
     CREATE TABLE "we""ird
table" (id int PRIMARY KEY, created_at timestamptz NOT NULL);
     CREATE SCHEMA nothing;
     INSERT INTO orders SELECT i, 'c' || (i % 50), '${RP}'::timestamptz - i * interval '10 minutes' FROM generate_series(1, 499) AS i;
     INSERT INTO orders VALUES (901, 'on the cut-off', '${CUTOFF}'), (902, 'just before it', '${CUTOFF}'::timestamptz - interval '1 millisecond');
     UPDATE orders SET customer = repeat('a', 1000000) WHERE id = 7;
     UPDATE orders SET customer = NULL WHERE id = 8;
     INSERT INTO settings VALUES ('theme', 'dark'), ('locale', 'en');
     INSERT INTO events SELECT '${RP}'::timestamptz - i * interval '1 minute', 'e' || i FROM generate_series(2, 40) AS i;
     INSERT INTO "we""ird
table" SELECT i, '${RP}'::timestamptz - i * interval '1 hour' FROM generate_series(1, 10) AS i;`,
  );
  await env.sql(env.postgresUrl, 'CREATE DATABASE hm_rv_copy TEMPLATE hm_rv_source');
  await env.sql(
    urlOf('hm_rv_copy'),
    `CREATE TABLE soc2_restore_log (recovery_point timestamptz, started_at timestamptz, completed_at timestamptz);
     INSERT INTO soc2_restore_log VALUES ${GOOD_LOG};`,
  );
  // Production moved on a day after the recovery point: those rows are not the restore's business.
  await env.sql(
    sourceUrl,
    `INSERT INTO orders SELECT 1000 + i, 'late', '${RP}'::timestamptz + interval '1 day' + i * interval '1 minute' FROM generate_series(1, 20) AS i;`,
  );
});
afterAll(async () => env?.stop());

describeMatrix('restore-verification', restoreVerificationMatrix, {
  'control-faithful-copy': async () => verify(await copy('control')),
  'empty-restore-log': () => damaged('empty_log', 'TRUNCATE soc2_restore_log'),
  'no-tables-to-compare': async () =>
    verify(await copy('nothing'), { schemas: ['nothing'], timestampColumns: {} }),
  'null-completed-at': () => damaged('null_completed', logged(`('${RP}', '2026-11-15T13:00:00Z', NULL)`)),
  'null-recovery-point': () =>
    damaged('null_point', logged(`(NULL, '2026-11-15T13:00:00Z', '2026-11-15T13:35:00Z')`)),
  'null-started-at': () => damaged('null_started', logged(`('${RP}', NULL, '2026-11-15T13:35:00Z')`)),
  'null-versus-empty-string': () =>
    damaged('null_empty', `UPDATE orders SET customer = '' WHERE id = 8`, { checksum: 'rows' }),
  'restore-log-text-columns': () =>
    damaged(
      'text_log',
      `DROP TABLE soc2_restore_log; CREATE TABLE soc2_restore_log (recovery_point text, started_at text, completed_at text);
       INSERT INTO soc2_restore_log VALUES ${GOOD_LOG};`,
    ),
  'timestamp-column-text': async () =>
    verify(await copy('text_column'), { timestampColumns: { orders: 'customer' } }),
  'recovery-point-on-period-start': () =>
    damaged(
      'point_on_start',
      logged(`('2026-11-01T00:00:00Z', '2026-11-15T13:00:00Z', '2026-11-15T13:35:00Z')`),
    ),
  'recovery-point-just-before-period': () =>
    damaged(
      'point_before',
      logged(`('2026-10-31T23:59:59.999Z', '2026-11-15T13:00:00Z', '2026-11-15T13:35:00Z')`),
    ),
  'recovery-point-on-period-end': () =>
    damaged(
      'point_on_end',
      logged(`('2026-12-01T00:00:00Z', '2026-11-30T23:00:00Z', '2026-11-30T23:35:00Z')`),
    ),
  'completed-on-check-instant': () =>
    damaged('completed_now', logged(`('${RP}', '2026-11-30T23:10:00Z', '${AS_OF}')`)),
  'row-on-cutoff-missing': () => damaged('on_cutoff', 'DELETE FROM orders WHERE id = 901'),
  'row-just-before-cutoff-missing': () => damaged('before_cutoff', 'DELETE FROM orders WHERE id = 902'),
  'just-over-rto': () =>
    damaged('over_rto', logged(`('${RP}', '2026-11-15T13:00:00Z', '2026-11-15T14:00:00.001Z')`)),
  'completed-after-check': () =>
    damaged('completed_late', logged(`('${RP}', '2026-11-30T23:30:00Z', '2026-12-01T00:10:00.001Z')`)),
  'recovery-point-after-completion': () =>
    damaged(
      'point_after',
      logged(`('2026-11-15T13:40:00Z', '2026-11-15T13:00:00Z', '2026-11-15T13:35:00Z')`),
    ),
  'outlier-oldest-row-missing': () => damaged('oldest_missing', 'DELETE FROM orders WHERE id = 499'),
  'outlier-far-future-row': () =>
    damaged(
      'future_row',
      `DELETE FROM orders WHERE created_at >= '${RP}'::timestamptz - interval '2 hours';
       INSERT INTO orders VALUES (5000, 'from the future', '2030-01-01T00:00:00Z');`,
    ),
  'duplicate-row-hides-missing-one': () =>
    damaged(
      'duplicate_row',
      `DELETE FROM events WHERE body = 'e2'; INSERT INTO events SELECT * FROM events WHERE body = 'e3';`,
    ),
  'control-character-table-name': () => damaged('weird_name', `DELETE FROM "we""ird\ntable" WHERE id = 3`),
  'huge-value-changed': () =>
    damaged('huge_value', `UPDATE orders SET customer = repeat('a', 999999) || 'b' WHERE id = 7`, {
      checksum: 'rows',
    }),
  'source-table-unreadable': async () => {
    const restored = await copy('source_unreadable');
    await env.sql(sourceUrl, "CREATE ROLE hm_rv_source_reader LOGIN PASSWORD 'pw'");
    await env.sql(sourceUrl, 'GRANT SELECT ON orders, events, "we""ird\ntable" TO hm_rv_source_reader');
    return verify(restored, {}, asRole(sourceUrl, 'hm_rv_source_reader'));
  },
  'restored-table-unreadable': async () => {
    const restored = await copy(
      'restored_unreadable',
      `CREATE ROLE hm_rv_copy_reader LOGIN PASSWORD 'pw';
       GRANT SELECT ON orders, events, "we""ird\ntable", soc2_restore_log TO hm_rv_copy_reader;`,
    );
    await env.sql(sourceUrl, 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO hm_rv_copy_reader');
    return verify(asRole(restored, 'hm_rv_copy_reader'));
  },
  'row-level-security-on-source': async () => {
    const policy = `GRANT SELECT ON ALL TABLES IN SCHEMA public TO hm_rv_rls;
      ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
      CREATE POLICY hide_42 ON orders FOR SELECT TO hm_rv_rls USING (id <> 42);`;
    await env.sql(sourceUrl, "CREATE ROLE hm_rv_rls LOGIN PASSWORD 'pw'");
    await env.sql(sourceUrl, policy);
    try {
      const restored = await copy('rls', `${policy} DELETE FROM orders WHERE id = 42;`);
      // Without row_security = off both sides would hide row 42 alike, and the copy would match.
      return await verify(asRole(restored, 'hm_rv_rls'), {}, asRole(sourceUrl, 'hm_rv_rls'));
    } finally {
      // Later cells clone the source's copy, not the source: still, leave the source as it was.
      await env.sql(
        sourceUrl,
        'DROP POLICY hide_42 ON orders; ALTER TABLE orders DISABLE ROW LEVEL SECURITY',
      );
    }
  },
  'stale-restore-before-period': () =>
    damaged(
      'stale_restore',
      logged(`('2026-10-15T12:00:00Z', '2026-10-15T13:00:00Z', '2026-10-15T13:20:00Z')`),
    ),
  'restore-started-after-it-completed': () =>
    damaged('reversed_times', logged(`('${RP}', '2026-11-15T15:00:00Z', '2026-11-15T13:35:00Z')`)),
  'stale-copy-without-primary-key': () =>
    damaged('no_primary_key', 'ALTER TABLE orders DROP CONSTRAINT orders_pkey'),
});
