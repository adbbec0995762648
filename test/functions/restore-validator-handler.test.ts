import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lib/shared/runtime-env.ts';

const context = {
  functionName: 'restore-validator',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** The entry point as bundled: config through `__SOC2_CONFIG__`, resource names through the environment. */
describe('restore-validator handler', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    (globalThis as Record<string, unknown>).__SOC2_CONFIG__ = {
      owners: [{ id: 'sre', name: 'SRE', email: 'sre@example.com' }],
      targets: [{ name: 'app', connection: { secretId: 'soc2-evidence/app-db' } }],
      controls: [
        {
          id: 'backup-restore-tests',
          title: 'AWS Backup restore tests',
          criteria: ['CC7.3'],
          cadence: 'monthly',
          owner: 'sre',
          test: { type: 'restore-test-history', sourceTarget: 'app' },
        },
      ],
    };
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      [ENV.resultsTable]: 'results',
      [ENV.evidenceBucket]: 'evidence',
      [ENV.notificationsTopicArn]: 'arn:aws:sns:us-east-1:111122223333:topic',
      [ENV.signingKeyId]: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });
  afterAll(() => {
    delete (globalThis as Record<string, unknown>).__SOC2_CONFIG__;
    process.env = saved;
  });

  it('rejects a malformed event naming what is wrong', async () => {
    const { handler } = await import('../../functions/restore-validator/handler.ts');
    await expect(
      handler({ source: 'aws.backup', 'detail-type': 'Restore Job State Change', detail: {} }, context),
    ).rejects.toThrow(
      'not an AWS Backup "Restore Job State Change" event: detail.restoreJobId: missing; expected string; detail.status: missing; expected string',
    );
  });

  it('ignores a restore job that has not completed, without calling AWS', async () => {
    const { handler } = await import('../../functions/restore-validator/handler.ts');
    const report = await handler(
      {
        source: 'aws.backup',
        'detail-type': 'Restore Job State Change',
        detail: { restoreJobId: 'j-1', status: 'RUNNING' },
      },
      context,
    );
    expect(report).toEqual({
      action: 'ignored',
      restoreJobId: 'j-1',
      reason: 'status is RUNNING, not COMPLETED',
    });
  });
});
