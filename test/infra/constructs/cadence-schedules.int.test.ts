import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { LambdaSchedules } from '../../../infra/constructs/cadence-schedules.ts';

describe('LambdaSchedules', () => {
  it('passes every invocation its scheduled time as asOf, the risk schedule ({}) included', () => {
    const stack = new Stack(new App(), 'Schedules');
    const target = new lambda.Function(stack, 'Target', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    new LambdaSchedules(stack, 'Cadences', {
      target,
      timeZone: 'Europe/Berlin',
      deadLetterQueue: new sqs.Queue(stack, 'Dlq'),
      invocations: [
        { id: 'Monthly', description: 'monthly', cron: 'cron(15 0 1 * ? *)', input: { cadence: 'monthly' } },
        { id: 'Risks', description: 'risks', cron: 'cron(0 6 * * ? *)', input: {} },
      ],
    });
    const schedules = Template.fromStack(stack).findResources('AWS::Scheduler::Schedule');
    const inputs = Object.values(schedules).map((resource) =>
      JSON.parse((resource as { Properties: { Target: { Input: string } } }).Properties.Target.Input),
    );
    expect(inputs).toEqual([
      { cadence: 'monthly', asOf: '<aws.scheduler.scheduled-time>' },
      { asOf: '<aws.scheduler.scheduled-time>' },
    ]);
  });
});
