import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ResourcelessAwsApi } from '../../lib/controls/control-needs.ts';
import type { ControlAccess } from '../control-access.ts';
import { EVIDENCE_BUCKET_PREFIXES } from './evidence-bucket.ts';
import { acknowledge, acknowledgeWildcardResource } from './nag.ts';
import { bind, evidenceWriter, notificationsTopic, resultsTable, signingKey } from './runtime-binding.ts';
import { secretArn } from './secret-arn.ts';
import type { Soc2Function } from './soc2-function.ts';

/** The shared resources every control runner (worker, restore validator) writes to. */
export interface RunnerResources {
  /** Verdicts, attempts and chain heads. */
  readonly table: dynamodb.ITable;
  /** The WORM bucket evidence is written to (under `evidence/`). */
  readonly evidenceBucket: s3.IBucket;
  /** The data key that encrypts the bucket (and the customer inputs stored in it). */
  readonly dataKey: kms.IKey;
  /** Owner notifications. */
  readonly topic: sns.ITopic;
  /** The manifest signing key. */
  readonly signingKey: kms.IKey;
  /** What the configured control tests declare they read (`controlAccess(config)`). */
  readonly access: ControlAccess;
}

export interface RunnerAccessProps extends RunnerResources {
  /** The function that runs control tests. */
  readonly runner: Soc2Function;
}

/** How each resource-less API a test may declare is granted, and why `*` is acceptable. */
const RESOURCELESS_API_GRANTS: Readonly<Record<ResourcelessAwsApi, { sid: string; reason: string }>> = {
  'backup:ListRestoreJobs': {
    sid: 'ListRestoreJobs',
    reason:
      'backup:ListRestoreJobs takes no resource ARN; it is list-only, for the restore-test-history control.',
  },
};

/**
 * What a control run needs: results, evidence writes, notifications, signing, and exactly the reads
 * the configured control tests declare (`ControlTest.needs`): target connection secrets, secret
 * metadata, IAM access keys, S3 inputs and resource-less APIs. Adds no resources of its own: every
 * statement lands on the runner's role, with the cdk-nag acknowledgements beside the grants.
 */
export class RunnerAccess extends Construct {
  constructor(scope: Construct, id: string, props: RunnerAccessProps) {
    super(scope, id);
    const { runner, access } = props;
    const stack = Stack.of(this);
    bind(
      runner.function,
      // What lib/adapters/dynamodb/dynamodb-results.ts and dynamodb-chain-heads.ts call: Get, Query,
      // conditional Put and Update. No Scan, DeleteItem or BatchWriteItem: a runner cannot delete
      // a chain head or sweep the table.
      resultsTable(props.table, { writes: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] }),
      // Artifacts, manifests, signatures and the public keys (evidence/_public-keys/) all sit under evidence/.
      evidenceWriter(props.evidenceBucket, props.dataKey, [EVIDENCE_BUCKET_PREFIXES.evidence]),
      notificationsTopic(props.topic),
      signingKey(props.signingKey),
    );
    const role = runner.role;
    if (access.connectionSecrets.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadTargetConnectionSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: access.connectionSecrets.map((secretId) => secretArn(this, secretId)),
        }),
      );
    }
    if (access.describedSecrets.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadSecretRotationMetadata',
          actions: ['secretsmanager:DescribeSecret'],
          resources: access.describedSecrets.map((secretId) => secretArn(this, secretId)),
        }),
      );
    }
    if (access.iamUsers.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadAccessKeyAges',
          actions: ['iam:ListAccessKeys'],
          resources: access.iamUsers.map((user) =>
            stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: user }),
          ),
        }),
      );
    }
    for (const api of access.awsApis) {
      const grant = RESOURCELESS_API_GRANTS[api];
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: grant.sid, actions: [api], resources: ['*'] }),
      );
      acknowledge(role, 'AwsSolutions-IAM5[Resource::*]', grant.reason);
    }
    for (const [index, location] of access.s3Reads.entries()) {
      const bucketArn = location.bucket
        ? stack.formatArn({ service: 's3', region: '', account: '', resource: location.bucket })
        : props.evidenceBucket.bucketArn;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `ListTestInput${index}`,
          actions: ['s3:ListBucket'],
          resources: [bucketArn],
          conditions: { StringLike: { 's3:prefix': [location.prefix, `${location.prefix}*`] } },
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `ReadTestInput${index}`,
          actions: ['s3:GetObject'],
          resources: [`${bucketArn}/${location.prefix}*`],
        }),
      );
      acknowledgeWildcardResource(
        role,
        `${bucketArn}/${location.prefix}*`,
        `A control test reads the reports or uploads under ${location.prefix} (names not known in advance); ` +
          'read-only, and only that prefix.',
      );
      if (!location.bucket) props.dataKey.grantDecrypt(role);
    }
  }
}
