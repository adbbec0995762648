import type { ControlJob } from './control-job.ts';
import { processJobBatch } from './process-job-batch.ts';
import type { ControlRunReport, RunControlDeps } from './run-control.ts';

/** A job that recorded nothing, and why (the error that stopped it). */
export interface JobFailure {
  readonly job: ControlJob;
  readonly cause: string;
}

export interface JobsOutcome {
  readonly reports: readonly ControlRunReport[];
  readonly failures: readonly JobFailure[];
}

/** Batches of the size an SQS event source delivers, so one run behaves as the worker does. */
const BATCH_SIZE = 10;

/**
 * Runs jobs in order through the worker's batch code, in-process, keeping every failure with its
 * cause (a job that throws, e.g. because the results table is unreachable, records nothing and is
 * reported here rather than dropped). `afterBatch` sees the progress after each batch (the CLI's
 * progress bar, the local run's periodic checkpoints).
 */
export async function runJobs(
  deps: RunControlDeps,
  jobs: readonly ControlJob[],
  afterBatch: (done: number, total: number) => Promise<void> | void = () => {},
): Promise<JobsOutcome> {
  const reports: ControlRunReport[] = [];
  const failures: JobFailure[] = [];
  for (let start = 0; start < jobs.length; start += BATCH_SIZE) {
    const batch = jobs.slice(start, start + BATCH_SIZE);
    const messages = batch.map((job, index) => ({
      messageId: `${start + index}:${job.controlId}:${job.periodKey}`,
      body: JSON.stringify(job),
    }));
    const outcome = await processJobBatch(messages, deps);
    reports.push(...outcome.reports);
    const byId = new Map(messages.map((message, index) => [message.messageId, batch[index]]));
    for (const failure of outcome.failures) {
      const job = byId.get(failure.messageId);
      if (job) failures.push({ job, cause: failure.cause });
    }
    // A failure the processor reports without its record still counts: never fewer failures than ids.
    for (const { itemIdentifier } of outcome.batchItemFailures) {
      const job = byId.get(itemIdentifier);
      if (job && !outcome.failures.some((failure) => failure.messageId === itemIdentifier))
        failures.push({ job, cause: 'the job failed (no cause was reported)' });
    }
    await afterBatch(Math.min(start + BATCH_SIZE, jobs.length), jobs.length);
  }
  return { reports, failures };
}
