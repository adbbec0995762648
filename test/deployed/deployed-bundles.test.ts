import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoResultsStore } from '../../lib/adapters/dynamodb/dynamodb-results.ts';
import { seedAuditLog } from '../../lib/local/demo/seed-audit-log.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { makeDynamoDbClient } from '../../lib/wiring/clients/dynamodb-client.ts';
import { remediationInput, riskInput } from '../risks/fixtures.ts';
import { type BackupRdsStandIn, startBackupRdsStandIn } from '../support/backup-rds-stand-in.ts';
import { type KmsSecretsStandIn, startKmsSecretsStandIn } from '../support/kms-secrets-stand-in.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { EmulatedStack } from './support/emulated-stack.ts';
import { type Invocation, invokeBundle } from './support/invoke-bundle.ts';
import { type BundledFunction, type SynthesizedApp, synthesizeApp } from './support/synthesized-app.ts';

/**
 * What `cdk deploy` would upload, run as Lambda would run it: the app is synthesized once with
 * bundling on (infra/build-app.ts), and each function's bundled `index.mjs` is loaded from the
 * cloud assembly in its own `node` process, with exactly the environment variables the template
 * declares (references resolved to emulator resources created from the template's own properties;
 * AWS endpoints through AWS_ENDPOINT_URL_*), and invoked with the events its triggers deliver.
 * KMS and Secrets Manager are served by the local JSON-protocol stand-in, AWS Backup and RDS by
 * the REST-JSON / Query-protocol one (test/support/backup-rds-stand-in.ts).
 */

const MB = 1024 * 1024;
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const SLACK_SECRET = 'soc2-evidence/slack-webhooks';
const APP_SECRET = 'soc2-evidence/app-db';

let env: TestEnvironment;
let standIn: KmsSecretsStandIn;
let backupRds: BackupRdsStandIn;
let app: SynthesizedApp;
let stack: EmulatedStack;
let slack: Server;
let workDir: string;
let dynamodb: DynamoDBClient | undefined;
const slackPosts: { path: string; text: string }[] = [];
/** When the seeded audit log ends; the restore jobs' recovery points are before it. */
let seededUntil: Date;
/** The restored copies of the app database (one exact, one missing rows), each behind its own RDS endpoint. */
const RESTORED = { exact: 'deployed_restored_exact', lossy: 'deployed_restored_lossy' } as const;
let appServerUrl: string;
const started = Date.now();
let synthMs = 0;

/** Environment variables besides the template's: credentials and endpoints, as Lambda provides them. */
let awsEnv: Record<string, string>;

function fn(name: BundledFunction['name']): BundledFunction {
  const found = app.functions.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`the template has no ${name} function`);
  return found;
}

async function invoke(name: BundledFunction['name'], event: unknown): Promise<Invocation> {
  const target = fn(name);
  const templateEnv = await stack.resolveEnvironment(target.environment);
  return invokeBundle(target, { ...awsEnv, ...templateEnv }, event);
}

function configFile() {
  return {
    timeZone: 'UTC',
    owners: [
      { id: 'security', name: 'Security', email: 'security@example.com', slackChannel: '#security' },
      { id: 'founder', name: 'Founder', email: 'founder@example.com' },
    ],
    targets: [{ name: 'app', connection: { secretId: APP_SECRET } }],
    controls: [
      {
        id: 'audit-log',
        title: 'Audit log complete',
        criteria: ['CC7.2'],
        cadence: 'monthly',
        owner: 'security',
        test: { type: 'log-completeness', target: 'app', retention: 'P30D', maxSilence: 'PT1H' },
      },
      {
        id: 'backup-restore-tests',
        title: 'AWS Backup restore tests',
        criteria: ['CC7.3'],
        cadence: 'monthly',
        owner: 'security',
        test: { type: 'restore-test-history', sourceTarget: 'app' },
      },
    ],
    // The local webhook listens on loopback over HTTP: allowed only because it is allow-listed.
    notifications: { slack: { webhookSecretId: SLACK_SECRET, allowedHosts: ['127.0.0.1'] } },
    riskRegister: {
      settings: { escalationOwner: 'founder' },
      risks: [riskInput({ id: 'H1', owner: 'founder', likelihood: 4, impact: 4, mitigation: undefined })],
      remediations: [remediationInput({ id: 'H2', owner: 'security', targetDate: '2026-01-01' })],
    },
  };
}

/** Lambda's SQS event source: messages as records (what the FIFO event source mapping delivers). */
function sqsEvent(messages: readonly Message[], queueArn: string) {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body,
      attributes: message.Attributes ?? {},
      messageAttributes: {},
      md5OfBody: message.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: REGION,
    })),
  };
}

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const received: Message[] = [];
  for (;;) {
    const { Messages = [] } = await env.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return received;
    received.push(...Messages);
    await env.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/** `aws s3 sync s3://bucket/evidence/ <dir>/evidence/`, for the offline verifier. */
/** Evidence and checkpoints, keys kept as they are in the bucket (the export's layout). */
async function syncEvidence(bucket: string, dir: string): Promise<number> {
  let count = 0;
  for (const prefix of ['evidence/', 'checkpoints/']) count += await syncPrefix(bucket, prefix, dir);
  return count;
}

async function syncPrefix(bucket: string, prefix: string, dir: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await env.clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key) continue;
      const body = await env.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      const file = join(dir, object.Key);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(
        file,
        await (body.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      count += 1;
    }
    token = page.NextContinuationToken;
  } while (token);
  return count;
}

/**
 * A schedule's input as EventBridge Scheduler delivers it: the `<aws.scheduler.scheduled-time>`
 * context attribute replaced by the invocation's scheduled time (ISO 8601, whole seconds, UTC).
 */
function scheduledInput(props: Record<string, unknown>, at = new Date()): unknown {
  const template = String((props.Target as { Input?: string }).Input);
  const scheduledTime = `${at.toISOString().slice(0, 19)}Z`;
  return JSON.parse(template.replaceAll('<aws.scheduler.scheduled-time>', scheduledTime)) as unknown;
}

function resourcesOfType(type: string): [string, Record<string, unknown>][] {
  return Object.entries(app.template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}

const targetsFunction = (
  props: Record<string, unknown>,
  target: BundledFunction,
  key: 'Arn' | 'Endpoint',
) => {
  const value = key === 'Arn' ? (props.Target as { Arn?: unknown } | undefined)?.Arn : props.Endpoint;
  return JSON.stringify(value) === JSON.stringify({ 'Fn::GetAtt': [target.logicalId, 'Arn'] });
};

/** `CREATE DATABASE ... TEMPLATE`, retried while the seeding session's backend is still going away. */
async function createCopy(name: string, template: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await env.sql(env.postgresUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
      return;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'soc2-deployed-work-'));
  slack = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      slackPosts.push({ path: request.url ?? '', text: (JSON.parse(body) as { text: string }).text });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  const webhookPort = (slack.address() as AddressInfo).port;

  const configPath = join(workDir, 'soc2-evidence.yaml');
  writeFileSync(configPath, JSON.stringify(configFile(), null, 2));
  // The emulators and the database first: bundling blocks the event loop (esbuild through
  // spawnSync) for longer than PostgreSQL's authentication_timeout on a loaded machine, so a
  // connection opened alongside it is dropped mid-handshake.
  [env, standIn, backupRds] = await Promise.all([
    startTestEnvironment(),
    startKmsSecretsStandIn({ region: REGION, account: ACCOUNT }),
    startBackupRdsStandIn({ region: REGION, account: ACCOUNT }),
  ]);
  const synthStarted = Date.now();
  app = await synthesizeApp({ config: configPath, reserveConcurrency: 'false' });
  synthMs = Date.now() - synthStarted;

  const appUrl = await env.createDatabase('deployed_app');
  const client = new pg.Client({ connectionString: appUrl });
  await client.connect();
  // The period the monthly schedule dispatches (the month before now) gets a 4-hour gap.
  const now = new Date();
  const previousMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 6, 10));
  await seedAuditLog(client, {
    from: new Date(now.getTime() - 75 * 86_400_000),
    to: now,
    gap: { start: previousMonth, end: new Date(previousMonth.getTime() + 4 * 3_600_000) },
  });
  await client.end();
  seededUntil = now;
  appServerUrl = appUrl;
  // What AWS Backup's restore tests produced: an exact copy, and one that lost rows older than the recovery point.
  for (const copy of Object.values(RESTORED)) await createCopy(copy, 'deployed_app');
  await env.sql(
    appUrl.replace('/deployed_app', `/${RESTORED.lossy}`),
    `DELETE FROM audit_log WHERE id % 50 = 0 AND "timestamp" < now() - interval '2 hours'`,
  );
  // The shared test server has no certificate for this check: say so explicitly, since a URL secret
  // without sslmode now means certificate-verified TLS (the RDS default; proven by the TLS tests).
  standIn.putSecret(APP_SECRET, `${appUrl}${appUrl.includes('?') ? '&' : '?'}sslmode=disable`);
  standIn.putSecret(
    SLACK_SECRET,
    JSON.stringify({ '#security': `http://127.0.0.1:${webhookPort}/hooks/security` }),
  );

  awsEnv = {
    ...env.services.awsEnv,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_KMS: standIn.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: standIn.endpoint,
    AWS_ENDPOINT_URL_BACKUP: backupRds.endpoint,
    AWS_ENDPOINT_URL_RDS: backupRds.endpoint,
    // Lambda runs nodejs24.x, where the SDK prints no Node-version notice; this machine's Node 20 would.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  dynamodb = new DynamoDBClient({
    region: REGION,
    endpoint: env.services.awsEnv.AWS_ENDPOINT_URL_DYNAMODB,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  stack = new EmulatedStack(
    app.template,
    { dynamodb, s3: env.clients.s3, sns: env.clients.sns, sqs: env.clients.sqs },
    { kmsKeyArn: standIn.keyArn, region: REGION, account: ACCOUNT },
  );
}, 600_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (slack ? slack.close(() => resolve()) : resolve()));
  dynamodb?.destroy();
  if (env && appServerUrl) {
    for (const copy of Object.values(RESTORED))
      await env.sql(appServerUrl, `DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`).catch(() => {});
  }
  await Promise.all([env?.stop(), standIn?.stop(), backupRds?.stop()]);
  if (app) rmSync(app.outdir, { recursive: true, force: true });
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  console.info(
    `deployed-bundle test: synth with bundling ${(synthMs / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
});

// Each invocation is a fresh node process loading a bundle: seconds apiece on a busy 2-core machine.
describe('the synthesized Lambda bundles, as deployed', { timeout: 300_000 }, () => {
  it('bundles every function of the template for nodejs24.x on arm64, each at most 1 MB', () => {
    expect(app.functions.map((f) => f.name).sort()).toEqual([
      'checkpoint-writer',
      'dispatcher',
      'restore-validator',
      'risk-evaluator',
      'slack-forwarder',
      'worker',
    ]);
    for (const bundled of app.functions) {
      expect(bundled.runtime, bundled.name).toBe('nodejs24.x');
      expect(bundled.architectures, bundled.name).toEqual(['arm64']);
      expect(bundled.handler, bundled.name).toBe('index.handler');
      expect(
        bundled.bundleBytes,
        `${bundled.name} is ${(bundled.bundleBytes / MB).toFixed(2)} MB (entry and every chunk)`,
      ).toBeLessThanOrEqual(MB);
    }
  });

  it('dispatches each schedule input of the template, and the worker runs the FIFO batch to a verdict and verifiable evidence', async () => {
    const dispatcher = fn('dispatcher');
    const schedules = resourcesOfType('AWS::Scheduler::Schedule').filter(([, props]) =>
      targetsFunction(props, dispatcher, 'Arn'),
    );
    expect(schedules.length).toBeGreaterThan(0);
    const dispatched: unknown[] = [];
    for (const [id, props] of schedules) {
      const run = await invoke('dispatcher', scheduledInput(props));
      expect(run.error, `${id}: ${run.stderr}`).toBeUndefined();
      dispatched.push(run.result);
      // Powertools Logger with the Lambda context on every line.
      expect(run.logs.length).toBeGreaterThan(0);
      for (const line of run.logs) {
        expect(line).toMatchObject({
          function_name: 'dispatcher',
          cold_start: true,
          service: 'soc2-evidence',
        });
        expect(line.function_request_id).toMatch(/^req-/);
      }
    }
    expect(dispatched).toContainEqual({ dispatched: 2 });

    // The queue the dispatcher's env names, as the worker's event source mapping reads it.
    const queueLogicalId = (dispatcher.environment[ENV.jobsQueueUrl] as { Ref: string }).Ref;
    const queue = await stack.resource(queueLogicalId);
    const messages = await receiveAll(queue.ref);
    expect(
      messages.map((m) => (JSON.parse(m.Body ?? '{}') as { controlId: string }).controlId).sort(),
    ).toEqual(['audit-log', 'backup-restore-tests']);
    const auditJob = messages.find((m) => m.Body?.includes('"audit-log"'));
    if (!auditJob) throw new Error('no audit-log job');
    // A poison message after the good one: reported as its own batch item failure, bound for the DLQ.
    await env.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.ref,
        MessageBody: 'not json',
        MessageGroupId: 'poison',
        MessageDeduplicationId: 'poison',
      }),
    );
    const [poison] = await receiveAll(queue.ref);
    if (!poison) throw new Error('poison message not received');

    const run = await invoke('worker', sqsEvent([auditJob, poison], queue.arn));
    expect(run.error, run.stderr).toBeUndefined();
    expect(run.result).toEqual({ batchItemFailures: [{ itemIdentifier: poison.MessageId }] });
    expect(run.logs).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'rejected malformed job; it will reach the DLQ after its retries',
        messageId: poison.MessageId,
        function_name: 'worker',
      }),
    );

    // The verdict in DynamoDB: the seeded 4-hour gap fails the period.
    const job = JSON.parse(auditJob.Body ?? '{}') as { periodKey: string };
    const worker = fn('worker');
    const table = (await stack.resource((worker.environment[ENV.resultsTable] as { Ref: string }).Ref)).ref;
    const results = makeDynamoResultsStore(makeDynamoDbClient(awsEnv as Record<string, string>), table);
    const verdict = await results.verdictFor('audit-log', 'monthly', job.periodKey);
    expect(verdict?.verdict).toBe('fail');

    // Signed by the stack's KMS key (the stand-in), never a throwaway one.
    const signs = standIn.calls.filter((call) => call.target === 'TrentService.Sign');
    expect(signs.length).toBeGreaterThan(0);
    expect(signs.every((call) => call.input.KeyId === standIn.keyArn)).toBe(true);

    // The checkpoint writer, on its own schedule's input, signs what must exist: verify requires it.
    const checkpointWriter = fn('checkpoint-writer');
    const [checkpointSchedule] = resourcesOfType('AWS::Scheduler::Schedule').filter(([, props]) =>
      targetsFunction(props, checkpointWriter, 'Arn'),
    );
    if (!checkpointSchedule) throw new Error('no schedule targets the checkpoint writer');
    const checkpointed = await invoke('checkpoint-writer', scheduledInput(checkpointSchedule[1]));
    expect(checkpointed.error, checkpointed.stderr).toBeUndefined();

    // The evidence and signed manifests in S3 verify offline, as an auditor would check them.
    const bucket = (await stack.resource((worker.environment[ENV.evidenceBucket] as { Ref: string }).Ref))
      .ref;
    const dir = join(workDir, 'evidence-sync');
    expect(await syncEvidence(bucket, dir)).toBeGreaterThan(2);
    // Pinned to the KMS key's fingerprint: a manifest signed by any other key would fail.
    const fingerprint = createHash('sha256')
      .update(createPublicKey(standIn.publicKeyPem).export({ format: 'der', type: 'spki' }))
      .digest('hex');
    const report = await verifyPath(dir, { trustedKeys: [fingerprint] });
    expect(report.problems, JSON.stringify(report.problems).slice(0, 2000)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.manifestsChecked).toBeGreaterThan(0);
  });

  it('evaluates the risk register on its schedule input and the forwarder posts the digest to the webhook', async () => {
    const evaluator = fn('risk-evaluator');
    const forwarder = fn('slack-forwarder');
    const [schedule] = resourcesOfType('AWS::Scheduler::Schedule').filter(([, props]) =>
      targetsFunction(props, evaluator, 'Arn'),
    );
    if (!schedule) throw new Error('no schedule targets the risk evaluator');
    // SNS -> the forwarder, with the subscription's filter policy from the template.
    const [, subscription] =
      resourcesOfType('AWS::SNS::Subscription').find(([, props]) =>
        targetsFunction(props, forwarder, 'Endpoint'),
      ) ?? [];
    if (!subscription) throw new Error('no SNS subscription invokes the forwarder');
    const topic = await stack.resource((subscription.TopicArn as { Ref: string }).Ref);
    const { QueueUrl: inboxUrl } = await env.clients.sqs.send(
      new CreateQueueCommand({ QueueName: 'forwarder-inbox' }),
    );
    const { Attributes } = await env.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inboxUrl, AttributeNames: ['QueueArn'] }),
    );
    await env.clients.sns.send(
      new SubscribeCommand({
        TopicArn: topic.arn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { FilterPolicy: JSON.stringify(subscription.FilterPolicy) },
      }),
    );

    const input = scheduledInput(schedule[1]);
    const first = await invoke('risk-evaluator', input);
    expect(first.error, first.stderr).toBeUndefined();
    // 2 from the register, 2 from the checklist: the example's documents were never signed off.
    expect(first.result).toMatchObject({ findings: 4, digests: 2 });
    // The same scheduled input again (a retry): no digest twice.
    const again = await invoke('risk-evaluator', input);
    expect(again.result).toMatchObject({ findings: 4, digests: 0 });

    const delivered = await receiveAll(inboxUrl ?? '');
    expect(delivered).toHaveLength(1);
    const envelope = JSON.parse(delivered[0]?.Body ?? '{}') as Record<string, unknown>;
    const run = await invoke('slack-forwarder', {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: `${topic.arn}:forwarder`,
          Sns: { SignatureVersion: '1', Signature: 'x', SigningCertUrl: '', UnsubscribeUrl: '', ...envelope },
        },
      ],
    });
    expect(run.error, run.stderr).toBeUndefined();
    expect(slackPosts.map((post) => post.path)).toEqual(['/hooks/security']);
    // security's digest: its register item plus the two checklist items not ready (owed reviews).
    expect(slackPosts[0]?.text).toMatch(
      /^\[SOC 2\] Risk register: 3 items need your attention \(\d{4}-\d{2}-\d{2}\)$/,
    );

    // A record that is not SNS fails the invocation (Lambda retries, then the DLQ), naming the field.
    const bad = await invoke('slack-forwarder', { Records: [{ EventSource: 'aws:sns', Sns: {} }] });
    expect(bad.error).toMatch(
      /^MalformedNotificationError: not an SNS event: Records\[0\]\.Sns\.Message: missing/,
    );
  });

  it('handles the AWS Backup restore-job events its EventBridge rule delivers', async () => {
    const [, rule] =
      resourcesOfType('AWS::Events::Rule').find(([, props]) =>
        ((props.Targets as { Arn?: unknown }[] | undefined) ?? []).some(
          (target) =>
            JSON.stringify(target.Arn) ===
            JSON.stringify({ 'Fn::GetAtt': [fn('restore-validator').logicalId, 'Arn'] }),
        ),
      ) ?? [];
    expect(rule?.EventPattern).toEqual({
      source: ['aws.backup'],
      'detail-type': ['Restore Job State Change'],
      detail: { status: ['COMPLETED'] },
    });
    const event = {
      version: '0',
      id: 'e-1',
      'detail-type': 'Restore Job State Change',
      source: 'aws.backup',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: REGION,
      resources: [],
      detail: { restoreJobId: 'r-1', status: 'RUNNING', resourceType: 'RDS' },
    };
    const ignored = await invoke('restore-validator', event);
    expect(ignored.error, ignored.stderr).toBeUndefined();
    expect(ignored.result).toEqual({
      action: 'ignored',
      restoreJobId: 'r-1',
      reason: 'status is RUNNING, not COMPLETED',
    });
    const malformed = await invoke('restore-validator', { ...event, detail: {} });
    expect(malformed.error).toMatch(/^InvalidRestoreEventError: .*detail\.restoreJobId: missing/);
  });
  it('validates completed restore tests end to end: Backup and RDS described, the restored database compared, verdicts, evidence and AWS Backup told', async () => {
    const validator = fn('restore-validator');
    const testStarted = Date.now();
    const plan = `arn:aws:backup:${REGION}:${ACCOUNT}:restore-testing-plan:monthly_rds-1a2b3c4d`;
    const recoveryPoint = new Date(seededUntil.getTime() - 40 * 60_000);
    const restoreJob = async (id: string, copy: string, completedMinutesAgo: number) => {
      const createdResourceArn = await backupRds.putDbInstance(`awsbackup-restore-${id}`, {
        serverUrl: appServerUrl,
        database: copy,
      });
      const completionDate = new Date(seededUntil.getTime() - completedMinutesAgo * 60_000);
      backupRds.putRestoreJob({
        restoreJobId: id,
        status: 'COMPLETED',
        resourceType: 'RDS',
        sourceResourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:app`,
        createdResourceArn,
        restoreTestingPlanArn: plan,
        creationDate: new Date(recoveryPoint.getTime() + 5 * 60_000),
        completionDate,
        recoveryPointCreationDate: recoveryPoint,
      });
      // What the EventBridge rule delivers for a completed restore job.
      return {
        version: '0',
        id: `event-${id}`,
        'detail-type': 'Restore Job State Change',
        source: 'aws.backup',
        account: ACCOUNT,
        time: completionDate.toISOString(),
        region: REGION,
        resources: [createdResourceArn],
        detail: {
          restoreJobId: id,
          status: 'COMPLETED',
          resourceType: 'RDS',
          restoreTestingPlanArn: plan,
          createdResourceArn,
        },
      };
    };
    type Validated = {
      action: string;
      validationStatus: string;
      evidenceKey: string;
      outcome: { verdict: string; reasons: string[] };
      notificationIds: string[];
    };
    const table = (await stack.resource((validator.environment[ENV.resultsTable] as { Ref: string }).Ref))
      .ref;
    const results = makeDynamoResultsStore(makeDynamoDbClient(awsEnv as Record<string, string>), table);
    const periodKey = (minutesAgo: number) =>
      new Date(seededUntil.getTime() - minutesAgo * 60_000).toISOString().slice(0, 10);

    // The exact copy passes, and AWS Backup is told SUCCESSFUL with the evidence key.
    const exact = await invoke('restore-validator', await restoreJob('restore-exact', RESTORED.exact, 15));
    expect(exact.error, exact.stderr).toBeUndefined();
    const passed = exact.result as Validated;
    expect(passed, JSON.stringify(passed.outcome)).toMatchObject({
      action: 'validated',
      validationStatus: 'SUCCESSFUL',
      outcome: { verdict: 'pass' },
      notificationIds: [],
    });
    expect(backupRds.validations.get('restore-exact')?.status).toBe('SUCCESSFUL');
    expect(backupRds.validations.get('restore-exact')?.message).toContain(passed.evidenceKey);
    expect((await results.verdictFor('backup-restore-tests', 'daily', periodKey(15)))?.verdict).toBe('pass');

    // The copy that lost rows fails: FAILED to AWS Backup, the verdict, and the owner notified.
    const lossy = await invoke('restore-validator', await restoreJob('restore-lossy', RESTORED.lossy, 5));
    expect(lossy.error, lossy.stderr).toBeUndefined();
    const failed = lossy.result as Validated;
    expect(failed).toMatchObject({
      action: 'validated',
      validationStatus: 'FAILED',
      outcome: { verdict: 'fail' },
    });
    expect(failed.outcome.reasons.join(' ')).toMatch(/audit_log/);
    expect(failed.notificationIds).toHaveLength(1);
    expect(backupRds.validations.get('restore-lossy')?.status).toBe('FAILED');
    const lossyVerdict = await results.verdictFor('backup-restore-tests', 'daily', periodKey(5));
    expect(lossyVerdict?.verdict).toBe('fail');

    // Exactly the calls the validator needs, each to the service it belongs to, through the template's env.
    expect(backupRds.calls.map((call) => call.operation)).toEqual([
      'backup.DescribeRestoreJob',
      'rds.DescribeDBInstances',
      'backup.PutRestoreValidationResult',
      'backup.DescribeRestoreJob',
      'rds.DescribeDBInstances',
      'backup.PutRestoreValidationResult',
    ]);
    expect(backupRds.calls[1]?.input.DBInstanceIdentifier).toBe('awsbackup-restore-restore-exact');

    // Evidence on the control's `events` chain, signed by the stack's key, verifies offline with the checkpoint.
    const checkpointWriter = fn('checkpoint-writer');
    const [checkpointSchedule] = resourcesOfType('AWS::Scheduler::Schedule').filter(([, props]) =>
      targetsFunction(props, checkpointWriter, 'Arn'),
    );
    if (!checkpointSchedule) throw new Error('no schedule targets the checkpoint writer');
    const checkpointed = await invoke('checkpoint-writer', scheduledInput(checkpointSchedule[1]));
    expect(checkpointed.error, checkpointed.stderr).toBeUndefined();
    const bucket = (await stack.resource((validator.environment[ENV.evidenceBucket] as { Ref: string }).Ref))
      .ref;
    const dir = join(workDir, 'evidence-sync-restore');
    await syncEvidence(bucket, dir);
    for (const key of [passed.evidenceKey, failed.evidenceKey])
      expect(existsSync(join(dir, key)), `${key} in S3`).toBe(true);
    const fingerprint = createHash('sha256')
      .update(createPublicKey(standIn.publicKeyPem).export({ format: 'der', type: 'spki' }))
      .digest('hex');
    const report = await verifyPath(dir, { trustedKeys: [fingerprint] });
    expect(report.problems, JSON.stringify(report.problems).slice(0, 2000)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.controls).toContainEqual(
      expect.objectContaining({
        controlId: 'backup-restore-tests',
        chainKind: 'events',
        manifests: 2,
        ok: true,
      }),
    );
    console.info(`restore-validator full path: ${((Date.now() - testStarted) / 1000).toFixed(1)} s`);
  });
});
