import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { keys as tableKeys } from '../lib/adapters/dynamodb/results-table-design.ts';
import type { Config } from '../lib/config/schema.ts';
import { REVIEW_CHAIN_SUFFIX, RISK_REGISTER_REVIEW_CHAIN_ID } from '../lib/controls/review-schedule.ts';
import { type FilterPolicy, slackForwarderFilterPolicy } from '../lib/notify/filter-policies.ts';
import { assertRunsFitTimeout } from '../lib/runs/run-budget.ts';
import { CADENCES } from '../lib/shared/period.ts';
import { AuditorRole } from './constructs/auditor-role.ts';
import { CADENCE_CRON, LambdaSchedules } from './constructs/cadence-schedules.ts';
import { EncryptionKeys } from './constructs/encryption-keys.ts';
import {
  type ArchiveStorageClass,
  EVIDENCE_BUCKET_PREFIXES,
  EvidenceBucket,
} from './constructs/evidence-bucket.ts';
import { FailureQueue } from './constructs/failure-queue.ts';
import { JobsQueue } from './constructs/jobs-queue.ts';
import { acknowledge } from './constructs/nag.ts';
import { Notifications, subscriptionFilters } from './constructs/notifications.ts';
import { RestoreValidatorWiring } from './constructs/restore-validator-wiring.ts';
import { ResultsTable } from './constructs/results-table.ts';
import { ReviewerRole } from './constructs/reviewer-role.ts';
import { RunnerAccess } from './constructs/runner-access.ts';
import {
  bind,
  checkpointStore,
  jobsQueue,
  notificationsTopic,
  resultsTable,
  signingKey,
} from './constructs/runtime-binding.ts';
import { secretArn } from './constructs/secret-arn.ts';
import {
  type BundlingSource,
  type FunctionNetwork,
  Soc2Function,
  type Soc2FunctionProps,
} from './constructs/soc2-function.ts';
import { type ControlAccess, controlAccess } from './control-access.ts';

/** Existing VPC resources the runner functions join to reach databases that are not public. */
export interface NetworkPlacement {
  readonly vpcId: string;
  /** Private subnets with a route to AWS APIs (NAT gateway or VPC endpoints). */
  readonly subnetIds: readonly string[];
  /**
   * Security groups for the functions; the databases must accept them on their port.
   * @default - one group created for the runners, egress only
   */
  readonly securityGroupIds?: readonly string[];
}

export interface Soc2EvidenceStackProps extends StackProps {
  /** The validated configuration (owners, targets, controls, evidence settings). */
  readonly config: Config;
  /**
   * Repository root holding `functions/`, `package.json` and `package-lock.json`.
   * @default - the parent of this file's folder
   */
  readonly projectRoot?: string;
  /**
   * Run the worker and restore validator inside a VPC.
   * @default - not in a VPC
   */
  readonly network?: NetworkPlacement;
  /**
   * Require MFA to assume the auditor role.
   * @default false
   */
  readonly auditorRequiresMfa?: boolean;
  /**
   * Principals allowed to assume the auditor role.
   * @default - this account (principals whose own policy allows it)
   */
  readonly auditorPrincipalArns?: readonly string[];
  /**
   * Principals allowed to assume the reviewer role (sign-offs), created when the config has a risk
   * register, a `review: required` control or documents.
   * @default - this account (principals whose own policy allows it)
   */
  readonly reviewerPrincipalArns?: readonly string[];
  /**
   * Require MFA to assume the reviewer role.
   * @default false
   */
  readonly reviewerRequiresMfa?: boolean;
  /**
   * Email addresses for operational alarms (dead letters, failed deliveries).
   * @default - none
   */
  readonly alarmEmails?: readonly string[];
  /**
   * Worker timeout; it must exceed every target's statement timeout and fit each control's worst-case
   * statement budget (checked at synth, lib/runs/run-budget.ts).
   * @default Duration.minutes(15)
   */
  readonly workerTimeout?: Duration;
  /**
   * Jobs per worker invocation (1-10). One keeps each control's full timeout to itself.
   * @default 1
   */
  readonly workerBatchSize?: number;
  /**
   * Most concurrent worker invocations (the SQS event source's maximum concurrency), which bounds
   * the connections opened to customer databases. At least 2.
   * @default 5
   */
  readonly workerMaxConcurrency?: number;
  /**
   * Reserve concurrency for the dispatcher (1), risk evaluator (1) and Slack forwarder (2). Turn
   * off in accounts still at the default limit of 10 concurrent executions, where AWS refuses any
   * reservation.
   * @default true
   */
  readonly reserveConcurrency?: boolean;
  /**
   * Deploy the restore validator and its AWS Backup "Restore Job State Change" trigger.
   * @default - true when a control uses the `restore-test-history` test
   */
  readonly restoreValidation?: boolean;
  /**
   * Retention of every function's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Storage class evidence moves to after `config.evidence.archiveAfterDays`.
   * @default 'DEEP_ARCHIVE'
   */
  readonly archiveStorageClass?: ArchiveStorageClass;
}

/** Function folders under `functions/`; each holds a `handler.ts` entry. */
export const FUNCTION_NAMES = [
  'dispatcher',
  'worker',
  'restore-validator',
  'risk-evaluator',
  'slack-forwarder',
  'checkpoint-writer',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Partition keys of verdicts, attempts and evidence chain heads (`CONTROL#<id>`). */
const CONTROL_PARTITION_PREFIX = tableKeys.control('');

/** The control that counts AWS Backup restore tests; its results come from the restore validator. */
const RESTORE_TEST_HISTORY = 'restore-test-history';

/**
 * soc2-evidence on AWS: schedules dispatch due controls to a FIFO queue; the worker runs each
 * control against the customer's databases and writes signed evidence to a WORM bucket and the
 * verdict to DynamoDB; owners are notified by filtered SNS subscriptions (and Slack).
 */
export class Soc2EvidenceStack extends Stack {
  readonly keys: EncryptionKeys;
  readonly results: ResultsTable;
  readonly evidence: EvidenceBucket;
  readonly notifications: Notifications;
  readonly jobs: JobsQueue;
  readonly auditor: AuditorRole;
  /** The human role that signs sign-offs; absent when the config has nothing to sign off. */
  readonly reviewer?: ReviewerRole;
  /** The functions this config needs, by folder name under `functions/`. */
  readonly functions: Partial<Record<FunctionName, Soc2Function>> = {};

  private readonly config: Config;
  private readonly projectRoot: string;
  private readonly bundling: BundlingSource;
  private readonly access: ControlAccess;
  private readonly workerTimeout: Duration;
  private readonly reserveConcurrency: boolean;
  private readonly logRetention: logs.RetentionDays | undefined;
  private readonly network: FunctionNetwork | undefined;
  /** Roles that may use the signing key, collected as the functions are added. */
  private readonly signers: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: Soc2EvidenceStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.projectRoot = props.projectRoot ?? join(import.meta.dirname, '..');
    this.workerTimeout = props.workerTimeout ?? Duration.minutes(15);
    assertWorkerOutlastsStatements(config, this.workerTimeout);
    this.reserveConcurrency = props.reserveConcurrency ?? true;
    this.logRetention = props.logRetention;
    this.access = controlAccess(config);
    this.bundling = {
      projectRoot: this.projectRoot,
      define: {
        __SOC2_CONFIG__: JSON.stringify(config),
        __SOC2_EVIDENCE_VERSION__: JSON.stringify(readPackageVersion(this.projectRoot)),
      },
    };

    this.keys = new EncryptionKeys(this, 'Keys');
    const dataKey = this.keys.dataKey;
    this.results = new ResultsTable(this, 'Results', { encryptionKey: dataKey });
    this.evidence = new EvidenceBucket(this, 'Evidence', {
      encryptionKey: dataKey,
      objectLockMode: config.evidence.objectLockMode,
      retentionYears: config.evidence.retentionYears,
      archiveAfterDays: config.evidence.archiveAfterDays,
      // One rule per control: `evidence/_public-keys/` (and `checkpoints/`) must never be archived.
      archivedPrefixes: config.controls.map(
        (control) => `${EVIDENCE_BUCKET_PREFIXES.evidence}${control.id}/`,
      ),
      ...(props.archiveStorageClass ? { archiveStorageClass: props.archiveStorageClass } : {}),
    });
    this.auditor = new AuditorRole(this, 'Auditor', {
      bucket: this.evidence.bucket,
      encryptionKey: dataKey,
      // evidence/ includes the public keys (evidence/_public-keys/).
      readablePrefixes: [
        EVIDENCE_BUCKET_PREFIXES.evidence,
        EVIDENCE_BUCKET_PREFIXES.checkpoints,
        EVIDENCE_BUCKET_PREFIXES.exports,
      ],
      // VERIFY.md and `export --presign` / `--restore-archived` are the auditor's own tools.
      exportUploadPrefix: EVIDENCE_BUCKET_PREFIXES.exports,
      restorablePrefixes: [EVIDENCE_BUCKET_PREFIXES.evidence],
      requireMfa: props.auditorRequiresMfa ?? false,
      ...(props.auditorPrincipalArns ? { trustedPrincipalArns: props.auditorPrincipalArns } : {}),
    });
    this.notifications = new Notifications(this, 'Notifications', {
      encryptionKey: dataKey,
      owners: config.owners,
      ...(props.alarmEmails ? { alarmEmails: props.alarmEmails } : {}),
    });
    // CloudWatch publishes alarms to the encrypted alarm topic with the data key.
    this.keys.allowServiceToUseDataKey('cloudwatch.amazonaws.com', { sourceAccountCondition: false });
    this.jobs = new JobsQueue(this, 'Jobs', {
      encryptionKey: dataKey,
      alarmTopic: this.notifications.alarmTopic,
      consumerTimeout: this.workerTimeout,
    });
    this.network = props.network ? this.runnerNetwork(props.network) : undefined;

    this.addDispatcher();
    this.addWorker(props);
    const restoreValidation =
      props.restoreValidation ??
      config.controls.some((control) => control.test.type === RESTORE_TEST_HISTORY);
    if (restoreValidation) this.addRestoreValidator();
    if (config.riskRegister) this.addRiskEvaluator();
    // Only owners with a Slack channel invoke the forwarder; with none, there is nothing to forward.
    const slackFilter = slackForwarderFilterPolicy(config.owners);
    if (config.notifications?.slack && slackFilter) {
      this.addSlackForwarder(config.notifications.slack.webhookSecretId, slackFilter);
    }
    this.addCheckpointWriter();
    const signsOff =
      config.riskRegister !== undefined ||
      config.controls.some((control) => control.review === 'required') ||
      (config.documents?.length ?? 0) > 0;
    if (signsOff) {
      this.reviewer = new ReviewerRole(this, 'Reviewer', {
        bucket: this.evidence.bucket,
        table: this.results.table,
        dataKey,
        signingKey: this.keys.signingKey,
        writablePrefixes: [
          `${EVIDENCE_BUCKET_PREFIXES.evidence}*${REVIEW_CHAIN_SUFFIX}/`,
          `${EVIDENCE_BUCKET_PREFIXES.evidence}${RISK_REGISTER_REVIEW_CHAIN_ID}/`,
          EVIDENCE_BUCKET_PREFIXES.publicKeys,
        ],
        writablePartitions: [
          tableKeys.control(`*${REVIEW_CHAIN_SUFFIX}`),
          tableKeys.control(RISK_REGISTER_REVIEW_CHAIN_ID),
        ],
        readablePrefix: EVIDENCE_BUCKET_PREFIXES.evidence,
        requireMfa: props.reviewerRequiresMfa ?? false,
        ...(props.reviewerPrincipalArns ? { trustedPrincipalArns: props.reviewerPrincipalArns } : {}),
      });
      // `soc2-evidence sign-off` runs as this role with the CLI: the only human role the key lets sign.
      this.signers.push(this.reviewer.role);
    }
    // Only the runners, the checkpoint writer and the reviewer sign; the auditor fetches the public key.
    this.keys.restrictSigning({ signers: this.signers, readers: [this.auditor.role] });

    this.output('EvidenceBucketName', this.evidence.bucket.bucketName, 'WORM evidence bucket');
    this.output('ResultsTableName', this.results.table.tableName, 'Verdicts and history');
    this.output('NotificationsTopicArn', this.notifications.topic.topicArn, 'Owner notifications');
    this.output('AlarmTopicArn', this.notifications.alarmTopic.topicArn, 'Operational alarms');
    this.output('JobsQueueUrl', this.jobs.queue.queueUrl, 'Control jobs (FIFO)');
    this.output('AuditorRoleArn', this.auditor.role.roleArn, 'Role for auditors: read, verify, export');
    if (this.reviewer)
      this.output('ReviewerRoleArn', this.reviewer.role.roleArn, 'Role for sign-offs: signs reviews only');
    this.output('SigningKeyArn', this.keys.signingKey.keyArn, 'KMS key that signs evidence manifests');
  }

  /** Enqueues the due controls of a cadence; one schedule per cadence that has controls. */
  private addDispatcher(): void {
    const failures = this.failureQueue('DispatchFailures', 'cadence dispatches');
    const dispatcher = this.addFunction('dispatcher', {
      description: 'soc2-evidence: enqueues one job per due control for a cadence',
      timeout: Duration.minutes(1),
      memorySize: 256,
      onFailure: failures,
      ...(this.reserveConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
    });
    bind(dispatcher.function, jobsQueue(this.jobs.queue));
    const cadences = CADENCES.filter((cadence) =>
      this.config.controls.some((control) => control.cadence === cadence),
    );
    new LambdaSchedules(this, 'CadenceSchedules', {
      target: dispatcher.function,
      timeZone: this.config.timeZone,
      deadLetterQueue: failures,
      invocations: cadences.map((cadence) => ({
        id: `${cadence.charAt(0).toUpperCase()}${cadence.slice(1)}`,
        description: `soc2-evidence: dispatch the ${cadence} controls`,
        cron: CADENCE_CRON[cadence],
        input: { cadence },
      })),
    });
  }

  /** Runs one control per FIFO message and reports partial batch failures. */
  private addWorker(props: Soc2EvidenceStackProps): void {
    const worker = this.addFunction('worker', {
      description: 'soc2-evidence: runs one control test, writes signed evidence and the verdict',
      timeout: this.workerTimeout,
      memorySize: 1024,
      trustRdsCertificates: true,
      ...(this.network ? { network: this.network } : {}),
    });
    this.addRunnerAccess(worker);
    worker.function.addEventSource(
      new lambdaEvents.SqsEventSource(this.jobs.queue, {
        batchSize: props.workerBatchSize ?? 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.workerMaxConcurrency ?? 5,
      }),
    );
  }

  /** AWS Backup restore testing reports a completed restore: verify it, record it, report back. */
  private addRestoreValidator(): void {
    const failures = this.failureQueue('RestoreValidationFailures', 'restore validations');
    const validator = this.addFunction('restore-validator', {
      description: 'soc2-evidence: verifies a completed AWS Backup restore and reports the validation result',
      timeout: this.workerTimeout,
      memorySize: 1024,
      onFailure: failures,
      trustRdsCertificates: true,
      ...(this.network ? { network: this.network } : {}),
    });
    this.addRunnerAccess(validator);
    new RestoreValidatorWiring(this, 'RestoreCompleted', {
      validator,
      deadLetterQueue: failures,
      keys: this.keys,
    });
  }

  /**
   * Writes a signed, chained checkpoint of every control's chain head every hour, changed or not,
   * so `verify` can tell a dropped control, run or checkpoint from one that never existed.
   */
  private addCheckpointWriter(): void {
    const failures = this.failureQueue('CheckpointFailures', 'checkpoint writes');
    const writer = this.addFunction('checkpoint-writer', {
      description: 'soc2-evidence: writes a signed checkpoint of every evidence chain head',
      timeout: Duration.minutes(5),
      memorySize: 512,
      onFailure: failures,
      // One writer at a time: each checkpoint chains to the previous one, so two must not race.
      ...(this.reserveConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
    });
    bind(
      writer.function,
      // Reads the chain heads (GetItem, Query); writes nothing to the table.
      resultsTable(this.results.table),
      checkpointStore(this.evidence.bucket, this.keys.dataKey, EVIDENCE_BUCKET_PREFIXES.checkpoints),
      signingKey(this.keys.signingKey),
    );
    this.signers.push(writer.role);
    new LambdaSchedules(this, 'CheckpointSchedule', {
      target: writer.function,
      timeZone: this.config.timeZone,
      deadLetterQueue: failures,
      invocations: [
        {
          id: 'Hourly',
          description: 'soc2-evidence: write a signed checkpoint of the evidence chains',
          every: Duration.hours(1),
          input: {},
        },
      ],
    });
  }

  /** Evaluates the risk register daily and sends one digest per owner. */
  private addRiskEvaluator(): void {
    const failures = this.failureQueue('RiskEvaluationFailures', 'risk evaluations');
    const evaluator = this.addFunction('risk-evaluator', {
      description: 'soc2-evidence: evaluates the risk register and sends owner digests',
      timeout: Duration.minutes(5),
      memorySize: 512,
      onFailure: failures,
      // One evaluation at a time: a retry never races the run it retries.
      ...(this.reserveConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
    });
    bind(
      evaluator.function,
      // Risk state, findings, summaries and the reminder ledger (lib/adapters/dynamodb/dynamodb-risks.ts,
      // dynamodb-reminders.ts); it only reads verdicts, so it may not write under CONTROL#, where
      // verdicts and evidence chain heads live.
      resultsTable(this.results.table, {
        writes: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
        writesExceptPartitions: [`${CONTROL_PARTITION_PREFIX}*`],
      }),
      notificationsTopic(this.notifications.topic),
    );
    new LambdaSchedules(this, 'RiskSchedule', {
      target: evaluator.function,
      timeZone: this.config.timeZone,
      deadLetterQueue: failures,
      invocations: [
        {
          id: 'Daily',
          description: 'soc2-evidence: evaluate the risk register',
          cron: CADENCE_CRON.daily,
          input: {},
        },
      ],
    });
  }

  /** Posts every notification to the owner's Slack channel through the incoming webhook. */
  private addSlackForwarder(webhookSecretId: string, filterPolicy: FilterPolicy): void {
    const failures = this.failureQueue('SlackDeliveryFailures', 'Slack deliveries');
    const forwarder = this.addFunction('slack-forwarder', {
      description: 'soc2-evidence: posts owner notifications to Slack through an incoming webhook',
      timeout: Duration.seconds(30),
      memorySize: 256,
      onFailure: failures,
      // Slack rate-limits incoming webhooks to about one message per second.
      ...(this.reserveConcurrency ? { reservedConcurrentExecutions: 2 } : {}),
    });
    forwarder.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheSlackWebhookSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secretArn(this, webhookSecretId)],
      }),
    );
    this.notifications.topic.addSubscription(
      new snsSubscriptions.LambdaSubscription(forwarder.function, {
        deadLetterQueue: failures,
        filterPolicy: subscriptionFilters(filterPolicy),
      }),
    );
    // SNS writes undeliverable notifications to the encrypted dead-letter queue.
    this.keys.allowServiceToUseDataKey('sns.amazonaws.com');
  }

  private addFunction(
    name: FunctionName,
    props: Omit<Soc2FunctionProps, 'entry' | 'bundling' | 'logsKey' | 'logRetention'>,
  ): Soc2Function {
    const id = name.replace(/(^|-)([a-z])/g, (_match, _dash, letter: string) => letter.toUpperCase());
    const fn = new Soc2Function(this, id, {
      ...props,
      entry: join(this.projectRoot, 'functions', name, 'handler.ts'),
      bundling: this.bundling,
      logsKey: this.keys.dataKey,
      ...(this.logRetention ? { logRetention: this.logRetention } : {}),
    });
    this.functions[name] = fn;
    return fn;
  }

  private failureQueue(id: string, description: string): sqs.Queue {
    return new FailureQueue(this, id, {
      encryptionKey: this.keys.dataKey,
      alarmTopic: this.notifications.alarmTopic,
      description,
    }).queue;
  }

  /** A control runner: the shared resources it writes to, and what the configured tests read. */
  private addRunnerAccess(runner: Soc2Function): void {
    new RunnerAccess(runner, 'RunnerAccess', {
      runner,
      table: this.results.table,
      evidenceBucket: this.evidence.bucket,
      dataKey: this.keys.dataKey,
      topic: this.notifications.topic,
      signingKey: this.keys.signingKey,
      access: this.access,
    });
    this.signers.push(runner.role);
  }

  private runnerNetwork(placement: NetworkPlacement): FunctionNetwork {
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: placement.vpcId,
      availabilityZones: this.availabilityZones,
    });
    const subnets = placement.subnetIds.map((subnetId, i) => {
      const subnet = ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId);
      acknowledge(
        subnet,
        'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'The functions only need the subnet ids; routing (NAT or VPC endpoints) stays with the VPC owner.',
      );
      return subnet;
    });
    const securityGroups =
      placement.securityGroupIds && placement.securityGroupIds.length > 0
        ? placement.securityGroupIds.map((sgId, i) =>
            ec2.SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, sgId),
          )
        : [
            new ec2.SecurityGroup(this, 'RunnerSecurityGroup', {
              vpc,
              description: 'soc2-evidence runners: egress to customer databases and AWS APIs',
              allowAllOutbound: true,
            }),
          ];
    return { vpc, subnets, securityGroups };
  }

  private output(id: string, value: string, description: string): void {
    new CfnOutput(this, id, { value, description });
  }
}

function readPackageVersion(projectRoot: string): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version?: string };
  if (!pkg.version) throw new Error(`no "version" in ${join(projectRoot, 'package.json')}`);
  return pkg.version;
}

/** The worker must outlive its longest statement, or Lambda kills it before PostgreSQL reports. */
export class WorkerTimeoutTooShortError extends Error {
  override name = 'WorkerTimeoutTooShortError';
}

function assertWorkerOutlastsStatements(config: Config, workerTimeout: Duration): void {
  const longest = config.targets.reduce((max, t) => Math.max(max, t.statementTimeoutMs), 0);
  if (longest >= workerTimeout.toMilliseconds()) {
    throw new WorkerTimeoutTooShortError(
      `worker timeout ${workerTimeout.toSeconds()} s must exceed the longest targets[].statementTimeoutMs (${longest} ms)`,
    );
  }
  assertRunsFitTimeout(config, workerTimeout.toMilliseconds());
}
