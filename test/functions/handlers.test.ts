import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler as makeDispatcher } from '../../functions/dispatcher/make-handler.ts';
import { makeHandler as makeWorker } from '../../functions/worker/make-handler.ts';
import { parseConfig } from '../../lib/config/parse-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { seedAuditLog } from '../../lib/local/demo/seed-audit-log.ts';
import type { ScheduleEvent } from '../../lib/runs/schedule-event.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { makeDispatcherDeps } from '../../lib/wiring/make-dispatcher-deps.ts';
import { makeWorkerDeps } from '../../lib/wiring/make-worker-deps.ts';
import { type KmsSecretsStandIn, startKmsSecretsStandIn } from '../support/kms-secrets-stand-in.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

const context = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

function sqsRecord(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    body,
    receiptHandle: messageId,
    attributes: {} as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs.fifo',
    awsRegion: 'us-east-1',
  };
}

/**
 * The Lambda handlers built by their deps factories from an environment record (what the stack
 * sets, aimed at the emulators), with the config injected: nothing mutates process.env or globals.
 * The bundles themselves, with the template's env, are tested in test/deployed/.
 */
describe('Lambda handlers', () => {
  let env: TestEnvironment;
  let kms: KmsSecretsStandIn;
  let lambdaEnv: Record<string, string>;
  let config: Config;

  beforeAll(async () => {
    [env, kms] = await Promise.all([startTestEnvironment(), startKmsSecretsStandIn()]);
    const appUrl = await env.createDatabase('handler_app');
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    await seedAuditLog(client, {
      from: new Date('2026-08-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      gap: { start: new Date('2026-10-06T10:00:00Z'), end: new Date('2026-10-06T14:00:00Z') },
    });
    await client.end();
    config = parseConfig(
      {
        owners: [{ id: 'security', name: 'Security', email: 'security@example.com' }],
        targets: [{ name: 'app', connection: { env: 'APP_URL' } }],
        controls: [
          {
            id: 'audit-log',
            title: 'Audit log complete',
            criteria: ['CC7.2'],
            cadence: 'monthly',
            owner: 'security',
            test: { type: 'log-completeness', target: 'app', retention: 'P30D' },
          },
        ],
      },
      'test',
    );
    lambdaEnv = {
      ...env.services.awsEnv,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      [ENV.resultsTable]: env.resources.resultsTable,
      [ENV.evidenceBucket]: env.resources.evidenceBucket,
      [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
      [ENV.jobsQueueUrl]: env.resources.jobsQueueUrl,
      [ENV.signingKeyId]: kms.keyArn,
      APP_URL: appUrl,
    };
  });
  afterAll(async () => {
    await Promise.all([env?.stop(), kms?.stop()]);
  });

  it('dispatcher enqueues one job per due control and rejects a malformed schedule event', async () => {
    const handler = makeDispatcher(makeDispatcherDeps(lambdaEnv, config));
    await expect(handler({ cadence: 'monthly', asOf: '2026-11-01T00:15:00Z' }, context)).resolves.toEqual({
      dispatched: 1,
    });
    await expect(handler({ cadence: 'hourly' } as unknown as ScheduleEvent, context)).rejects.toThrow(
      /malformed schedule event: cadence: expected one of/,
    );
    const { Messages = [] } = await env.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: env.resources.jobsQueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([
      { controlId: 'audit-log', cadence: 'monthly', periodKey: '2026-10', asOf: '2026-11-01T00:15:00.000Z' },
    ]);
  });

  it('worker rejects a malformed message, holds back the rest of the FIFO batch, and runs it on redelivery', async () => {
    const handler = makeWorker(makeWorkerDeps(lambdaEnv, config));
    const event: SQSEvent = {
      Records: [
        sqsRecord('bad-1', 'not json'),
        sqsRecord(
          'good-1',
          JSON.stringify({
            controlId: 'audit-log',
            cadence: 'monthly',
            periodKey: '2026-09',
            asOf: '2026-10-01T00:15:00Z',
          }),
        ),
      ],
    };
    const response = await handler(event, context);
    // FIFO order: a failure holds back the rest of its batch, so both return to the queue.
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad-1' }, { itemIdentifier: 'good-1' }]);
    const retry = await handler({ Records: [event.Records[1] as SQSRecord] }, context);
    expect(retry.batchItemFailures).toEqual([]);
    // Deployed workers sign manifests with the stack's KMS key, never a throwaway local one.
    const signCalls = kms.calls.filter((call) => call.target === 'TrentService.Sign');
    expect(signCalls.length).toBeGreaterThan(0);
    expect(signCalls.every((call) => call.input.KeyId === kms.keyArn)).toBe(true);
  });
});
