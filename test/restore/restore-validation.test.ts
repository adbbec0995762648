import {
  BackupClient,
  DescribeRestoreJobCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeBackupRestorePort } from '../../lib/adapters/backup/backup-restore-port.ts';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import { ControlCheckError } from '../../lib/controls/outcome.ts';
import {
  InvalidRestoreEventError,
  parseRestoreJobEvent,
  type RestoreValidationDeps,
  validateRestoreJob,
} from '../../lib/restore/restore-validation.ts';
import { silentLogger } from '../../lib/shared/logger.ts';
import { makeRunDeps } from '../../lib/wiring/make-run-deps.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

const PLAN_ARN =
  'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:monthly_rds-867cbaf4-a45d-464e-ba8b-6035bc96770b';
const RP = new Date('2026-11-14T03:00:00Z');

function event(detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'ab32977c',
    'detail-type': 'Restore Job State Change',
    source: 'aws.backup',
    account: '111122223333',
    time: '2026-11-14T04:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      restoreJobId: 'job-ok',
      status: 'COMPLETED',
      resourceType: 'RDS',
      restoreTestingPlanArn: PLAN_ARN,
      createdResourceArn: 'arn:aws:rds:us-east-1:111122223333:db:awsbackup-restore-test-1',
      creationDate: '2026-11-14T03:05:00Z',
      completionDate: '2026-11-14T03:40:00Z',
      percentDone: 100,
      ...detail,
    },
  };
}

function describedJob(restoreJobId: string) {
  return {
    RestoreJobId: restoreJobId,
    Status: 'COMPLETED' as const,
    ResourceType: 'RDS',
    CreatedBy: { RestoreTestingPlanArn: PLAN_ARN },
    CreatedResourceArn: `arn:aws:rds:us-east-1:111122223333:db:${restoreJobId}`,
    SourceResourceArn: 'arn:aws:rds:us-east-1:111122223333:db:prod',
    CreationDate: new Date('2026-11-14T03:05:00Z'),
    CompletionDate: new Date('2026-11-14T03:40:00Z'),
    RecoveryPointCreationDate: RP,
  };
}

describe('validateRestoreJob', () => {
  let env: TestEnvironment;
  let deps: RestoreValidationDeps;
  const backupClient = new BackupClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const backup = mockClient(backupClient);
  const restoredUrls = new Map<string, string>();

  beforeAll(async () => {
    env = await startTestEnvironment();
    const source = await env.createDatabase('backup_source');
    await env.sql(
      source,
      `CREATE TABLE invoices (id int PRIMARY KEY, amount numeric, created_at timestamptz NOT NULL);
       INSERT INTO invoices SELECT i, i * 10, '${RP.toISOString()}'::timestamptz - i * interval '5 minutes' FROM generate_series(1, 200) AS i;`,
    );
    await env.sql(env.postgresUrl, 'CREATE DATABASE backup_restored TEMPLATE backup_source');
    await env.sql(env.postgresUrl, 'CREATE DATABASE backup_broken TEMPLATE backup_source');
    const restored = source.replace('/backup_source', '/backup_restored');
    const broken = source.replace('/backup_source', '/backup_broken');
    await env.sql(broken, 'DELETE FROM invoices WHERE id IN (3, 4)');
    await env.sql(
      source,
      `INSERT INTO invoices VALUES (9999, 1, '${RP.toISOString()}'::timestamptz + interval '1 hour')`,
    );
    restoredUrls.set('job-ok', restored);
    restoredUrls.set('job-broken', broken);

    const config = parseConfig({
      owners: [{ id: 'sre', name: 'SRE', email: 'sre@example.com' }],
      targets: [{ name: 'app', connection: { env: 'SOURCE_URL' } }],
      controls: [
        {
          id: 'backup-restore-tests',
          title: 'Monthly AWS Backup restore test',
          criteria: ['CC7.3', 'A1.2'],
          cadence: 'monthly',
          owner: 'sre',
          test: { type: 'restore-test-history', sourceTarget: 'app', restoreTestingPlans: ['monthly_rds'] },
        },
      ],
    });
    const resolveConnection = envConnectionResolver({ SOURCE_URL: source });
    const runDeps = makeRunDeps({
      config,
      resources: env.resources,
      clients: env.clients,
      resolveConnection,
      log: silentLogger,
    });
    const { ports: _ports, ...rest } = runDeps;
    deps = {
      ...rest,
      backup: makeBackupRestorePort(backupClient),
      // Stands in for the RDS lookup (tested in test/aws): the "restored instance" is a real database.
      openRestoredDatabase: async (job, sourceTarget) => {
        const url = restoredUrls.get(job.restoreJobId);
        if (!url) throw new ControlCheckError(`restored instance ${job.restoreJobId} no longer exists`);
        const targets = [
          ...config.targets,
          { name: 'restore-test', connection: { env: 'RESTORED_URL' }, statementTimeoutMs: 5000 },
        ];
        expect(sourceTarget).toBe('app');
        return {
          postgres: makePostgresPort(
            targets,
            envConnectionResolver({ SOURCE_URL: source, RESTORED_URL: url }),
          ),
          restoredTarget: 'restore-test',
        };
      },
    };
  });
  afterAll(async () => env?.stop());
  beforeEach(() => {
    backup.reset();
    for (const id of ['job-ok', 'job-broken', 'job-gone']) {
      backup.on(DescribeRestoreJobCommand, { RestoreJobId: id }).resolves(describedJob(id));
    }
    backup.on(PutRestoreValidationResultCommand).resolves({});
  });

  it('reports SUCCESSFUL after storing evidence and a verdict for a restore that matches the source', async () => {
    const report = await validateRestoreJob(parseRestoreJobEvent(event()), deps);
    expect(report).toMatchObject({
      action: 'validated',
      validationStatus: 'SUCCESSFUL',
      controlId: 'backup-restore-tests',
    });
    if (report.action !== 'validated') throw new Error('not validated');
    expect(report.outcome.figures).toMatchObject({ tables: 1, matching: 1, restoreMinutes: 35 });

    const put = backup.commandCalls(PutRestoreValidationResultCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ RestoreJobId: 'job-ok', ValidationStatus: 'SUCCESSFUL' });
    expect(put?.ValidationStatusMessage).toContain(report.evidenceKey);

    const verdict = await deps.results.verdictFor('backup-restore-tests', 'daily', '2026-11-14');
    expect(verdict).toMatchObject({ verdict: 'pass', evidenceKey: report.evidenceKey });
    const object = await env.clients.s3.send(
      new GetObjectCommand({ Bucket: env.resources.evidenceBucket, Key: report.evidenceKey }),
    );
    const document = JSON.parse(await (object.Body?.transformToString() ?? '{}'));
    expect(
      document.checks.map((check: { operation?: string; label: string }) => check.operation ?? check.label),
    ).toContain('DescribeRestoreJob');
  });

  it('reports FAILED with the reason and notifies the owner when restored rows are missing', async () => {
    const report = await validateRestoreJob(
      parseRestoreJobEvent(event({ restoreJobId: 'job-broken' })),
      deps,
    );
    expect(report).toMatchObject({ action: 'validated', validationStatus: 'FAILED' });
    if (report.action !== 'validated') throw new Error('not validated');
    expect(report.notificationIds).toHaveLength(1);
    const put = backup.commandCalls(PutRestoreValidationResultCommand)[0]?.args[0].input;
    expect(put?.ValidationStatus).toBe('FAILED');
    expect(put?.ValidationStatusMessage).toContain(
      'restore verification failed: table public.invoices: 198 rows restored, 200 in the source',
    );
  });

  it('reports FAILED as "could not verify" when the restored instance cannot be opened', async () => {
    const report = await validateRestoreJob(parseRestoreJobEvent(event({ restoreJobId: 'job-gone' })), deps);
    expect(report).toMatchObject({
      action: 'validated',
      validationStatus: 'FAILED',
      outcome: { verdict: 'error' },
    });
    const put = backup.commandCalls(PutRestoreValidationResultCommand)[0]?.args[0].input;
    expect(put?.ValidationStatusMessage).toMatch(
      /^soc2-evidence: could not verify the restore: restored instance job-gone no longer exists/,
    );
  });

  // Hostile cell: a completed job without its start (or end) time cannot show when it ran or how long
  // it took (the RTO), so it is not a pass with a warning but a verdict that names the missing field.
  it.each([
    ['CreationDate', 'start time'],
    ['CompletionDate', 'completion time'],
  ] as const)('reports FAILED as "could not verify" when the job has no %s (its %s)', async (field, what) => {
    const { [field]: _dropped, ...job } = describedJob('job-ok');
    backup.on(DescribeRestoreJobCommand, { RestoreJobId: 'job-ok' }).resolves(job);
    const report = await validateRestoreJob(parseRestoreJobEvent(event()), deps);
    expect(report).toMatchObject({ action: 'validated', validationStatus: 'FAILED' });
    if (report.action !== 'validated') throw new Error('not validated');
    expect(report.outcome.verdict).toBe('error');
    expect(report.outcome.reasons).toEqual([
      `restore job job-ok has no ${what} (${field}): it cannot show when the restore ran or that it met the RTO`,
    ]);
    const put = backup.commandCalls(PutRestoreValidationResultCommand)[0]?.args[0].input;
    expect(put?.ValidationStatus).toBe('FAILED');
    expect(put?.ValidationStatusMessage).toContain(
      `could not verify the restore: restore job job-ok has no ${what}`,
    );
  });

  it('ignores jobs that are not completed restore tests of a configured plan, without touching AWS Backup', async () => {
    const running = await validateRestoreJob(parseRestoreJobEvent(event({ status: 'RUNNING' })), deps);
    expect(running).toEqual({
      action: 'ignored',
      restoreJobId: 'job-ok',
      reason: 'status is RUNNING, not COMPLETED',
    });
    backup
      .on(DescribeRestoreJobCommand, { RestoreJobId: 'manual' })
      .resolves({ ...describedJob('manual'), CreatedBy: {} });
    const manual = await validateRestoreJob(
      parseRestoreJobEvent(event({ restoreJobId: 'manual', restoreTestingPlanArn: undefined })),
      deps,
    );
    expect(manual).toMatchObject({ action: 'ignored', reason: 'not started by a restore testing plan' });
    const otherPlan = 'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:weekly_s3-1234';
    backup
      .on(DescribeRestoreJobCommand, { RestoreJobId: 'other' })
      .resolves({ ...describedJob('other'), CreatedBy: { RestoreTestingPlanArn: otherPlan } });
    const other = await validateRestoreJob(parseRestoreJobEvent(event({ restoreJobId: 'other' })), deps);
    expect(other).toMatchObject({
      action: 'ignored',
      reason: `no restore-test-history control covers restore testing plan ${otherPlan}`,
    });
    expect(backup.commandCalls(PutRestoreValidationResultCommand)).toHaveLength(0);
  });

  it('rejects a malformed event with a message naming the bad field', () => {
    expect(() =>
      parseRestoreJobEvent({
        source: 'aws.backup',
        'detail-type': 'Restore Job State Change',
        detail: { status: 'COMPLETED' },
      }),
    ).toThrow(
      new InvalidRestoreEventError(
        'not an AWS Backup "Restore Job State Change" event: detail.restoreJobId: missing; expected string',
      ),
    );
    expect(() =>
      parseRestoreJobEvent({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }),
    ).toThrow(InvalidRestoreEventError);
  });
});
