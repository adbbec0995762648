import { makeDynamoChainHeads } from '../adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeDynamoOutbox } from '../adapters/dynamodb/dynamodb-outbox.ts';
import { makeDynamoResultsStore } from '../adapters/dynamodb/dynamodb-results.ts';
import { makeS3EvidenceRecorder } from '../adapters/s3/s3-evidence-recorder.ts';
import { makeSnsNotifier } from '../adapters/sns/sns-notifier.ts';
import type { Config } from '../config/schema.ts';
import type { ManifestSigner } from '../evidence/signer.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { Logger } from '../shared/logger.ts';
import type { RuntimeResources } from '../shared/runtime-env.ts';
import type { AwsClients } from './aws-clients.ts';
import { makeManifestSigner } from './make-signer.ts';

export interface RunRecordingInput {
  readonly config: Config;
  readonly resources: Pick<RuntimeResources, 'resultsTable' | 'evidenceBucket' | 'notificationsTopicArn'> &
    Partial<RuntimeResources>;
  readonly clients: Pick<AwsClients, 'dynamodb' | 's3' | 'sns' | 'kms'>;
  readonly log: Logger;
  readonly clock?: () => Date;
  /** @default KMS when `resources.signingKeyId` is set, else a key generated for this process */
  readonly signer?: ManifestSigner;
}

/**
 * Where a run's outcome goes: verdicts and history (DynamoDB), signed evidence (S3 + KMS),
 * notifications (SNS). Everything of a run but the control ports, so the restore validator, which
 * brings its own database port, bundles none of the other control tests' clients (IAM, ...).
 */
export function makeRunRecording(input: RunRecordingInput): Omit<RunControlDeps, 'ports'> {
  const { config, resources, clients } = input;
  return {
    config,
    results: makeDynamoResultsStore(clients.dynamodb, resources.resultsTable),
    evidence: makeS3EvidenceRecorder({
      s3: clients.s3,
      bucket: resources.evidenceBucket,
      signer: input.signer ?? makeManifestSigner({ kms: clients.kms, signingKeyId: resources.signingKeyId }),
      chain: makeDynamoChainHeads(clients.dynamodb, resources.resultsTable),
      timeZone: config.timeZone,
    }),
    notifier: makeSnsNotifier(clients.sns, resources.notificationsTopicArn),
    outbox: makeDynamoOutbox(clients.dynamodb, resources.resultsTable),
    log: input.log,
    ...(input.clock ? { clock: input.clock } : {}),
  };
}
