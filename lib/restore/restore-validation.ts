import { DateTime } from 'luxon';
import * as z from 'zod';
import type { ControlConfig } from '../config/schema.ts';
import { type ControlOutcome, EvidenceLog, errorOutcome, outcome } from '../controls/outcome.ts';
import type { PostgresPort, RestoreJobSummary } from '../controls/ports.ts';
import { planMatches, type RestoreTestHistoryParams } from '../controls/restore-test-history.ts';
import { failureNotification, recordOutcome } from '../runs/record-outcome.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import { newRunId } from '../runs/run-record.ts';
import { parseOrThrow } from '../shared/parse.ts';
import { redactConnectionStrings } from '../shared/redact.ts';
import { verifyRestore } from './verify-restore.ts';

/**
 * The EventBridge event AWS Backup sends when a restore job changes state. Only the fields used are
 * required; AWS adds fields over time, so unknown ones are allowed.
 */
export const restoreJobEventSchema = z.looseObject({
  source: z.literal('aws.backup'),
  'detail-type': z.literal('Restore Job State Change'),
  detail: z.looseObject({
    restoreJobId: z.string().min(1).max(200),
    status: z.string().min(1),
    restoreTestingPlanArn: z.string().optional(),
    createdResourceArn: z.string().optional(),
    resourceType: z.string().optional(),
  }),
});
export type RestoreJobEvent = z.output<typeof restoreJobEventSchema>;

/** The event can never be processed (wrong shape): rejected with a message, not retried into a loop. */
export class InvalidRestoreEventError extends Error {
  override name = 'InvalidRestoreEventError';
}

export function parseRestoreJobEvent(event: unknown): RestoreJobEvent {
  return parseOrThrow(
    restoreJobEventSchema,
    event,
    (message) => new InvalidRestoreEventError(message),
    'not an AWS Backup "Restore Job State Change" event',
  );
}

export type ValidationStatus = 'SUCCESSFUL' | 'FAILED';

/** What the validator needs from AWS Backup (adapter: lib/adapters/backup/backup-restore-port.ts). */
export interface BackupRestorePort {
  describeRestoreJob(restoreJobId: string, evidence: EvidenceLog): Promise<RestoreJobSummary>;
  putRestoreValidationResult(restoreJobId: string, status: ValidationStatus, message: string): Promise<void>;
}

/** A PostgreSQL port on which `restoredTarget` names the instance this restore job created. */
export type RestoredDatabaseOpener = (
  job: RestoreJobSummary,
  sourceTarget: string,
  evidence: EvidenceLog,
) => Promise<{ readonly postgres: PostgresPort; readonly restoredTarget: string }>;

export interface RestoreValidationDeps extends Omit<RunControlDeps, 'ports'> {
  readonly backup: BackupRestorePort;
  readonly openRestoredDatabase: RestoredDatabaseOpener;
}

export type RestoreValidationReport =
  | { readonly action: 'ignored'; readonly restoreJobId: string; readonly reason: string }
  | {
      readonly action: 'validated';
      readonly restoreJobId: string;
      readonly controlId: string;
      readonly validationStatus: ValidationStatus;
      readonly outcome: ControlOutcome;
      readonly evidenceKey: string;
      readonly notificationIds: readonly string[];
    };

/** AWS Backup's ValidationStatusMessage is free text; keep it short enough to read in the console. */
const MAX_MESSAGE = 1000;

export function validationMessage(outcome: ControlOutcome, evidenceKey: string): string {
  const head =
    outcome.verdict === 'pass'
      ? 'soc2-evidence: restored data matches the source'
      : `soc2-evidence: ${outcome.verdict === 'fail' ? 'restore verification failed' : 'could not verify the restore'}: ${outcome.reasons.join('; ')}`;
  const tail = ` (evidence: ${evidenceKey})`;
  return head.length + tail.length > MAX_MESSAGE
    ? `${head.slice(0, MAX_MESSAGE - tail.length - 3)}...${tail}`
    : `${head}${tail}`;
}

function restoreTestControl(
  controls: readonly ControlConfig[],
  planArn: string,
): (ControlConfig & { test: RestoreTestHistoryParams }) | undefined {
  return controls.find(
    (control): control is ControlConfig & { test: RestoreTestHistoryParams } =>
      control.test.type === 'restore-test-history' && planMatches(control.test, planArn),
  );
}

async function verifyJob(
  job: RestoreJobSummary,
  control: ControlConfig & { test: RestoreTestHistoryParams },
  deps: RestoreValidationDeps,
  evidence: EvidenceLog,
): Promise<ControlOutcome> {
  if (!job.recoveryPointCreationDate)
    return errorOutcome(`restore job ${job.restoreJobId} has no recovery point creation date`);
  // Without both ends the job cannot show when it ran or how long it took: no pass on a warning.
  if (!job.creationDate || !job.completionDate) {
    const missing = job.creationDate ? 'completion time (CompletionDate)' : 'start time (CreationDate)';
    return errorOutcome(
      `restore job ${job.restoreJobId} has no ${missing}: it cannot show when the restore ran or that it met the RTO`,
    );
  }
  if (job.resourceType && !['RDS', 'Aurora'].includes(job.resourceType)) {
    return errorOutcome(
      `restore job ${job.restoreJobId} restored a ${job.resourceType} resource, not a PostgreSQL database`,
    );
  }
  const { postgres, restoredTarget } = await deps.openRestoredDatabase(
    job,
    control.test.sourceTarget,
    evidence,
  );
  const comparison = await verifyRestore({
    postgres,
    evidence,
    restoredTarget,
    comparison: control.test,
    recoveryPoint: job.recoveryPointCreationDate,
    restoreStartedAt: job.creationDate,
    restoreCompletedAt: job.completionDate,
  });
  return outcome({
    reasons: comparison.reasons,
    warnings: comparison.warnings,
    figures: comparison.figures,
    details: {
      restoreJob: {
        restoreJobId: job.restoreJobId,
        restoreTestingPlanArn: job.restoreTestingPlanArn ?? null,
        sourceResourceArn: job.sourceResourceArn ?? null,
        createdResourceArn: job.createdResourceArn ?? null,
        recoveryPointCreationDate: job.recoveryPointCreationDate.toISOString(),
      },
      rpo: comparison.rpo,
      rto: comparison.rto,
      tables: comparison.tables,
    },
  });
}

/**
 * Validates one completed AWS Backup restore test: compares the restored instance with the source,
 * records evidence and a verdict like any control run (under the restore-test-history control,
 * cadence `daily`, period = the day the restore completed, on the control's `events` chain), notifies the owner when it did not
 * pass, then reports SUCCESSFUL or FAILED to AWS Backup. Evidence comes first, so AWS Backup is
 * never told SUCCESSFUL without evidence behind it; if any step throws, the event is retried.
 */
export async function validateRestoreJob(
  event: RestoreJobEvent,
  deps: RestoreValidationDeps,
): Promise<RestoreValidationReport> {
  const restoreJobId = event.detail.restoreJobId;
  const ignore = (reason: string): RestoreValidationReport => {
    deps.log.info('restore job ignored', { restoreJobId, reason });
    return { action: 'ignored', restoreJobId, reason };
  };
  if (event.detail.status !== 'COMPLETED') return ignore(`status is ${event.detail.status}, not COMPLETED`);

  const clock = deps.clock ?? (() => new Date());
  const evidence = new EvidenceLog();
  const job = await deps.backup.describeRestoreJob(restoreJobId, evidence);
  const planArn = job.restoreTestingPlanArn ?? event.detail.restoreTestingPlanArn;
  if (!planArn) return ignore('not started by a restore testing plan');
  if (job.status !== 'COMPLETED') return ignore(`AWS Backup reports status ${job.status}`);
  const control = restoreTestControl(deps.config.controls, planArn);
  if (!control) return ignore(`no restore-test-history control covers restore testing plan ${planArn}`);

  const startedAt = clock();
  let outcome: ControlOutcome;
  try {
    outcome = await verifyJob(job, control, deps, evidence);
  } catch (error) {
    const message = redactConnectionStrings(error instanceof Error ? error.message : String(error));
    outcome = errorOutcome(message, { error: error instanceof Error ? error.name : 'Error' });
  }
  const finishedAt = clock();

  const completed = job.completionDate ?? finishedAt;
  const day = DateTime.fromJSDate(completed, { zone: deps.config.timeZone }).startOf('day');
  const periodKey = day.toFormat('yyyy-MM-dd');
  const { attempt, stored, verdict } = await recordOutcome(
    {
      control,
      period: {
        cadence: 'daily',
        key: periodKey,
        start: day.toJSDate(),
        end: day.plus({ days: 1 }).toJSDate(),
      },
      runId: newRunId(startedAt),
      asOf: completed.toISOString(),
      startedAt,
      finishedAt,
      outcome,
      entries: evidence.entries,
      // Its own chain: restore tests happen when AWS Backup runs them (daily keys), never on the
      // control's monthly schedule, so they must not share the scheduled chain's single cadence.
      chainKind: 'events',
    },
    deps,
  );

  const validationStatus: ValidationStatus = outcome.verdict === 'pass' ? 'SUCCESSFUL' : 'FAILED';
  await deps.backup.putRestoreValidationResult(
    restoreJobId,
    validationStatus,
    validationMessage(outcome, stored.evidenceKey),
  );
  deps.log.info('restore job validated', {
    restoreJobId,
    controlId: control.id,
    verdict: outcome.verdict,
    evidenceKey: stored.evidenceKey,
  });

  const notificationIds: string[] = [];
  if (outcome.verdict !== 'pass') {
    const base = failureNotification(
      control,
      { controlId: control.id, cadence: 'daily', periodKey, asOf: completed.toISOString() },
      { ...attempt, attempts: verdict.attempts },
    );
    notificationIds.push(
      await deps.notifier.publish({
        ...base,
        subject: `[SOC 2] ${control.id}: restore test ${outcome.verdict === 'fail' ? 'failed' : 'errored'} (${periodKey})`,
        text: `AWS Backup restore job ${restoreJobId} (${planArn}).\n\n${base.text}`,
        payload: { ...base.payload, restoreJobId },
      }),
    );
  }
  return {
    action: 'validated',
    restoreJobId,
    controlId: control.id,
    validationStatus,
    outcome,
    evidenceKey: stored.evidenceKey,
    notificationIds,
  };
}
