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

/** The results table, read-only or read-write (data only, never table management). */
export function resultsTable(table: dynamodb.ITable, access: 'read' | 'readWrite'): RuntimeBinding {
  return {
    env: ENV.resultsTable,
    value: table.tableName,
    grant: (grantee) =>
      access === 'read' ? table.grantReadData(grantee) : table.grantReadWriteData(grantee),
    acknowledge: (role) => {
      acknowledgeWildcardResource(
        role,
        `${table.tableArn}/index/*`,
        "CDK's table data grant covers the table's own indexes (gsi1, for period queries); nothing outside the table.",
      );
      acknowledgeKmsGrantWildcards(role, 'the data key that encrypts the table');
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
