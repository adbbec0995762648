import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  ChainConflictError,
  type ChainHead,
  type ChainHeadStore,
  type ChainKind,
  chainKindOf,
} from '../../evidence/chain-head-store.ts';
import { CheckpointConflictError, type CheckpointHeadStore } from '../../evidence/checkpoint-head-store.ts';
import { keys, RESULTS_TABLE } from './results-table-design.ts';

const { partitionKey, sortKey } = RESULTS_TABLE;

/** `CHAIN` for the scheduled chain (as before chain kinds existed), `CHAIN#events` for the other. */
const chainSortKey = (kind: ChainKind) =>
  kind === 'scheduled' ? keys.chainHead() : `${keys.chainHead()}#${kind}`;

/**
 * Chain heads in the results table (`CONTROL#<id>` / `CHAIN`, or `CHAIN#events`). Advancing is one conditional Put on
 * the sequence number, so two writers can never both extend the same head (no transactions needed).
 */
export function makeDynamoChainHeads(client: DynamoDBDocumentClient, tableName: string): ChainHeadStore {
  const store: ChainHeadStore = {
    async read(controlId, kind = 'scheduled') {
      const result = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { [partitionKey]: keys.control(controlId), [sortKey]: chainSortKey(kind) },
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
              [sortKey]: chainSortKey(chainKindOf(next)),
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
          // An SDK retry of a Put that did land meets its own write: that is success.
          const current = await store.read(next.controlId, chainKindOf(next));
          if (current?.sequence === next.sequence && current.manifestSha256 === next.manifestSha256) return;
          throw new ChainConflictError(
            `the evidence chain of ${next.controlId} moved past sequence ${expectedSequence} while this run was writing`,
            { cause: error },
          );
        }
        throw error;
      }
    },
  };
  return store;
}

/** The checkpoint head's item: one per table, beside the control chains. */
const CHECKPOINT_HEAD_KEY = { [partitionKey]: 'CHECKPOINTS', [sortKey]: 'HEAD' };

/** The newest checkpoint's head, advanced with one conditional Put on its sequence like the chains. */
export function makeDynamoCheckpointHeads(
  client: DynamoDBDocumentClient,
  tableName: string,
): CheckpointHeadStore {
  const store: CheckpointHeadStore = {
    async read() {
      const result = await client.send(
        new GetCommand({ TableName: tableName, Key: CHECKPOINT_HEAD_KEY, ConsistentRead: true }),
      );
      if (!result.Item) return undefined;
      const { sequence, key, sha256, body } = result.Item as Record<string, unknown>;
      return { sequence: Number(sequence), key: String(key), sha256: String(sha256), body: String(body) };
    },
    async advance(next, expectedSequence) {
      const first = expectedSequence === 0;
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...CHECKPOINT_HEAD_KEY, itemType: 'checkpoint-head', ...next },
            ConditionExpression: first ? 'attribute_not_exists(#pk)' : '#sequence = :expected',
            ExpressionAttributeNames: first ? { '#pk': partitionKey } : { '#sequence': 'sequence' },
            ...(first ? {} : { ExpressionAttributeValues: { ':expected': expectedSequence } }),
          }),
        );
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') {
          const current = await store.read();
          if (current?.sequence === next.sequence && current.sha256 === next.sha256) return;
          throw new CheckpointConflictError(
            `another checkpoint was written after sequence ${expectedSequence} while this one was being built`,
            { cause: error },
          );
        }
        throw error;
      }
    },
  };
  return store;
}
