import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver } from '../../lib/adapters/postgres/postgres-port.ts';
import { makeSqsJobQueue } from '../../lib/adapters/sqs/sqs-job-queue.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { seedAuditLog } from '../../lib/local/demo/seed-audit-log.ts';
import { drainJobQueue } from '../../lib/local/local-job-runner.ts';
import { dispatchDueControls } from '../../lib/runs/dispatch-due-controls.ts';
import { runControl } from '../../lib/runs/run-control.ts';
import { sha256Hex } from '../../lib/shared/canonical-json.ts';
import { silentLogger } from '../../lib/shared/logger.ts';
import { makeAwsClients } from '../../lib/wiring/aws-clients.ts';
import { makeRunDeps } from '../../lib/wiring/make-run-deps.ts';
import { auditLogConfig } from '../support/config-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

const AS_OF = new Date('2026-12-01T00:15:00Z');
const GAP = { start: new Date('2026-11-12T09:00:00Z'), end: new Date('2026-11-12T13:30:00Z') };

function configFor(overrides: { table?: string } = {}): Config {
  return parseConfig(
    auditLogConfig({
      targetEnv: 'APP_DATABASE_URL',
      test: { table: overrides.table ?? 'audit_log', retention: 'P30D' },
    }),
  );
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await object.Body?.transformToByteArray();
  if (!bytes) throw new Error(`empty object ${key}`);
  return bytes;
}

async function receiveAll(env: TestEnvironment, queueUrl: string) {
  const { Messages = [] } = await env.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

describe('running a control end to end', () => {
  let env: TestEnvironment;
  let appUrl: string;

  beforeAll(async () => {
    env = await startTestEnvironment();
    appUrl = await env.createDatabase('app');
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    await seedAuditLog(client, { from: new Date('2026-09-01T00:00:00Z'), to: AS_OF, gap: GAP });
    await client.end();
  });
  afterAll(async () => env?.stop());

  const depsFor = (config: Config, s3 = env.clients.s3) =>
    makeRunDeps({
      config,
      resources: env.resources,
      clients: { ...env.clients, s3 },
      resolveConnection: envConnectionResolver({ APP_DATABASE_URL: appUrl }),
      log: silentLogger,
      clock: () => new Date(AS_OF.getTime() + 60_000),
    });

  it('fails the month with the seeded gap, stores evidence whose hash matches, and notifies the owner', async () => {
    const deps = depsFor(configFor());
    const queue = makeSqsJobQueue(env.clients.sqs, env.resources.jobsQueueUrl);
    const jobs = await dispatchDueControls(deps.config, { cadence: 'monthly', asOf: AS_OF }, queue);
    expect(jobs).toEqual([
      { controlId: 'audit-log', cadence: 'monthly', periodKey: '2026-11', asOf: AS_OF.toISOString() },
    ]);

    const { reports } = await drainJobQueue(env.clients.sqs, env.resources.jobsQueueUrl, deps);
    expect(reports).toHaveLength(1);
    const [report] = reports;
    expect(report?.outcome.verdict).toBe('fail');
    expect(report?.outcome.reasons.join(' ')).toMatch(
      /silent 2026-11-12T0\d:\d\d:\d\d\.\d+Z to 2026-11-12T13:/,
    );

    const stored = await deps.results.verdictFor('audit-log', 'monthly', '2026-11');
    expect(stored?.verdict).toBe('fail');
    const bytes = await readObject(env.clients.s3, env.resources.evidenceBucket, stored?.evidenceKey ?? '');
    expect(sha256Hex(bytes)).toBe(stored?.evidenceSha256);
    const evidence = JSON.parse(Buffer.from(bytes).toString('utf8'));
    expect(evidence.verdict).toBe('fail');
    expect(
      evidence.checks.some(
        (c: { kind: string; label: string }) => c.kind === 'sql' && c.label.startsWith('gaps'),
      ),
    ).toBe(true);
    expect(JSON.stringify(evidence)).not.toContain(new URL(appUrl).password);

    const [message] = await receiveAll(env, env.resources.inboxQueueUrl);
    const envelope = JSON.parse(message?.Body ?? '{}');
    expect(envelope.MessageAttributes.owner.Value).toBe('security');
    expect(envelope.MessageAttributes.control.Value).toBe('audit-log');
    expect(envelope.MessageAttributes.kind.Value).toBe('control-failed');
    expect(envelope.MessageAttributes.severity.Value).toBe('high');
    expect(envelope.Message).toContain('FAILED for monthly period 2026-11');
  });

  it('keeps one verdict per control and period and every attempt as history', async () => {
    const deps = depsFor(configFor());
    const job = {
      controlId: 'audit-log',
      cadence: 'monthly' as const,
      periodKey: '2026-10',
      asOf: AS_OF.toISOString(),
    };
    const first = await runControl(job, deps);
    // A re-run of the period (a later instant, e.g. `run --as-of` again): a second attempt.
    const second = await runControl(
      { ...job, asOf: new Date(AS_OF.getTime() + 3_600_000).toISOString() },
      deps,
    );
    expect(first.outcome.reasons).toEqual([]);
    expect(first.outcome.verdict).toBe('pass');
    expect(second.verdict.attempts).toBe(2);
    const attempts = await deps.results.attemptsFor('audit-log', 'monthly', '2026-10');
    expect(attempts.map((a) => a.runId).sort()).toEqual([first.verdict.runId, second.verdict.runId].sort());
    const verdicts = await deps.results.verdictsOf('audit-log');
    expect(verdicts.filter((v) => v.periodKey === '2026-10')).toHaveLength(1);
    expect(verdicts[0]?.periodKey).toBe('2026-11');
    expect((await deps.results.verdictsForPeriod('monthly', '2026-10')).map((v) => v.controlId)).toEqual([
      'audit-log',
    ]);
  });

  it('runs a job delivered twice once: the copy records no attempt and no evidence', async () => {
    const deps = depsFor(configFor());
    const job = {
      controlId: 'audit-log',
      cadence: 'monthly' as const,
      periodKey: '2026-06',
      asOf: AS_OF.toISOString(),
    };
    const first = await runControl(job, deps);
    // The same job again, its instant written with an offset instead of Z: still the same job.
    const copy = await runControl({ ...job, asOf: '2026-12-01T01:15:00+01:00' }, deps);
    expect(copy.duplicate).toBe(true);
    expect(copy.verdict).toMatchObject({ runId: first.verdict.runId, attempts: 1 });
    expect(copy.outcome.verdict).toBe(first.outcome.verdict);
    expect(await deps.results.attemptsFor('audit-log', 'monthly', '2026-06')).toHaveLength(1);
    const listed = await env.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: env.resources.evidenceBucket,
        Prefix: 'evidence/audit-log/monthly/2026-06/',
      }),
    );
    expect((listed.Contents ?? []).filter((o) => o.Key?.endsWith('manifest.json'))).toHaveLength(1);
  });

  it('records an error verdict, never a pass, when the table is missing, and notifies it', async () => {
    const deps = depsFor(configFor({ table: 'no_such_table' }));
    const report = await runControl(
      { controlId: 'audit-log', cadence: 'monthly', periodKey: '2026-09', asOf: AS_OF.toISOString() },
      deps,
    );
    expect(report.outcome.verdict).toBe('error');
    expect(report.outcome.reasons[0]).toMatch(/no_such_table does not exist/);
    expect(report.notificationIds).toHaveLength(1);
    const messages = await receiveAll(env, env.resources.inboxQueueUrl);
    expect(messages.map((m) => JSON.parse(m.Body ?? '{}').MessageAttributes.kind.Value)).toContain(
      'control-error',
    );
  });

  it('records an error naming the cause when the database is unreachable', async () => {
    const deps = makeRunDeps({
      config: configFor(),
      resources: env.resources,
      clients: env.clients,
      resolveConnection: envConnectionResolver({
        APP_DATABASE_URL: 'postgres://u:secret-pw@127.0.0.1:1/none',
      }),
      log: silentLogger,
    });
    const report = await runControl(
      { controlId: 'audit-log', cadence: 'monthly', periodKey: '2026-08', asOf: AS_OF.toISOString() },
      deps,
    );
    expect(report.outcome.verdict).toBe('error');
    expect(report.outcome.reasons[0]).toMatch(/unreachable \(ECONNREFUSED\)/);
    expect(JSON.stringify(report)).not.toContain('secret-pw');
  });

  it('stores no verdict when the evidence cannot be written', async () => {
    const brokenS3 = makeAwsClients({ ...env.services.awsEnv, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' }).s3;
    const deps = depsFor(configFor(), brokenS3);
    const job = {
      controlId: 'audit-log',
      cadence: 'monthly' as const,
      periodKey: '2026-07',
      asOf: AS_OF.toISOString(),
    };
    await expect(runControl(job, deps)).rejects.toThrow();
    expect(await deps.results.verdictFor('audit-log', 'monthly', '2026-07')).toBeUndefined();
    expect(await deps.results.attemptsFor('audit-log', 'monthly', '2026-07')).toEqual([]);
    const listed = await env.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: env.resources.evidenceBucket,
        Prefix: 'evidence/audit-log/monthly/2026-07/',
      }),
    );
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('sends a malformed job to the dead-letter queue after its retries, logging its id', async () => {
    const logged: Record<string, unknown>[] = [];
    const deps = {
      ...depsFor(configFor()),
      log: { ...silentLogger, error: (message: string, fields = {}) => logged.push({ message, ...fields }) },
    };
    await env.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: env.resources.jobsQueueUrl,
        MessageBody: '{"controlId":"audit-log","cadence":"fortnightly"}',
        MessageGroupId: 'audit-log',
        MessageDeduplicationId: 'poison-1',
      }),
    );
    const { reports, failedDeliveries } = await drainJobQueue(
      env.clients.sqs,
      env.resources.jobsQueueUrl,
      deps,
      { timeoutMs: 20_000 },
    );
    expect(reports).toHaveLength(0);
    expect(failedDeliveries).toBe(3);
    const dead = await receiveAll(env, env.resources.jobsDeadLetterQueueUrl);
    expect(dead.map((m) => m.Body)).toEqual(['{"controlId":"audit-log","cadence":"fortnightly"}']);
    expect(logged).toHaveLength(3);
    expect(logged[0]).toMatchObject({ messageId: dead[0]?.MessageId });
    expect(String(logged[0]?.error)).toMatch(/InvalidJobError: malformed job: .*cadence/);
  });
});
