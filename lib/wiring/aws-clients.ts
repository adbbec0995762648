import type { BackupClient } from '@aws-sdk/client-backup';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeBackupClient } from './clients/backup-client.ts';
import { type Env, endpointFor } from './clients/client-config.ts';
import { makeDynamoDbClient } from './clients/dynamodb-client.ts';
import { makeIamClient } from './clients/iam-client.ts';
import { makeKmsClient } from './clients/kms-client.ts';
import { makeS3Client } from './clients/s3-client.ts';
import { makeSecretsManagerClient } from './clients/secrets-manager-client.ts';
import { makeSnsClient } from './clients/sns-client.ts';
import { makeSqsClient } from './clients/sqs-client.ts';

export { endpointFor };

export interface AwsClients {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly secretsManager: SecretsManagerClient;
  readonly iam: IAMClient;
  readonly backup: BackupClient;
  readonly kms: KMSClient;
}

/**
 * Every client at once, for the CLI, the demo and the tests. Lambda functions never call this: each
 * builds only the clients it uses through `clients/*-client.ts`, so its bundle carries only those
 * (the dispatcher needs SQS alone).
 */
export function makeAwsClients(env: Env = process.env): AwsClients {
  return {
    dynamodb: makeDynamoDbClient(env),
    s3: makeS3Client(env),
    sns: makeSnsClient(env),
    sqs: makeSqsClient(env),
    secretsManager: makeSecretsManagerClient(env),
    iam: makeIamClient(env),
    backup: makeBackupClient(env),
    kms: makeKmsClient(env),
  };
}
