import { secretConnectionResolver } from '../adapters/secrets-manager/secret-connection-resolver.ts';
import { embeddedConfig } from '../config/embedded-config.ts';
import type { Config } from '../config/schema.ts';
import type { RestoreValidationDeps } from '../restore/restore-validation.ts';
import { loadRuntimeResources } from '../shared/runtime-env.ts';
import { makeBackupClient } from './clients/backup-client.ts';
import type { Env } from './clients/client-config.ts';
import { makeDynamoDbClient } from './clients/dynamodb-client.ts';
import { makeKmsClient } from './clients/kms-client.ts';
import { lazyClient } from './clients/lazy-client.ts';
import { makeRdsClient } from './clients/rds-client.ts';
import { makeS3Client } from './clients/s3-client.ts';
import { makeSecretsManagerClient } from './clients/secrets-manager-client.ts';
import { makeSnsClient } from './clients/sns-client.ts';
import type { LambdaDepsBase } from './lambda-deps.ts';
import { makeLambdaLogger } from './lambda-logger.ts';
import { makeRestoreValidationDeps } from './make-restore-validation-deps.ts';
import { makeRunRecording } from './make-run-recording.ts';

export interface RestoreValidatorDeps extends LambdaDepsBase {
  readonly validation: RestoreValidationDeps;
}

/**
 * functions/restore-validator at cold start: a run's recording (results, signed evidence with the
 * stack's KMS key, notifications), connection strings from Secrets Manager, AWS Backup and RDS.
 * No control ports: the validator brings its own database port, so no IAM client is bundled. Each
 * client is built by its first call: an ignored event (not COMPLETED) builds none.
 */
export function makeRestoreValidatorDeps(env: Env, config: Config = embeddedConfig()): RestoreValidatorDeps {
  const log = makeLambdaLogger();
  const resources = loadRuntimeResources(env, [
    'resultsTable',
    'evidenceBucket',
    'notificationsTopicArn',
    'signingKeyId',
  ]);
  const recording = makeRunRecording({
    config,
    resources,
    clients: {
      dynamodb: lazyClient(() => makeDynamoDbClient(env)),
      s3: lazyClient(() => makeS3Client(env)),
      sns: lazyClient(() => makeSnsClient(env)),
      kms: lazyClient(() => makeKmsClient(env)),
    },
    log: log.port,
  });
  return {
    config,
    log,
    validation: makeRestoreValidationDeps({
      runDeps: recording,
      clients: { backup: lazyClient(() => makeBackupClient(env)) },
      resolveConnection: secretConnectionResolver(
        lazyClient(() => makeSecretsManagerClient(env)),
        env,
      ),
      env,
      rds: lazyClient(() => makeRdsClient(env)),
    }),
  };
}
