import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  connectionStringFromSecret,
  secretConnectionResolver,
} from '../../../lib/adapters/secrets-manager/secret-connection-resolver.ts';
import type { TargetConfig } from '../../../lib/config/schema.ts';

const target: TargetConfig = {
  name: 'app',
  connection: { env: 'DATABASE_URL', secretId: 'prod/app-db' },
  statementTimeoutMs: 30_000,
};

describe('secretConnectionResolver', () => {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const sm = mockClient(client);
  beforeEach(() => sm.reset());

  it('prefers the environment variable and never calls Secrets Manager then', async () => {
    const resolve = secretConnectionResolver(client, { DATABASE_URL: 'postgres://local/app' });
    expect(await resolve(target)).toBe('postgres://local/app');
    expect(sm.calls()).toHaveLength(0);
  });

  it('builds a verify-full URL from the RDS JSON shape and caches it', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'prod/app-db' }).resolves({
      SecretString: JSON.stringify({
        engine: 'postgres',
        host: 'db.example.internal',
        port: 5432,
        username: 'auditor',
        password: 'p@ss/w:rd',
        dbname: 'app',
      }),
    });
    let now = 0;
    const resolve = secretConnectionResolver(client, {}, { cacheMs: 1000, clock: () => now });
    const url = await resolve(target);
    expect(url).toBe('postgres://auditor:p%40ss%2Fw%3Ard@db.example.internal:5432/app?sslmode=verify-full');
    expect(new URL(url).password).toBe(encodeURIComponent('p@ss/w:rd'));
    await resolve(target);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now = 2000;
    await resolve(target);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('accepts a postgres:// URL secret verbatim', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: ' postgresql://u:p@h:6543/d?sslmode=verify-full\n',
    });
    expect(await secretConnectionResolver(client, {})(target)).toBe(
      'postgresql://u:p@h:6543/d?sslmode=verify-full',
    );
  });

  it('adds certificate-verified TLS to a postgres:// URL secret that names no sslmode', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: 'postgres://u:p@db.example.internal/d?application_name=x',
    });
    expect(await secretConnectionResolver(client, {})(target)).toBe(
      'postgres://u:p@db.example.internal/d?application_name=x&sslmode=verify-full',
    );
  });

  it('keeps an explicit sslmode=disable, which the owner chose', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'postgres://u:p@h/d?sslmode=disable' });
    expect(await secretConnectionResolver(client, {})(target)).toBe('postgres://u:p@h/d?sslmode=disable');
  });

  it('errors without revealing the value when the secret has neither shape', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ username: 'u', password: 'hunter2' }),
    });
    const failure = secretConnectionResolver(client, {})(target);
    await expect(failure).rejects.toThrow(
      'secret prod/app-db is not the RDS JSON shape: missing or invalid host',
    );
    await expect(failure).rejects.not.toThrow(/hunter2/);
    expect(() => connectionStringFromSecret('s', 'hunter2')).toThrow(
      'secret s is neither a postgres:// URL nor JSON',
    );
  });

  it('errors naming the secret when it does not exist, and does not cache the failure', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'gone', $metadata: {} }))
      .resolves({ SecretString: 'postgres://u:p@h/d' });
    const resolve = secretConnectionResolver(client, {});
    await expect(resolve(target)).rejects.toThrow(
      'reading Secrets Manager secret prod/app-db: the secret does not exist',
    );
    expect(await resolve(target)).toBe('postgres://u:p@h/d?sslmode=verify-full');
  });
});
