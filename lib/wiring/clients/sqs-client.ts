import { SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig, type Env } from './client-config.ts';

/** SQS (the jobs queue). fauxqs needs the explicit endpoint: its queue URLs name `sqs.<region>.localhost`, which does not resolve. */
export function makeSqsClient(env: Env): SQSClient {
  return new SQSClient(clientConfig('SQS', env));
}
