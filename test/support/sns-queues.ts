import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { FilterPolicy } from '../../lib/notify/filter-policies.ts';
import type { TestEnvironment } from './test-environment.ts';

export interface SnsEnvelope {
  MessageId: string;
  Subject?: string;
  Message: string;
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

/** Creates a queue subscribed to the topic with `policy`, as the stack subscribes an email or Lambda. */
export async function subscribedQueue(
  env: TestEnvironment,
  name: string,
  policy?: FilterPolicy,
): Promise<string> {
  const { QueueUrl } = await env.clients.sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error('no queue url');
  const { Attributes } = await env.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await env.clients.sns.send(
    new SubscribeCommand({
      TopicArn: env.resources.notificationsTopicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: policy ? { FilterPolicy: JSON.stringify(policy) } : {},
    }),
  );
  return QueueUrl;
}

/** Everything delivered to the queue so far, as SNS envelopes. */
export async function drain(env: TestEnvironment, queueUrl: string): Promise<SnsEnvelope[]> {
  const received: SnsEnvelope[] = [];
  for (;;) {
    const { Messages = [] } = await env.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return received;
    received.push(...Messages.map((m) => JSON.parse(m.Body ?? '{}') as SnsEnvelope));
    await env.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}
