import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NoticeOutbox, StoredNotice } from '../../runs/notice-outbox.ts';
import { queryAll, stripTableKeys } from './dynamodb-query.ts';
import { keys, RESULTS_TABLE } from './results-table-design.ts';

const { partitionKey, sortKey } = RESULTS_TABLE;

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/**
 * The notice outbox on the results table, with single-item conditional writes only (dynalite has
 * no TransactWriteItems, and none are needed): `add` (if absent) -> `claim` (undelivered, no live
 * claim) -> SNS publish -> `markDelivered` (only with our claim). Nothing is ever deleted.
 */
export function makeDynamoOutbox(client: DynamoDBDocumentClient, tableName: string): NoticeOutbox {
  const key = (stream: string, noticeId: string) => ({
    [partitionKey]: keys.outbox(stream),
    [sortKey]: keys.outboxNotice(noticeId),
  });
  return {
    async add(notice) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...key(notice.stream, notice.noticeId), itemType: 'outbox-notice', ...notice },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': partitionKey },
          }),
        );
      } catch (error) {
        // Stored by an earlier attempt: that copy is the notice, delivered or not.
        if (!isConditionFailure(error)) throw error;
      }
    },

    async get(stream, noticeId) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: key(stream, noticeId), ConsistentRead: true }),
      );
      return Item ? stripTableKeys<StoredNotice>(Item) : undefined;
    },

    async pending(stream, options) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        FilterExpression: 'attribute_not_exists(deliveredAt)',
        ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
        ExpressionAttributeValues: {
          ':pk': keys.outbox(stream),
          ':from': keys.outboxNotice(options.sinceId),
          ':to': keys.outboxNotice('\uffff'),
        },
        ConsistentRead: true,
      });
      return items.slice(0, options.limit).map((item) => stripTableKeys<StoredNotice>(item));
    },

    async claim(stream, noticeId, claim) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(stream, noticeId),
            UpdateExpression: 'SET claimedAt = :now, claimId = :claimId',
            ConditionExpression:
              'attribute_exists(#pk) AND attribute_not_exists(deliveredAt) AND ' +
              '(attribute_not_exists(claimedAt) OR claimedAt <= :staleBefore)',
            ExpressionAttributeNames: { '#pk': partitionKey },
            ExpressionAttributeValues: {
              ':now': claim.now,
              ':claimId': claim.claimId,
              ':staleBefore': claim.staleBefore,
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async release(stream, noticeId, claimId) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(stream, noticeId),
            UpdateExpression: 'REMOVE claimedAt, claimId',
            ConditionExpression: 'claimId = :claimId',
            ExpressionAttributeValues: { ':claimId': claimId },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    async markDelivered(stream, noticeId, delivery) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(stream, noticeId),
            UpdateExpression: 'SET deliveredAt = :at, messageId = :messageId REMOVE claimedAt, claimId',
            ConditionExpression: 'claimId = :claimId AND attribute_not_exists(deliveredAt)',
            ExpressionAttributeValues: {
              ':at': delivery.deliveredAt,
              ':messageId': delivery.messageId,
              ':claimId': delivery.claimId,
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
  };
}
