import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { processJobBatch } from '../runs/process-job-batch.ts';
import type { ControlRunReport, RunControlDeps } from '../runs/run-control.ts';

export interface DrainResult {
  readonly reports: readonly ControlRunReport[];
  /** Deliveries that failed (each retry counts); poison messages end in the DLQ. */
  readonly failedDeliveries: number;
}

async function inFlight(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * Plays the part of Lambda's SQS event source locally: receive a batch, hand it to the same worker
 * code, delete what succeeded, and let failures reappear after the visibility timeout until the
 * queue's redrive policy moves them to the DLQ.
 */
export async function drainJobQueue(
  sqs: SQSClient,
  queueUrl: string,
  deps: RunControlDeps,
  options: { timeoutMs?: number } = {},
): Promise<DrainResult> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const reports: ControlRunReport[] = [];
  let failedDeliveries = 0;
  while (Date.now() < deadline) {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = (received.Messages ?? []).flatMap((m) =>
      m.MessageId && m.ReceiptHandle && m.Body !== undefined
        ? [{ messageId: m.MessageId, body: m.Body, receiptHandle: m.ReceiptHandle }]
        : [],
    );
    if (messages.length === 0) {
      if ((await inFlight(sqs, queueUrl)) === 0) return { reports, failedDeliveries };
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    const outcome = await processJobBatch(messages, deps, { fifo: true });
    reports.push(...outcome.reports);
    failedDeliveries += outcome.batchItemFailures.length;
    const failed = new Set(outcome.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, index) => ({ Id: String(index), ReceiptHandle: m.receiptHandle })),
        }),
      );
    }
  }
  throw new Error(`the job queue did not drain within ${options.timeoutMs ?? 120_000} ms`);
}
