import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processJobBatch, sqsJobEventSchema } from '../../lib/runs/process-job-batch.ts';
import { lambdaContext, logErrors, validateEvent } from '../../lib/wiring/lambda-middleware.ts';
import type { WorkerDeps } from '../../lib/wiring/make-worker-deps.ts';

export class InvalidSqsEventError extends Error {
  override name = 'InvalidSqsEventError';
}

/**
 * One control per SQS FIFO message, through Powertools' FIFO partial-batch processor: failures are
 * reported per message, and a failure holds back the rest of its batch.
 */
export function makeHandler(deps: WorkerDeps) {
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const { batchItemFailures } = await processJobBatch(event.Records, deps.run, { fifo: true, context });
    return { batchItemFailures: [...batchItemFailures] };
  })
    .use(lambdaContext(deps.log))
    .use(logErrors(deps.log))
    .use(
      validateEvent(sqsJobEventSchema, (message) => new InvalidSqsEventError(message), 'not an SQS event'),
    );
}
