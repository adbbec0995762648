import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ControlCheckError } from '../../controls/outcome.ts';
import { awsCallError } from '../aws-call-evidence.ts';
import type { ConnectionResolver } from '../postgres/postgres-port.ts';

/** The JSON shape RDS and Secrets Manager's rotation templates store (`engine` and others are ignored). */
const rdsSecretSchema = z.looseObject({
  host: z.string().min(1),
  port: z.union([z.number().int(), z.string().regex(/^\d+$/)]).optional(),
  username: z.string().min(1),
  password: z.string().min(1),
  dbname: z.string().min(1).optional(),
  /** libpq sslmode. @default 'verify-full' (RDS CA trusted via NODE_EXTRA_CA_CERTS in Lambda) */
  sslmode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).optional(),
});

/**
 * A URL secret without `sslmode` gets `sslmode=verify-full`: without it node-pg connects in
 * plaintext, and a secret should not silently downgrade the connection the evidence is read over.
 * (In Lambda, trust the RDS CA: NODE_EXTRA_CA_CERTS pointing at the RDS bundle.)
 */
function withVerifiedTls(secretId: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ControlCheckError(`secret ${secretId} holds a postgres:// URL that does not parse`);
  }
  if (url.searchParams.has('sslmode')) return text;
  return `${text}${url.search === '' ? '?' : '&'}sslmode=verify-full`;
}

/**
 * Turns a secret's text into a connection string. Accepts a `postgres://` URL or the RDS JSON
 * shape {host, port, username, password, dbname}. Errors name what is wrong, never the value.
 */
export function connectionStringFromSecret(secretId: string, text: string): string {
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return withVerifiedTls(secretId, trimmed);
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new ControlCheckError(`secret ${secretId} is neither a postgres:// URL nor JSON`);
  }
  const parsed = rdsSecretSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
    throw new ControlCheckError(
      `secret ${secretId} is not the RDS JSON shape: missing or invalid ${fields.join(', ')}`,
    );
  }
  const secret = parsed.data;
  const url = new URL('postgres://placeholder');
  url.hostname = secret.host;
  url.port = String(secret.port ?? 5432);
  url.username = encodeURIComponent(secret.username);
  url.password = encodeURIComponent(secret.password);
  url.pathname = `/${encodeURIComponent(secret.dbname ?? 'postgres')}`;
  const sslmode = secret.sslmode ?? 'verify-full';
  url.searchParams.set('sslmode', sslmode);
  // libpq semantics for require/verify-ca (node-pg otherwise treats them as verify-full).
  if (sslmode === 'require' || sslmode === 'verify-ca') url.searchParams.set('uselibpqcompat', 'true');
  return url.toString();
}

/**
 * Resolves a target's connection string: the environment variable it names first (local runs,
 * overrides), else `GetSecretValue` of its `secretId`, cached for `cacheMs` so a rotated password
 * is picked up within minutes. The value never reaches logs, evidence or error messages.
 */
export function secretConnectionResolver(
  client: SecretsManagerClient,
  env: Readonly<Record<string, string | undefined>>,
  options: { cacheMs?: number; clock?: () => number } = {},
): ConnectionResolver {
  const cacheMs = options.cacheMs ?? 5 * 60_000;
  const clock = options.clock ?? Date.now;
  const cache = new Map<string, { value: Promise<string>; at: number }>();

  const fetch = async (secretId: string): Promise<string> => {
    let response: GetSecretValueCommandOutput;
    try {
      response = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (error) {
      // Not recorded as evidence: this call reads a credential, and its value must never be kept.
      throw awsCallError(
        error,
        `reading Secrets Manager secret ${secretId}`,
        'secretsmanager:GetSecretValue, and kms:Decrypt for a customer-managed key',
        'the secret does not exist',
      );
    }
    const text =
      response.SecretString ??
      (response.SecretBinary ? Buffer.from(response.SecretBinary).toString('utf8') : undefined);
    if (!text) throw new ControlCheckError(`Secrets Manager secret ${secretId} has no value`);
    return connectionStringFromSecret(secretId, text);
  };

  return async (target) => {
    const fromEnv = target.connection.env ? env[target.connection.env] : undefined;
    if (fromEnv) return fromEnv;
    const secretId = target.connection.secretId;
    if (!secretId) {
      throw new ControlCheckError(
        `no connection string for target "${target.name}": set ${target.connection.env ?? 'connection.secretId'}`,
      );
    }
    const cached = cache.get(secretId);
    if (cached && clock() - cached.at < cacheMs) return cached.value;
    const value = fetch(secretId);
    cache.set(secretId, { value, at: clock() });
    // A failed read is not cached: the next run tries again.
    value.catch(() => cache.delete(secretId));
    return value;
  };
}
