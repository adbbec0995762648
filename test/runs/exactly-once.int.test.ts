import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoOutbox } from '../../lib/adapters/dynamodb/dynamodb-outbox.ts';
import { envConnectionResolver } from '../../lib/adapters/postgres/postgres-port.ts';
import { makeSnsNotifier } from '../../lib/adapters/sns/sns-notifier.ts';
import { makeSqsJobQueue } from '../../lib/adapters/sqs/sqs-job-queue.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { drainJobQueue } from '../../lib/local/local-job-runner.ts';
import { dispatchDueControls } from '../../lib/runs/dispatch-due-controls.ts';
import { type RunControlDeps, runControl } from '../../lib/runs/run-control.ts';
import { parseScheduleEvent } from '../../lib/runs/schedule-event.ts';
import { silentLogger } from '../../lib/shared/logger.ts';
import { makeRunDeps } from '../../lib/wiring/make-run-deps.ts';
import { drain, type SnsEnvelope, subscribedQueue } from '../support/sns-queues.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

/** What EventBridge Scheduler delivers for the monthly schedule fired at 2026-12-01 00:15 UTC. */
const SCHEDULE_EVENT = { cadence: 'monthly', asOf: '2026-12-01T00:15:00Z' };
const AS_OF = new Date(SCHEDULE_EVENT.asOf);

/** Controls that each record an `error` verdict at once (their table does not exist), so each sends a notice. */
function configWith(ids: readonly string[]): Config {
  return parseConfig({
    owners: [{ id: 'security', name: 'Security', email: 'security@example.com' }],
    targets: [{ name: 'app', connection: { env: 'APP_DATABASE_URL' } }],
    controls: ids.map((id) => ({
      id,
      title: `Control ${id}`,
      criteria: ['CC7.2'],
      cadence: 'monthly',
      owner: 'security',
      test: { type: 'log-completeness', target: 'app', table: 'no_such_table', retention: 'P30D' },
    })),
  });
}

type SnsStep = 'reject' | 'ack-lost' | 'ok';

/** The real SNS client, failing the way the plan says at each publish (then behaving). */
function faultySns(real: SNSClient, plan: SnsStep[]): SNSClient {
  const wrapper = Object.create(real) as SNSClient;
  wrapper.send = (async (command: Parameters<SNSClient['send']>[0]) => {
    const step = plan.shift() ?? 'ok';
    if (step === 'reject') throw new Error('injected: SNS rejected the publish');
    const output = await real.send(command);
    if (step === 'ack-lost') throw new Error('injected: SNS accepted, the response was lost');
    return output;
  }) as SNSClient['send'];
  return wrapper;
}

/** The real DynamoDB client, failing the outbox writes whose update expression starts with a prefix. */
function faultyDynamo(
  real: DynamoDBDocumentClient,
  failing: { prefix: string; times: number },
): DynamoDBDocumentClient {
  const wrapper = Object.create(real) as DynamoDBDocumentClient;
  wrapper.send = (async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
    if (
      command instanceof UpdateCommand &&
      String(command.input.UpdateExpression).startsWith(failing.prefix) &&
      failing.times > 0
    ) {
      failing.times -= 1;
      throw new Error(`injected: DynamoDB failed "${failing.prefix}"`);
    }
    return real.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  return wrapper;
}

describe('runs exactly once per schedule, bounded in time, notices never lost', () => {
  let env: TestEnvironment;
  let inbox: string;
  let delivered: SnsEnvelope[] = [];

  beforeAll(async () => {
    env = await startTestEnvironment();
    inbox = await subscribedQueue(env, 'exactly-once-inbox');
  });
  afterAll(async () => env?.stop());

  const depsFor = (
    config: Config,
    faults: { sns?: SnsStep[]; dynamo?: { prefix: string; times: number }; clockOffsetMs?: number } = {},
  ): RunControlDeps => {
    const deps = makeRunDeps({
      config,
      resources: env.resources,
      clients: env.clients,
      resolveConnection: envConnectionResolver({ APP_DATABASE_URL: env.postgresUrl }),
      log: silentLogger,
      clock: () => new Date(AS_OF.getTime() + 60_000 + (faults.clockOffsetMs ?? 0)),
    });
    return {
      ...deps,
      notifier: makeSnsNotifier(
        faultySns(env.clients.sns, faults.sns ?? []),
        env.resources.notificationsTopicArn,
      ),
      outbox: makeDynamoOutbox(
        faults.dynamo ? faultyDynamo(env.clients.dynamodb, faults.dynamo) : env.clients.dynamodb,
        env.resources.resultsTable,
      ),
    };
  };

  /** Notices about `controlId` that reached the topic's subscriber so far. */
  const deliveriesOf = async (controlId: string) => {
    delivered = [...delivered, ...(await drain(env, inbox))];
    return delivered.filter((envelope) => envelope.MessageAttributes.control?.Value === controlId);
  };
  const noticeIdOf = (envelope: SnsEnvelope) =>
    JSON.parse(envelope.MessageAttributes.payload?.Value ?? '{}').noticeId;
  const job = (controlId: string) => ({
    controlId,
    cadence: 'monthly' as const,
    periodKey: '2026-11',
    asOf: AS_OF.toISOString(),
  });

  it('enqueues and records one attempt when the same schedule event is delivered twice', async () => {
    const config = configWith(['twice']);
    const queue = makeSqsJobQueue(env.clients.sqs, env.resources.jobsQueueUrl);
    for (let delivery = 0; delivery < 2; delivery += 1) {
      const request = parseScheduleEvent(SCHEDULE_EVENT);
      await dispatchDueControls(
        config,
        { cadence: request.cadence, asOf: new Date(request.asOf ?? '') },
        queue,
      );
    }
    const { Attributes } = await env.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: env.resources.jobsQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(1);
    const deps = depsFor(config);
    const drained = await drainJobQueue(env.clients.sqs, env.resources.jobsQueueUrl, deps);
    expect(drained.reports).toHaveLength(1);
    expect(await deps.results.attemptsFor('twice', 'monthly', '2026-11')).toHaveLength(1);
    expect(await deliveriesOf('twice')).toHaveLength(1);
  });

  it('records nothing new when the job arrives again after the SQS deduplication window', async () => {
    const config = configWith(['late-copy']);
    const deps = depsFor(config);
    const first = await runControl(job('late-copy'), deps);
    // A dispatch retried hours later: SQS no longer remembers the id, the worker gets the job again.
    const again = await runControl(job('late-copy'), depsFor(config, { clockOffsetMs: 6 * 3_600_000 }));
    expect(again).toMatchObject({ duplicate: true, verdict: { runId: first.verdict.runId, attempts: 1 } });
    expect(await deps.results.attemptsFor('late-copy', 'monthly', '2026-11')).toHaveLength(1);
    expect(await deliveriesOf('late-copy')).toHaveLength(1);
  });

  describe('a deadline from the remaining time', () => {
    /** The real port, each statement followed by a pause, so the check overruns its time. */
    const slowPort = (real: PostgresPort, pauseMs: number): PostgresPort => ({
      withReadOnlySession: (target, evidence, work) =>
        real.withReadOnlySession(target, evidence, (session) =>
          work({
            async query(label, text, params) {
              const rows = await session.query(label, text, params);
              await new Promise((resolve) => setTimeout(resolve, pauseMs));
              return rows;
            },
          } as typeof session),
        ),
    });

    it('records an error verdict with cause "deadline" and the evidence gathered so far, and notifies it', async () => {
      const config = configWith(['slow']);
      const base = depsFor(config);
      const deps = { ...base, ports: { ...base.ports, postgres: slowPort(base.ports.postgres, 3_000) } };
      const started = Date.now();
      const report = await runControl(job('slow'), deps, {
        remainingTimeMs: () => 1_600,
        deadlineReserveMs: 100,
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(report.outcome.verdict).toBe('error');
      expect(report.outcome.reasons[0]).toMatch(/^deadline: the check did not finish within 2 s/);
      expect(report.outcome.figures).toMatchObject({ cause: 'deadline', budgetMs: 1_500 });
      const artifact = await env.clients.s3.send(
        new GetObjectCommand({ Bucket: env.resources.evidenceBucket, Key: report.verdict.evidenceKey }),
      );
      const stored = JSON.parse((await artifact.Body?.transformToString()) ?? '{}');
      // The first statement ran before time was up: it is in the evidence, with its rows.
      expect(stored.checks.length).toBeGreaterThanOrEqual(1);
      expect(stored.checks[0]).toMatchObject({ kind: 'sql', target: 'app' });
      expect(JSON.stringify(stored)).toContain('deadline');
      expect(await deps.results.verdictFor('slow', 'monthly', '2026-11')).toMatchObject({ verdict: 'error' });
      const notices = await deliveriesOf('slow');
      expect(notices).toHaveLength(1);
      expect(notices[0]?.MessageAttributes.kind?.Value).toBe('control-error');
    });

    it('leaves a check that finishes in time alone', async () => {
      const config = configWith(['in-time']);
      const report = await runControl(job('in-time'), depsFor(config), { remainingTimeMs: () => 600_000 });
      expect(report.outcome.reasons[0]).toMatch(/no_such_table/);
      expect(report.outcome.figures.cause).toBeUndefined();
    });

    it('records the deadline error at once when no time is left at all', async () => {
      const config = configWith(['no-time']);
      const report = await runControl(job('no-time'), depsFor(config), { remainingTimeMs: () => 5_000 });
      expect(report.outcome).toMatchObject({ verdict: 'error', figures: { cause: 'deadline', budgetMs: 0 } });
    });
  });

  describe('failure notices through the outbox, SNS failing at each step', () => {
    it('SNS rejects the publish: the job fails, its retry delivers the stored notice once, without a re-run', async () => {
      const config = configWith(['rejected']);
      await expect(runControl(job('rejected'), depsFor(config, { sns: ['reject'] }))).rejects.toThrow(
        /could not publish notice .*SNS rejected/,
      );
      expect(await deliveriesOf('rejected')).toHaveLength(0);
      const retry = await runControl(job('rejected'), depsFor(config));
      expect(retry.duplicate).toBe(true);
      expect(retry.notificationIds).toHaveLength(1);
      const deps = depsFor(config);
      expect(await deps.results.attemptsFor('rejected', 'monthly', '2026-11')).toHaveLength(1);
      expect(await deliveriesOf('rejected')).toHaveLength(1);
      // A third delivery of the job sends nothing more.
      await runControl(job('rejected'), depsFor(config));
      expect(await deliveriesOf('rejected')).toHaveLength(1);
    });

    it('the run crashes mid-delivery (its claim is left behind): delivered once, after the claim goes stale', async () => {
      const config = configWith(['crashed']);
      await expect(
        runControl(
          job('crashed'),
          depsFor(config, { sns: ['reject'], dynamo: { prefix: 'REMOVE claimedAt', times: 1 } }),
        ),
      ).rejects.toThrow();
      const soon = await runControl(job('crashed'), depsFor(config, { clockOffsetMs: 60_000 }));
      expect(soon.notificationIds).toEqual([]);
      expect(await deliveriesOf('crashed')).toHaveLength(0);
      const later = await runControl(job('crashed'), depsFor(config, { clockOffsetMs: 16 * 60_000 }));
      expect(later.notificationIds).toHaveLength(1);
      expect(await deliveriesOf('crashed')).toHaveLength(1);
    });

    it('marking the notice delivered fails after SNS accepted it: the retry does not publish it again', async () => {
      const config = configWith(['unmarked']);
      await expect(
        runControl(job('unmarked'), depsFor(config, { dynamo: { prefix: 'SET deliveredAt', times: 1 } })),
      ).rejects.toThrow(/injected: DynamoDB failed/);
      await runControl(job('unmarked'), depsFor(config, { clockOffsetMs: 60_000 }));
      expect(await deliveriesOf('unmarked')).toHaveLength(1);
    });

    it('a notice whose job never came back is delivered once by the next job of another control', async () => {
      const config = configWith(['orphaned', 'next-job']);
      await expect(runControl(job('orphaned'), depsFor(config, { sns: ['reject'] }))).rejects.toThrow();
      await runControl(job('next-job'), depsFor(config));
      expect(await deliveriesOf('orphaned')).toHaveLength(1);
      expect(await deliveriesOf('next-job')).toHaveLength(1);
    });

    it('known residual: SNS accepted but the response was lost, so the retry publishes again with the same noticeId', async () => {
      const config = configWith(['ack-lost']);
      await expect(runControl(job('ack-lost'), depsFor(config, { sns: ['ack-lost'] }))).rejects.toThrow();
      await runControl(job('ack-lost'), depsFor(config));
      const notices = await deliveriesOf('ack-lost');
      expect(notices).toHaveLength(2);
      expect(new Set(notices.map(noticeIdOf)).size).toBe(1);
    });
  });

  it('stores every evidence object once per attempt (no re-run wrote a second one)', async () => {
    const listed = await env.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: env.resources.evidenceBucket,
        Prefix: 'evidence/rejected/monthly/2026-11/',
      }),
    );
    expect((listed.Contents ?? []).filter((o) => o.Key?.endsWith('manifest.json'))).toHaveLength(1);
  });
});
