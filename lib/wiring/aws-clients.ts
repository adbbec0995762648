import { BackupClient } from '@aws-sdk/client-backup';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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

type Env = Readonly<Record<string, string | undefined>>;

/** `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, as the SDK itself resolves them. */
export function endpointFor(service: string, env: Env): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
}

/**
 * Builds every client once (at cold start or CLI start). Endpoints are passed explicitly from `env`
 * so tests can aim one process at several emulators; S3 uses path style and SQS an explicit
 * endpoint when pointed at an emulator, since emulator hostnames like `bucket.localhost` and
 * `sqs.<region>.localhost` do not resolve.
 */
export function makeAwsClients(env: Env = process.env): AwsClients {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // Explicit keys in `env` (the emulators' dummy ones) win; otherwise the SDK's default chain applies.
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && env !== process.env
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
      : undefined;
  const common = { region, maxAttempts: 3, ...(credentials ? { credentials } : {}) };
  const s3Endpoint = endpointFor('S3', env);
  return {
    dynamodb: DynamoDBDocumentClient.from(
      new DynamoDBClient({ ...common, endpoint: endpointFor('DYNAMODB', env) }),
      {
        marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      },
    ),
    s3: new S3Client({ ...common, endpoint: s3Endpoint, forcePathStyle: s3Endpoint !== undefined }),
    sns: new SNSClient({ ...common, endpoint: endpointFor('SNS', env) }),
    sqs: new SQSClient({ ...common, endpoint: endpointFor('SQS', env) }),
    secretsManager: new SecretsManagerClient({ ...common, endpoint: endpointFor('SECRETS_MANAGER', env) }),
    iam: new IAMClient({ ...common, endpoint: endpointFor('IAM', env) }),
    backup: new BackupClient({ ...common, endpoint: endpointFor('BACKUP', env) }),
    kms: new KMSClient({ ...common, endpoint: endpointFor('KMS', env) }),
  };
}
