import * as z from 'zod';
import {
  comparesSchemaWithItself,
  restoreComparisonShape,
  verifyRestore,
} from '../restore/verify-restore.ts';
import { quoteIdentifier, slugSchema, sqlIdentifierSchema } from '../shared/identifiers.ts';
import { needs, targetNeed } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { ControlCheckError, type ControlOutcome, outcome } from './outcome.ts';

const restoreLogSchema = z.strictObject({
  schema: sqlIdentifierSchema
    .default('public')
    .describe('Schema of the restore log in the restored database.'),
  table: sqlIdentifierSchema
    .default('soc2_restore_log')
    .describe('The table the restore job writes one row into per restore.'),
  columns: z
    .strictObject({
      recoveryPoint: sqlIdentifierSchema
        .default('recovery_point')
        .describe('The instant the restore restored to.'),
      startedAt: sqlIdentifierSchema
        .default('started_at')
        .describe('When the restore started (timestamp), for the RTO.'),
      completedAt: sqlIdentifierSchema
        .default('completed_at')
        .describe(
          'When the restore completed (timestamp); a row without it is an unfinished restore and does not count.',
        ),
    })
    .default({
      recoveryPoint: 'recovery_point',
      startedAt: 'started_at',
      completedAt: 'completed_at',
    })
    .describe('Column names in the restore log.'),
});

export const restoreVerificationParamsSchema = z
  .strictObject({
    type: z.literal('restore-verification'),
    ...restoreComparisonShape,
    restoredTarget: slugSchema.describe('The restored copy (e.g. the monthly restore to staging).'),
    restoreLog: restoreLogSchema
      .optional()
      .describe(
        "Where the recovery point comes from: a row the restore job writes into the restored database (`restoreLog`, newest row wins; also gives the restore's start and end for the RTO), or a fixed `recoveryPoint` for a one-off check.",
      ),
    recoveryPoint: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        'A fixed recovery point (ISO-8601 instant with offset) instead of `restoreLog`, for a one-off check.',
      ),
    restoreStartedAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('With `recoveryPoint`: when the restore started, for the RTO.'),
    restoreCompletedAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('With `recoveryPoint`: when the restore completed, for the RTO.'),
  })
  .refine((params) => params.restoreLog !== undefined || params.recoveryPoint !== undefined, {
    message: 'expected restoreLog or recoveryPoint: the recovery point must be known',
    path: ['restoreLog'],
  })
  .refine(
    (params) => params.sourceTarget !== params.restoredTarget || !comparesSchemaWithItself(params.schemas),
    {
      message:
        'the restored target must differ from the source target, unless `schemas` maps every schema to another name (e.g. { app: app_restored })',
      path: ['restoredTarget'],
    },
  );
export type RestoreVerificationParams = z.output<typeof restoreVerificationParamsSchema>;

interface RestoreRecord {
  recoveryPoint: Date;
  startedAt?: Date;
  completedAt?: Date;
  source: string;
}

/** The log answered but records no completed restore: the control did not operate (a `fail`). */
interface NoCompletedRestore {
  none: string;
}

async function readRestoreLog(
  params: RestoreVerificationParams,
  context: ControlContext,
): Promise<RestoreRecord | NoCompletedRestore> {
  const log = params.restoreLog;
  if (!log) {
    return {
      recoveryPoint: new Date(params.recoveryPoint as string),
      ...(params.restoreStartedAt ? { startedAt: new Date(params.restoreStartedAt) } : {}),
      ...(params.restoreCompletedAt ? { completedAt: new Date(params.restoreCompletedAt) } : {}),
      source: 'params.recoveryPoint',
    };
  }
  const q = quoteIdentifier;
  const c = log.columns;
  return context.ports.postgres.withReadOnlySession(
    params.restoredTarget,
    context.evidence,
    async (session) => {
      const columns = await session.query<{ column_name: string; data_type: string }>(
        'restore log columns',
        'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
        [log.schema, log.table],
      );
      const relation = `${log.schema}.${log.table}`;
      if (columns.length === 0) {
        throw new ControlCheckError(
          `restore log ${relation} does not exist on "${params.restoredTarget}": the restore job must record its recovery point there`,
        );
      }
      for (const column of [c.recoveryPoint, c.startedAt, c.completedAt]) {
        const found = columns.find((row) => row.column_name === column);
        if (!found) throw new ControlCheckError(`column ${relation}.${column} does not exist`);
        // Text instants would be compared as text ("completed by as-of" decided by spelling).
        if (!/^timestamp/.test(found.data_type))
          throw new ControlCheckError(
            `column ${relation}.${column} is ${found.data_type}, expected a timestamp`,
          );
      }
      // The newest restore that completed by the as-of instant and says what it restored; rows
      // without a completion time (still running, crashed) or a recovery point prove nothing.
      const [row] = await session.query<{
        recovery_point: Date | null;
        started_at: Date | null;
        completed_at: Date | null;
        incomplete: string;
      }>(
        'newest completed restore',
        `SELECT newest.recovery_point, newest.started_at, newest.completed_at, counts.incomplete
           FROM (SELECT count(*) FILTER (WHERE ${q(c.completedAt)} IS NULL OR ${q(c.recoveryPoint)} IS NULL) AS incomplete
                   FROM ${q(log.schema)}.${q(log.table)}) AS counts
           LEFT JOIN LATERAL (
             SELECT ${q(c.recoveryPoint)}::timestamptz AS recovery_point, ${q(c.startedAt)}::timestamptz AS started_at,
                    ${q(c.completedAt)}::timestamptz AS completed_at
               FROM ${q(log.schema)}.${q(log.table)}
              WHERE ${q(c.completedAt)} IS NOT NULL AND ${q(c.recoveryPoint)} IS NOT NULL AND ${q(c.completedAt)} <= $1
              ORDER BY ${q(c.completedAt)} DESC, ${q(c.recoveryPoint)} DESC
              LIMIT 1) AS newest ON true`,
        [context.asOf.toISOString()],
      );
      if (!row?.recovery_point || !row.completed_at) {
        return {
          none: `restore log ${relation} records no restore completed by ${context.asOf.toISOString()} (${Number(row?.incomplete ?? 0)} unfinished): no restore was tested in ${context.period.key}`,
        };
      }
      return {
        recoveryPoint: row.recovery_point,
        ...(row.started_at ? { startedAt: row.started_at } : {}),
        ...(row.completed_at ? { completedAt: row.completed_at } : {}),
        source: relation,
      };
    },
  );
}

async function run(params: RestoreVerificationParams, context: ControlContext): Promise<ControlOutcome> {
  const restore = await readRestoreLog(params, context);
  if ('none' in restore) {
    return outcome({
      reasons: [restore.none],
      figures: { tables: 0 },
      details: { source: params.sourceTarget, restored: params.restoredTarget, restore: null },
    });
  }
  const comparison = await verifyRestore({
    postgres: context.ports.postgres,
    evidence: context.evidence,
    restoredTarget: params.restoredTarget,
    comparison: params,
    recoveryPoint: restore.recoveryPoint,
    ...(restore.startedAt ? { restoreStartedAt: restore.startedAt } : {}),
    ...(restore.completedAt ? { restoreCompletedAt: restore.completedAt } : {}),
    ignoreInRestored: params.restoreLog ? [`${params.restoreLog.schema}.${params.restoreLog.table}`] : [],
  });
  const reasons = [...comparison.reasons];
  const warnings = [...comparison.warnings];
  // Re-verifying last month's restore proves nothing about this month: the test must be repeated.
  const periodReasons: string[] = [];
  if (params.restoreLog && restore.completedAt && restore.completedAt < context.period.start) {
    periodReasons.push(
      `the newest restore completed ${restore.completedAt.toISOString()}, before ${context.period.key} began: no restore was tested in the period`,
    );
  }
  // A restore of an old recovery point proves an old backup; the period's own must be restorable.
  const point = restore.recoveryPoint.getTime();
  if (point < context.period.start.getTime() || point >= context.period.end.getTime()) {
    periodReasons.push(
      `the recovery point ${restore.recoveryPoint.toISOString()} is not in ${context.period.key}: the restore does not show the period's backups can be restored`,
    );
  }
  // Logged or configured, the times must be in order: a restore that completed before the point it
  // restored or before it started has a wrong record, and its RTO (negative) would read as met.
  const wrongTimes = params.restoreLog ? 'the restore log is wrong' : 'the restore times are wrong';
  if (restore.completedAt && restore.recoveryPoint > restore.completedAt) {
    periodReasons.push(
      `the recovery point ${restore.recoveryPoint.toISOString()} is after the restore completed (${restore.completedAt.toISOString()}): ${wrongTimes}`,
    );
  }
  if (restore.startedAt && restore.completedAt && restore.startedAt > restore.completedAt) {
    periodReasons.push(
      `the restore started ${restore.startedAt.toISOString()}, after it completed (${restore.completedAt.toISOString()}): ${wrongTimes}`,
    );
  }
  if (restore.completedAt && restore.completedAt > context.asOf) {
    periodReasons.push(
      `the restore completed ${restore.completedAt.toISOString()}, after the check (${context.asOf.toISOString()}): it cannot have been tested yet`,
    );
  }
  if (params.restoreLog && !restore.startedAt) {
    periodReasons.push(
      `the newest restore in ${restore.source} has no ${params.restoreLog.columns.startedAt}: the RTO cannot be measured`,
    );
  }
  reasons.unshift(...periodReasons);
  if (!params.restoreLog)
    warnings.push('fixed recoveryPoint in the configuration: the check does not show a new restore was made');
  return outcome({
    reasons,
    warnings,
    figures: comparison.figures,
    details: {
      source: params.sourceTarget,
      restored: params.restoredTarget,
      recoveryPointFrom: restore.source,
      rpo: comparison.rpo,
      rto: comparison.rto,
      tables: comparison.tables,
    },
  });
}

export const restoreVerification: ControlTest<RestoreVerificationParams> = {
  type: 'restore-verification',
  description:
    'Restore verification: the restored copy matches the source (tables, counts, key checksums) within RPO and RTO.',
  paramsSchema: restoreVerificationParamsSchema,
  needs: (params) =>
    needs({
      targets: [
        targetNeed(params.sourceTarget, 'sourceTarget'),
        targetNeed(params.restoredTarget, 'restoredTarget'),
      ],
    }),
  run,
};
