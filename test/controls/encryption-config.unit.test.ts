import { describe, expect, it } from 'vitest';
import {
  type ConnectionCounts,
  type EncryptionSettings,
  encryptionConfigParamsSchema,
  judgeEncryption,
} from '../../lib/controls/encryption-config.ts';
import { runTest } from './control-harness.ts';
import { type ScriptedAnswer, scriptedPostgres } from './scripted-postgres.ts';

/** Encryption configuration as the runner runs it, on scripted answers; judgeEncryption is also in verdicts.unit.test.ts. */
const settings: EncryptionSettings = {
  role: 'auditor',
  ssl: 'on',
  ssl_min_protocol_version: 'TLSv1.2',
  password_encryption: 'scram-sha-256',
  force_ssl: '1',
  server_version: '18.4',
};
const connections: ConnectionCounts = {
  own_ssl: true,
  own_version: 'TLSv1.3',
  client_connections: '4',
  unencrypted: '0',
  unknown: '0',
  invisible: '0',
};
const params = (extra: Record<string, unknown> = {}) =>
  encryptionConfigParamsSchema.parse({ type: 'encryption-config', target: 'db', ...extra });

function check(script: Record<string, ScriptedAnswer>, test: Record<string, unknown> = {}) {
  const postgres = scriptedPostgres({
    'encryption settings': [settings],
    'client connections and TLS': [connections],
    ...script,
  });
  return runTest({
    test: { type: 'encryption-config', target: 'db', ...test },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf: '2026-12-01T06:00:00Z',
    ports: { postgres: postgres.port },
  });
}

describe('encryption configuration as run', () => {
  it('passes a TLS-only server, with its settings and requirements in the evidence', async () => {
    const { outcome } = await check({});
    expect(outcome).toMatchObject({ verdict: 'pass', reasons: [], warnings: [] });
    expect(outcome.details).toEqual({
      role: 'auditor',
      settings: {
        ssl: 'on',
        sslMinProtocolVersion: 'TLSv1.2',
        passwordEncryption: 'scram-sha-256',
        rdsForceSsl: '1',
        serverVersion: '18.4',
      },
      required: {
        ssl: true,
        encryptedConnections: true,
        minTlsVersion: 'TLSv1.2',
        passwordEncryption: 'scram-sha-256',
        invisibleSessions: 'error',
      },
      atRest:
        'not visible from SQL: evidence storage encryption from the RDS API (StorageEncrypted) or the provider',
    });
    expect(outcome.figures).toEqual({
      ssl: true,
      ownConnectionTls: 'TLSv1.3',
      clientConnections: 4,
      unencrypted: 0,
      invisibleSessions: 0,
    });
  });

  it('errors when either query returns no row', async () => {
    expect((await check({ 'encryption settings': [] })).outcome).toMatchObject({
      verdict: 'error',
      reasons: ['the settings query returned no row'],
    });
    expect((await check({ 'client connections and TLS': [] })).outcome).toMatchObject({
      verdict: 'error',
      reasons: ['the connections query returned no row'],
    });
  });
});

describe('judgeEncryption edges', () => {
  it('does not judge ssl or connections when not required', () => {
    const result = judgeEncryption(
      params({ requireSsl: false, requireEncryptedConnections: false }),
      { ...settings, ssl: 'off' },
      { ...connections, own_ssl: false, unencrypted: '3', invisible: '2' },
    );
    expect(result).toMatchObject({ verdict: 'pass', reasons: [] });
    expect(result.figures).toMatchObject({ ssl: false, unencrypted: 3, invisibleSessions: 2 });
  });

  it('fails its own plaintext connection, or a missing own TLS row, apart from the others', () => {
    const own = judgeEncryption(params(), settings, { ...connections, own_ssl: false, unencrypted: '1' });
    expect(own.reasons).toEqual(['this check\'s own connection to "db" is not encrypted']);
    const unknownOwn = judgeEncryption(params(), settings, {
      ...connections,
      own_ssl: null,
      own_version: null,
    });
    expect(unknownOwn.reasons).toEqual(['this check\'s own connection to "db" is not encrypted']);
    expect(unknownOwn.figures).toMatchObject({ ownConnectionTls: null });
    const one = judgeEncryption(params(), settings, { ...connections, unencrypted: '1' });
    expect(one.reasons).toEqual(['1 other client connections to "db" are not encrypted']);
  });

  it('counts unknown and invisible sessions together, failing in strict mode', () => {
    const blind = judgeEncryption(params({ invisibleSessions: 'fail' }), settings, {
      ...connections,
      unknown: '1',
      invisible: '2',
    });
    expect(blind.verdict).toBe('fail');
    expect(blind.reasons).toEqual([
      'the TLS state of 3 sessions on "db" is not visible to role auditor: sessions of other roles need the pg_read_all_stats privilege (GRANT pg_read_all_stats TO "auditor")',
    ]);
    expect(blind.figures).toMatchObject({ invisibleSessions: 3 });
  });

  it('warns only when RDS force_ssl is exactly 0', () => {
    expect(judgeEncryption(params(), { ...settings, force_ssl: null }, connections).warnings).toEqual([]);
    expect(judgeEncryption(params(), { ...settings, force_ssl: '0' }, connections).warnings).toEqual([
      'rds.force_ssl is 0: the server accepts unencrypted connections',
    ]);
  });

  it('accepts md5 when configured to, and names the expected one otherwise', () => {
    expect(
      judgeEncryption(
        params({ passwordEncryption: 'md5' }),
        { ...settings, password_encryption: 'md5' },
        connections,
      ).verdict,
    ).toBe('pass');
    expect(
      judgeEncryption(
        params({ minTlsVersion: 'TLSv1' }),
        { ...settings, ssl_min_protocol_version: 'TLSv1' },
        connections,
      ).verdict,
    ).toBe('pass');
    expect(
      judgeEncryption(
        params({ minTlsVersion: 'TLSv1.1' }),
        { ...settings, ssl_min_protocol_version: 'TLSv1' },
        connections,
      ).reasons,
    ).toEqual(['ssl_min_protocol_version is TLSv1 on "db", older than TLSv1.1']);
  });

  it('documents its defaults', () => {
    expect(params()).toEqual({
      type: 'encryption-config',
      target: 'db',
      requireSsl: true,
      requireEncryptedConnections: true,
      minTlsVersion: 'TLSv1.2',
      passwordEncryption: 'scram-sha-256',
      invisibleSessions: 'error',
    });
  });
});
