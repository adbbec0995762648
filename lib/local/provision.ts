import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { RESULTS_TABLE } from '../adapters/dynamodb/results-table-design.ts';
import type { RuntimeResources } from '../shared/runtime-env.ts';
import type { AwsClients } from '../wiring/aws-clients.ts';

export interface LocalResources extends RuntimeResources {
  readonly jobsDeadLetterQueueUrl: string;
  /** A queue subscribed to the notifications topic, standing in for owners' inboxes. */
  readonly inboxQueueUrl: string;
}

/** Names used by the local run; the CDK stack generates its own. */
export const LOCAL_NAMES = {
  table: 'soc2-evidence-results',
  bucket: 'soc2-evidence-local',
  topic: 'soc2-evidence-notifications',
  jobsQueue: 'soc2-evidence-jobs.fifo',
  jobsDeadLetterQueue: 'soc2-evidence-jobs-dlq.fifo',
  inboxQueue: 'soc2-evidence-inbox',
} as const;

/** Receives, then retries, a poison message this many times before the DLQ takes it (as deployed). */
export const MAX_RECEIVES = 3;

async function queueArn(clients: AwsClients, queueUrl: string): Promise<string> {
  const attributes = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = attributes.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${queueUrl} has no ARN`);
  return arn;
}

/** Creates the results table (keys and period index as the CDK stack deploys them) and waits for it. */
export async function createResultsTable(dynamodb: AwsClients['dynamodb'], tableName: string): Promise<void> {
  const { partitionKey, sortKey, periodIndex } = RESULTS_TABLE;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        { AttributeName: sortKey, AttributeType: 'S' },
        { AttributeName: periodIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: periodIndex.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: periodIndex.name,
          KeySchema: [
            { AttributeName: periodIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: periodIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  for (let i = 0; i < 50; i += 1) {
    const table = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    if (table.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Creates, on the emulators, the same resources the CDK stack deploys. */
export async function provisionLocalResources(
  clients: AwsClients,
  names = LOCAL_NAMES,
): Promise<LocalResources> {
  await createResultsTable(clients.dynamodb, names.table);

  await clients.s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
  await clients.s3.send(
    new PutBucketVersioningCommand({ Bucket: names.bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );

  const topic = await clients.sns.send(new CreateTopicCommand({ Name: names.topic }));
  if (!topic.TopicArn) throw new Error('topic creation returned no ARN');

  const dlq = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: names.jobsDeadLetterQueue, Attributes: { FifoQueue: 'true' } }),
  );
  if (!dlq.QueueUrl) throw new Error('DLQ creation returned no URL');
  const jobs = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: names.jobsQueue,
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: await queueArn(clients, dlq.QueueUrl),
          maxReceiveCount: MAX_RECEIVES,
        }),
      },
    }),
  );
  if (!jobs.QueueUrl) throw new Error('jobs queue creation returned no URL');

  const inbox = await clients.sqs.send(new CreateQueueCommand({ QueueName: names.inboxQueue }));
  if (!inbox.QueueUrl) throw new Error('inbox queue creation returned no URL');
  await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topic.TopicArn,
      Protocol: 'sqs',
      Endpoint: await queueArn(clients, inbox.QueueUrl),
      Attributes: { RawMessageDelivery: 'false' },
    }),
  );

  return {
    resultsTable: names.table,
    evidenceBucket: names.bucket,
    notificationsTopicArn: topic.TopicArn,
    jobsQueueUrl: jobs.QueueUrl,
    jobsDeadLetterQueueUrl: dlq.QueueUrl,
    inboxQueueUrl: inbox.QueueUrl,
  };
}
