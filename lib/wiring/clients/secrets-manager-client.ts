import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientConfig, type Env } from './client-config.ts';

/** Secrets Manager (connection strings, webhook URLs, rotation metadata). */
export function makeSecretsManagerClient(env: Env): SecretsManagerClient {
  return new SecretsManagerClient(clientConfig('SECRETS_MANAGER', env));
}
