import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ResultsStore } from '../../runs/results-store.ts';
import type { AttemptRecord, VerdictRecord } from '../../runs/run-record.ts';
import { queryAll, stripTableKeys } from './dynamodb-query.ts';
import { keys, RESULTS_TABLE } from './results-table-design.ts';

const { partitionKey, sortKey, periodIndex } = RESULTS_TABLE;

export function makeDynamoResultsStore(client: DynamoDBDocumentClient, tableName: string): ResultsStore {
  return {
    async recordAttempt(attempt) {
      // The attempt goes in first and is never overwritten, so history survives a crash mid-way.
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            [partitionKey]: keys.control(attempt.controlId),
            [sortKey]: keys.attempt(attempt.cadence, attempt.periodKey, attempt.runId),
            itemType: 'attempt',
            ...attempt,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': partitionKey },
        }),
      );
      // One verdict per control and period: the latest attempt wins, `attempts` counts them all.
      // The condition keeps an older attempt that finishes late from replacing a newer verdict.
      const {
        controlId,
        cadence,
        periodKey,
        startedAt: _s,
        finishedAt,
        asOf: _a,
        ...verdictFields
      } = attempt;
      const fields: Record<string, unknown> = {
        ...verdictFields,
        controlId,
        cadence,
        periodKey,
        lastAttemptAt: finishedAt,
        [periodIndex.partitionKey]: keys.period(cadence, periodKey),
        [periodIndex.sortKey]: keys.control(controlId),
        itemType: 'verdict',
      };
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':one': 1 };
      const sets = Object.entries(fields).map(([field, value], index) => {
        names[`#f${index}`] = field;
        values[`:v${index}`] = value;
        return `#f${index} = :v${index}`;
      });
      const updated = await client
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: { [partitionKey]: keys.control(controlId), [sortKey]: keys.verdict(cadence, periodKey) },
            UpdateExpression: `SET ${sets.join(', ')} ADD attempts :one`,
            ConditionExpression: 'attribute_not_exists(lastAttemptAt) OR lastAttemptAt <= :latest',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':latest': finishedAt },
            ReturnValues: 'ALL_NEW',
          }),
        )
        .catch(async (error: Error) => {
          if (error.name !== 'ConditionalCheckFailedException') throw error;
          // A newer attempt already holds the verdict; still count this one.
          return client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { [partitionKey]: keys.control(controlId), [sortKey]: keys.verdict(cadence, periodKey) },
              UpdateExpression: 'ADD attempts :one',
              ExpressionAttributeValues: { ':one': 1 },
              ReturnValues: 'ALL_NEW',
            }),
          );
        });
      return stripTableKeys<VerdictRecord>(updated.Attributes ?? {});
    },

    async verdictFor(controlId, cadence, periodKey) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND #sk = :sk',
        ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
        ExpressionAttributeValues: {
          ':pk': keys.control(controlId),
          ':sk': keys.verdict(cadence, periodKey),
        },
        ConsistentRead: true,
      });
      return items[0] ? stripTableKeys<VerdictRecord>(items[0]) : undefined;
    },

    async verdictsOf(controlId, options = {}) {
      const items = await queryAll(
        client,
        {
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
          ExpressionAttributeValues: { ':pk': keys.control(controlId), ':prefix': 'VERDICT#' },
          ScanIndexForward: false,
        },
        options.limit,
      );
      return items.map((item) => stripTableKeys<VerdictRecord>(item));
    },

    async verdictsForPeriod(cadence, periodKey) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: periodIndex.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': periodIndex.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.period(cadence, periodKey) },
      });
      return items.map((item) => stripTableKeys<VerdictRecord>(item));
    },

    async attemptsFor(controlId, cadence, periodKey) {
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
        ExpressionAttributeValues: {
          ':pk': keys.control(controlId),
          ':prefix': keys.attemptPrefix(cadence, periodKey),
        },
        ConsistentRead: true,
      });
      return items.map((item) => stripTableKeys<AttemptRecord>(item));
    },
  };
}
