import { SNSClient } from '@aws-sdk/client-sns';
import { clientConfig, type Env } from './client-config.ts';

/** SNS (notifications). One file per client, so a bundle carries only the clients its function builds. */
export function makeSnsClient(env: Env): SNSClient {
  return new SNSClient(clientConfig('SNS', env));
}
