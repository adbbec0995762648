import { rmSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../lib/config/schema.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { auditLogConfig } from '../support/config-fixture.ts';
import {
  resourcesOf,
  type SynthesizedStack,
  stubProjectRoot,
  synthesizeStack,
} from './support/stack-fixture.ts';

const FULL_CONFIG: ConfigInput = {
  timeZone: 'Europe/Berlin',
  owners: [
    { id: 'security', name: 'Security', email: 'security@example.com', slackChannel: '#security' },
    { id: 'devops', name: 'DevOps', email: 'devops@example.com' },
  ],
  targets: [
    { name: 'app', connection: { secretId: 'soc2-evidence/app-db' } },
    {
      name: 'staging',
      connection: { secretId: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:staging-db-AbCdEf' },
    },
    // No control opens it, so no runner may read its connection string.
    { name: 'unused', connection: { secretId: 'soc2-evidence/unused-db' } },
  ],
  controls: [
    {
      id: 'audit-log',
      title: 'Audit log complete',
      criteria: ['CC7.2'],
      cadence: 'monthly',
      owner: 'security',
      test: { type: 'log-completeness', target: 'app' },
    },
    {
      id: 'secret-rotation',
      title: 'Secrets rotated',
      criteria: ['CC6.7'],
      cadence: 'monthly',
      owner: 'security',
      test: {
        type: 'secret-rotation',
        secrets: [
          { name: 'Database password', secretId: 'prod/db-password' },
          { name: 'Deploy key', iamUser: 'ci-deployer' },
        ],
      },
    },
    {
      id: 'vuln-scan',
      title: 'Vulnerabilities patched',
      criteria: ['CC7.1'],
      cadence: 'weekly',
      owner: 'devops',
      test: { type: 'vulnerability-scan', bucket: 'acme-security-reports', prefix: 'scans/trivy/' },
    },
    {
      id: 'access-review',
      title: 'Access reviewed',
      criteria: ['CC6.2'],
      cadence: 'quarterly',
      owner: 'security',
      test: { type: 'access-review', target: 'app' },
    },
    {
      id: 'staging-restore',
      title: 'Staging restore matches production',
      criteria: ['A1.3'],
      cadence: 'monthly',
      owner: 'devops',
      test: {
        type: 'restore-verification',
        sourceTarget: 'app',
        restoredTarget: 'staging',
        recoveryPoint: '2026-01-01T00:00:00Z',
      },
    },
    {
      id: 'tabletop',
      title: 'Incident response tabletop',
      criteria: ['CC9.1'],
      cadence: 'annual',
      owner: 'security',
      test: { type: 'manual-attestation', prefix: 'attestations/tabletop/{period}/' },
    },
    {
      id: 'schedule-health',
      title: 'Schedules run',
      criteria: ['CC4.1'],
      cadence: 'daily',
      owner: 'devops',
      test: { type: 'schedule-health' },
    },
  ],
  notifications: { slack: { webhookSecretId: 'soc2-evidence/slack-webhook' } },
  riskRegister: {},
};

const MINIMAL_CONFIG: ConfigInput = {
  ...auditLogConfig({ targetEnv: 'DATABASE_URL', test: {} }),
  evidence: { objectLockMode: 'GOVERNANCE', retentionYears: 10, archiveAfterDays: 90 },
};

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

/** Every statement of the identity policies attached to a role whose logical id starts with `prefix`. */
function roleStatements(synth: SynthesizedStack, rolePrefix: string): Statement[] {
  const roleIds = Object.keys(synth.json.Resources).filter(
    (id) => id.startsWith(rolePrefix) && synth.json.Resources[id]?.Type === 'AWS::IAM::Role',
  );
  expect(roleIds).toHaveLength(1);
  const statements: Statement[] = [];
  for (const [, policy] of resourcesOf(synth, 'AWS::IAM::Policy')) {
    const roles = (policy.Properties?.Roles ?? []) as { Ref: string }[];
    if (roles.some((role) => role.Ref === roleIds[0])) {
      statements.push(
        ...((policy.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? []),
      );
    }
  }
  return statements;
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
function logicalId(synth: SynthesizedStack, type: string, prefix: string): string {
  const ids = resourcesOf(synth, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0] as string;
}

let projectRoot: string;
let full: SynthesizedStack;
let minimal: SynthesizedStack;

beforeAll(() => {
  projectRoot = stubProjectRoot();
  full = synthesizeStack(FULL_CONFIG, {
    projectRoot,
    restoreValidation: true,
    network: {
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    },
    alarmEmails: ['oncall@example.com'],
  });
  minimal = synthesizeStack(MINIMAL_CONFIG, {
    projectRoot,
    auditorRequiresMfa: true,
    reserveConcurrency: false,
  });
});

afterAll(() => rmSync(projectRoot, { recursive: true, force: true }));

describe('schedules', () => {
  it.each([
    ['daily', 'cron(15 0 * * ? *)'],
    ['weekly', 'cron(15 0 ? * MON *)'],
    ['monthly', 'cron(15 0 1 * ? *)'],
    ['quarterly', 'cron(15 0 1 1,4,7,10 ? *)'],
    ['annual', 'cron(15 0 1 1 ? *)'],
  ])('dispatches the %s controls at %s in the configured time zone', (cadence, cron) => {
    full.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: cron,
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [logicalId(full, 'AWS::Lambda::Function', 'DispatcherFunction'), 'Arn'] },
        Input: JSON.stringify({ cadence, asOf: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21600 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [logicalId(full, 'AWS::SQS::Queue', 'DispatchFailures'), 'Arn'] },
        },
      },
    });
  });

  it('creates schedules only for cadences that have controls (plus the hourly checkpoint)', () => {
    minimal.template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    minimal.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 0 1 * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: { Input: '{"cadence":"monthly","asOf":"<aws.scheduler.scheduled-time>"}' },
    });
  });

  it('evaluates the risk register daily only when the config has one', () => {
    full.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 0 * * ? *)',
      Target: {
        Arn: { 'Fn::GetAtt': [logicalId(full, 'AWS::Lambda::Function', 'RiskEvaluatorFunction'), 'Arn'] },
        Input: '{"asOf":"<aws.scheduler.scheduled-time>"}',
      },
    });
    expect(resourcesOf(full, 'AWS::Scheduler::Schedule')).toHaveLength(7);
    expect(
      resourcesOf(minimal, 'AWS::Lambda::Function')
        .map(([id]) => id.replace(/Function.*$/, ''))
        .sort(),
    ).toEqual(['CheckpointWriter', 'Dispatcher', 'Worker']);
  });
});

describe('functions', () => {
  it('runs every function on nodejs24.x, arm64, with active tracing and its own encrypted log group', () => {
    const functions = resourcesOf(full, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id.replace(/Function.*$/, '')).sort()).toEqual([
      'CheckpointWriter',
      'Dispatcher',
      'RestoreValidator',
      'RiskEvaluator',
      'SlackForwarder',
      'Worker',
    ]);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
      // Source maps stay beside the bundle, out of the cold start.
      const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      expect(variables?.NODE_OPTIONS).toBeUndefined();
    }
  });

  it('trusts the Amazon RDS CAs (the runtime bundle) exactly in the functions that open database connections', () => {
    const caBundle = (id: string) => {
      const [, fn] =
        resourcesOf(full, 'AWS::Lambda::Function').find(([logical]) => logical.startsWith(id)) ?? [];
      return (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.NODE_EXTRA_CA_CERTS;
    };
    // Lambda's Node.js 20+ runtimes load no Amazon CA unless told: RDS TLS with verification would fail.
    expect(caBundle('Worker')).toBe('/var/runtime/ca-cert.pem');
    expect(caBundle('RestoreValidator')).toBe('/var/runtime/ca-cert.pem');
    // The bundle costs cold start; functions that never reach a database do without it.
    expect(caBundle('Dispatcher')).toBeUndefined();
    expect(caBundle('RiskEvaluator')).toBeUndefined();
    expect(caBundle('SlackForwarder')).toBeUndefined();
  });

  it('gives every function its own encrypted log group with a retention', () => {
    const logGroups = resourcesOf(full, 'AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(6);
    for (const [, group] of logGroups) {
      expect(group.Properties).toMatchObject({
        RetentionInDays: 365,
        KmsKeyId: { 'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysDataKey'), 'Arn'] },
      });
      expect(group.DeletionPolicy).toBe('Retain');
    }
  });

  it('wires each runner to the resources it uses through the shared env var names', () => {
    const table = logicalId(full, 'AWS::DynamoDB::Table', 'ResultsTable');
    const bucket = logicalId(full, 'AWS::S3::Bucket', 'EvidenceBucket');
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('runs one control test'),
      Timeout: 900,
      Environment: {
        Variables: {
          [ENV.resultsTable]: { Ref: table },
          [ENV.evidenceBucket]: { Ref: bucket },
          [ENV.notificationsTopicArn]: { Ref: logicalId(full, 'AWS::SNS::Topic', 'NotificationsTopic') },
          [ENV.signingKeyId]: { 'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysSigningKey'), 'Arn'] },
        },
      },
    });
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('enqueues one job'),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: { [ENV.jobsQueueUrl]: { Ref: logicalId(full, 'AWS::SQS::Queue', 'JobsQueue') } },
      },
    });
    const dispatcher = resourcesOf(full, 'AWS::Lambda::Function').find(([id]) => id.startsWith('Dispatcher'));
    const variables = (
      dispatcher?.[1].Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
    )?.Variables;
    expect(Object.keys(variables ?? {}).filter((name) => name.startsWith('SOC2_'))).toEqual([
      ENV.jobsQueueUrl,
    ]);
  });

  it('consumes the jobs queue one job at a time with partial batch failures and bounded concurrency', () => {
    full.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(full, 'AWS::SQS::Queue', 'JobsQueue'), 'Arn'] },
      FunctionName: { Ref: logicalId(full, 'AWS::Lambda::Function', 'WorkerFunction') },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('sends failed asynchronous invocations to an on-failure queue after two retries', () => {
    for (const [fn, queue] of [
      ['DispatcherFunction', 'DispatchFailures'],
      ['RestoreValidatorFunction', 'RestoreValidationFailures'],
      ['RiskEvaluatorFunction', 'RiskEvaluationFailures'],
      ['SlackForwarderFunction', 'SlackDeliveryFailures'],
    ] as const) {
      full.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(full, 'AWS::Lambda::Function', fn) },
        MaximumRetryAttempts: 2,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(full, 'AWS::SQS::Queue', queue), 'Arn'] } },
        },
      });
    }
  });

  it('places the worker and restore validator in the given VPC subnets, and nothing else', () => {
    const inVpc = resourcesOf(full, 'AWS::Lambda::Function')
      .filter(([, fn]) => fn.Properties?.VpcConfig)
      .map(([id]) => id.replace(/Function.*$/, ''))
      .sort();
    expect(inVpc).toEqual(['RestoreValidator', 'Worker']);
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('runs one control test'),
      VpcConfig: {
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        SecurityGroupIds: [
          { 'Fn::GetAtt': [logicalId(full, 'AWS::EC2::SecurityGroup', 'RunnerSecurityGroup'), 'GroupId'] },
        ],
      },
    });
    expect(resourcesOf(minimal, 'AWS::Lambda::Function').some(([, fn]) => fn.Properties?.VpcConfig)).toBe(
      false,
    );
    expect(
      resourcesOf(minimal, 'AWS::Lambda::Function').some(
        ([, fn]) => fn.Properties?.ReservedConcurrentExecutions,
      ),
    ).toBe(false);
  });
});

describe('least privilege', () => {
  it('lets the worker write evidence and public keys, publish, sign and read its inputs, but never delete evidence', () => {
    const statements = roleStatements(full, 'WorkerRole');
    const bucket = logicalId(full, 'AWS::S3::Bucket', 'EvidenceBucket');
    const signingKeyArn = { 'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysSigningKey'), 'Arn'] };
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 's3:PutObject',
        // Public keys are published under evidence/_public-keys/, inside the same grant.
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/evidence/*']] },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: ['kms:GetPublicKey', 'kms:Sign'], Resource: signingKeyArn }),
    );
    const actions = actionsOf(statements);
    // Evidence is never deleted or unlocked, and keys are never managed, by the runner.
    const forbidden =
      /^s3:(Delete|PutObjectRetention|PutObjectLegalHold|PutBucket|BypassGovernance)|^kms:(Create|Schedule|Disable|Put)/;
    expect(actions.filter((a) => forbidden.test(a))).toEqual([]);
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'sns:Publish', 'sqs:DeleteMessage']),
    );
  });

  it('reads only the connection secrets of the targets a control opens, by name with any version suffix', () => {
    const statements = roleStatements(full, 'WorkerRole');
    const reads = statements.filter((s) => s.Action === 'secretsmanager:GetSecretValue');
    expect(reads).toHaveLength(1);
    expect(reads[0]?.Resource).toHaveLength(2);
    expect(reads).toEqual([
      expect.objectContaining({
        Resource: expect.arrayContaining([
          {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':secretsmanager:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':secret:soc2-evidence/app-db-??????',
              ],
            ],
          },
          'arn:aws:secretsmanager:eu-central-1:123456789012:secret:staging-db-AbCdEf',
        ]),
      }),
    ]);
    expect(JSON.stringify(statements)).not.toContain('unused-db');
  });

  it('grants exactly the reads the configured control tests need', () => {
    const statements = roleStatements(full, 'WorkerRole');
    const byAction = (action: string) => statements.filter((s) => s.Action === action);
    expect(byAction('secretsmanager:DescribeSecret')).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::Join': ['', expect.arrayContaining([':secret:prod/db-password-??????'])] },
      }),
    ]);
    expect(byAction('iam:ListAccessKeys')).toEqual([
      expect.objectContaining({
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':user/ci-deployer'],
          ],
        },
      }),
    ]);
    // The scanner reports live in the customer's bucket; attestations in the evidence bucket.
    expect(byAction('s3:GetObject').map((s) => s.Resource)).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-security-reports/scans/trivy/*']] },
      {
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [logicalId(full, 'AWS::S3::Bucket', 'EvidenceBucket'), 'Arn'] },
            '/attestations/tabletop/*',
          ],
        ],
      },
    ]);
    expect(byAction('s3:ListBucket').map((s) => s.Condition)).toEqual([
      { StringLike: { 's3:prefix': ['scans/trivy/', 'scans/trivy/*'] } },
      { StringLike: { 's3:prefix': ['attestations/tabletop/', 'attestations/tabletop/*'] } },
    ]);
  });

  it('lets the restore validator report validation results to AWS Backup', () => {
    expect(roleStatements(full, 'RestoreValidatorRole')).toContainEqual(
      expect.objectContaining({
        Action: ['backup:DescribeRestoreJob', 'backup:PutRestoreValidationResult'],
        Resource: '*',
      }),
    );
  });

  it('gives the dispatcher nothing but sending jobs, logging and tracing', () => {
    expect(actionsOf(roleStatements(full, 'DispatcherRole'))).toEqual([
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey*',
      'kms:ReEncrypt*',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});

describe('data at rest', () => {
  it('keeps results in a PITR, CMK-encrypted, deletion-protected table with the shared key design', () => {
    full.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
          }),
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysDataKey'), 'Arn'] },
        },
      },
    });
  });

  it('locks evidence for 7 years in compliance mode by default, versioned, SSE-KMS, private, logged', () => {
    full.template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 7 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysDataKey'), 'Arn'] },
              },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: logicalId(full, 'AWS::S3::Bucket', 'EvidenceAccessLogs') },
        },
        LifecycleConfiguration: {
          TransitionDefaultMinimumObjectSize: 'varies_by_storage_class',
          Rules: Match.arrayWith([
            Match.objectLike({
              Prefix: 'evidence/audit-log/',
              Status: 'Enabled',
              Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 365 }],
            }),
          ]),
        },
      },
    });
    full.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(full, 'AWS::S3::Bucket', 'EvidenceBucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('follows the config for governance mode, retention years and the archive age', () => {
    minimal.template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 10 } } },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'evidence/audit-log/',
            Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 90 }],
          }),
        ]),
      },
    });
  });

  it('rotates the data key and signs with an asymmetric P-256 key', () => {
    full.template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true, KeySpec: Match.absent() },
    });
    full.template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
    });
  });
});

describe('notifications and queues', () => {
  it('encrypts both topics and refuses publishers without TLS', () => {
    const topics = resourcesOf(full, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(2);
    for (const [id, topic] of topics) {
      expect(topic.Properties?.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysDataKey'), 'Arn'],
      });
      full.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('subscribes each owner by email, filtered to messages addressed to that owner', () => {
    for (const owner of ['security', 'devops']) {
      full.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: `${owner}@example.com`,
        TopicArn: { Ref: logicalId(full, 'AWS::SNS::Topic', 'NotificationsTopic') },
        FilterPolicy: { owner: [owner] },
      });
    }
  });

  it('forwards to Slack only when configured, for owners with a channel, with a dead-letter queue and its alarm', () => {
    const failures = logicalId(full, 'AWS::SQS::Queue', 'SlackDeliveryFailures');
    full.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: logicalId(full, 'AWS::SNS::Topic', 'NotificationsTopic') },
      // Only owners with a Slack channel (devops has none) invoke the forwarder.
      FilterPolicy: { owner: ['security'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [failures, 'Arn'] } },
    });
    full.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [failures, 'QueueName'] } }],
    });
    expect(roleStatements(full, 'SlackForwarderRole')).toContainEqual(
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Join': ['', expect.arrayContaining([':secret:soc2-evidence/slack-webhook-??????'])],
        },
      }),
    );
    // SNS can write undeliverable messages into the KMS-encrypted dead-letter queue.
    full.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    minimal.template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'lambda' }, 0);
  });

  it('queues jobs FIFO with explicit deduplication, KMS, a FIFO dead-letter queue after 3 receives', () => {
    full.template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysDataKey'), 'Arn'] },
      VisibilityTimeout: 5400,
      RedrivePolicy: {
        maxReceiveCount: 3,
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(full, 'AWS::SQS::Queue', 'JobsDeadLetters'), 'Arn'] },
      },
    });
    full.template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      MessageRetentionPeriod: 1209600,
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  it('encrypts every queue and refuses non-TLS access to each', () => {
    const queues = resourcesOf(full, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(7);
    for (const [id, queue] of queues) {
      expect(queue.Properties?.KmsMasterKeyId, id).toBeDefined();
      full.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('alarms on the first message in every dead-letter queue, to the alarm topic', () => {
    const alarms = resourcesOf(full, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(6);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalId(full, 'AWS::SNS::Topic', 'NotificationsAlarmTopic') }],
      });
    }
    // The alarms can actually publish: topic policy and key policy let CloudWatch in.
    full.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalId(full, 'AWS::SNS::Topic', 'NotificationsAlarmTopic') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
    full.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    full.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: logicalId(full, 'AWS::SNS::Topic', 'NotificationsAlarmTopic') },
    });
  });
});

describe('AWS Backup restore testing', () => {
  it('triggers the restore validator on completed restore jobs, with retries and a dead-letter queue', () => {
    full.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.backup'],
        'detail-type': ['Restore Job State Change'],
        detail: { status: ['COMPLETED'] },
      },
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::GetAtt': [logicalId(full, 'AWS::Lambda::Function', 'RestoreValidatorFunction'), 'Arn'],
          },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [logicalId(full, 'AWS::SQS::Queue', 'RestoreValidationFailures'), 'Arn'] },
          },
        }),
      ],
    });
    minimal.template.resourceCountIs('AWS::Events::Rule', 0);
  });
});

describe('auditor role', () => {
  it('can list and read the evidence (public keys included), checkpoints and exports, upload exports, restore archived evidence, and nothing else', () => {
    const roleId = logicalId(minimal, 'AWS::IAM::Role', 'AuditorRole');
    const role = minimal.json.Resources[roleId]?.Properties as {
      Policies: { PolicyDocument: { Statement: Statement[] } }[];
      ManagedPolicyArns?: unknown;
    };
    expect(role.ManagedPolicyArns).toBeUndefined();
    const statements = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
    expect(actionsOf(statements)).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey',
      's3:GetObject',
      's3:GetObjectLegalHold',
      's3:GetObjectRetention',
      's3:GetObjectVersion',
      's3:ListBucket',
      's3:ListBucketVersions',
      's3:PutObject',
      's3:PutObjectRetention',
      's3:RestoreObject',
    ]);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    const bucketArn = { 'Fn::GetAtt': [logicalId(minimal, 'AWS::S3::Bucket', 'EvidenceBucket'), 'Arn'] };
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn, `/${prefix}`]] });
    const readable = statements.find((s) => actionsOf([s]).includes('s3:GetObject'))?.Resource as unknown[];
    expect(readable).toHaveLength(3);
    expect(readable).toEqual(
      expect.arrayContaining(['evidence/*', 'checkpoints/*', 'exports/*'].map(objects)),
    );
    expect(statements.find((s) => actionsOf([s]).includes('s3:ListBucket'))?.Condition).toEqual({
      StringLike: {
        's3:prefix': ['evidence/', 'evidence/*', 'checkpoints/', 'checkpoints/*', 'exports/', 'exports/*'],
      },
    });
    // Writes only where `export --presign` uploads; never under evidence/ or checkpoints/.
    expect(statements.find((s) => actionsOf([s]).includes('s3:PutObject'))?.Resource).toEqual(
      objects('exports/*'),
    );
    expect(statements.find((s) => actionsOf([s]).includes('s3:RestoreObject'))?.Resource).toEqual(
      objects('evidence/*'),
    );
    // KMS only through S3.
    for (const statement of statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('kms:')))) {
      expect(statement.Condition).toEqual({
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
      });
    }
    // No grant elsewhere in the stack widens it.
    const attached = resourcesOf(minimal, 'AWS::IAM::Policy').filter(([, p]) =>
      ((p.Properties?.Roles ?? []) as { Ref: string }[]).some((r) => r.Ref === roleId),
    );
    expect(attached).toEqual([]);
  });

  it('requires MFA to assume the role when asked to', () => {
    minimal.template.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('auditor'),
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } })],
      },
    });
    full.template.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('auditor'),
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Condition: Match.absent() })] },
    });
  });
});

describe('outputs', () => {
  it('exports the names and ARNs operators and auditors need', () => {
    const outputs = Object.keys(full.template.findOutputs('*')).sort();
    expect(outputs).toEqual([
      'AlarmTopicArn',
      'AuditorRoleArn',
      'EvidenceBucketName',
      'JobsQueueUrl',
      'NotificationsTopicArn',
      'ResultsTableName',
      'ReviewerRoleArn',
      'SigningKeyArn',
    ]);
    full.template.hasOutput('SigningKeyArn', {
      Value: { 'Fn::GetAtt': [logicalId(full, 'AWS::KMS::Key', 'KeysSigningKey'), 'Arn'] },
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['every optional feature', () => full],
    ['the minimal config', () => minimal],
  ])('reports no unacknowledged finding with %s', (_name, stack) => {
    const report = new AwsSolutionsChecks().validateScope(stack().stack);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath}`),
    );
    expect(findings).toEqual([]);
  });
});
