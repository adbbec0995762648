import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FailureQueue } from './failure-queue.ts';

export interface JobsQueueProps {
  /** Customer-managed key for both queues. */
  readonly encryptionKey: kms.IKey;
  /** Where the dead-letter alarm goes. */
  readonly alarmTopic: sns.ITopic;
  /** The consumer's timeout; the visibility timeout is six times it (the AWS guidance for SQS sources). */
  readonly consumerTimeout: Duration;
  /**
   * Receives before a message moves to the dead-letter queue.
   * @default 3
   */
  readonly maxReceiveCount?: number;
}

/**
 * The FIFO queue of control jobs (one message per control and period, grouped by control so one
 * control's runs never overlap) and its FIFO dead-letter queue with an alarm. Content-based
 * deduplication is off: the dispatcher sets an explicit deduplication id per control and period.
 */
export class JobsQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: FailureQueue;

  constructor(scope: Construct, id: string, props: JobsQueueProps) {
    super(scope, id);
    this.deadLetters = new FailureQueue(this, 'DeadLetters', {
      encryptionKey: props.encryptionKey,
      alarmTopic: props.alarmTopic,
      description: 'control jobs (poison messages or repeated worker failures)',
      fifo: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetters.queue, maxReceiveCount: props.maxReceiveCount ?? 3 },
    });
  }
}
