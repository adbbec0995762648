import { type ConnectionResolver, makePostgresPort } from '../adapters/postgres/postgres-port.ts';
import { secretConnectionResolver } from '../adapters/secrets-manager/secret-connection-resolver.ts';
import type { Config } from '../config/schema.ts';
import type { ManifestSigner } from '../evidence/signer.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { Logger } from '../shared/logger.ts';
import { loadRuntimeResources, type RuntimeResources } from '../shared/runtime-env.ts';
import type { AwsClients } from './aws-clients.ts';
import { makeBackupClient } from './clients/backup-client.ts';
import type { Env } from './clients/client-config.ts';
import { makeDynamoDbClient } from './clients/dynamodb-client.ts';
import { makeIamClient } from './clients/iam-client.ts';
import { makeKmsClient } from './clients/kms-client.ts';
import { lazyClient } from './clients/lazy-client.ts';
import { makeS3Client } from './clients/s3-client.ts';
import { makeSecretsManagerClient } from './clients/secrets-manager-client.ts';
import { makeSnsClient } from './clients/sns-client.ts';
import { makeControlPorts } from './make-control-ports.ts';
import { makeRunRecording } from './make-run-recording.ts';

/** The clients a control run uses (no SQS: runners consume jobs, they never enqueue them). */
export type RunClients = Pick<
  AwsClients,
  'dynamodb' | 's3' | 'sns' | 'kms' | 'secretsManager' | 'iam' | 'backup'
>;

export interface RunDepsInput {
  readonly config: Config;
  readonly resources: Pick<RuntimeResources, 'resultsTable' | 'evidenceBucket' | 'notificationsTopicArn'> &
    Partial<RuntimeResources>;
  readonly clients: RunClients;
  /** @default connection strings from the target's env var, else from Secrets Manager (`env` below) */
  readonly resolveConnection?: ConnectionResolver;
  /** Where `resolveConnection`'s default reads target env vars. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  readonly clock?: () => Date;
  /**
   * Whether controls may call AWS account APIs (Secrets Manager, IAM, Backup). Off for the local
   * emulators, where those tests then report `error` instead of calling AWS with dummy keys.
   * @default true
   */
  readonly awsApis?: boolean;
  /** Signs evidence manifests. @default KMS when `resources.signingKeyId` is set, else a key generated for this process */
  readonly signer?: ManifestSigner;
}

/** Wires the run use case to its adapters; shared by the worker Lambda, the CLI and the demo. */
export function makeRunDeps(input: RunDepsInput): RunControlDeps {
  const { config, resources, clients } = input;
  const recording = makeRunRecording({ ...input, clients });
  const resolveConnection =
    input.resolveConnection ?? secretConnectionResolver(clients.secretsManager, input.env ?? process.env);
  const postgres = makePostgresPort(config.targets, resolveConnection);
  const ports = makeControlPorts(config, clients, postgres, recording.results, resources.evidenceBucket, {
    awsApis: input.awsApis ?? true,
  });
  return { ...recording, ports };
}

/**
 * The deployed runners' wiring (worker and restore validator), built once at cold start: resource
 * names from the environment the stack sets, connection strings from Secrets Manager, and manifests
 * signed with the stack's KMS key (its id is required, so a runner never signs with a throwaway key).
 * Only the clients a run uses are bundled (see `RunClients`), and each is built by its first call.
 */
export function makeDeployedRunDeps(config: Config, env: Env, log: Logger) {
  const clients: RunClients = {
    dynamodb: lazyClient(() => makeDynamoDbClient(env)),
    s3: lazyClient(() => makeS3Client(env)),
    sns: lazyClient(() => makeSnsClient(env)),
    kms: lazyClient(() => makeKmsClient(env)),
    secretsManager: lazyClient(() => makeSecretsManagerClient(env)),
    iam: lazyClient(() => makeIamClient(env)),
    backup: lazyClient(() => makeBackupClient(env)),
  };
  const resolveConnection = secretConnectionResolver(clients.secretsManager, env);
  const runDeps = makeRunDeps({
    config,
    resources: loadRuntimeResources(env, [
      'resultsTable',
      'evidenceBucket',
      'notificationsTopicArn',
      'signingKeyId',
    ]),
    clients,
    resolveConnection,
    env,
    log,
  });
  return { clients, resolveConnection, runDeps };
}
