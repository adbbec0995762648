import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { acknowledgeKmsGrantWildcards, acknowledgeWildcardResource } from './nag.ts';

/** A variable name from the one module `infra/` and `functions/` share. */
export type RuntimeEnvName = (typeof ENV)[keyof typeof ENV];

/** One environment variable together with the access its value implies. */
export interface RuntimeBinding {
  readonly env: RuntimeEnvName;
  readonly value: string;
  grant(grantee: iam.IGrantable): void;
  /** Acknowledges the cdk-nag findings the grant raises on the grantee's role, with reasons. */
  acknowledge?(role: iam.IRole): void;
}

/**
 * Sets each binding's environment variable on the function and grants the matching access in the
 * same call (Powertools' `bindTable`), so a function never gets a name without the permission or
 * a permission without the name.
 */
export function bind(fn: lambda.Function, ...bindings: readonly RuntimeBinding[]): void {
  for (const binding of bindings) {
    fn.addEnvironment(binding.env, binding.value);
    binding.grant(fn);
    if (fn.role) binding.acknowledge?.(fn.role);
  }
}

/** Item writes a function may make to the results table. Scan and table management are never granted. */
export type ResultsTableWrite =
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem';

export interface ResultsTableAccess {
  /**
   * The item writes this function makes (grep its adapters in lib/adapters/dynamodb/).
   * @default - none: GetItem and Query only
   */
  readonly writes?: readonly ResultsTableWrite[];
  /**
   * Partition keys the writes may not touch (`dynamodb:LeadingKeys` patterns such as
   * `CONTROL#*`, where verdicts and chain heads live).
   * @default - every partition
   */
  readonly writesExceptPartitions?: readonly string[];
}

/**
 * The results table: item reads (GetItem, Query on the table and its indexes) and exactly the item
 * writes listed, optionally kept out of some partitions. Never Scan, never table management.
 */
export function resultsTable(table: dynamodb.ITable, access: ResultsTableAccess = {}): RuntimeBinding {
  const writes = access.writes ?? [];
  return {
    env: ENV.resultsTable,
    value: table.tableName,
    grant: (grantee) => {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resourceArns: [table.tableArn, `${table.tableArn}/index/*`],
      });
      if (writes.length > 0) {
        const except = access.writesExceptPartitions ?? [];
        iam.Grant.addToPrincipal({
          grantee,
          actions: [...writes],
          resourceArns: [table.tableArn],
          ...(except.length > 0
            ? { conditions: { 'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': [...except] } } }
            : {}),
        });
      }
      // The table's key, with the actions CDK's own table data grants give for reads and writes.
      const keyActions = ['kms:Decrypt', 'kms:DescribeKey'];
      if (writes.length > 0) keyActions.push('kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*');
      table.encryptionKey?.grant(grantee, ...keyActions);
    },
    acknowledge: (role) => {
      acknowledgeWildcardResource(
        role,
        `${table.tableArn}/index/*`,
        "Query on the table's own indexes (gsi1, for period queries); nothing outside the table.",
      );
      if (writes.length > 0) acknowledgeKmsGrantWildcards(role, 'the data key that encrypts the table');
    },
  };
}

/**
 * The evidence bucket, write-only under the given prefixes: s3:PutObject and nothing else (no
 * delete, no retention changes, no ACLs), plus the data key use SSE-KMS needs to write.
 */
export function evidenceWriter(
  bucket: s3.IBucket,
  dataKey: kms.IKey,
  prefixes: readonly string[],
): RuntimeBinding {
  return {
    env: ENV.evidenceBucket,
    value: bucket.bucketName,
    grant: (grantee) => {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:PutObject'],
        resourceArns: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
      });
      dataKey.grant(grantee, 'kms:GenerateDataKey');
    },
    acknowledge: (role) => {
      for (const prefix of prefixes) {
        acknowledgeWildcardResource(
          role,
          bucket.arnForObjects(`${prefix}*`),
          `Writes new objects under ${prefix} only (keys name control, period and run, so they are not known ` +
            'in advance); PutObject alone: no delete, no retention change, and Object Lock keeps every version.',
        );
      }
    },
  };
}

/** The owners' notifications topic, publish only. */
export function notificationsTopic(topic: sns.ITopic): RuntimeBinding {
  return {
    env: ENV.notificationsTopicArn,
    value: topic.topicArn,
    grant: (grantee) => topic.grantPublish(grantee),
    acknowledge: (role) => acknowledgeKmsGrantWildcards(role, 'the data key that encrypts the topic'),
  };
}

/** The control jobs queue, send only. */
export function jobsQueue(queue: sqs.IQueue): RuntimeBinding {
  return {
    env: ENV.jobsQueueUrl,
    value: queue.queueUrl,
    grant: (grantee) => queue.grantSendMessages(grantee),
    acknowledge: (role) => acknowledgeKmsGrantWildcards(role, 'the data key that encrypts the queue'),
  };
}

/**
 * The checkpoint prefix of the evidence bucket: write new checkpoints, read and list the earlier
 * ones (each checkpoint chains to the previous), nothing else; plus the data key use SSE-KMS needs.
 */
export function checkpointStore(bucket: s3.IBucket, dataKey: kms.IKey, prefix: string): RuntimeBinding {
  return {
    env: ENV.evidenceBucket,
    value: bucket.bucketName,
    grant: (grantee) => {
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:PutObject', 's3:GetObject'],
        resourceArns: [bucket.arnForObjects(`${prefix}*`)],
      });
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:ListBucket'],
        resourceArns: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [prefix, `${prefix}*`] } },
      });
      dataKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
    },
    acknowledge: (role) =>
      acknowledgeWildcardResource(
        role,
        bucket.arnForObjects(`${prefix}*`),
        `Checkpoints are written and read under ${prefix} only (names carry the time); no delete, and Object ` +
          'Lock keeps every version.',
      ),
  };
}

/**
 * The manifest signing key: kms:Sign, and kms:GetPublicKey so the runner can publish the public
 * half beside the evidence (public material; the private key never leaves KMS).
 */
export function signingKey(key: kms.IKey): RuntimeBinding {
  return {
    env: ENV.signingKeyId,
    value: key.keyArn,
    grant: (grantee) => key.grant(grantee, 'kms:Sign', 'kms:GetPublicKey'),
  };
}
