import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { processJobBatch } from '../../lib/runs/process-job-batch.ts';
import { makeDeployedRunDeps } from '../../lib/wiring/make-run-deps.ts';

// Built once per cold start; a missing variable or invalid config fails here, naming it.
const { runDeps: deps } = makeDeployedRunDeps(embeddedConfig());

/** One control per SQS FIFO message; failures are reported per message (partial batch response). */
export const handler = middy(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const { batchItemFailures } = await processJobBatch(event.Records, deps, { fifo: true });
  return { batchItemFailures: [...batchItemFailures] };
});
