import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { makeRunDeps } from '../../lib/app/make-run-deps.ts';
import { makeAwsClients } from '../../lib/aws/clients.ts';
import { secretConnectionResolver } from '../../lib/aws/secret-connection-resolver.ts';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { jsonLogger } from '../../lib/logger.ts';
import { processJobBatch } from '../../lib/runs/process-job-batch.ts';
import { loadRuntimeResources } from '../../lib/runtime-env.ts';

// Built once per cold start; a missing variable or invalid config fails here, naming it.
const clients = makeAwsClients();
const deps = makeRunDeps({
  config: embeddedConfig(),
  resources: loadRuntimeResources(process.env, [
    'resultsTable',
    'evidenceBucket',
    'notificationsTopicArn',
    'signingKeyId',
  ]),
  clients,
  resolveConnection: secretConnectionResolver(clients.secretsManager, process.env),
  log: jsonLogger(),
});

/** One control per SQS FIFO message; failures are reported per message (partial batch response). */
export const handler = middy(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { batchItemFailures } = await processJobBatch(event.Records, deps, { fifo: true });
  return { batchItemFailures: [...batchItemFailures] };
});
