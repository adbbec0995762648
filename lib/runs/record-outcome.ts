import type { ControlConfig } from '../config/schema.ts';
import type { EvidenceRecorder } from '../evidence/evidence-recorder.ts';
import type { Notification } from '../notify/notification.ts';
import type { Period } from '../shared/period.ts';
import type { ControlJob } from './control-job.ts';
import type { OutboxNotice } from './notice-outbox.ts';
import type { ResultsStore } from './results-store.ts';
import type { AttemptRecord, RunResult, StoredEvidence, VerdictRecord } from './run-record.ts';

/*
 * Recording a finished check and the notice of a failed one: shared by scheduled runs
 * (run-control.ts) and event-driven ones (lib/restore/restore-validation.ts). Its own module so the
 * restore validator does not import run-control.ts, and with it the registry of every control test.
 */

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

/**
 * One finished check, ready to be stored: what the run produced (as in {@link RunResult}) with the
 * control and period it was for, and its times as dates.
 */
export interface OutcomeToRecord
  extends Pick<RunResult, 'runId' | 'asOf' | 'outcome' | 'entries' | 'populations' | 'chainKind'> {
  readonly control: ControlConfig;
  readonly period: Pick<Period, 'cadence' | 'key' | 'start' | 'end'>;
  readonly startedAt: Date;
  readonly finishedAt: Date;
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
  deps: { readonly evidence: EvidenceRecorder; readonly results: ResultsStore },
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
