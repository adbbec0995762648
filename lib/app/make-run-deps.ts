import type { AwsClients } from '../aws/clients.ts';
import type { Config } from '../config/schema.ts';
import { makeControlPorts } from '../controls/make-control-ports.ts';
import { makeDynamoChainHeads } from '../evidence/dynamodb-chain-heads.ts';
import { makeS3EvidenceRecorder } from '../evidence/s3-evidence-recorder.ts';
import type { Logger } from '../logger.ts';
import { makeSnsNotifier } from '../notify/sns-notifier.ts';
import { type ConnectionResolver, makePostgresPort } from '../postgres/postgres-port.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { RuntimeResources } from '../runtime-env.ts';
import { makeManifestSigner } from '../signing/make-signer.ts';
import type { ManifestSigner } from '../signing/signer.ts';
import { makeDynamoResultsStore } from '../stores/dynamodb-results.ts';

export interface RunDepsInput {
  readonly config: Config;
  readonly resources: Pick<RuntimeResources, 'resultsTable' | 'evidenceBucket' | 'notificationsTopicArn'> &
    Partial<RuntimeResources>;
  readonly clients: AwsClients;
  readonly resolveConnection: ConnectionResolver;
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
  const results = makeDynamoResultsStore(clients.dynamodb, resources.resultsTable);
  const postgres = makePostgresPort(config.targets, input.resolveConnection);
  const ports = makeControlPorts(config, clients, postgres, results, resources.evidenceBucket, {
    awsApis: input.awsApis ?? true,
  });
  return {
    config,
    ports,
    results,
    evidence: makeS3EvidenceRecorder({
      s3: clients.s3,
      bucket: resources.evidenceBucket,
      signer: input.signer ?? makeManifestSigner({ kms: clients.kms, signingKeyId: resources.signingKeyId }),
      chain: makeDynamoChainHeads(clients.dynamodb, resources.resultsTable),
      timeZone: config.timeZone,
    }),
    notifier: makeSnsNotifier(clients.sns, resources.notificationsTopicArn),
    log: input.log,
    ...(input.clock ? { clock: input.clock } : {}),
  };
}
