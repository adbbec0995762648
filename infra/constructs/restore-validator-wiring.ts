import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EncryptionKeys } from './encryption-keys.ts';
import { acknowledge, acknowledgeWildcardResource } from './nag.ts';
import type { Soc2Function } from './soc2-function.ts';

export interface RestoreValidatorWiringProps {
  /** The restore-validator function (already bound as a control runner). */
  readonly validator: Soc2Function;
  /** Receives completed-restore events EventBridge could not deliver after its retries. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The stack's keys: EventBridge needs the data key to write to the encrypted dead-letter queue. */
  readonly keys: EncryptionKeys;
  /**
   * Delivery attempts before the event goes to the dead-letter queue.
   * @default 4
   */
  readonly retryAttempts?: number;
  /**
   * Oldest event still delivered.
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
}

/**
 * AWS Backup restore testing -> the restore validator: an EventBridge rule on completed restore
 * jobs, and the validator's own AWS permissions (describe the job, report the validation result,
 * find the restored RDS instance or cluster, whose name restore testing picks at run time).
 *
 * Give it the id `RestoreCompleted`: the rule is its `Default` child, so the rule keeps the
 * logical id it had when the stack created it directly.
 */
export class RestoreValidatorWiring extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RestoreValidatorWiringProps) {
    super(scope, id);
    const role = props.validator.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReportRestoreValidation',
        actions: ['backup:DescribeRestoreJob', 'backup:PutRestoreValidationResult'],
        resources: ['*'],
      }),
    );
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'backup:DescribeRestoreJob and backup:PutRestoreValidationResult take no resource ARN (restore jobs are ' +
        'not IAM resources); the actions are read and report-only.',
    );
    const restoredDatabaseArns = ['db', 'cluster'].map((resource) =>
      Stack.of(this).formatArn({
        service: 'rds',
        resource,
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    // Restore testing names the restored instance at run time: any instance or cluster of this account.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FindTheRestoredDatabase',
        actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
        resources: restoredDatabaseArns,
      }),
    );
    for (const arn of restoredDatabaseArns) {
      acknowledgeWildcardResource(
        role,
        arn,
        'Describe-only: AWS Backup restore testing names the restored instance at run time.',
      );
    }

    this.rule = new events.Rule(this, 'Default', {
      description: 'soc2-evidence: AWS Backup restore jobs that completed (restore testing)',
      eventPattern: {
        source: ['aws.backup'],
        detailType: ['Restore Job State Change'],
        detail: { status: ['COMPLETED'] },
      },
      targets: [
        new eventTargets.LambdaFunction(props.validator.function, {
          deadLetterQueue: props.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 4,
          maxEventAge: props.maxEventAge ?? Duration.hours(6),
        }),
      ],
    });
    // EventBridge writes undeliverable events to the encrypted dead-letter queue.
    props.keys.allowServiceToUseDataKey('events.amazonaws.com');
  }
}
