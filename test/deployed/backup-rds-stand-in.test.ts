import {
  BackupClient,
  DescribeRestoreJobCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupRdsStandIn, startBackupRdsStandIn } from '../support/backup-rds-stand-in.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

let standIn: BackupRdsStandIn;
let env: TestEnvironment;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let backup: BackupClient;
let rds: RDSClient;

beforeAll(async () => {
  [standIn, env] = await Promise.all([startBackupRdsStandIn(), startTestEnvironment()]);
  backup = new BackupClient({ region: 'us-east-1', endpoint: standIn.endpoint, credentials, maxAttempts: 1 });
  rds = new RDSClient({ region: 'us-east-1', endpoint: standIn.endpoint, credentials, maxAttempts: 1 });
}, 120_000);
afterAll(async () => {
  backup?.destroy();
  rds?.destroy();
  await Promise.all([standIn?.stop(), env?.stop()]);
});

/** The stand-in must answer like the services do, or the deployed-bundle test could pass on a shape AWS never sends. */
describe('AWS Backup and RDS stand-in', () => {
  it('describes a restore job with its dates and testing plan, as the Backup client parses them', async () => {
    const creationDate = new Date('2026-11-02T03:00:00.000Z');
    standIn.putRestoreJob({
      restoreJobId: 'job-1',
      status: 'COMPLETED',
      resourceType: 'RDS',
      sourceResourceArn: 'arn:aws:rds:us-east-1:000000000000:db:app',
      createdResourceArn: 'arn:aws:rds:us-east-1:000000000000:db:restored-1',
      restoreTestingPlanArn: 'arn:aws:backup:us-east-1:000000000000:restore-testing-plan:monthly_rds-1a2b',
      creationDate,
      completionDate: new Date('2026-11-02T03:20:00.500Z'),
      recoveryPointCreationDate: new Date('2026-11-02T02:00:00.000Z'),
    });
    const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'job-1' }));
    expect(job).toMatchObject({
      RestoreJobId: 'job-1',
      Status: 'COMPLETED',
      ResourceType: 'RDS',
      CreatedResourceArn: 'arn:aws:rds:us-east-1:000000000000:db:restored-1',
      CreatedBy: { RestoreTestingPlanArn: expect.stringContaining(':restore-testing-plan:monthly_rds-') },
    });
    expect(job.CreationDate).toEqual(creationDate);
    expect(job.CompletionDate?.toISOString()).toBe('2026-11-02T03:20:00.500Z');

    await backup.send(
      new PutRestoreValidationResultCommand({
        RestoreJobId: 'job-1',
        ValidationStatus: 'SUCCESSFUL',
        ValidationStatusMessage: 'ok',
      }),
    );
    expect(standIn.validations.get('job-1')).toEqual({ status: 'SUCCESSFUL', message: 'ok' });
    const again = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'job-1' }));
    expect(again.ValidationStatus).toBe('SUCCESSFUL');

    await expect(backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('describes an instance whose endpoint reaches the restored copy, and refuses an unknown one', async () => {
    const copy = await env.createDatabase('stand_in_restored_copy');
    await env.sql(copy, 'CREATE TABLE marker (id int); INSERT INTO marker VALUES (42)');
    const arn = await standIn.putDbInstance('restored-2', {
      serverUrl: env.postgresUrl,
      database: 'stand_in_restored_copy',
    });
    expect(arn).toBe('arn:aws:rds:us-east-1:000000000000:db:restored-2');
    const { DBInstances } = await rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'restored-2' }),
    );
    const endpoint = DBInstances?.[0]?.Endpoint;
    expect(DBInstances?.[0]).toMatchObject({ DBInstanceIdentifier: 'restored-2', Engine: 'postgres' });
    expect(endpoint?.Address).toBe('127.0.0.1');

    // The source's connection string (another database name) aimed at the restored endpoint.
    const source = new URL(env.postgresUrl);
    source.port = String(endpoint?.Port);
    source.searchParams.set('sslmode', 'disable');
    const client = new pg.Client({ connectionString: source.toString() });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT current_database() AS db, (SELECT id FROM marker) AS id');
      expect(rows).toEqual([{ db: 'stand_in_restored_copy', id: 42 }]);
    } finally {
      await client.end();
    }

    await expect(
      rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'gone' })),
    ).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
  });

  it('answers no call signed for another service', async () => {
    const sns = new SNSClient({
      region: 'us-east-1',
      endpoint: standIn.endpoint,
      credentials,
      maxAttempts: 1,
    });
    try {
      await expect(
        sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Message: 'x' })),
      ).rejects.toThrow(/stand-in does not serve POST \/ \(signed for sns\)/);
    } finally {
      sns.destroy();
    }
  });
});
