import {
  makeDynamoChainHeads,
  makeDynamoCheckpointHeads,
} from '../adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeS3ObjectReader } from '../adapters/s3/s3-evidence-reader.ts';
import { makeS3ObjectStore } from '../adapters/s3/s3-evidence-recorder.ts';
import type { Config } from '../config/schema.ts';
import { signOffChainsOf } from '../controls/review-schedule.ts';
import { configHash } from '../evidence/checkpoint.ts';
import type { ManifestSigner } from '../evidence/signer.ts';
import type { CheckpointDeps } from '../evidence/write-checkpoint.ts';
import { loadRuntimeResources, type RuntimeResources } from '../shared/runtime-env.ts';
import type { AwsClients } from './aws-clients.ts';
import { makeDynamoDbClient } from './clients/dynamodb-client.ts';
import { makeKmsClient } from './clients/kms-client.ts';
import { lazyClient } from './clients/lazy-client.ts';
import { makeS3Client } from './clients/s3-client.ts';
import { makeManifestSigner } from './make-signer.ts';

export interface CheckpointDepsInput {
  readonly config: Config;
  readonly resources: Pick<RuntimeResources, 'resultsTable' | 'evidenceBucket'> & Partial<RuntimeResources>;
  readonly clients: Pick<AwsClients, 's3' | 'dynamodb' | 'kms'>;
  /** @default KMS when `resources.signingKeyId` is set, else the process's local key */
  readonly signer?: ManifestSigner;
  readonly clock?: () => Date;
}

/** Wires the checkpoint writer to the evidence bucket, the results table and the signing key. */
export function makeCheckpointDeps(input: CheckpointDepsInput): CheckpointDeps {
  const { config, resources, clients } = input;
  return {
    config,
    configSha256: configHash(config),
    chains: makeDynamoChainHeads(clients.dynamodb, resources.resultsTable),
    checkpoints: makeDynamoCheckpointHeads(clients.dynamodb, resources.resultsTable),
    store: makeS3ObjectStore(clients.s3, resources.evidenceBucket),
    readObject: makeS3ObjectReader(clients.s3, resources.evidenceBucket),
    signer: input.signer ?? makeManifestSigner({ kms: clients.kms, signingKeyId: resources.signingKeyId }),
    signOffChains: signOffChainsOf(config),
    ...(input.clock ? { clock: input.clock } : {}),
  };
}

/**
 * The deployed checkpoint writer's wiring, built once at cold start: the same environment variables
 * as the worker (results table, evidence bucket, signing key id; see `ENV` in lib/shared/runtime-env.ts),
 * and the KMS key required, so a checkpoint is never signed with a throwaway key.
 */
export function makeDeployedCheckpointDeps(
  config: Config,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CheckpointDeps {
  return makeCheckpointDeps({
    config,
    resources: loadRuntimeResources(env, ['resultsTable', 'evidenceBucket', 'signingKeyId']),
    // Only the three clients it uses, so its bundle carries no other SDK client.
    clients: {
      s3: lazyClient(() => makeS3Client(env)),
      dynamodb: lazyClient(() => makeDynamoDbClient(env)),
      kms: lazyClient(() => makeKmsClient(env)),
    },
  });
}
