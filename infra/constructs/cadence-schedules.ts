import { Aws, Duration, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Cadence } from '../../lib/shared/period.ts';
import { acknowledgeKmsGrantWildcards, acknowledgeWildcardResource } from './nag.ts';

/**
 * When each cadence's dispatch runs: 00:15 in the configured zone, after the period has closed
 * (Monday for ISO weeks, the 1st for months, quarters and years).
 */
export const CADENCE_CRON: Readonly<Record<Cadence, string>> = {
  daily: 'cron(15 0 * * ? *)',
  weekly: 'cron(15 0 ? * MON *)',
  monthly: 'cron(15 0 1 * ? *)',
  quarterly: 'cron(15 0 1 1,4,7,10 ? *)',
  annual: 'cron(15 0 1 1 ? *)',
};

/**
 * One scheduled invocation: a name, when (a cron expression or a fixed rate) and the input the
 * function receives (plus `asOf`, the scheduled time, which every schedule adds).
 */
export interface ScheduledInvocation {
  readonly id: string;
  readonly description: string;
  /**
   * A cron expression, read in the schedules' time zone. Exactly one of `cron` and `every`.
   * @default - none
   */
  readonly cron?: string;
  /**
   * A fixed rate (`rate(1 hour)`), independent of any time zone. Exactly one of `cron` and `every`.
   * @default - none
   */
  readonly every?: Duration;
  /** The event the function receives; may hold Scheduler context such as `ContextAttribute.scheduledTime`. */
  readonly input: Readonly<Record<string, unknown>>;
}

export interface LambdaSchedulesProps {
  /** The function every schedule invokes (asynchronously). */
  readonly target: lambda.IFunction;
  readonly invocations: readonly ScheduledInvocation[];
  /** IANA zone the cron expressions are read in (`config.timeZone`). */
  readonly timeZone: string;
  /** Receives the event when EventBridge Scheduler cannot invoke the function after its retries. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * Attempts to invoke the function before the event goes to the dead-letter queue.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Oldest event Scheduler still delivers; the period being evaluated is the same for hours after.
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
}

/**
 * EventBridge Scheduler schedules (the L2 `Schedule`, time zone aware) that invoke one function,
 * sharing one execution role that may invoke it and write to the dead-letter queue.
 */
export class LambdaSchedules extends Construct {
  readonly schedules: scheduler.Schedule[] = [];
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: LambdaSchedulesProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      description: 'EventBridge Scheduler: invokes the soc2-evidence schedule target',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    // Includes the data key use the encrypted dead-letter queue needs.
    props.deadLetterQueue.grantSendMessages(this.role);
    acknowledgeKmsGrantWildcards(this.role, 'the data key that encrypts the dead-letter queue');
    acknowledgeWildcardResource(
      this.role,
      `${props.target.functionArn}:*`,
      "The scheduler target's standard grant: invoke this one function, any of its versions or aliases.",
    );
    const timeZone = TimeZone.of(props.timeZone);
    for (const invocation of props.invocations) {
      this.schedules.push(
        new scheduler.Schedule(this, invocation.id, {
          description: invocation.description,
          schedule: scheduleExpression(invocation, timeZone),
          target: new targets.LambdaInvoke(props.target, {
            role: this.role,
            // Every invocation carries its scheduled time as `asOf`: a retried or re-delivered
            // invocation then evaluates the same instant, and the dispatcher's deduplication id
            // (control, period, scheduled time) and the reminder ledger recognise it.
            input: scheduler.ScheduleTargetInput.fromObject({
              ...invocation.input,
              asOf: scheduler.ContextAttribute.scheduledTime,
            }),
            deadLetterQueue: props.deadLetterQueue,
            retryAttempts: props.retryAttempts ?? 10,
            maxEventAge: props.maxEventAge ?? Duration.hours(6),
          }),
        }),
      );
    }
  }
}

function scheduleExpression(
  invocation: ScheduledInvocation,
  timeZone: TimeZone,
): scheduler.ScheduleExpression {
  if (invocation.cron !== undefined && invocation.every === undefined) {
    return scheduler.ScheduleExpression.expression(invocation.cron, timeZone);
  }
  if (invocation.every !== undefined && invocation.cron === undefined) {
    return scheduler.ScheduleExpression.rate(invocation.every);
  }
  throw new Error(`schedule ${invocation.id}: set exactly one of cron and every`);
}
