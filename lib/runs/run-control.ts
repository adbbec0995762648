import type { Config, ControlConfig } from '../config/schema.ts';
import { type ControlOutcome, type EvidenceEntry, EvidenceLog, errorOutcome } from '../controls/outcome.ts';
import type { WrittenPopulation } from '../controls/population.ts';
import type { ControlPorts } from '../controls/ports.ts';
import { populationsOf, runControlTest } from '../controls/registry.ts';
import type { EvidenceRecorder } from '../evidence/evidence-recorder.ts';
import type { Notification, Notifier } from '../notify/notification.ts';
import type { Logger } from '../shared/logger.ts';
import { type Period, periodFromKey } from '../shared/period.ts';
import { redactConnectionStrings } from '../shared/redact.ts';
import { type ControlJob, InvalidJobError } from './control-job.ts';
import {
  deliverNotice,
  deliverPendingNotices,
  type NoticeOutbox,
  type OutboxNotice,
} from './notice-outbox.ts';
import type { ResultsStore } from './results-store.ts';
import { DEFAULT_DEADLINE_RESERVE_MS } from './run-budget.ts';
import {
  type AttemptRecord,
  newRunId,
  type RunResult,
  type StoredEvidence,
  type VerdictRecord,
} from './run-record.ts';

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

export function failureNotification(
  control: ControlConfig,
  job: ControlJob,
  verdict: AttemptRecord & Pick<VerdictRecord, 'attempts'>,
): Notification {
  const failed = verdict.verdict === 'fail';
  const what = failed ? 'FAILED' : 'could not be checked (error)';
  const lines = [
    `Control "${control.title}" (${control.id}) ${what} for ${job.cadence} period ${job.periodKey}.`,
    '',
    failed ? 'Why it failed:' : 'What went wrong:',
    ...verdict.reasons.map((reason) => `  - ${reason}`),
    '',
    `SOC 2 criteria: ${control.criteria.join(', ')}`,
    `Evidence: ${verdict.evidenceKey} (sha256 ${verdict.evidenceSha256})`,
    `Run: ${verdict.runId}, attempt ${verdict.attempts}`,
  ];
  return {
    kind: failed ? 'control-failed' : 'control-error',
    owner: control.owner,
    control: control.id,
    severity: failed ? 'high' : 'medium',
    subject: `[SOC 2] ${control.id} ${failed ? 'failed' : 'errored'} for ${job.periodKey}`,
    text: lines.join('\n'),
    payload: {
      controlId: control.id,
      title: control.title,
      criteria: control.criteria,
      cadence: job.cadence,
      periodKey: job.periodKey,
      verdict: verdict.verdict,
      reasons: verdict.reasons,
      figures: verdict.figures,
      evidenceKey: verdict.evidenceKey,
      runId: verdict.runId,
    },
  };
}

/** One finished check, ready to be stored. */
export interface OutcomeToRecord {
  readonly control: ControlConfig;
  readonly period: Pick<Period, 'cadence' | 'key' | 'start' | 'end'>;
  readonly runId: string;
  readonly asOf: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly outcome: ControlOutcome;
  readonly entries: readonly EvidenceEntry[];
  /** Populations the check wrote to the run's folder. */
  readonly populations?: readonly WrittenPopulation[];
  /** Which evidence chain of the control this extends. @default 'scheduled' */
  readonly chainKind?: 'scheduled' | 'events';
}

export interface RecordedOutcome {
  readonly attempt: AttemptRecord;
  readonly stored: StoredEvidence;
  readonly verdict: VerdictRecord;
}

/**
 * Stores a finished check: evidence first (S3), then the attempt and the period's verdict
 * (DynamoDB). If the evidence write throws, nothing is recorded and the caller's event is retried.
 * Shared by scheduled runs and event-driven ones (AWS Backup restore tests).
 */
export async function recordOutcome(
  input: OutcomeToRecord,
  deps: Pick<RunControlDeps, 'evidence' | 'results'>,
): Promise<RecordedOutcome> {
  const { control, period, outcome } = input;
  const run: RunResult = {
    controlId: control.id,
    criteria: control.criteria,
    owner: control.owner,
    cadence: period.cadence,
    periodKey: period.key,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    runId: input.runId,
    asOf: input.asOf,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    outcome,
    entries: input.entries,
    ...(input.populations && input.populations.length > 0 ? { populations: input.populations } : {}),
    ...(input.chainKind === 'events' ? { chainKind: 'events' as const } : {}),
  };
  const stored = await deps.evidence.record(run);
  const attempt: AttemptRecord = {
    controlId: control.id,
    cadence: period.cadence,
    periodKey: period.key,
    periodStart: run.periodStart,
    periodEnd: run.periodEnd,
    verdict: outcome.verdict,
    reasons: outcome.reasons,
    warnings: outcome.warnings,
    figures: outcome.figures,
    runId: input.runId,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    asOf: input.asOf,
    ...stored,
  };
  const verdict = await deps.results.recordAttempt(attempt);
  return { attempt, stored, verdict };
}

/** The notice of a recorded attempt that did not pass; its id is derived from the attempt, so a retry names the same one. */
export function failureNotice(
  control: ControlConfig,
  job: ControlJob,
  attempt: AttemptRecord,
  attempts: number,
): OutboxNotice {
  return {
    stream: 'controls',
    noticeId: `${attempt.runId}/${control.id}`,
    createdAt: attempt.finishedAt,
    notification: failureNotification(control, job, { ...attempt, attempts }),
  };
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
  const declarations = populationsOf(control.test.type);
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
        return await runControlTest(control.test, {
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
