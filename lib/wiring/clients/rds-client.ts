import { RDSClient } from '@aws-sdk/client-rds';
import { clientConfig, type Env } from './client-config.ts';

/** RDS (finding the instance a restore test created). */
export function makeRdsClient(env: Env): RDSClient {
  return new RDSClient(clientConfig('RDS', env));
}
