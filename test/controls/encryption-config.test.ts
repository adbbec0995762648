import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { writeSelfSignedCertificate } from '../../lib/local/self-signed-certificate.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { runTest } from './control-harness.ts';

/**
 * Turns TLS on in the throwaway server: a self-signed certificate readable by the server's OS user
 * (the `postgres` user when the suite runs as root), then a configuration reload.
 */
async function enableTls(env: TestEnvironment, dir: string): Promise<void> {
  chmodSync(dir, 0o755);
  const { rows } = await env.sql(
    env.postgresUrl,
    "SELECT setting FROM pg_settings WHERE name = 'data_directory'",
  );
  const { cert, key } = await writeSelfSignedCertificate(dir, statSync(rows[0]?.setting as string));
  await env.sql(env.postgresUrl, `ALTER SYSTEM SET ssl_cert_file = '${cert}'`);
  await env.sql(env.postgresUrl, `ALTER SYSTEM SET ssl_key_file = '${key}'`);
  await env.sql(env.postgresUrl, 'ALTER SYSTEM SET ssl = on');
  await env.sql(env.postgresUrl, 'SELECT pg_reload_conf()');
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/** The same server, logged in as another role (password auth is trust on the throwaway server). */
function asRole(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = 'pw';
  return parsed.toString();
}

describe('encryption-config', () => {
  let env: TestEnvironment;
  let postgres: PostgresPort;
  let dir: string;
  const run = (target: string, test: Record<string, unknown> = {}) =>
    runTest({
      test: { type: 'encryption-config', target, ...test },
      cadence: 'quarterly',
      periodKey: '2026-Q3',
      asOf: '2026-10-01T00:10:00Z',
      ports: { postgres },
    });

  beforeAll(async () => {
    // TLS is switched on server-wide (ALTER SYSTEM): a server of its own, not the run's shared one.
    env = await startTestEnvironment({ dedicatedPostgres: true });
    dir = mkdtempSync(join(tmpdir(), 'soc2-tls-'));
    const plain = env.postgresUrl;
    const tls = `${plain}?sslmode=require&uselibpqcompat=true`;
    postgres = makePostgresPort(
      [
        { name: 'plain', connection: { env: 'PLAIN_URL' }, statementTimeoutMs: 5000 },
        { name: 'tls', connection: { env: 'TLS_URL' }, statementTimeoutMs: 5000 },
        { name: 'down', connection: { env: 'DOWN_URL' }, statementTimeoutMs: 5000 },
        { name: 'unprivileged', connection: { env: 'CHECKER_URL' }, statementTimeoutMs: 5000 },
        { name: 'verified', connection: { env: 'VERIFIED_URL' }, statementTimeoutMs: 5000 },
      ],
      envConnectionResolver({
        PLAIN_URL: plain,
        TLS_URL: tls,
        DOWN_URL: 'postgres://x:y@127.0.0.1:1/none',
        CHECKER_URL: asRole(tls, 'checker'),
        VERIFIED_URL: `${plain}?sslmode=verify-full`,
      }),
      { connectTimeoutMs: 2000 },
    );
  });
  afterAll(async () => {
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails when the server has TLS off', async () => {
    const { outcome } = await run('plain');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'ssl is off on "plain": connections cannot be encrypted',
      'this check\'s own connection to "plain" is not encrypted',
    ]);
    expect(outcome.figures).toMatchObject({ ssl: false, unencrypted: 1 });
  });

  it('passes once TLS is on and this connection uses it', async () => {
    await enableTls(env, dir);
    const { outcome } = await run('tls');
    expect(outcome.reasons).toEqual([]);
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toMatchObject({ ssl: true, ownConnectionTls: 'TLSv1.3', unencrypted: 0 });
  });

  it('errors naming the untrusted certificate under certificate-verified TLS, the default for secrets', async () => {
    const { outcome } = await run('verified');
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toMatch(
      /^the TLS certificate of database "verified" is not trusted \([A-Z_]+\): trust its CA \(for RDS, NODE_EXTRA_CA_CERTS/,
    );
  });

  it('fails a plaintext connection to a TLS server and a weak minimum TLS version', async () => {
    await env.sql(env.postgresUrl, "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1'");
    await env.sql(env.postgresUrl, 'SELECT pg_reload_conf()');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { outcome } = await run('plain');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'ssl_min_protocol_version is TLSv1 on "plain", older than TLSv1.2',
      'this check\'s own connection to "plain" is not encrypted',
    ]);
  });

  it("errors naming pg_read_all_stats and its GRANT when another role's plaintext session is invisible", async () => {
    await env.sql(env.postgresUrl, "CREATE ROLE checker LOGIN PASSWORD 'pw'");
    await env.sql(env.postgresUrl, "CREATE ROLE app_user LOGIN PASSWORD 'pw'");
    // A plaintext session of another role stays open while the check runs.
    const plaintext = new pg.Client({ connectionString: asRole(env.postgresUrl, 'app_user') });
    await plaintext.connect();
    try {
      // Without pg_read_all_settings the TLS settings themselves are hidden: error, naming the grant.
      const blind = await run('unprivileged');
      expect(blind.outcome.verdict).toBe('error');
      expect(blind.outcome.reasons.join(' ')).toContain('GRANT pg_read_all_settings TO "checker"');
      await env.sql(env.postgresUrl, 'GRANT pg_read_all_settings TO checker');

      const { outcome } = await run('unprivileged');
      expect(outcome.verdict).toBe('error');
      expect(outcome.reasons.join(' ')).toContain('pg_read_all_stats');
      expect(outcome.reasons.join(' ')).toContain('GRANT pg_read_all_stats TO "checker"');
      expect(outcome.figures.invisibleSessions).toBeGreaterThanOrEqual(1);

      // strict mode turns the same blind spot into a fail; granting the role makes it visible.
      const strict = await run('unprivileged', { invisibleSessions: 'fail' });
      expect(strict.outcome.verdict).toBe('fail');
      await env.sql(env.postgresUrl, 'GRANT pg_read_all_stats TO checker');
      const granted = await run('unprivileged');
      expect(granted.outcome.verdict).toBe('fail');
      expect(granted.outcome.reasons).toContain(
        '1 other client connections to "unprivileged" are not encrypted',
      );
    } finally {
      await plaintext.end();
    }
  });

  it('errors when the database is unreachable', async () => {
    const { outcome } = await run('down');
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('database "down" is unreachable (ECONNREFUSED)');
  });
});
