import * as z from 'zod';
import { slugSchema } from '../shared/identifiers.ts';
import { needs, targetNeed } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { ControlCheckError, type ControlOutcome, outcome } from './outcome.ts';

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

export const encryptionConfigParamsSchema = z.strictObject({
  type: z.literal('encryption-config'),
  target: slugSchema.describe(
    'The `targets[].name` of the database whose settings and sessions are checked.',
  ),
  requireSsl: z.boolean().default(true).describe('The server must have TLS enabled (`ssl = on`).'),
  requireEncryptedConnections: z
    .boolean()
    .default(true)
    .describe('Every client connection open at the check, this one included, must use TLS.'),
  minTlsVersion: z
    .enum(TLS_VERSIONS)
    .default('TLSv1.2')
    .describe('Oldest TLS version the server may accept (`ssl_min_protocol_version`).'),
  passwordEncryption: z
    .enum(['scram-sha-256', 'md5'])
    .default('scram-sha-256')
    .describe('Password hashing required for new passwords (`password_encryption`).'),
  invisibleSessions: z
    .enum(['error', 'fail'])
    .default('error')
    .describe(
      'Verdict when sessions of other roles are invisible to the checking role (no pg_read_all_stats), so their TLS state cannot be checked: `error` (could not check) or `fail` (strict).',
    ),
});
export type EncryptionConfigParams = z.output<typeof encryptionConfigParamsSchema>;

/** What the settings query returns; null where the setting is hidden from the role (or absent). */
export interface EncryptionSettings extends Record<string, unknown> {
  role: string;
  ssl: string | null;
  ssl_min_protocol_version: string | null;
  password_encryption: string | null;
  force_ssl: string | null;
  server_version: string | null;
}

export interface ConnectionCounts extends Record<string, unknown> {
  own_ssl: boolean | null;
  own_version: string | null;
  client_connections: string;
  unencrypted: string;
  /** Visible client backends with no TLS row (ended between the two views' reads). */
  unknown: string;
  /** Backends whose type is hidden (NULL): other roles' sessions, seen without pg_read_all_stats. */
  invisible: string;
}

// Stryker disable all: SQL text, covered by the integration suite against real PostgreSQL.
// pg_settings hides the rows the role may not read (ssl_min_protocol_version needs
// pg_read_all_settings), where current_setting() would throw; a hidden row is a NULL here.
const SETTINGS_SQL = `SELECT current_user::text AS role,
        (SELECT setting FROM pg_settings WHERE name = 'ssl') AS ssl,
        (SELECT setting FROM pg_settings WHERE name = 'ssl_min_protocol_version') AS ssl_min_protocol_version,
        (SELECT setting FROM pg_settings WHERE name = 'password_encryption') AS password_encryption,
        (SELECT setting FROM pg_settings WHERE name = 'rds.force_ssl') AS force_ssl,
        (SELECT setting FROM pg_settings WHERE name = 'server_version') AS server_version`;

// Without pg_read_all_stats another role's backend shows a NULL backend_type: such rows are counted
// as invisible, never dropped by the 'client backend' filter.
const CONNECTIONS_SQL = `SELECT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS own_ssl,
        (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS own_version,
        count(*) FILTER (WHERE a.backend_type = 'client backend') AS client_connections,
        count(*) FILTER (WHERE a.backend_type = 'client backend' AND s.ssl IS FALSE) AS unencrypted,
        count(*) FILTER (WHERE a.backend_type = 'client backend' AND s.ssl IS NULL) AS unknown,
        count(*) FILTER (WHERE a.backend_type IS NULL) AS invisible
   FROM pg_stat_activity AS a LEFT JOIN pg_stat_ssl AS s ON s.pid = a.pid
  WHERE a.backend_type = 'client backend' OR a.backend_type IS NULL`;
// Stryker restore all

function quoteRole(role: string): string {
  return `"${role.replaceAll('"', '""')}"`;
}

/** Pure verdict of the encryption check from what the two queries returned. */
export function judgeEncryption(
  params: EncryptionConfigParams,
  settings: EncryptionSettings,
  connections: ConnectionCounts,
): ControlOutcome {
  const errors: string[] = [];
  const reasons: string[] = [];
  const warnings: string[] = [];
  const target = `"${params.target}"`;
  const grant = (role: string) => `GRANT ${role} TO ${quoteRole(settings.role)}`;
  for (const name of ['ssl', 'password_encryption', 'server_version'] as const) {
    if (settings[name] === null) errors.push(`setting ${name} is not visible on ${target}`);
  }
  if (settings.ssl !== null && params.requireSsl && settings.ssl !== 'on')
    reasons.push(`ssl is ${settings.ssl} on ${target}: connections cannot be encrypted`);
  const minVersion = settings.ssl_min_protocol_version;
  if (minVersion === null) {
    errors.push(
      `ssl_min_protocol_version is hidden from role ${settings.role} on ${target}: it needs the pg_read_all_settings privilege (${grant('pg_read_all_settings')})`,
    );
  } else {
    const index = TLS_VERSIONS.indexOf(minVersion as (typeof TLS_VERSIONS)[number]);
    if (index < 0)
      errors.push(`ssl_min_protocol_version is ${minVersion} on ${target}, not a known TLS version`);
    else if (index < TLS_VERSIONS.indexOf(params.minTlsVersion)) {
      reasons.push(
        `ssl_min_protocol_version is ${minVersion} on ${target}, older than ${params.minTlsVersion}`,
      );
    }
  }
  if (settings.password_encryption !== null && settings.password_encryption !== params.passwordEncryption) {
    reasons.push(
      `password_encryption is ${settings.password_encryption} on ${target}, expected ${params.passwordEncryption}`,
    );
  }
  const clientConnections = Number(connections.client_connections);
  const unencrypted = Number(connections.unencrypted);
  const unknown = Number(connections.unknown);
  const invisible = Number(connections.invisible);
  if (params.requireEncryptedConnections) {
    if (connections.own_ssl !== true)
      reasons.push(`this check's own connection to ${target} is not encrypted`);
    const others = unencrypted - (connections.own_ssl === false ? 1 : 0);
    if (others > 0) reasons.push(`${others} other client connections to ${target} are not encrypted`);
    const blind = invisible + unknown;
    if (blind > 0) {
      const why = `the TLS state of ${blind} sessions on ${target} is not visible to role ${settings.role}: sessions of other roles need the pg_read_all_stats privilege (${grant('pg_read_all_stats')})`;
      (params.invisibleSessions === 'fail' ? reasons : errors).push(why);
    }
  }
  if (settings.force_ssl === '0')
    warnings.push('rds.force_ssl is 0: the server accepts unencrypted connections');

  return outcome({
    errors,
    reasons,
    warnings,
    figures: {
      ssl: settings.ssl === 'on',
      ownConnectionTls: connections.own_version ?? null,
      clientConnections,
      unencrypted,
      invisibleSessions: invisible + unknown,
    },
    details: {
      role: settings.role,
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
        invisibleSessions: params.invisibleSessions,
      },
      atRest:
        'not visible from SQL: evidence storage encryption from the RDS API (StorageEncrypted) or the provider',
    },
  });
}

async function run(params: EncryptionConfigParams, context: ControlContext): Promise<ControlOutcome> {
  return context.ports.postgres.withReadOnlySession(params.target, context.evidence, async (session) => {
    const [settings] = await session.query<EncryptionSettings>('encryption settings', SETTINGS_SQL);
    if (!settings) throw new ControlCheckError('the settings query returned no row');
    const [connections] = await session.query<ConnectionCounts>(
      'client connections and TLS',
      CONNECTIONS_SQL,
    );
    if (!connections) throw new ControlCheckError('the connections query returned no row');
    return judgeEncryption(params, settings, connections);
  });
}

export const encryptionConfig: ControlTest<EncryptionConfigParams> = {
  type: 'encryption-config',
  description:
    'Encryption configuration: TLS on and used by every connection, a modern minimum TLS version, SCRAM passwords.',
  paramsSchema: encryptionConfigParamsSchema,
  needs: (params) => needs({ targets: [targetNeed(params.target, 'target')] }),
  run,
};
