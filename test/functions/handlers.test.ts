import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLocalSigningKey } from '../../lib/evidence/local-signer.ts';
import { seedAuditLog } from '../../lib/local/demo/seed-audit-log.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { auditLogConfig } from '../support/config-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

const SIGNING_KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

// No emulator covers KMS: every KMSClient the handlers build answers from a real local P-256 key.
const kms = mockClient(KMSClient);
const privateKey = createPrivateKey(generateLocalSigningKey());
kms.on(GetPublicKeyCommand).resolves({
  KeyId: SIGNING_KEY_ID,
  KeySpec: 'ECC_NIST_P256',
  KeyUsage: 'SIGN_VERIFY',
  SigningAlgorithms: ['ECDSA_SHA_256'],
  PublicKey: new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })),
});
kms.on(SignCommand).callsFake((input: { Message?: Uint8Array }) => ({
  KeyId: SIGNING_KEY_ID,
  SigningAlgorithm: 'ECDSA_SHA_256',
  Signature: new Uint8Array(sign('sha256', Buffer.from(input.Message ?? []), privateKey)),
}));

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
 * The Lambda entry points exactly as bundled: config arrives through the `__SOC2_CONFIG__` global
 * (esbuild `define` in the stack), resource names through the environment the stack sets.
 */
describe('Lambda handlers', () => {
  let env: TestEnvironment;
  const saved = { ...process.env };

  beforeAll(async () => {
    env = await startTestEnvironment();
    const appUrl = await env.createDatabase('handler_app');
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    await seedAuditLog(client, {
      from: new Date('2026-08-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      gap: { start: new Date('2026-10-06T10:00:00Z'), end: new Date('2026-10-06T14:00:00Z') },
    });
    await client.end();
    (globalThis as Record<string, unknown>).__SOC2_CONFIG__ = auditLogConfig();
    Object.assign(process.env, env.services.awsEnv, {
      [ENV.resultsTable]: env.resources.resultsTable,
      [ENV.evidenceBucket]: env.resources.evidenceBucket,
      [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
      [ENV.jobsQueueUrl]: env.resources.jobsQueueUrl,
      [ENV.signingKeyId]: SIGNING_KEY_ID,
      APP_URL: appUrl,
    });
  });
  afterAll(async () => {
    process.env = saved;
    kms.restore();
    delete (globalThis as Record<string, unknown>).__SOC2_CONFIG__;
    await env?.stop();
  });

  it('dispatcher enqueues one job per due control and rejects a malformed schedule event', async () => {
    const { handler } = await import('../../functions/dispatcher/handler.ts');
    await expect(handler({ cadence: 'monthly', asOf: '2026-11-01T00:15:00Z' }, context)).resolves.toEqual({
      dispatched: 1,
    });
    await expect(handler({ cadence: 'hourly' }, context)).rejects.toThrow(
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
    const { handler } = await import('../../functions/worker/handler.ts');
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
    const signCalls = kms.commandCalls(SignCommand);
    expect(signCalls.length).toBeGreaterThan(0);
    expect(signCalls.every((call) => call.args[0].input.KeyId === SIGNING_KEY_ID)).toBe(true);
  });
});
