import * as z from 'zod';
import { slugSchema } from '../shared/identifiers.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { ControlCheckError, type ControlOutcome, outcome } from './outcome.ts';

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

export const encryptionConfigParamsSchema = z.strictObject({
  type: z.literal('encryption-config'),
  target: slugSchema,
  /** The server must have TLS enabled (`ssl = on`). @default true */
  requireSsl: z.boolean().default(true),
  /** Every client connection open at the check, this one included, must use TLS. @default true */
  requireEncryptedConnections: z.boolean().default(true),
  /** Oldest TLS version the server may accept (`ssl_min_protocol_version`). @default 'TLSv1.2' */
  minTlsVersion: z.enum(TLS_VERSIONS).default('TLSv1.2'),
  /** Password hashing required for new passwords (`password_encryption`). @default 'scram-sha-256' */
  passwordEncryption: z.enum(['scram-sha-256', 'md5']).default('scram-sha-256'),
});
export type EncryptionConfigParams = z.output<typeof encryptionConfigParamsSchema>;

interface Settings extends Record<string, unknown> {
  ssl: string;
  ssl_min_protocol_version: string | null;
  password_encryption: string;
  force_ssl: string | null;
  server_version: string;
}

interface Connections extends Record<string, unknown> {
  own_ssl: boolean | null;
  own_version: string | null;
  client_connections: string;
  unencrypted: string;
  unknown: string;
}

async function run(params: EncryptionConfigParams, context: ControlContext): Promise<ControlOutcome> {
  return context.ports.postgres.withReadOnlySession(params.target, context.evidence, async (session) => {
    const [settings] = await session.query<Settings>(
      'encryption settings',
      `SELECT current_setting('ssl') AS ssl,
              current_setting('ssl_min_protocol_version', true) AS ssl_min_protocol_version,
              current_setting('password_encryption') AS password_encryption,
              current_setting('rds.force_ssl', true) AS force_ssl,
              current_setting('server_version') AS server_version`,
    );
    if (!settings) throw new ControlCheckError('the settings query returned no row');
    // pg_stat_ssl lists every backend; another role's row may be hidden without pg_read_all_stats.
    const [connections] = await session.query<Connections>(
      'client connections and TLS',
      `SELECT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS own_ssl,
              (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS own_version,
              count(*) AS client_connections,
              count(*) FILTER (WHERE s.ssl IS FALSE) AS unencrypted,
              count(*) FILTER (WHERE s.ssl IS NULL) AS unknown
         FROM pg_stat_activity AS a LEFT JOIN pg_stat_ssl AS s ON s.pid = a.pid
        WHERE a.backend_type = 'client backend'`,
    );
    if (!connections) throw new ControlCheckError('the connections query returned no row');

    const reasons: string[] = [];
    const warnings: string[] = [];
    const target = `"${params.target}"`;
    if (params.requireSsl && settings.ssl !== 'on')
      reasons.push(`ssl is ${settings.ssl} on ${target}: connections cannot be encrypted`);
    const minVersion = settings.ssl_min_protocol_version;
    if (
      minVersion &&
      TLS_VERSIONS.indexOf(minVersion as (typeof TLS_VERSIONS)[number]) <
        TLS_VERSIONS.indexOf(params.minTlsVersion)
    ) {
      reasons.push(
        `ssl_min_protocol_version is ${minVersion} on ${target}, older than ${params.minTlsVersion}`,
      );
    }
    if (settings.password_encryption !== params.passwordEncryption) {
      reasons.push(
        `password_encryption is ${settings.password_encryption} on ${target}, expected ${params.passwordEncryption}`,
      );
    }
    const unencrypted = Number(connections.unencrypted);
    if (params.requireEncryptedConnections) {
      if (connections.own_ssl !== true)
        reasons.push(`this check's own connection to ${target} is not encrypted`);
      const others = unencrypted - (connections.own_ssl === false ? 1 : 0);
      if (others > 0) reasons.push(`${others} other client connections to ${target} are not encrypted`);
    }
    const unknown = Number(connections.unknown);
    if (unknown > 0)
      warnings.push(
        `TLS state of ${unknown} connections is not visible to this role (grant pg_read_all_stats)`,
      );
    if (settings.force_ssl === '0')
      warnings.push('rds.force_ssl is 0: the server accepts unencrypted connections');

    return outcome({
      reasons,
      warnings,
      figures: {
        ssl: settings.ssl === 'on',
        ownConnectionTls: connections.own_version ?? null,
        clientConnections: Number(connections.client_connections),
        unencrypted,
      },
      details: {
        settings: {
          ssl: settings.ssl,
          sslMinProtocolVersion: minVersion,
          passwordEncryption: settings.password_encryption,
          rdsForceSsl: settings.force_ssl,
          serverVersion: settings.server_version,
        },
        required: {
          ssl: params.requireSsl,
          encryptedConnections: params.requireEncryptedConnections,
          minTlsVersion: params.minTlsVersion,
          passwordEncryption: params.passwordEncryption,
        },
        atRest:
          'not visible from SQL: evidence storage encryption from the RDS API (StorageEncrypted) or the provider',
      },
    });
  });
}

export const encryptionConfig: ControlTest<EncryptionConfigParams> = {
  type: 'encryption-config',
  description:
    'Encryption configuration: TLS on and used by every connection, a modern minimum TLS version, SCRAM passwords.',
  paramsSchema: encryptionConfigParamsSchema,
  run,
};
