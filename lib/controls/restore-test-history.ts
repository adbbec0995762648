import * as z from 'zod';
import { restoreComparisonShape } from '../restore/verify-restore.ts';
import { durationToMs } from '../shared/identifiers.ts';
import { needs, targetNeed } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { periodCutoff } from './evaluation-time.ts';
import { type ControlOutcome, outcome } from './outcome.ts';
import { type PopulationDeclaration, sortedById } from './population.ts';
import { type RestoreJobSummary, requirePort } from './ports.ts';

const RESTORE_RUNS = {
  name: 'restore-runs',
  description:
    'an AWS Backup restore job of the configured restore testing plans created in the period, with its status, validation and duration',
} as const satisfies PopulationDeclaration;

export const restoreTestHistoryParamsSchema = z.strictObject({
  type: z.literal('restore-test-history'),
  /**
   * What the restore-validator Lambda compares each AWS Backup restore test against: the source
   * database and how to compare (see restore-verification). The restored instance comes from the job.
   */
  ...restoreComparisonShape,
  restoreTestingPlans: z
    .array(z.string().regex(/^[A-Za-z0-9_]{1,50}$/, 'expected a restore testing plan name'))
    .min(1)
    .optional()
    .describe('Restore testing plan names whose jobs count (and which the validator answers). plan'),
  minSuccessful: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(1)
    .describe('Successful, validated restore tests within the RTO required per period.'),
});
export type RestoreTestHistoryParams = z.output<typeof restoreTestHistoryParamsSchema>;

/**
 * `arn:aws:backup:us-east-1:111122223333:restore-testing-plan:monthly_rds-867cbaf4-a45d-...` -> `monthly_rds`
 * (the ARN ends in `<name>-<id>`; plan names cannot contain '-').
 */
export function restoreTestingPlanName(arn: string | undefined): string | null {
  if (!arn) return null;
  const resource = arn.split(':').pop() ?? '';
  return resource.includes('-') ? resource.slice(0, resource.indexOf('-')) : resource;
}

export function planMatches(
  params: Pick<RestoreTestHistoryParams, 'restoreTestingPlans'>,
  arn: string | undefined,
): boolean {
  const name = restoreTestingPlanName(arn);
  if (name === null) return false;
  return !params.restoreTestingPlans || params.restoreTestingPlans.includes(name);
}

export type RestoreTestJudgement =
  | 'counts'
  | 'not-completed'
  | 'not-validated'
  | 'validation-failed'
  | 'over-rto'
  | 'undated'
  | 'inconsistent'
  | 'completed-late';

export interface JudgedRestoreTest {
  readonly restoreJobId: string;
  readonly plan: string | null;
  readonly status: string;
  readonly validationStatus: string | null;
  readonly createdAt: string | null;
  readonly completedAt: string | null;
  readonly restoreMinutes: number | null;
  readonly judgement: RestoreTestJudgement;
}

/**
 * Pure: whether one restore job is a successful, validated restore test within the RTO, as of `at`
 * (a job that completed after it had not completed then).
 */
export function judgeRestoreTest(
  job: RestoreJobSummary,
  rtoMs: number,
  at: Date = new Date(8.64e15),
): JudgedRestoreTest {
  const durationMs =
    job.creationDate && job.completionDate ? job.completionDate.getTime() - job.creationDate.getTime() : null;
  let judgement: RestoreTestJudgement;
  if (job.status !== 'COMPLETED') judgement = 'not-completed';
  else if (job.validationStatus === undefined || job.validationStatus === 'VALIDATING')
    judgement = 'not-validated';
  else if (job.validationStatus !== 'SUCCESSFUL') judgement = 'validation-failed';
  else if (durationMs === null) judgement = 'undated';
  else if (durationMs < 0) judgement = 'inconsistent';
  else if ((job.completionDate as Date).getTime() > at.getTime()) judgement = 'completed-late';
  else if (durationMs > rtoMs) judgement = 'over-rto';
  else judgement = 'counts';
  return {
    restoreJobId: job.restoreJobId,
    plan: restoreTestingPlanName(job.restoreTestingPlanArn),
    status: job.status,
    validationStatus: job.validationStatus ?? null,
    createdAt: job.creationDate?.toISOString() ?? null,
    completedAt: job.completionDate?.toISOString() ?? null,
    restoreMinutes: durationMs === null ? null : Math.round(durationMs / 6000) / 10,
    judgement,
  };
}

const EXPLAIN: Record<Exclude<RestoreTestJudgement, 'counts'>, string> = {
  'not-completed': 'did not complete',
  'not-validated': 'was never validated',
  'validation-failed': 'failed validation',
  'over-rto': 'took longer than the RTO',
  undated: 'has no start or end time',
  inconsistent: 'ends before it starts',
  'completed-late': 'completed after the check',
};

async function run(params: RestoreTestHistoryParams, context: ControlContext): Promise<ControlOutcome> {
  const restoreTests = requirePort(context.ports.restoreTests, 'AWS Backup reader (restoreTests port)');
  const { period } = context;
  const cutoff = periodCutoff(context);
  const rtoMs = durationToMs(params.rto);
  const jobs = await restoreTests.listRestoreJobs(
    { createdAfter: period.start, createdBefore: cutoff },
    context.evidence,
  );
  // A job listed twice (across pages) is one restore test.
  const unique = [...new Map(jobs.map((job) => [job.restoreJobId, job])).values()];
  const tests = unique
    .filter((job) => planMatches(params, job.restoreTestingPlanArn))
    .map((job) => judgeRestoreTest(job, rtoMs, context.asOf));
  const successful = tests.filter((test) => test.judgement === 'counts');
  if (context.populations) {
    await context.populations.write(
      RESTORE_RUNS,
      {
        source: 'api',
        service: 'backup',
        operation: 'ListRestoreJobs',
        request: {
          ByCreatedAfter: period.start.toISOString(),
          ByCreatedBefore: cutoff.toISOString(),
          restoreTestingPlans: params.restoreTestingPlans ?? 'all',
        },
        executedAt: context.now.toISOString(),
      },
      sortedById(tests.map((test) => ({ id: test.restoreJobId, ...test }))),
    );
  }

  const reasons: string[] = [];
  const warnings: string[] = [];
  if (successful.length < params.minSuccessful) {
    const plans = params.restoreTestingPlans ? ` of plan ${params.restoreTestingPlans.join(', ')}` : '';
    reasons.push(
      tests.length === 0
        ? `no AWS Backup restore test${plans} ran in ${period.key}`
        : `${successful.length} of ${tests.length} restore tests${plans} in ${period.key} were successful, validated and within the ${params.rto} RTO; ${params.minSuccessful} required`,
    );
  }
  for (const test of tests.filter((t) => t.judgement !== 'counts').slice(0, 10)) {
    const line = `restore job ${test.restoreJobId} (${test.createdAt ?? 'undated'}) ${EXPLAIN[test.judgement as Exclude<RestoreTestJudgement, 'counts'>]}${
      test.restoreMinutes !== null && test.judgement === 'over-rto' ? ` (${test.restoreMinutes} min)` : ''
    }`;
    (successful.length < params.minSuccessful ? reasons : warnings).push(line);
  }

  return outcome({
    reasons,
    warnings,
    figures: {
      restoreTests: tests.length,
      successful: successful.length,
      fastestMinutes:
        successful.length > 0
          ? Math.min(...successful.map((t) => t.restoreMinutes ?? Number.POSITIVE_INFINITY))
          : null,
    },
    details: {
      window: { from: period.start.toISOString(), to: cutoff.toISOString() },
      rto: params.rto,
      restoreTestingPlans: params.restoreTestingPlans ?? 'all',
      tests,
      otherRestoreJobs: unique.length - tests.length,
    },
  });
}

export const restoreTestHistory: ControlTest<RestoreTestHistoryParams> = {
  type: 'restore-test-history',
  description:
    'Restore test history: the period had a successful, validated AWS Backup restore test within the RTO.',
  paramsSchema: restoreTestHistoryParamsSchema,
  // The source database is opened by the restore validator; the control itself lists restore jobs.
  needs: (params) =>
    needs({
      targets: [targetNeed(params.sourceTarget, 'sourceTarget')],
      awsApis: ['backup:ListRestoreJobs'],
    }),
  populations: [RESTORE_RUNS],
  run,
};
