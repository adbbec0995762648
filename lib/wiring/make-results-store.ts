import { makeDynamoResultsStore } from '../adapters/dynamodb/dynamodb-results.ts';
import type { ResultsStore } from '../runs/results-store.ts';
import { makeAwsClients } from './aws-clients.ts';

/** A results store for one CLI command: `use` runs with it, then the client's sockets are closed. */
export async function withResultsStore<T>(
  env: Readonly<Record<string, string | undefined>>,
  table: string,
  use: (store: ResultsStore) => Promise<T>,
): Promise<T> {
  const { dynamodb } = makeAwsClients(env);
  try {
    return await use(makeDynamoResultsStore(dynamodb, table));
  } finally {
    dynamodb.destroy();
  }
}
