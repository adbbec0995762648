import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SynthesizedTemplate, TemplateValue } from './synthesized-app.ts';

/** What a `Ref` or `Fn::GetAtt ... Arn` of a template resource resolves to on the emulators. */
interface EmulatedResource {
  readonly ref: string;
  readonly arn: string;
}

export class UnresolvableReferenceError extends Error {
  override name = 'UnresolvableReferenceError';
}

export interface EmulatorClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
}

/**
 * Creates, on the emulators, the resources a template's environment variables reference, from
 * the template's own properties (the table's key schema and indexes, the queue's FIFO attributes),
 * and resolves `Ref` / `Fn::GetAtt [id, Arn]` to them. A reference to anything else throws, so a
 * new env var pointing at a resource this harness cannot stand in for fails the test by name.
 */
export class EmulatedStack {
  private readonly created = new Map<string, EmulatedResource>();

  constructor(
    private readonly template: SynthesizedTemplate,
    private readonly clients: EmulatorClients,
    private readonly extra: {
      readonly kmsKeyArn: string;
      readonly region: string;
      readonly account: string;
    },
  ) {}

  /** The environment exactly as the template declares it, references resolved. */
  async resolveEnvironment(
    variables: Readonly<Record<string, TemplateValue>>,
  ): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) env[name] = await this.resolve(name, value);
    return env;
  }

  /** The emulated resource behind a template logical id (creating it on first use). */
  async resource(logicalId: string): Promise<EmulatedResource> {
    const existing = this.created.get(logicalId);
    if (existing) return existing;
    const made = await this.create(logicalId);
    this.created.set(logicalId, made);
    return made;
  }

  private async resolve(name: string, value: TemplateValue): Promise<string> {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if ('Ref' in value && typeof value.Ref === 'string') return (await this.resource(value.Ref)).ref;
      const getAtt = value['Fn::GetAtt'];
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') {
        return (await this.resource(getAtt[0])).arn;
      }
    }
    throw new UnresolvableReferenceError(`env var ${name}: cannot resolve ${JSON.stringify(value)}`);
  }

  private async create(logicalId: string): Promise<EmulatedResource> {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new UnresolvableReferenceError(`template has no resource ${logicalId}`);
    const props = resource.Properties ?? {};
    const name = logicalId.toLowerCase().slice(0, 40);
    const { region, account } = this.extra;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table': {
        const indexes = props.GlobalSecondaryIndexes as
          | { IndexName: string; KeySchema: unknown; Projection: unknown }[]
          | undefined;
        await this.clients.dynamodb.send(
          new CreateTableCommand({
            TableName: name,
            BillingMode: 'PAY_PER_REQUEST',
            KeySchema: props.KeySchema as never,
            AttributeDefinitions: props.AttributeDefinitions as never,
            ...(indexes
              ? {
                  GlobalSecondaryIndexes: indexes.map((index) => ({
                    IndexName: index.IndexName,
                    KeySchema: index.KeySchema as never,
                    Projection: index.Projection as never,
                  })),
                }
              : {}),
          }),
        );
        return { ref: name, arn: `arn:aws:dynamodb:${region}:${account}:table/${name}` };
      }
      case 'AWS::S3::Bucket': {
        await this.clients.s3.send(new CreateBucketCommand({ Bucket: name }));
        await this.clients.s3.send(
          new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
        );
        return { ref: name, arn: `arn:aws:s3:::${name}` };
      }
      case 'AWS::SNS::Topic': {
        const { TopicArn } = await this.clients.sns.send(new CreateTopicCommand({ Name: name }));
        if (!TopicArn) throw new Error(`no ARN for topic ${name}`);
        return { ref: TopicArn, arn: TopicArn };
      }
      case 'AWS::SQS::Queue': {
        const fifo = props.FifoQueue === true;
        const attributes: Record<string, string> = {};
        if (fifo) attributes.FifoQueue = 'true';
        if (props.ContentBasedDeduplication === true) attributes.ContentBasedDeduplication = 'true';
        const { QueueUrl } = await this.clients.sqs.send(
          new CreateQueueCommand({ QueueName: fifo ? `${name}.fifo` : name, Attributes: attributes }),
        );
        if (!QueueUrl) throw new Error(`no URL for queue ${name}`);
        const { Attributes } = await this.clients.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
        );
        return { ref: QueueUrl, arn: Attributes?.QueueArn ?? '' };
      }
      case 'AWS::KMS::Key':
        return { ref: this.extra.kmsKeyArn.split('/').at(-1) ?? '', arn: this.extra.kmsKeyArn };
      default:
        throw new UnresolvableReferenceError(
          `${logicalId} is a ${resource.Type}, which this harness does not emulate`,
        );
    }
  }
}
