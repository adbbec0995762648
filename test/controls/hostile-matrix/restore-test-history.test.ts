import { BackupClient, ListRestoreJobsCommand, type RestoreJobsListMember } from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach } from 'vitest';
import { makeBackupRestoreTests } from '../../../lib/adapters/backup/backup-restore-port.ts';
import type { ControlPorts } from '../../../lib/controls/ports.ts';
import { runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { restoreTestHistoryMatrix } from './cells/restore-test-history.ts';

const PLAN =
  'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:monthly_rds-867cbaf4-a45d-464e-ba8b-6035bc96770b';
const MINUTE = 60_000;
const CREATED = new Date('2026-11-10T03:00:00Z');

function job(overrides: Partial<RestoreJobsListMember> = {}): RestoreJobsListMember {
  return {
    RestoreJobId: 'j1',
    Status: 'COMPLETED',
    ResourceType: 'RDS',
    CreatedBy: { RestoreTestingPlanArn: PLAN },
    CreationDate: CREATED,
    CompletionDate: new Date(CREATED.getTime() + 40 * MINUTE),
    RecoveryPointCreationDate: new Date('2026-11-10T02:00:00Z'),
    ValidationStatus: 'SUCCESSFUL',
    ...overrides,
  };
}
const without = (field: keyof RestoreJobsListMember): RestoreJobsListMember => {
  const copy = job();
  delete copy[field];
  return copy;
};

const client = new BackupClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});
const backup = mockClient(client);
beforeEach(() => backup.reset());

function history(
  pages: RestoreJobsListMember[][],
  test: Record<string, unknown> = {},
  ports: Partial<ControlPorts> = { restoreTests: makeBackupRestoreTests(client) },
) {
  let call = backup.on(ListRestoreJobsCommand);
  pages.forEach((page, index) => {
    call = call.resolvesOnce({
      RestoreJobs: page,
      ...(index < pages.length - 1 ? { NextToken: `p${index + 1}` } : {}),
    });
  });
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
    ports,
  });
}
const OTHER_PLAN = 'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:weekly_s3-11112222';

describeMatrix('restore-test-history', restoreTestHistoryMatrix, {
  'control-one-validated-test': () => history([[job()]]),
  'empty-listing': () => history([[]]),
  'only-other-plans': () => history([[job({ CreatedBy: { RestoreTestingPlanArn: OTHER_PLAN } })]]),
  'null-validation-status': () => history([[without('ValidationStatus')]]),
  'null-completion-date': () => history([[without('CompletionDate')]]),
  'null-status': () => history([[without('Status')]]),
  'null-plan': () => history([[without('CreatedBy')]]),
  'completed-before-created': () =>
    history([[job({ CompletionDate: new Date(CREATED.getTime() - 5 * MINUTE) })]]),
  'on-rto': () => history([[job({ CompletionDate: new Date(CREATED.getTime() + 60 * MINUTE) })]]),
  'just-over-rto': () => history([[job({ CompletionDate: new Date(CREATED.getTime() + 60 * MINUTE + 1) })]]),
  'on-period-start': () => {
    const start = new Date('2026-11-01T00:00:00Z');
    return history([[job({ CreationDate: start, CompletionDate: new Date(start.getTime() + 30 * MINUTE) })]]);
  },
  'just-before-period-start': () => {
    const before = new Date('2026-10-31T23:59:59.999Z');
    return history([
      [job({ CreationDate: before, CompletionDate: new Date(before.getTime() + 30 * MINUTE) })],
    ]);
  },
  'on-cutoff': () => {
    const end = new Date('2026-12-01T00:00:00Z');
    return history([[job({ CreationDate: end, CompletionDate: new Date(end.getTime() + 5 * MINUTE) })]]);
  },
  'completed-after-check': () =>
    history([
      [
        job({
          CreationDate: new Date('2026-11-30T23:50:00Z'),
          CompletionDate: new Date('2026-12-01T00:30:00Z'),
        }),
      ],
    ]),
  'outlier-old-job': () =>
    history([
      [
        job({
          CreationDate: new Date('2023-03-01T00:00:00Z'),
          CompletionDate: new Date('2023-03-01T00:30:00Z'),
        }),
      ],
    ]),
  'duplicate-job': () => history([[job()], [job()]], { minSuccessful: 2 }),
  'control-character-status': () =>
    history([[job({ Status: 'COMPLETED\n' as 'COMPLETED', StatusMessage: 'x'.repeat(100_000) })]]),
  'backup-denied': () => {
    backup
      .on(ListRestoreJobsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    return runTest({
      test: { type: 'restore-test-history', sourceTarget: 'app' },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: '2026-12-01T00:10:00Z',
      ports: { restoreTests: makeBackupRestoreTests(client) },
    });
  },
  'no-backup-reader': () => history([[job()]], {}, {}),
  'stale-running-job': () =>
    history([[job({ Status: 'RUNNING', ValidationStatus: undefined, CompletionDate: undefined })]]),
  'stale-still-validating': () => history([[job({ ValidationStatus: 'VALIDATING' })]]),
});
