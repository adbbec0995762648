import type { Config } from '../config/schema.ts';
import { loadControlTest } from '../controls/control-test-loader.ts';
import { type ControlOutcome, type EvidenceEntry, EvidenceLog, errorOutcome } from '../controls/outcome.ts';
import type { ControlPorts } from '../controls/ports.ts';
import type { EvidenceRecorder } from '../evidence/evidence-recorder.ts';
import type { Notifier } from '../notify/notification.ts';
import type { Logger } from '../shared/logger.ts';
import { periodFromKey } from '../shared/period.ts';
import { redactConnectionStrings } from '../shared/redact.ts';
import { type ControlJob, InvalidJobError } from './control-job.ts';
import {
  deliverNotice,
  deliverPendingNotices,
  type NoticeOutbox,
  type OutboxNotice,
} from './notice-outbox.ts';
import { failureNotice, recordOutcome } from './record-outcome.ts';
import type { ResultsStore } from './results-store.ts';
import { DEFAULT_DEADLINE_RESERVE_MS } from './run-budget.ts';
import { newRunId, type VerdictRecord } from './run-record.ts';

export interface RunControlDeps {
  readonly config: Config;
  readonly ports: ControlPorts;
  readonly evidence: EvidenceRecorder;
  readonly results: ResultsStore;
  readonly notifier: Notifier;
  readonly log: Logger;
  readonly clock?: () => Date;
  /**
   * Failure notices are stored here with the verdict, then published and marked delivered, so a
   * failed publish or a crash neither drops nor repeats one. Without it they are published directly.
   */
  readonly outbox?: NoticeOutbox;
}

/** How long the run may take; the worker passes the Lambda context's clock. */
export interface RunControlOptions {
  /** Milliseconds left before the invocation is killed (Lambda's `context.getRemainingTimeInMillis`). */
  readonly remainingTimeMs?: () => number;
  /**
   * Kept back from the remaining time for storing the evidence, the verdict and the notice.
   * @default 20000
   */
  readonly deadlineReserveMs?: number;
}

export interface ControlRunReport {
  readonly job: ControlJob;
  readonly verdict: VerdictRecord;
  readonly outcome: ControlOutcome;
  /** SNS message ids of the notifications this attempt sent. */
  readonly notificationIds: readonly string[];
  /** The job had already been recorded (a re-delivered message or schedule): nothing new was run. */
  readonly duplicate?: boolean;
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactConnectionStrings(message);
}

/** What an `error` verdict says when the run stopped the check to beat the invocation's time limit. */
export function deadlineOutcome(budgetMs: number, entriesGathered: number): ControlOutcome {
  return {
    verdict: 'error',
    reasons: [
      `deadline: the check did not finish within ${Math.round(budgetMs / 1000)} s, the time left before the ` +
        `worker's limit; it was stopped so this verdict and the evidence gathered so far (${entriesGathered} ` +
        "entries) could be recorded. Raise the worker timeout or lower the targets' statementTimeoutMs.",
    ],
    warnings: [],
    figures: { cause: 'deadline', budgetMs },
    details: { cause: 'deadline', budgetMs, entriesGathered },
  };
}

/**
 * Runs the check, or stops waiting for it when the invocation's time is nearly up and returns a
 * `deadline` error instead, so the verdict is recorded before Lambda kills the process.
 */
async function checkWithinDeadline(
  check: () => Promise<ControlOutcome>,
  evidence: EvidenceLog,
  options: RunControlOptions,
): Promise<{ outcome: ControlOutcome; entries: readonly EvidenceEntry[] }> {
  if (!options.remainingTimeMs) {
    const outcome = await check();
    return { outcome, entries: evidence.entries };
  }
  const budgetMs = options.remainingTimeMs() - (options.deadlineReserveMs ?? DEFAULT_DEADLINE_RESERVE_MS);
  // The evidence as it stood when time ran out: whatever the abandoned check adds later is not recorded.
  const stopped = () => ({
    outcome: deadlineOutcome(Math.max(0, budgetMs), evidence.entries.length),
    entries: [...evidence.entries],
  });
  if (budgetMs <= 0) return stopped();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<{ outcome: ControlOutcome; entries: readonly EvidenceEntry[] }>((resolve) => {
    timer = setTimeout(() => resolve(stopped()), budgetMs);
  });
  try {
    return await Promise.race([
      check().then((outcome) => ({ outcome, entries: [...evidence.entries] })),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const sameInstant = (a: string | undefined, b: string) =>
  a !== undefined && new Date(a).getTime() === new Date(b).getTime();

/**
 * Runs one control for one period: test, then evidence (S3), then verdict (DynamoDB), then
 * notification. Evidence comes first so a verdict never points at evidence that is missing; if the
 * evidence write fails this throws and the job is retried.
 *
 * Exactly once per job: a job whose attempt is already recorded (same control, period and `asOf`,
 * i.e. a re-delivered message or schedule) runs nothing and records nothing; it only delivers that
 * attempt's notice if it is still pending. With `remainingTimeMs` the check is bounded in time.
 */
export async function runControl(
  job: ControlJob,
  deps: RunControlDeps,
  options: RunControlOptions = {},
): Promise<ControlRunReport> {
  const clock = deps.clock ?? (() => new Date());
  const control = deps.config.controls.find((candidate) => candidate.id === job.controlId);
  if (!control) throw new InvalidJobError(`job names unknown control "${job.controlId}"`);
  if (control.cadence !== job.cadence) {
    throw new InvalidJobError(
      `job cadence ${job.cadence} does not match control ${control.id} (${control.cadence})`,
    );
  }
  let period: ReturnType<typeof periodFromKey>;
  try {
    period = periodFromKey(job.cadence, job.periodKey, deps.config.timeZone);
  } catch (error) {
    throw new InvalidJobError(describeError(error), { cause: error });
  }

  const recorded = (await deps.results.attemptsFor(control.id, job.cadence, period.key)).find((attempt) =>
    sameInstant(attempt.asOf, job.asOf),
  );
  const recordedVerdict = recorded
    ? await deps.results.verdictFor(control.id, job.cadence, period.key)
    : undefined;
  if (recorded && recordedVerdict) {
    deps.log.info('job already recorded; nothing run', {
      controlId: control.id,
      periodKey: period.key,
      runId: recorded.runId,
    });
    const notificationIds =
      recorded.verdict === 'pass'
        ? []
        : await notify(failureNotice(control, job, recorded, recordedVerdict.attempts), deps);
    return {
      job,
      verdict: recordedVerdict,
      outcome: {
        verdict: recorded.verdict,
        reasons: recorded.reasons,
        warnings: recorded.warnings,
        figures: recorded.figures,
        details: null,
      },
      notificationIds,
      duplicate: true,
    };
  }

  const startedAt = clock();
  const runId = newRunId(startedAt);
  const evidenceLog = new EvidenceLog();
  const test = await loadControlTest(control.test);
  const declarations = test.populations;
  const populations =
    declarations.length > 0
      ? deps.evidence.openPopulations?.(
          { controlId: control.id, cadence: job.cadence, periodKey: period.key, runId },
          declarations,
          deps.config.populations ? { cap: deps.config.populations.cap } : {},
        )
      : undefined;
  const { outcome, entries } = await checkWithinDeadline(
    async () => {
      try {
        return await test.run({
          control,
          period,
          asOf: new Date(job.asOf),
          now: startedAt,
          ports: deps.ports,
          evidence: evidenceLog,
          ...(populations ? { populations: populations.sink } : {}),
        });
      } catch (error) {
        return errorOutcome(describeError(error), { error: error instanceof Error ? error.name : 'Error' });
      }
    },
    evidenceLog,
    options,
  );
  const finishedAt = clock();
  // Closing first: a population still uploading (a check stopped at the deadline) is abandoned, never sealed.
  const written = populations?.close() ?? [];

  const { attempt, stored, verdict } = await recordOutcome(
    {
      control,
      period,
      runId,
      asOf: job.asOf,
      startedAt,
      finishedAt,
      outcome,
      entries,
      ...(written.length > 0 ? { populations: written } : {}),
    },
    deps,
  );
  deps.log.info('control run recorded', {
    controlId: control.id,
    periodKey: period.key,
    verdict: outcome.verdict,
    runId,
    evidenceKey: stored.evidenceKey,
  });

  // Describe this attempt, even if a newer attempt of the same period already holds the verdict.
  const notificationIds =
    outcome.verdict === 'pass'
      ? []
      : await notify(failureNotice(control, job, attempt, verdict.attempts), deps);
  if (deps.outbox) await sweepPendingNotices(deps, deps.outbox);
  return { job, verdict, outcome, notificationIds };
}

/**
 * Publishes the notice: through the outbox when there is one (stored, claimed, published, marked),
 * else directly. A publish failure throws, so the job is retried and the retry delivers the stored
 * notice. Without an outbox a retried job cannot know whether its notice went out, so it publishes.
 */
async function notify(notice: OutboxNotice, deps: RunControlDeps): Promise<string[]> {
  if (!deps.outbox) return [await deps.notifier.publish(notice.notification)];
  await deps.outbox.add(notice);
  const stored = (await deps.outbox.get(notice.stream, notice.noticeId)) ?? notice;
  const result = await deliverNotice(stored, {
    outbox: deps.outbox,
    notifier: deps.notifier,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  return result.status === 'claimed-elsewhere' ? [] : [result.messageId];
}

/** What failed publishes of other jobs left pending (their jobs may have reached the DLQ since). */
async function sweepPendingNotices(deps: RunControlDeps, outbox: NoticeOutbox): Promise<void> {
  try {
    const { delivered, failed } = await deliverPendingNotices('controls', {
      outbox,
      notifier: deps.notifier,
      ...(deps.clock ? { clock: deps.clock } : {}),
      limit: 10,
    });
    if (delivered.length > 0 || failed.length > 0)
      deps.log.info('delivered pending notices', {
        delivered: delivered.map((notice) => notice.noticeId),
        failed: failed.map((f) => `${f.notice.noticeId}: ${f.error}`),
      });
  } catch (error) {
    deps.log.warn('could not sweep pending notices', { error: describeError(error) });
  }
}
