import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ReminderLedger, SentDigestRecord } from '../../risks/ports.ts';
import type { LedgerEntry } from '../../risks/reminders.ts';
import { queryAll, stripTableKeys } from './dynamodb-query.ts';
import { keys, RESULTS_TABLE } from './results-table-design.ts';

const { partitionKey, sortKey } = RESULTS_TABLE;

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/**
 * The reminder ledger on the results table, with single-item conditional writes only (no
 * transactions: dynalite has none, and none are needed). Sequence per reminder:
 * `claim` (pending, conditional) -> SNS publish -> `markSent` (conditional on our claim).
 */
export function makeDynamoReminderLedger(client: DynamoDBDocumentClient, tableName: string): ReminderLedger {
  const itemKeyOf = (recipient: string, itemKey: string) => ({
    [partitionKey]: keys.reminderRecipient(recipient),
    [sortKey]: keys.reminderItem(itemKey),
  });

  return {
    async entriesFor(recipient) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
        ExpressionAttributeValues: {
          ':pk': keys.reminderRecipient(recipient),
          ':prefix': keys.reminderItem(''),
        },
        ConsistentRead: true,
      });
      return items.map((item) => {
        const entry = stripTableKeys<LedgerEntry & Record<string, unknown>>(item);
        return {
          recipient: String(entry.recipient),
          itemKey: String(entry.itemKey),
          remindersSent: Number(entry.remindersSent ?? 0),
          ...(typeof entry.lastSentAt === 'string' ? { lastSentAt: entry.lastSentAt } : {}),
          ...(typeof entry.pendingSince === 'string' ? { pendingSince: entry.pendingSince } : {}),
          ...(typeof entry.pendingDigestId === 'string' ? { pendingDigestId: entry.pendingDigestId } : {}),
        };
      });
    },

    async claim(request) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: itemKeyOf(request.recipient, request.itemKey),
            UpdateExpression:
              'SET recipient = :recipient, itemKey = :itemKey, subjectId = :subjectId, #rule = :rule, #owner = :owner, ' +
              'pendingSince = :now, pendingDigestId = :digestId, remindersSent = if_not_exists(remindersSent, :zero), ' +
              'firstSeenAt = if_not_exists(firstSeenAt, :now)',
            // Free, or last sent an interval ago, and nobody else holds a live claim.
            ConditionExpression:
              'attribute_not_exists(#pk) OR ((attribute_not_exists(lastSentAt) OR lastSentAt <= :sentBefore) ' +
              'AND (attribute_not_exists(pendingSince) OR pendingSince <= :staleBefore))',
            ExpressionAttributeNames: { '#pk': partitionKey, '#rule': 'rule', '#owner': 'owner' },
            ExpressionAttributeValues: {
              ':recipient': request.recipient,
              ':itemKey': request.itemKey,
              ':subjectId': request.describe.subjectId,
              ':rule': request.describe.rule,
              ':owner': request.describe.owner,
              ':now': request.now,
              ':digestId': request.digestId,
              ':zero': 0,
              ':sentBefore': request.sentBefore,
              ':staleBefore': request.staleBefore,
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async release(recipient, itemKey, digestId) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: itemKeyOf(recipient, itemKey),
            UpdateExpression: 'REMOVE pendingSince, pendingDigestId',
            ConditionExpression: 'pendingDigestId = :digestId',
            ExpressionAttributeValues: { ':digestId': digestId },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    async markSent(recipient, itemKey, digestId, sentAt, messageId) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: itemKeyOf(recipient, itemKey),
            UpdateExpression:
              'SET lastSentAt = :sentAt, lastMessageId = :messageId, lastDigestId = :digestId ' +
              'ADD remindersSent :one REMOVE pendingSince, pendingDigestId',
            ConditionExpression: 'pendingDigestId = :digestId',
            ExpressionAttributeValues: {
              ':sentAt': sentAt,
              ':messageId': messageId,
              ':digestId': digestId,
              ':one': 1,
            },
          }),
        );
        return true;
      } catch (error) {
        // Our claim went stale and another run took it over; that run will count its own send.
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async recordDigest(record: SentDigestRecord) {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...record,
            itemKeys: [...record.itemKeys],
            [partitionKey]: keys.reminderRecipient(record.recipient),
            [sortKey]: keys.reminderSent(record.sentAt, record.digestId),
            itemType: 'digest-sent',
          },
        }),
      );
    },

    async digestsFor(recipient, options = {}) {
      const items = await queryAll(
        client,
        {
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
          ExpressionAttributeValues: { ':pk': keys.reminderRecipient(recipient), ':prefix': 'SENT#' },
          ScanIndexForward: false,
        },
        options.limit,
      );
      return items.map((item) => stripTableKeys<SentDigestRecord>(item));
    },
  };
}
