import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigYaml } from '../../lib/config/load-config.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

/**
 * `soc2-evidence init` as a user runs it, on a database shaped nothing like the demo's (other
 * schema, table and column names, uuid actors), inspected through a role that can only read.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'soc2-evidence.mjs');

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const SCHEMA = `
CREATE SCHEMA core;
CREATE TABLE core.activity_events (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  actor_id uuid,
  event_type text NOT NULL,
  target_id text,
  succeeded boolean NOT NULL
);
CREATE INDEX activity_events_occurred_at ON core.activity_events (occurred_at);
CREATE TABLE core.accounts (
  email text PRIMARY KEY,
  is_active boolean NOT NULL,
  last_sign_in_at timestamptz,
  created_at timestamptz NOT NULL,
  deactivated_at timestamptz
);
CREATE TABLE core."MixedCase" (occurred_at timestamptz, actor_id text, event_type text, succeeded boolean);
INSERT INTO core.activity_events (occurred_at, actor_id, event_type, target_id, succeeded)
SELECT timestamp '2026-01-01' + n * interval '7 minutes', gen_random_uuid(),
       (ARRAY['login', 'login', 'view', 'admin_export', 'secret_rotated'])[1 + n % 5],
       (ARRAY['vault_db_password', 'stripe_key', 'doc-1'])[1 + n % 3], true
  FROM generate_series(1, 5000) AS n;
INSERT INTO core.accounts VALUES ('a@example.com', true, now(), now() - interval '1 year', NULL);
ANALYZE;
CREATE ROLE init_reader LOGIN PASSWORD 'reader';
GRANT USAGE ON SCHEMA core TO init_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA core TO init_reader;
REVOKE TEMP ON DATABASE init_saas FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
`;

describe('soc2-evidence init', { timeout: 180_000 }, () => {
  let env: TestEnvironment;
  let dir: string;
  let readerUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'soc2-init-'));
    env = await startTestEnvironment();
    const ownerUrl = await env.createDatabase('init_saas');
    const client = new pg.Client({ connectionString: ownerUrl });
    await client.connect();
    await client.query('DROP ROLE IF EXISTS init_reader').catch(() => {});
    await client.query(SCHEMA);
    await client.end();
    const parsed = new URL(ownerUrl);
    parsed.username = 'init_reader';
    parsed.password = 'reader';
    readerUrl = parsed.toString();
  });
  afterAll(async () => {
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('drafts a config that validates, with the detected tables, columns and rotation events', async () => {
    const out = join(dir, 'soc2-evidence.yaml');
    const result = await cli(['init', '--database-url', readerUrl, '--out', out, '--added-on', '2026-01-01']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('log-completeness on core.activity_events');
    expect(result.stdout).toContain('access-review on core.accounts');

    const text = await readFile(out, 'utf8');
    expect(text).not.toContain('reader@'); // never the connection string
    expect(text).not.toContain(readerUrl);
    const config = parseConfigYaml(text, out);
    expect(config.targets).toEqual([
      expect.objectContaining({ name: 'app', connection: { env: 'DATABASE_URL' } }),
    ]);
    const tests = Object.fromEntries(config.controls.map((control) => [control.id, control.test]));
    expect(tests['audit-log-completeness']).toMatchObject({
      type: 'log-completeness',
      schema: 'core',
      table: 'activity_events',
      columns: {
        timestamp: 'occurred_at',
        userId: 'actor_id',
        action: 'event_type',
        resourceId: 'target_id',
        success: 'succeeded',
      },
      requiredActions: expect.arrayContaining(['login', 'admin_export', 'secret_rotated']),
    });
    expect(tests['access-review']).toMatchObject({
      type: 'access-review',
      schema: 'core',
      table: 'accounts',
      columns: {
        account: 'email',
        enabled: 'is_active',
        lastLogin: 'last_sign_in_at',
        createdAt: 'created_at',
        removedAt: 'deactivated_at',
      },
    });
    expect(tests['secrets-rotation']).toMatchObject({
      type: 'secret-rotation',
      auditLog: { schema: 'core', table: 'activity_events', action: 'secret_rotated' },
    });
    expect(text).toContain('occurred_at leads a btree index');
    expect(config.controls.every((control) => control.addedOn === '2026-01-01')).toBe(true);
  });

  it('works with a role that cannot write anything (no INSERT/UPDATE/DELETE, no TEMP, no CREATE)', async () => {
    const client = new pg.Client({ connectionString: readerUrl });
    await client.connect();
    const { rows } = await client.query<{ writes: boolean; temp: boolean; create: boolean }>(
      `SELECT bool_or(has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
                      OR has_table_privilege(c.oid, 'DELETE')) AS writes,
              has_database_privilege(current_database(), 'TEMP') AS temp,
              has_schema_privilege('core', 'CREATE') AS create
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'core'`,
    );
    await client.end();
    expect(rows[0]).toEqual({ writes: false, temp: false, create: false });
    const result = await cli(['init', '--database-url', readerUrl, '--out', '-']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('type: log-completeness');
  });

  it('refuses to overwrite an existing file without --force (exit 2, file unchanged)', async () => {
    const out = join(dir, 'existing.yaml');
    await writeFile(out, 'mine\n');
    const refused = await cli(['init', '--database-url', readerUrl, '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --force');
    expect(await readFile(out, 'utf8')).toBe('mine\n');
    const forced = await cli(['init', '--database-url', readerUrl, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('type: log-completeness');
  });

  it('takes the URL from the variable --env names, and writes that name into the target', async () => {
    const result = await cli(['init', '--env', 'APP_DB_URL', '--out', '-'], { APP_DB_URL: readerUrl });
    expect(result.code).toBe(0);
    expect(parseConfigYaml(result.stdout).targets[0]?.connection).toEqual({ env: 'APP_DB_URL' });
  });

  it('exits 2 naming the cause for an unreachable database or no URL at all', async () => {
    const [unreachable, none] = await Promise.all([
      cli(['init', '--database-url', 'postgres://nobody:x@127.0.0.1:1/none', '--out', '-']),
      cli(['init', '--out', '-']),
    ]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot inspect the database');
    expect(unreachable.stderr).not.toContain('nobody:x');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('set DATABASE_URL');
  });
});
