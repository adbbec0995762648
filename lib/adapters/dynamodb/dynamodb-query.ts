import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { RESULTS_TABLE } from './results-table-design.ts';

type Item = Record<string, unknown>;

const { partitionKey, sortKey, periodIndex } = RESULTS_TABLE;

/** Drops the single-table key attributes, leaving the record the item stores. */
export function stripTableKeys<T>(item: Item): T {
  const {
    [partitionKey]: _pk,
    [sortKey]: _sk,
    [periodIndex.partitionKey]: _g1,
    [periodIndex.sortKey]: _g2,
    itemType: _t,
    ...rest
  } = item;
  return rest as T;
}

/** Every page of a Query, up to `limit` items. */
export async function queryAll(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const items: Item[] = [];
  let exclusiveStartKey: Item | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: exclusiveStartKey }));
    items.push(...(page.Items ?? []));
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey && items.length < limit);
  return items.slice(0, limit);
}
