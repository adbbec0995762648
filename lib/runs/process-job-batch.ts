import { BatchProcessor, EventType, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { Logger } from '../shared/logger.ts';
import { redactConnectionStrings } from '../shared/redact.ts';
import { InvalidJobError, parseControlJob } from './control-job.ts';
import {
  type ControlRunReport,
  type RunControlDeps,
  type RunControlOptions,
  runControl,
} from './run-control.ts';

/** The subset of an SQS record the worker reads; Lambda's SQSRecord and the local poller both fit. */
export interface JobMessage {
  readonly messageId: string;
  readonly body: string;
}

/**
 * The SQS event the worker's event source mapping delivers, as far as the worker reads it. Each
 * body is parsed per message (a malformed body fails that message, not the batch); unknown fields
 * are kept for the batch processor.
 */
export const sqsJobEventSchema = z.looseObject({
  Records: z.array(z.looseObject({ messageId: z.string().min(1), body: z.string() })),
});

export interface BatchOutcome {
  readonly reports: readonly ControlRunReport[];
  /** Lambda's partial batch response: only these messages return to the queue (and, in time, the DLQ). */
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
  /** Each failed message with why it failed (the error's message, connection strings redacted). */
  readonly failures: readonly { readonly messageId: string; readonly cause: string }[];
}

/**
 * Runs one message's job; logs a failure with the message id (a malformed job as one that will
 * reach the DLQ) and rethrows it so the batch processor reports the message as failed.
 */
export async function runJobMessage(
  message: JobMessage,
  deps: RunControlDeps,
  options: RunControlOptions = {},
): Promise<ControlRunReport> {
  try {
    return await runControl(parseControlJob(message.body), deps, options);
  } catch (error) {
    logJobFailure(deps.log, message, error);
    throw error;
  }
}

/**
 * Runs each message's job with Powertools' batch processor. A failure is reported per message so
 * one bad job does not redeliver the batch; on a FIFO queue (`SqsFifoPartialProcessorAsync`) every
 * message after a failure in the same batch is also returned, unprocessed, so a control's runs stay
 * in order. A batch whose every message failed is still answered with item failures (not thrown),
 * so a lone malformed message counts one receive per attempt and reaches the DLQ like any other.
 */
export async function processJobBatch(
  messages: readonly JobMessage[],
  deps: RunControlDeps,
  options: { fifo?: boolean; context?: Context } = {},
): Promise<BatchOutcome> {
  if (messages.length === 0) return { reports: [], batchItemFailures: [], failures: [] };
  const processor = options.fifo ? new SqsFifoPartialProcessorAsync() : new BatchProcessor(EventType.SQS);
  // The processor reads only messageId (and, for FIFO group skipping, which is off, attributes).
  const records = messages.map((message) => ({ ...message }) as unknown as SQSRecord);
  // With the Lambda context, each check is bounded by the time the invocation has left, so a slow
  // control records a `deadline` error verdict instead of being killed with nothing recorded.
  const lambdaContext = options.context;
  const runOptions: RunControlOptions = lambdaContext
    ? { remainingTimeMs: () => lambdaContext.getRemainingTimeInMillis() }
    : {};
  const handle = (record: SQSRecord) => runJobMessage(record, deps, runOptions);
  const context = lambdaContext ? { context: lambdaContext } : {};
  if (processor instanceof SqsFifoPartialProcessorAsync) {
    processor.register(records, handle, { throwOnFullBatchFailure: false, ...context });
  } else {
    // One job at a time, as before: parallel runs would share the targets' connection limits.
    processor.register(records, handle, {
      throwOnFullBatchFailure: false,
      processInParallel: false,
      ...context,
    });
  }
  const results = await processor.process();
  const reports = results.flatMap(([status, result]) =>
    status === 'success' ? [result as ControlRunReport] : [],
  );
  const failures = results.flatMap(([status, result, record]) =>
    status === 'fail'
      ? [{ messageId: (record as SQSRecord).messageId, cause: redactConnectionStrings(String(result)) }]
      : [],
  );
  return { reports, batchItemFailures: processor.response().batchItemFailures, failures };
}

function logJobFailure(log: Logger, message: JobMessage, error: unknown): void {
  const poison = error instanceof InvalidJobError;
  log.error(
    poison
      ? 'rejected malformed job; it will reach the DLQ after its retries'
      : 'job failed; it will be retried',
    {
      messageId: message.messageId,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    },
  );
}
