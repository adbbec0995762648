import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ChainConflictError, type ChainHead, type ChainHeadStore } from '../../evidence/chain-head-store.ts';
import { keys, RESULTS_TABLE } from './results-table-design.ts';

const { partitionKey, sortKey } = RESULTS_TABLE;

/**
 * Chain heads in the results table (`CONTROL#<id>` / `CHAIN`). Advancing is one conditional Put on
 * the sequence number, so two writers can never both extend the same head (no transactions needed).
 */
export function makeDynamoChainHeads(client: DynamoDBDocumentClient, tableName: string): ChainHeadStore {
  return {
    async read(controlId) {
      const result = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { [partitionKey]: keys.control(controlId), [sortKey]: keys.chainHead() },
          ConsistentRead: true,
        }),
      );
      if (!result.Item) return undefined;
      const { [partitionKey]: _pk, [sortKey]: _sk, itemType: _t, ...head } = result.Item;
      return head as ChainHead;
    },
    async advance(next, expectedSequence) {
      const first = expectedSequence === 0;
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              [partitionKey]: keys.control(next.controlId),
              [sortKey]: keys.chainHead(),
              itemType: 'chain-head',
              ...next,
            },
            ConditionExpression: first ? 'attribute_not_exists(#pk)' : '#sequence = :expected',
            ExpressionAttributeNames: first ? { '#pk': partitionKey } : { '#sequence': 'sequence' },
            ...(first ? {} : { ExpressionAttributeValues: { ':expected': expectedSequence } }),
          }),
        );
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') {
          throw new ChainConflictError(
            `the evidence chain of ${next.controlId} moved past sequence ${expectedSequence} while this run was writing`,
            { cause: error },
          );
        }
        throw error;
      }
    },
  };
}
