import { S3Client } from '@aws-sdk/client-s3';
import { clientConfig, type Env } from './client-config.ts';

/** S3 (evidence). Path style when aimed at an emulator: hostnames like `bucket.localhost` do not resolve. */
export function makeS3Client(env: Env): S3Client {
  const config = clientConfig('S3', env);
  return new S3Client({ ...config, forcePathStyle: config.endpoint !== undefined });
}
