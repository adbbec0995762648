import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type ControlJob, jobDeduplicationId } from '../../runs/control-job.ts';
import type { JobQueue } from '../../runs/dispatch-due-controls.ts';

const SQS_BATCH_LIMIT = 10;

/**
 * FIFO queue: one message group per control, so two runs of the same control never overlap (the
 * evidence chain stays linear); the deduplication id (control, period, scheduled time) makes a doubled
 * schedule invocation or a retried dispatch enqueue nothing new within SQS's 5-minute window; the
 * worker's own check (runControl) covers redeliveries after it.
 */
export function makeSqsJobQueue(sqs: SQSClient, queueUrl: string): JobQueue {
  return {
    async enqueue(jobs) {
      for (let offset = 0; offset < jobs.length; offset += SQS_BATCH_LIMIT) {
        const batch = jobs.slice(offset, offset + SQS_BATCH_LIMIT);
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((job: ControlJob, index) => ({
              Id: String(index),
              MessageBody: JSON.stringify(job),
              MessageGroupId: job.controlId,
              MessageDeduplicationId: jobDeduplicationId(job),
            })),
          }),
        );
        if (result.Failed && result.Failed.length > 0) {
          const failed = result.Failed.map(
            (f) => `${batch[Number(f.Id)]?.controlId ?? f.Id}: ${f.Message ?? f.Code}`,
          );
          throw new Error(`could not enqueue ${failed.join('; ')}`);
        }
      }
    },
  };
}
