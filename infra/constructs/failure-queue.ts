import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';

export interface FailureQueueProps {
  /** Customer-managed key for the queue. */
  readonly encryptionKey: kms.IKey;
  /** Where the "messages are waiting" alarm goes. */
  readonly alarmTopic: sns.ITopic;
  /** Says in the alarm what failed, e.g. "dispatcher invocations". */
  readonly description: string;
  /**
   * A FIFO queue (the dead-letter queue of a FIFO queue must be FIFO too).
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * How long failed messages are kept for inspection and redrive.
   * @default 14 days (the SQS maximum)
   */
  readonly retentionPeriod?: Duration;
}

/**
 * A dead-letter / on-failure queue with an alarm as soon as one message lands in it: a failed
 * schedule or delivery must never be silent.
 */
export class FailureQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FailureQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      ...(props.fifo ? { fifo: true, contentBasedDeduplication: false } : {}),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
    });
    acknowledge(
      this.queue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter / on-failure destination; its messages are inspected and redriven ' +
        'by hand, and the alarm below fires on the first one.',
    );
    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: `soc2-evidence: ${props.description} failed and are waiting in ${id}; inspect and redrive`,
      metric: this.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}
