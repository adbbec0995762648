import { BackupClient, ListRestoreJobsCommand } from '@aws-sdk/client-backup';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EvidenceLog } from '../../lib/controls/outcome.ts';
import { lazyAwsApiPorts } from '../../lib/wiring/lazy-aws-api-ports.ts';

// The clients the ports build themselves (IAM, Backup) are mocked on their classes.
const iam = mockClient(IAMClient);
const backup = mockClient(BackupClient);
const env = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

afterEach(() => {
  iam.reset();
  backup.reset();
});

describe('lazyAwsApiPorts (the worker loads the account-API adapters on first call)', () => {
  it('answers through the same adapters as the eager ports, recording each call in the evidence', async () => {
    const created = new Date('2026-01-02T03:04:05Z');
    iam.on(ListAccessKeysCommand, { UserName: 'deployer' }).resolves({
      AccessKeyMetadata: [{ AccessKeyId: 'AKIAEXAMPLE', Status: 'Active', CreateDate: created }],
    });
    backup.on(ListRestoreJobsCommand).resolves({
      RestoreJobs: [{ RestoreJobId: 'job-1', Status: 'COMPLETED', CreationDate: created }],
    });
    const secretsManager = new SecretsManagerClient({ region: 'us-east-1' });
    const secrets = mockClient(secretsManager);
    secrets.on(DescribeSecretCommand, { SecretId: 'db' }).resolves({
      Name: 'db',
      ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db',
      RotationEnabled: true,
      LastRotatedDate: created,
    });
    const ports = lazyAwsApiPorts(env, secretsManager);
    const evidence = new EvidenceLog();

    expect(await ports.accessKeys.listAccessKeys('deployer', evidence)).toEqual([
      { accessKeyId: 'AKIAEXAMPLE', status: 'Active', createDate: created },
    ]);
    const jobs = await ports.restoreTests.listRestoreJobs(
      { createdAfter: new Date('2026-01-01T00:00:00Z'), createdBefore: new Date('2026-02-01T00:00:00Z') },
      evidence,
    );
    expect(jobs.map((job) => [job.restoreJobId, job.status])).toEqual([['job-1', 'COMPLETED']]);
    const secret = await ports.secrets.describeSecret('db', evidence);
    expect(secret).toMatchObject({ name: 'db', rotationEnabled: true, lastRotatedDate: created });
    expect(evidence.entries.length).toBeGreaterThanOrEqual(3);
    // A second call reuses the loaded adapter and client.
    expect(await ports.accessKeys.listAccessKeys('deployer', evidence)).toHaveLength(1);
    expect(iam.commandCalls(ListAccessKeysCommand)).toHaveLength(2);
  });

  it('fails the port call when the AWS call fails, as the eager ports do', async () => {
    iam
      .on(ListAccessKeysCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const ports = lazyAwsApiPorts(env, new SecretsManagerClient({ region: 'us-east-1' }));
    await expect(ports.accessKeys.listAccessKeys('deployer', new EvidenceLog())).rejects.toThrow(/denied/);
  });
});
