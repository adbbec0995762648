import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { runTest } from './control-harness.ts';

const AS_OF = '2026-10-01T00:30:00Z';

describe('access-review', () => {
  let env: TestEnvironment;
  let postgres: PostgresPort;
  const run = (test: Record<string, unknown>) =>
    runTest({
      test: { type: 'access-review', target: 'app', ...test },
      cadence: 'quarterly',
      periodKey: '2026-Q3',
      asOf: AS_OF,
      ports: { postgres },
    });

  let url: string;

  beforeAll(async () => {
    env = await startTestEnvironment();
    url = await env.createDatabase('access_review');
    postgres = makePostgresPort(
      [
        { name: 'app', connection: { env: 'APP_URL' }, statementTimeoutMs: 5000 },
        { name: 'down', connection: { env: 'DOWN_URL' }, statementTimeoutMs: 5000 },
        { name: 'impatient', connection: { env: 'APP_URL' }, statementTimeoutMs: 300 },
      ],
      envConnectionResolver({ APP_URL: url, DOWN_URL: 'postgres://nobody:x@127.0.0.1:1/none' }),
      { connectTimeoutMs: 2000 },
    );
    await env.sql(
      url,
      `CREATE TABLE users (username text PRIMARY KEY, enabled boolean NOT NULL, last_login_at timestamptz, created_at timestamptz NOT NULL, removed_at timestamptz);
       CREATE TABLE clean_users (LIKE users);
       CREATE TABLE audit_log ("timestamp" timestamptz NOT NULL, user_id text, action text, resource_id text, success boolean);
       CREATE TABLE bad_users (username text, enabled text, last_login_at timestamptz);
       INSERT INTO users VALUES
         ('alice', true, '2026-09-20', '2024-01-01', NULL),
         ('bob', true, '2026-05-01', '2024-01-01', NULL),           -- dormant: 153 days
         ('carol', false, '2025-01-01', '2024-01-01', '2025-01-02'), -- removed and disabled: fine
         ('dave', true, '2026-08-01', '2024-01-01', '2026-07-15'),  -- removed, still enabled, logged in after
         ('erin', true, NULL, '2026-09-25', NULL),                  -- new, never logged in: not dormant yet
         ('frank', true, NULL, '2025-01-01', NULL);                 -- never logged in for a year: dormant
       INSERT INTO clean_users SELECT * FROM users WHERE username IN ('alice', 'carol', 'erin');
       INSERT INTO audit_log VALUES
         ('2026-09-29', 'alice', 'login', NULL, true),
         ('2026-09-29', 'bob', 'login', NULL, false),
         ('2026-09-28', 'erin', 'login', NULL, true),
         ('2026-06-01', 'frank', 'login', NULL, true);`,
    );
  });
  afterAll(async () => env?.stop());

  it('passes when every enabled account logged in recently and removed accounts are disabled', async () => {
    const { outcome } = await run({
      table: 'clean_users',
      columns: { createdAt: 'created_at', removedAt: 'removed_at' },
    });
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toEqual({ accounts: 3, enabled: 2, dormant: 0, activeAfterRemoval: 0 });
  });

  it('fails naming dormant enabled accounts and accounts active after removal', async () => {
    const { outcome } = await run({ columns: { createdAt: 'created_at', removedAt: 'removed_at' } });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.figures).toEqual({ accounts: 6, enabled: 5, dormant: 2, activeAfterRemoval: 1 });
    expect(outcome.reasons).toEqual([
      '2 enabled accounts have had no successful login for P90D: bob (last login 153 days ago), frank (never logged in)',
      '1 accounts are still active after their recorded removal date: dave (removed 2026-07-15)',
    ]);
  });

  it('reads successful logins from the audit log when configured, ignoring failed ones', async () => {
    const { outcome, evidence } = await run({ columns: { createdAt: 'created_at' }, loginEvents: {} });
    expect(outcome.verdict).toBe('fail');
    // bob's only login attempt failed; frank's last success is 122 days old; dave has none at all.
    expect(outcome.reasons[0]).toMatch(
      /^3 enabled accounts .*: bob \(never logged in\), dave \(never logged in\), frank \(last login 122 days ago\)$/,
    );
    expect(evidence.entries.every((entry) => entry.kind !== 'sql' || !entry.text.includes('INSERT'))).toBe(
      true,
    );
  });

  it('errors naming the column when a configured column is missing', async () => {
    const { outcome } = await run({ columns: { removedAt: 'offboarded_at' } });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('column public.users.offboarded_at does not exist');
  });

  it('errors naming the column when a column has the wrong type', async () => {
    const { outcome } = await run({ table: 'bad_users' });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('column public.bad_users.enabled is text, expected a boolean');
  });

  it('errors when the table does not exist', async () => {
    const { outcome } = await run({ table: 'accounts' });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('table public.accounts does not exist or is not readable');
  });

  it('errors when the database is unreachable', async () => {
    const { outcome } = await run({ target: 'down' });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('database "down" is unreachable (ECONNREFUSED)');
  });

  it('errors naming the statement timeout when a query waits too long', async () => {
    // Another session holds a lock on the table, so the count query waits until it is cancelled.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const { outcome } = await run({ target: 'impatient', columns: { createdAt: 'created_at' } });
      expect(outcome.verdict).toBe('error');
      expect(outcome.reasons[0]).toMatch(/query on "impatient" was cancelled by the statement timeout$/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });

  it('rejects identifiers that are not plain SQL identifiers', async () => {
    await expect(() => run({ table: 'users; DROP TABLE users' })).rejects.toThrow(/lowercase SQL identifier/);
  });
});
