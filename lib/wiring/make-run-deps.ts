import { type ConnectionResolver, makePostgresPort } from '../adapters/postgres/postgres-port.ts';
import { secretConnectionResolver } from '../adapters/secrets-manager/secret-connection-resolver.ts';
import type { Config } from '../config/schema.ts';
import type { ManifestSigner } from '../evidence/signer.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { Logger } from '../shared/logger.ts';
import type { RuntimeResources } from '../shared/runtime-env.ts';
import type { AwsClients } from './aws-clients.ts';
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
