import { describe, expect, it } from 'vitest';
import type { RestoreJobSummary } from '../../lib/controls/ports.ts';
import {
  judgeRestoreTest,
  planMatches,
  restoreTestHistoryParamsSchema,
  restoreTestingPlanName,
} from '../../lib/controls/restore-test-history.ts';
import { runTest } from './control-harness.ts';

/**
 * Restore test history's decisions on the AWS Backup restore jobs it lists (an in-memory port: AWS
 * Backup has no emulator; the adapter is tested with aws-sdk-client-mock in restore-test-history.test.ts).
 */
const AS_OF = '2026-12-01T06:00:00.000Z';
const PLAN = 'arn:aws:backup:eu-west-1:111122223333:restore-testing-plan:monthly_rds-867cbaf4-a45d';

const job = (id: string, extra: Partial<RestoreJobSummary> = {}): RestoreJobSummary => ({
  restoreJobId: id,
  status: 'COMPLETED',
  validationStatus: 'SUCCESSFUL',
  restoreTestingPlanArn: PLAN,
  creationDate: new Date('2026-11-10T02:00:00Z'),
  completionDate: new Date('2026-11-10T02:40:00Z'),
  ...extra,
});

function check(jobs: readonly RestoreJobSummary[], test: Record<string, unknown> = {}, asOf = AS_OF) {
  const ranges: { createdAfter: string; createdBefore: string }[] = [];
  const run = runTest({
    test: { type: 'restore-test-history', sourceTarget: 'prod', ...test },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf,
    ports: {
      restoreTests: {
        async listRestoreJobs(range) {
          ranges.push({
            createdAfter: range.createdAfter.toISOString(),
            createdBefore: range.createdBefore.toISOString(),
          });
          return [...jobs];
        },
      },
    },
  });
  return { run, ranges };
}

describe('restore test history verdicts', () => {
  it('passes one successful, validated restore test within the RTO, listing the period', async () => {
    const { run, ranges } = check([job('j1'), job('other', { restoreTestingPlanArn: undefined })]);
    const { outcome } = await run;
    expect(outcome).toMatchObject({
      verdict: 'pass',
      reasons: [],
      warnings: [],
      figures: { restoreTests: 1, successful: 1, fastestMinutes: 40 },
    });
    expect(outcome.details).toEqual({
      window: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
      rto: 'PT60M',
      restoreTestingPlans: 'all',
      tests: [
        {
          restoreJobId: 'j1',
          plan: 'monthly_rds',
          status: 'COMPLETED',
          validationStatus: 'SUCCESSFUL',
          createdAt: '2026-11-10T02:00:00.000Z',
          completedAt: '2026-11-10T02:40:00.000Z',
          restoreMinutes: 40,
          judgement: 'counts',
        },
      ],
      otherRestoreJobs: 1,
    });
    expect(ranges).toEqual([
      { createdAfter: '2026-11-01T00:00:00.000Z', createdBefore: '2026-12-01T00:00:00.000Z' },
    ]);
  });

  it('lists up to asOf when the run is before the period end', async () => {
    const { run, ranges } = check([], {}, '2026-11-20T00:00:00Z');
    await run;
    expect(ranges[0]?.createdBefore).toBe('2026-11-20T00:00:00.000Z');
  });

  it('fails a period without restore tests, naming the plans asked for', async () => {
    expect((await check([]).run).outcome.reasons).toEqual(['no AWS Backup restore test ran in 2026-11']);
    const planned = await check([job('j1')], { restoreTestingPlans: ['weekly_rds', 'adhoc'] }).run;
    expect(planned.outcome.reasons).toEqual([
      'no AWS Backup restore test of plan weekly_rds, adhoc ran in 2026-11',
    ]);
    expect(planned.outcome.details).toMatchObject({
      restoreTestingPlans: ['weekly_rds', 'adhoc'],
      otherRestoreJobs: 1,
    });
  });

  it('fails when too few tests count, explaining each that did not, as reasons', async () => {
    const jobs = [
      job('failed', { status: 'FAILED' }),
      job('unvalidated', { validationStatus: undefined }),
      job('validating', { validationStatus: 'VALIDATING' }),
      job('invalid', { validationStatus: 'FAILED' }),
      job('slow', { completionDate: new Date('2026-11-10T03:00:00.001Z') }),
      job('undated', { creationDate: undefined }),
    ];
    const { outcome } = await check(jobs).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      '0 of 6 restore tests in 2026-11 were successful, validated and within the PT60M RTO; 1 required',
      'restore job failed (2026-11-10T02:00:00.000Z) did not complete',
      'restore job unvalidated (2026-11-10T02:00:00.000Z) was never validated',
      'restore job validating (2026-11-10T02:00:00.000Z) was never validated',
      'restore job invalid (2026-11-10T02:00:00.000Z) failed validation',
      'restore job slow (2026-11-10T02:00:00.000Z) took longer than the RTO (60 min)',
      'restore job undated (undated) has no start or end time',
    ]);
    expect(outcome.figures).toEqual({ restoreTests: 6, successful: 0, fastestMinutes: null });
  });

  it('keeps the explanations as warnings once enough tests count, at most ten', async () => {
    const failures = Array.from({ length: 11 }, (_, i) => job(`f${i}`, { status: 'ABORTED' }));
    const { outcome } = await check([job('ok'), ...failures]).run;
    expect(outcome.verdict).toBe('pass');
    expect(outcome.warnings).toHaveLength(10);
    expect(outcome.warnings[0]).toBe('restore job f0 (2026-11-10T02:00:00.000Z) did not complete');
  });

  it('requires minSuccessful tests and reports the fastest', async () => {
    const fast = job('fast', { completionDate: new Date('2026-11-10T02:12:30Z') });
    const short = await check([job('j1')], { minSuccessful: 2 }).run;
    expect(short.outcome.reasons).toEqual([
      '1 of 1 restore tests in 2026-11 were successful, validated and within the PT60M RTO; 2 required',
    ]);
    const enough = await check([job('j1'), fast], { minSuccessful: 2 }).run;
    expect(enough.outcome).toMatchObject({
      verdict: 'pass',
      figures: { successful: 2, fastestMinutes: 12.5 },
    });
  });

  it('errors without the AWS Backup port', async () => {
    const { outcome } = await runTest({
      test: { type: 'restore-test-history', sourceTarget: 'prod' },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: AS_OF,
      ports: {},
    });
    expect(outcome.reasons).toEqual([
      'this deployment provides no AWS Backup reader (restoreTests port), so the control cannot be checked',
    ]);
  });
});

describe('judgeRestoreTest and plan names', () => {
  const rto = 60 * 60_000;
  it('counts a restore of exactly the RTO, not one a millisecond over', () => {
    expect(
      judgeRestoreTest(job('j', { completionDate: new Date('2026-11-10T03:00:00Z') }), rto).judgement,
    ).toBe('counts');
    expect(
      judgeRestoreTest(job('j', { completionDate: new Date('2026-11-10T03:00:00.001Z') }), rto).judgement,
    ).toBe('over-rto');
    expect(judgeRestoreTest(job('j', { completionDate: undefined }), rto)).toMatchObject({
      judgement: 'undated',
      restoreMinutes: null,
      completedAt: null,
    });
    expect(judgeRestoreTest(job('j', { validationStatus: undefined }), rto).validationStatus).toBeNull();
  });

  it('reads the plan name from the ARN, and matches only listed plans', () => {
    expect(restoreTestingPlanName(PLAN)).toBe('monthly_rds');
    expect(restoreTestingPlanName('arn:aws:backup:eu-west-1:1:restore-testing-plan:plain')).toBe('plain');
    expect(restoreTestingPlanName(undefined)).toBeNull();
    expect(restoreTestingPlanName('')).toBeNull();
    expect(planMatches({ restoreTestingPlans: undefined }, PLAN)).toBe(true);
    expect(planMatches({ restoreTestingPlans: ['monthly_rds'] }, PLAN)).toBe(true);
    expect(planMatches({ restoreTestingPlans: ['weekly'] }, PLAN)).toBe(false);
    expect(planMatches({ restoreTestingPlans: undefined }, undefined)).toBe(false);
  });

  it('validates plan names and the minimum', () => {
    const parse = (extra: Record<string, unknown>) =>
      restoreTestHistoryParamsSchema.safeParse({
        type: 'restore-test-history',
        sourceTarget: 'prod',
        ...extra,
      });
    expect(parse({}).data).toMatchObject({ minSuccessful: 1, rto: 'PT60M' });
    expect(parse({ restoreTestingPlans: ['monthly-rds'] }).error?.issues[0]?.message).toBe(
      'expected a restore testing plan name',
    );
    expect(parse({ restoreTestingPlans: [] }).success).toBe(false);
    expect(parse({ restoreTestingPlans: ['x'.repeat(50)] }).success).toBe(true);
    expect(parse({ restoreTestingPlans: ['x'.repeat(51)] }).success).toBe(false);
    expect(parse({ minSuccessful: 0 }).success).toBe(false);
    expect(parse({ minSuccessful: 101 }).success).toBe(false);
  });
});
