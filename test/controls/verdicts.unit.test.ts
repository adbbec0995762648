import { describe, expect, it } from 'vitest';
import {
  type ConnectionCounts,
  type EncryptionSettings,
  encryptionConfigParamsSchema,
  judgeEncryption,
} from '../../lib/controls/encryption-config.ts';
import { outcome } from '../../lib/controls/outcome.ts';
import { judgeSecret } from '../../lib/controls/secret-rotation.ts';

const params = (extra: Record<string, unknown> = {}) =>
  encryptionConfigParamsSchema.parse({ type: 'encryption-config', target: 'db', ...extra });
const settings = (extra: Partial<EncryptionSettings> = {}): EncryptionSettings => ({
  role: 'auditor',
  ssl: 'on',
  ssl_min_protocol_version: 'TLSv1.2',
  password_encryption: 'scram-sha-256',
  force_ssl: null,
  server_version: '18.4',
  ...extra,
});
const connections = (extra: Partial<ConnectionCounts> = {}): ConnectionCounts => ({
  own_ssl: true,
  own_version: 'TLSv1.3',
  client_connections: '3',
  unencrypted: '0',
  unknown: '0',
  invisible: '0',
  ...extra,
});

describe('judgeEncryption', () => {
  it('passes a TLS-only server seen whole, with its figures', () => {
    const result = judgeEncryption(params(), settings(), connections());
    expect(result).toMatchObject({
      verdict: 'pass',
      reasons: [],
      warnings: [],
      figures: {
        ssl: true,
        ownConnectionTls: 'TLSv1.3',
        clientConnections: 3,
        unencrypted: 0,
        invisibleSessions: 0,
      },
    });
    expect(result.details).toMatchObject({ role: 'auditor', required: { invisibleSessions: 'error' } });
  });

  it.each([
    [{ ssl: 'off' }, 'ssl is off on "db": connections cannot be encrypted'],
    [
      { ssl_min_protocol_version: 'TLSv1.1' },
      'ssl_min_protocol_version is TLSv1.1 on "db", older than TLSv1.2',
    ],
    [{ password_encryption: 'md5' }, 'password_encryption is md5 on "db", expected scram-sha-256'],
  ])('fails %o', (changed, reason) => {
    const result = judgeEncryption(params(), settings(changed), connections());
    expect(result.verdict).toBe('fail');
    expect(result.reasons).toEqual([reason]);
  });

  it('accepts the minimum version itself and newer ones', () => {
    expect(
      judgeEncryption(params(), settings({ ssl_min_protocol_version: 'TLSv1.3' }), connections()).verdict,
    ).toBe('pass');
    expect(
      judgeEncryption(
        params({ minTlsVersion: 'TLSv1.3' }),
        settings({ ssl_min_protocol_version: 'TLSv1.2' }),
        connections(),
      ).reasons,
    ).toEqual(['ssl_min_protocol_version is TLSv1.2 on "db", older than TLSv1.3']);
  });

  it('errors on an unknown TLS version and on hidden settings, naming the grant', () => {
    expect(
      judgeEncryption(params(), settings({ ssl_min_protocol_version: 'SSLv3' }), connections()).reasons,
    ).toEqual(['ssl_min_protocol_version is SSLv3 on "db", not a known TLS version']);
    const hidden = judgeEncryption(
      params(),
      settings({ ssl_min_protocol_version: null, role: 'a"b' }),
      connections(),
    );
    expect(hidden.verdict).toBe('error');
    expect(hidden.reasons).toEqual([
      'ssl_min_protocol_version is hidden from role a"b on "db": it needs the pg_read_all_settings privilege (GRANT pg_read_all_settings TO "a""b")',
    ]);
    for (const name of ['ssl', 'password_encryption', 'server_version'] as const) {
      const result = judgeEncryption(params(), settings({ [name]: null }), connections());
      expect(result.verdict).toBe('error');
      expect(result.reasons).toEqual([`setting ${name} is not visible on "db"`]);
    }
  });

  it('fails unencrypted connections, its own counted apart from the others', () => {
    const own = judgeEncryption(params(), settings(), connections({ own_ssl: false, unencrypted: '1' }));
    expect(own.reasons).toEqual(['this check\'s own connection to "db" is not encrypted']);
    const nullOwn = judgeEncryption(params(), settings(), connections({ own_ssl: null }));
    expect(nullOwn.reasons).toEqual(['this check\'s own connection to "db" is not encrypted']);
    const others = judgeEncryption(params(), settings(), connections({ unencrypted: '2' }));
    expect(others.reasons).toEqual(['2 other client connections to "db" are not encrypted']);
    expect(others.figures.unencrypted).toBe(2);
    const ownAndOther = judgeEncryption(
      params(),
      settings(),
      connections({ own_ssl: false, unencrypted: '2' }),
    );
    expect(ownAndOther.reasons).toEqual([
      'this check\'s own connection to "db" is not encrypted',
      '1 other client connections to "db" are not encrypted',
    ]);
    const relaxed = judgeEncryption(
      params({ requireEncryptedConnections: false, requireSsl: false }),
      settings({ ssl: 'off' }),
      connections({ own_ssl: false, unencrypted: '3', invisible: '2' }),
    );
    expect(relaxed.verdict).toBe('pass');
  });

  it('errors (or fails, in strict mode) when sessions are invisible, naming pg_read_all_stats', () => {
    const why =
      'the TLS state of 3 sessions on "db" is not visible to role auditor: sessions of other roles need the pg_read_all_stats privilege (GRANT pg_read_all_stats TO "auditor")';
    const blind = judgeEncryption(params(), settings(), connections({ invisible: '2', unknown: '1' }));
    expect(blind).toMatchObject({ verdict: 'error', reasons: [why], figures: { invisibleSessions: 3 } });
    const strict = judgeEncryption(
      params({ invisibleSessions: 'fail' }),
      settings(),
      connections({ invisible: '3' }),
    );
    expect(strict).toMatchObject({ verdict: 'fail', reasons: [why] });
    const oneUnknown = judgeEncryption(params(), settings(), connections({ unknown: '1' }));
    expect(oneUnknown.verdict).toBe('error');
  });

  it('warns when RDS accepts plaintext, without failing', () => {
    const result = judgeEncryption(params(), settings({ force_ssl: '0' }), connections());
    expect(result).toMatchObject({
      verdict: 'pass',
      warnings: ['rds.force_ssl is 0: the server accepts unencrypted connections'],
    });
    expect(judgeEncryption(params(), settings({ force_ssl: '1' }), connections()).warnings).toEqual([]);
  });
});

describe('outcome', () => {
  it('derives error over fail over pass, errors listed first', () => {
    expect(outcome({ figures: {}, details: null }).verdict).toBe('pass');
    expect(outcome({ reasons: ['r'], figures: {}, details: null })).toMatchObject({
      verdict: 'fail',
      reasons: ['r'],
    });
    expect(
      outcome({ errors: ['e'], reasons: ['r'], warnings: ['w'], figures: { a: 1 }, details: 'd' }),
    ).toEqual({
      verdict: 'error',
      reasons: ['e', 'r'],
      warnings: ['w'],
      figures: { a: 1 },
      details: 'd',
    });
  });
});

describe('judgeSecret', () => {
  const at = new Date('2026-12-01T00:00:00Z');
  const day = 86_400_000;
  const ago = (days: number) => new Date(at.getTime() - days * day).toISOString();
  const judge = (sources: Parameters<typeof judgeSecret>[1], maxAge = 'P90D') =>
    judgeSecret({ name: 'S', maxAge }, sources, at, 14 * day);

  it('lets the oldest dated source decide', () => {
    expect(
      judge([
        { source: 'audit-log', lastRotation: ago(5) },
        { source: 'iam-access-keys', lastRotation: ago(400) },
        { source: 'secrets-manager', lastRotation: ago(30) },
      ]),
    ).toMatchObject({ status: 'overdue', ageDays: 400, source: 'iam-access-keys', lastRotation: ago(400) });
  });

  it('is ok, warning or overdue around the limits', () => {
    expect(judge([{ source: 'audit-log', lastRotation: ago(76) }]).status).toBe('ok');
    expect(judge([{ source: 'audit-log', lastRotation: ago(76.01) }]).status).toBe('warning');
    expect(judge([{ source: 'audit-log', lastRotation: ago(90) }]).status).toBe('warning');
    expect(judge([{ source: 'audit-log', lastRotation: ago(90.01) }]).status).toBe('overdue');
    expect(judge([{ source: 'audit-log', lastRotation: ago(10) }])).toMatchObject({
      ageDays: 10,
      dueBy: new Date(at.getTime() + 80 * day).toISOString(),
      maxAge: 'P90D',
      name: 'S',
    });
  });

  it('ignores undated sources beside dated ones, and says no-record or missing without any', () => {
    expect(
      judge([
        { source: 'audit-log', lastRotation: null },
        { source: 'secrets-manager', lastRotation: ago(3) },
      ]),
    ).toMatchObject({ status: 'ok', source: 'secrets-manager' });
    expect(judge([{ source: 'audit-log', lastRotation: null }])).toMatchObject({
      status: 'no-record',
      lastRotation: null,
      source: null,
      ageDays: null,
      dueBy: null,
    });
    expect(judge([{ source: 'secrets-manager', lastRotation: null, missing: 'gone' }]).status).toBe(
      'missing',
    );
    expect(
      judge([
        { source: 'audit-log', lastRotation: ago(1) },
        { source: 'secrets-manager', lastRotation: null, missing: 'gone' },
      ]),
    ).toMatchObject({ status: 'missing', ageDays: 1 });
  });
});
