import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  makeDynamoChainHeads,
  makeDynamoCheckpointHeads,
} from '../adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeDynamoOutbox } from '../adapters/dynamodb/dynamodb-outbox.ts';
import { makeDynamoResultsStore } from '../adapters/dynamodb/dynamodb-results.ts';
import type { FolderBucket } from '../adapters/filesystem/folder-bucket.ts';
import { envConnectionResolver, makePostgresPort } from '../adapters/postgres/postgres-port.ts';
import type { Config } from '../config/schema.ts';
import type { ObjectStorePort } from '../controls/ports.ts';
import { makeVerdictHistory } from '../controls/verdict-history.ts';
import { type CheckpointConfig, configHash } from '../evidence/checkpoint.ts';
import { makeEvidenceRecorder } from '../evidence/record-evidence.ts';
import type { ManifestSigner } from '../evidence/signer.ts';
import type { CheckpointDeps } from '../evidence/write-checkpoint.ts';
import type { Notifier } from '../notify/notification.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { Logger } from '../shared/logger.ts';

/** What a local run writes to: the persisted results table, the evidence folder, a local key. */
export interface LocalRunStores {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly resultsTable: string;
  /** The evidence bucket as a folder in `aws s3 sync` layout. */
  readonly bucket: FolderBucket;
  /** Customer inputs (scanner reports, attestations) the controls read. */
  readonly inputs: ObjectStorePort;
  readonly signer: ManifestSigner;
  readonly notifier: Notifier;
}

/**
 * The run use case wired for `run --local`: the same recorder, results store, outbox and control
 * tests as the worker Lambda, with the evidence bucket replaced by a folder, SNS by a file and KMS
 * by a key kept in the state folder. Connection strings come from the targets' env vars only (no
 * Secrets Manager), and controls that need AWS account APIs report `error` (none are wired).
 */
export function makeLocalRunDeps(input: {
  readonly config: Config;
  readonly stores: LocalRunStores;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  readonly clock?: () => Date;
}): RunControlDeps {
  const { config, stores } = input;
  const results = makeDynamoResultsStore(stores.dynamodb, stores.resultsTable);
  return {
    config,
    results,
    evidence: makeEvidenceRecorder({
      store: stores.bucket.store,
      signer: stores.signer,
      chain: makeDynamoChainHeads(stores.dynamodb, stores.resultsTable),
      timeZone: config.timeZone,
    }),
    notifier: stores.notifier,
    outbox: makeDynamoOutbox(stores.dynamodb, stores.resultsTable),
    log: input.log,
    ports: {
      postgres: makePostgresPort(config.targets, envConnectionResolver(input.env)),
      objects: stores.inputs,
      verdictHistory: makeVerdictHistory(config.controls, results),
    },
    ...(input.clock ? { clock: input.clock } : {}),
  };
}

/** The checkpoint writer wired to the same local stores (the deployed one runs on a schedule). */
export function makeLocalCheckpointDeps(
  config: CheckpointConfig,
  stores: LocalRunStores,
  clock?: () => Date,
): CheckpointDeps {
  return {
    config,
    configSha256: configHash(config),
    chains: makeDynamoChainHeads(stores.dynamodb, stores.resultsTable),
    checkpoints: makeDynamoCheckpointHeads(stores.dynamodb, stores.resultsTable),
    store: stores.bucket.store,
    readObject: stores.bucket.readObject,
    signer: stores.signer,
    ...(clock ? { clock } : {}),
  };
}
