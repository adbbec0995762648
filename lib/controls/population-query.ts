import { sha256Hex } from '../shared/canonical-json.ts';
import type { ControlContext } from './control-test.ts';
import type {
  DatabaseIdentity,
  PopulationDeclaration,
  PopulationItem,
  WrittenPopulation,
} from './population.ts';
import type { ReadOnlySession } from './ports.ts';

/** The query text as recorded and hashed: whitespace collapsed, as in the run's SQL evidence. */
export function recordedQueryText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The session's database identity, read once per session however many populations it writes. */
export function identityOnce(session: ReadOnlySession): () => Promise<DatabaseIdentity> {
  let identity: Promise<DatabaseIdentity> | undefined;
  return () => {
    identity ??= session.identity();
    return identity;
  };
}

export interface SqlPopulation<Row extends Record<string, unknown>> {
  readonly declaration: PopulationDeclaration;
  readonly target: string;
  readonly text: string;
  readonly params: readonly unknown[];
  readonly toItem: (row: Row) => PopulationItem;
}

/**
 * Streams a query's rows through a cursor into the run's population sink, with its provenance
 * (query text and hash, bound parameters, database identity, execution time). Without a sink (no
 * evidence is recorded) the query is not run at all.
 */
export async function writeSqlPopulation<Row extends Record<string, unknown>>(
  context: Pick<ControlContext, 'populations'>,
  session: ReadOnlySession,
  identity: () => Promise<DatabaseIdentity>,
  population: SqlPopulation<Row>,
): Promise<WrittenPopulation | undefined> {
  const sink = context.populations;
  if (!sink) return undefined;
  const database = await identity();
  const query = recordedQueryText(population.text);
  const executedAt = new Date();
  async function* items(): AsyncGenerator<PopulationItem> {
    for await (const row of session.stream<Row>(
      `population ${population.declaration.name}`,
      population.text,
      population.params,
    )) {
      yield population.toItem(row);
    }
  }
  return sink.write(
    population.declaration,
    () => ({
      source: 'sql',
      target: population.target,
      database,
      query,
      querySha256: sha256Hex(query),
      params: population.params.map((value) => (value instanceof Date ? value.toISOString() : value)),
      executedAt: executedAt.toISOString(),
      durationMs: Date.now() - executedAt.getTime(),
    }),
    items(),
  );
}

/** `Date` and `null` columns as ISO text or null, so items are plain JSON. */
export function isoOrNull(value: unknown): string | null {
  if (value instanceof Date) return value.toISOString();
  return value === null || value === undefined ? null : String(value);
}
