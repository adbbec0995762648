import { KMSClient } from '@aws-sdk/client-kms';
import { clientConfig, type Env } from './client-config.ts';

/** KMS (manifest signatures). */
export function makeKmsClient(env: Env): KMSClient {
  return new KMSClient(clientConfig('KMS', env));
}
