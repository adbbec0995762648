import type { Config, ControlConfig } from '../config/schema.ts';
import { type ControlOutcome, type EvidenceEntry, EvidenceLog, errorOutcome } from '../controls/outcome.ts';
import type { ControlPorts } from '../controls/ports.ts';
import { runControlTest } from '../controls/registry.ts';
import type { EvidenceRecorder } from '../evidence/evidence-recorder.ts';
import type { Notification, Notifier } from '../notify/notification.ts';
import type { Logger } from '../shared/logger.ts';
import { type Period, periodFromKey } from '../shared/period.ts';
import { redactConnectionStrings } from '../shared/redact.ts';
import { type ControlJob, InvalidJobError } from './control-job.ts';
import type { ResultsStore } from './results-store.ts';
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
}

export interface ControlRunReport {
  readonly job: ControlJob;
  readonly verdict: VerdictRecord;
  readonly outcome: ControlOutcome;
  /** SNS message ids of the notifications this attempt sent. */
  readonly notificationIds: readonly string[];
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
    ...stored,
  };
  const verdict = await deps.results.recordAttempt(attempt);
  return { attempt, stored, verdict };
}

/**
 * Runs one control for one period: test, then evidence (S3), then verdict (DynamoDB), then
 * notification. Evidence comes first so a verdict never points at evidence that is missing; if the
 * evidence write fails this throws and the job is retried.
 */
export async function runControl(job: ControlJob, deps: RunControlDeps): Promise<ControlRunReport> {
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

  const startedAt = clock();
  const runId = newRunId(startedAt);
  const evidenceLog = new EvidenceLog();
  let outcome: ControlOutcome;
  try {
    outcome = await runControlTest(control.test, {
      control,
      period,
      asOf: new Date(job.asOf),
      now: startedAt,
      ports: deps.ports,
      evidence: evidenceLog,
    });
  } catch (error) {
    outcome = errorOutcome(describeError(error), { error: error instanceof Error ? error.name : 'Error' });
  }
  const finishedAt = clock();

  const { attempt, stored, verdict } = await recordOutcome(
    { control, period, runId, asOf: job.asOf, startedAt, finishedAt, outcome, entries: evidenceLog.entries },
    deps,
  );
  deps.log.info('control run recorded', {
    controlId: control.id,
    periodKey: period.key,
    verdict: outcome.verdict,
    runId,
    evidenceKey: stored.evidenceKey,
  });

  const notificationIds: string[] = [];
  if (outcome.verdict !== 'pass') {
    // Describe this attempt, even if a newer attempt of the same period already holds the verdict.
    const notification = failureNotification(control, job, { ...attempt, attempts: verdict.attempts });
    notificationIds.push(await deps.notifier.publish(notification));
  }
  return { job, verdict, outcome, notificationIds };
}
