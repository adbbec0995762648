import type { Logger } from '../shared/logger.ts';
import { InvalidJobError, parseControlJob } from './control-job.ts';
import { type ControlRunReport, type RunControlDeps, runControl } from './run-control.ts';

/** The subset of an SQS record the worker reads; Lambda's SQSRecord and the local poller both fit. */
export interface JobMessage {
  readonly messageId: string;
  readonly body: string;
}

export interface BatchOutcome {
  readonly reports: readonly ControlRunReport[];
  /** Lambda's partial batch response: only these messages return to the queue (and, in time, the DLQ). */
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

/**
 * Runs each message's job. A failure is reported per message so one bad job does not redeliver the
 * batch; on a FIFO queue every message after a failure in the same batch is also returned so a
 * control's runs stay in order.
 */
export async function processJobBatch(
  messages: readonly JobMessage[],
  deps: RunControlDeps,
  options: { fifo?: boolean } = {},
): Promise<BatchOutcome> {
  const reports: ControlRunReport[] = [];
  const failures: { itemIdentifier: string }[] = [];
  for (const message of messages) {
    if (options.fifo && failures.length > 0) {
      failures.push({ itemIdentifier: message.messageId });
      continue;
    }
    try {
      reports.push(await runControl(parseControlJob(message.body), deps));
    } catch (error) {
      logJobFailure(deps.log, message, error);
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  return { reports, batchItemFailures: failures };
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
