import { IAMClient } from '@aws-sdk/client-iam';
import { clientConfig, type Env } from './client-config.ts';

/** IAM (access key ages). */
export function makeIamClient(env: Env): IAMClient {
  return new IAMClient(clientConfig('IAM', env));
}
