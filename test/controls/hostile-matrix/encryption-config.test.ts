import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import {
  type ConnectionCounts,
  type EncryptionSettings,
  encryptionConfigParamsSchema,
  judgeEncryption,
} from '../../../lib/controls/encryption-config.ts';
import { writeSelfSignedCertificate } from '../../../lib/local/self-signed-certificate.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { encryptionConfigMatrix } from './cells/encryption-config.ts';
import { asRole, portFor } from './postgres-fixture.ts';

/**
 * Server-wide state (ssl, settings, every open session) is the subject, so the file has a server
 * of its own, and the cells run in the order listed: `tls-off` first, then TLS is switched on.
 */
let env: TestEnvironment;
let dir: string;

async function reload(...settings: string[]): Promise<void> {
  // ALTER SYSTEM cannot share a statement (an implicit transaction) with another.
  for (const setting of settings) await env.sql(env.postgresUrl, setting);
  await env.sql(env.postgresUrl, 'SELECT pg_reload_conf()');
  await new Promise((resolve) => setTimeout(resolve, 300));
}

let tlsOn = false;
async function ensureTls(): Promise<void> {
  if (tlsOn) return;
  chmodSync(dir, 0o755);
  const { rows } = await env.sql(
    env.postgresUrl,
    "SELECT setting FROM pg_settings WHERE name = 'data_directory'",
  );
  const { cert, key } = await writeSelfSignedCertificate(dir, statSync(rows[0]?.setting as string));
  await env.sql(env.postgresUrl, `ALTER SYSTEM SET ssl_cert_file = '${cert}'`);
  await env.sql(env.postgresUrl, `ALTER SYSTEM SET ssl_key_file = '${key}'`);
  await reload('ALTER SYSTEM SET ssl = on', "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'");
  tlsOn = true;
}
const tlsUrl = (url: string) => `${url}?sslmode=require&uselibpqcompat=true`;

function check(target: string, url: string, test: Record<string, unknown> = {}) {
  return runTest({
    test: { type: 'encryption-config', target, ...test },
    cadence: 'quarterly',
    periodKey: '2026-Q3',
    asOf: '2026-10-01T00:10:00Z',
    ports: { postgres: portFor({ [target]: url }, 5_000) },
  });
}

/** Plaintext sessions of another role, open while `work` runs. */
async function withPlaintextSessions<T>(count: number, work: () => Promise<T>): Promise<T> {
  const clients = Array.from(
    { length: count },
    () => new pg.Client({ connectionString: asRole(env.postgresUrl, 'hm_en_app') }),
  );
  await Promise.all(clients.map((client) => client.connect()));
  try {
    return await work();
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

const PARAMS = encryptionConfigParamsSchema.parse({ type: 'encryption-config', target: 't' });
const SETTINGS: EncryptionSettings = {
  role: 'checker',
  ssl: 'on',
  ssl_min_protocol_version: 'TLSv1.2',
  password_encryption: 'scram-sha-256',
  force_ssl: null,
  server_version: '18.4',
};
const CONNECTIONS: ConnectionCounts = {
  own_ssl: true,
  own_version: 'TLSv1.3',
  client_connections: '1',
  unencrypted: '0',
  unknown: '0',
  invisible: '0',
};

beforeAll(async () => {
  env = await startTestEnvironment({ dedicatedPostgres: true });
  dir = mkdtempSync(join(tmpdir(), 'soc2-hostile-tls-'));
  await env.sql(
    env.postgresUrl,
    `CREATE ROLE hm_en_checker LOGIN PASSWORD 'pw'; CREATE ROLE hm_en_app LOGIN PASSWORD 'pw';
     CREATE ROLE "hm ""quoted""" LOGIN PASSWORD 'pw';`,
  );
});
afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describeMatrix('encryption-config', encryptionConfigMatrix, {
  'tls-off': () => check('plain', env.postgresUrl),
  'control-tls-everywhere': async () => {
    await ensureTls();
    return check('tls', tlsUrl(env.postgresUrl));
  },
  'plaintext-own-connection': async () => {
    await ensureTls();
    return check('plain', env.postgresUrl);
  },
  'min-tls-one-below': async () => {
    await ensureTls();
    await reload("ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.1'");
    try {
      return await check('tls', tlsUrl(env.postgresUrl));
    } finally {
      await reload("ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'");
    }
  },
  'md5-passwords': async () => {
    await ensureTls();
    await reload("ALTER SYSTEM SET password_encryption = 'md5'");
    try {
      return await check('tls', tlsUrl(env.postgresUrl));
    } finally {
      await reload('ALTER SYSTEM RESET password_encryption');
    }
  },
  'settings-hidden': async () => {
    await ensureTls();
    return check('checker', tlsUrl(asRole(env.postgresUrl, 'hm_en_checker')));
  },
  'sessions-invisible': async () => {
    await ensureTls();
    await env.sql(env.postgresUrl, 'GRANT pg_read_all_settings TO hm_en_checker');
    return withPlaintextSessions(1, () => check('checker', tlsUrl(asRole(env.postgresUrl, 'hm_en_checker'))));
  },
  'sessions-invisible-strict': () =>
    withPlaintextSessions(1, () =>
      check('checker', tlsUrl(asRole(env.postgresUrl, 'hm_en_checker')), { invisibleSessions: 'fail' }),
    ),
  'other-plaintext-sessions': async () => {
    await env.sql(env.postgresUrl, 'GRANT pg_read_all_stats TO hm_en_checker');
    return withPlaintextSessions(3, () => check('checker', tlsUrl(asRole(env.postgresUrl, 'hm_en_checker'))));
  },
  'role-name-needing-quotes': async () => {
    await ensureTls();
    return check('quoted', tlsUrl(asRole(env.postgresUrl, 'hm "quoted"')));
  },
  'judge-own-tls-row-null': async () =>
    judgeEncryption(PARAMS, SETTINGS, { ...CONNECTIONS, own_ssl: null, own_version: null }),
  'judge-settings-null': async () =>
    judgeEncryption(
      PARAMS,
      { ...SETTINGS, ssl: null, password_encryption: null, server_version: null },
      CONNECTIONS,
    ),
  'judge-unknown-tls-version': async () =>
    judgeEncryption(PARAMS, { ...SETTINGS, ssl_min_protocol_version: 'TLSv1.4' }, CONNECTIONS),
  unreachable: () => check('down', 'postgres://x:y@127.0.0.1:1/none'),
});
