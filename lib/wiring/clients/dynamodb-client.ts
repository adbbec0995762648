import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig, type Env } from './client-config.ts';

/** The DynamoDB document client (results table): undefined attributes dropped, classes not mapped. */
export function makeDynamoDbClient(env: Env): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig('DYNAMODB', env)), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
