import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/restore-validator/make-handler.ts';
import { parseConfig } from '../../lib/config/parse-config.ts';
import type { RestoreJobEvent } from '../../lib/restore/restore-validation.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { makeRestoreValidatorDeps } from '../../lib/wiring/make-restore-validator-deps.ts';

const context = {
  functionName: 'restore-validator',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const config = parseConfig(
  {
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
  },
  'test',
);

// Nothing listens on port 1: a handler that called AWS here would fail, not pass.
const handler = makeHandler(
  makeRestoreValidatorDeps(
    {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      [ENV.resultsTable]: 'results',
      [ENV.evidenceBucket]: 'evidence',
      [ENV.notificationsTopicArn]: 'arn:aws:sns:us-east-1:111122223333:topic',
      [ENV.signingKeyId]: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
    config,
  ),
);

describe('restore-validator handler', () => {
  it('rejects a malformed event naming what is wrong', async () => {
    const event = { source: 'aws.backup', 'detail-type': 'Restore Job State Change', detail: {} };
    await expect(handler(event as unknown as RestoreJobEvent, context)).rejects.toThrow(
      'not an AWS Backup "Restore Job State Change" event: detail.restoreJobId: missing; expected string; detail.status: missing; expected string',
    );
    await expect(handler(event as unknown as RestoreJobEvent, context)).rejects.toMatchObject({
      name: 'InvalidRestoreEventError',
    });
  });

  it('ignores a restore job that has not completed, without calling AWS', async () => {
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

  it('fails at cold start naming the variables the stack must set', () => {
    expect(() => makeRestoreValidatorDeps({ AWS_REGION: 'us-east-1' }, config)).toThrow(
      'missing configuration: set SOC2_RESULTS_TABLE, SOC2_EVIDENCE_BUCKET, SOC2_NOTIFICATIONS_TOPIC_ARN, SOC2_SIGNING_KEY_ID',
    );
  });
});
