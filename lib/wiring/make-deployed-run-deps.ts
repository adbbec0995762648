import { makePostgresPort } from '../adapters/postgres/postgres-port.ts';
import { secretConnectionResolver } from '../adapters/secrets-manager/secret-connection-resolver.ts';
import type { Config } from '../config/schema.ts';
import type { ControlPorts } from '../controls/ports.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { Logger } from '../shared/logger.ts';
import { loadRuntimeResources } from '../shared/runtime-env.ts';
import type { Env } from './clients/client-config.ts';
import { makeDynamoDbClient } from './clients/dynamodb-client.ts';
import { makeKmsClient } from './clients/kms-client.ts';
import { lazyClient } from './clients/lazy-client.ts';
import { makeS3Client } from './clients/s3-client.ts';
import { makeSecretsManagerClient } from './clients/secrets-manager-client.ts';
import { makeSnsClient } from './clients/sns-client.ts';
import { lazyAwsApiPorts } from './lazy-aws-api-ports.ts';
import { makeBaseControlPorts } from './make-base-control-ports.ts';
import { makeRunRecording } from './make-run-recording.ts';

/**
 * The worker's wiring, built once at cold start: resource names from the environment the stack
 * sets, connection strings from Secrets Manager, and manifests signed with the stack's KMS key (its
 * id is required, so a runner never signs with a throwaway key). The same ports as `makeRunDeps`
 * (`make-run-deps.ts`), but each client is built by its first call, and the IAM and Backup clients
 * and the account-API adapters are not even loaded until a control calls them (`lazyAwsApiPorts`).
 * Its own module, importing neither `make-run-deps.ts` nor `make-control-ports.ts`: a module the
 * entry reaches statically is in the cold start's chunks, whatever else imports it lazily.
 */
export function makeDeployedRunDeps(config: Config, env: Env, log: Logger) {
  const clients = {
    dynamodb: lazyClient(() => makeDynamoDbClient(env)),
    s3: lazyClient(() => makeS3Client(env)),
    sns: lazyClient(() => makeSnsClient(env)),
    kms: lazyClient(() => makeKmsClient(env)),
    secretsManager: lazyClient(() => makeSecretsManagerClient(env)),
  };
  const resources = loadRuntimeResources(env, [
    'resultsTable',
    'evidenceBucket',
    'notificationsTopicArn',
    'signingKeyId',
  ]);
  const recording = makeRunRecording({ config, resources, clients, log });
  const resolveConnection = secretConnectionResolver(clients.secretsManager, env);
  const postgres = makePostgresPort(config.targets, resolveConnection);
  const ports: ControlPorts = {
    ...makeBaseControlPorts(config, clients, postgres, recording.results, resources.evidenceBucket),
    ...lazyAwsApiPorts(env, clients.secretsManager),
  };
  const runDeps: RunControlDeps = { ...recording, ports };
  return { resolveConnection, runDeps };
}
