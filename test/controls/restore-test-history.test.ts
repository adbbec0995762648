import { BackupClient, ListRestoreJobsCommand, type RestoreJobsListMember } from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeBackupRestoreTests } from '../../lib/adapters/backup/backup-restore-port.ts';
import { restoreTestingPlanName } from '../../lib/controls/restore-test-history.ts';
import { runTest } from './control-harness.ts';

const PLAN =
  'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:monthly_rds-867cbaf4-a45d-464e-ba8b-6035bc96770b';
const OTHER_PLAN = 'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:weekly_s3-11112222';

function job(id: string, overrides: Partial<RestoreJobsListMember> = {}): RestoreJobsListMember {
  return {
    RestoreJobId: id,
    Status: 'COMPLETED',
    ResourceType: 'RDS',
    CreatedBy: { RestoreTestingPlanArn: PLAN },
    CreationDate: new Date('2026-11-10T03:00:00Z'),
    CompletionDate: new Date('2026-11-10T03:40:00Z'),
    RecoveryPointCreationDate: new Date('2026-11-10T02:00:00Z'),
    ValidationStatus: 'SUCCESSFUL',
    ...overrides,
  };
}

describe('restore-test-history', () => {
  const client = new BackupClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const backup = mockClient(client);
  const run = (jobs: RestoreJobsListMember[], test: Record<string, unknown> = {}) => {
    backup.on(ListRestoreJobsCommand).resolves({ RestoreJobs: jobs });
    return runTest({
      test: {
        type: 'restore-test-history',
        sourceTarget: 'app',
        restoreTestingPlans: ['monthly_rds'],
        ...test,
      },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: '2026-12-01T00:10:00Z',
      ports: { restoreTests: makeBackupRestoreTests(client) },
    });
  };
  beforeEach(() => backup.reset());

  it('passes with one successful, validated restore test within the RTO, warning about the others', async () => {
    const { outcome, evidence } = await run([
      job('good'),
      job('slow', { CompletionDate: new Date('2026-11-10T04:30:00Z') }),
      job('other-plan', { CreatedBy: { RestoreTestingPlanArn: OTHER_PLAN }, ValidationStatus: 'FAILED' }),
    ]);
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toEqual({ restoreTests: 2, successful: 1, fastestMinutes: 40 });
    expect(outcome.warnings).toEqual([
      'restore job slow (2026-11-10T03:00:00.000Z) took longer than the RTO (90 min)',
    ]);
    const call = backup.commandCalls(ListRestoreJobsCommand)[0]?.args[0].input;
    expect(call).toMatchObject({
      ByCreatedAfter: new Date('2026-11-01T00:00:00Z'),
      ByCreatedBefore: new Date('2026-12-01T00:00:00Z'),
    });
    expect(evidence.entries[0]).toMatchObject({ kind: 'api', operation: 'ListRestoreJobs' });
  });

  it('fails when every restore test failed validation, ran over the RTO or was never validated', async () => {
    const { outcome } = await run([
      job('bad', { ValidationStatus: 'FAILED', ValidationStatusMessage: 'rows differ' }),
      job('pending', { ValidationStatus: undefined }),
      job('aborted', { Status: 'ABORTED' }),
    ]);
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      '0 of 3 restore tests of plan monthly_rds in 2026-11 were successful, validated and within the PT60M RTO; 1 required',
      'restore job bad (2026-11-10T03:00:00.000Z) failed validation',
      'restore job pending (2026-11-10T03:00:00.000Z) was never validated',
      'restore job aborted (2026-11-10T03:00:00.000Z) did not complete',
    ]);
  });

  it('fails when no restore test ran in the period', async () => {
    const { outcome } = await run([job('other', { CreatedBy: { RestoreTestingPlanArn: OTHER_PLAN } })]);
    expect(outcome.reasons).toEqual(['no AWS Backup restore test of plan monthly_rds ran in 2026-11']);
  });

  it('errors naming the permission when AWS Backup denies the listing', async () => {
    backup
      .on(ListRestoreJobsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const { outcome } = await runTest({
      test: { type: 'restore-test-history', sourceTarget: 'app' },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: '2026-12-01T00:10:00Z',
      ports: { restoreTests: makeBackupRestoreTests(client) },
    });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe(
      'listing AWS Backup restore jobs: access denied (backup:ListRestoreJobs)',
    );
  });

  it('errors rather than passes without an AWS Backup reader', async () => {
    const { outcome } = await runTest({
      test: { type: 'restore-test-history', sourceTarget: 'app' },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: '2026-12-01T00:10:00Z',
      ports: {},
    });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toContain('no AWS Backup reader');
  });

  it('reads the plan name from a restore testing plan ARN', () => {
    expect(restoreTestingPlanName(PLAN)).toBe('monthly_rds');
    expect(restoreTestingPlanName(undefined)).toBeNull();
  });
});
