import type { ReadOnlySession } from '../controls/ports.ts';

/** A table as the catalog describes it. Names come from the catalog, not the config. */
export interface TableShape {
  readonly schema: string;
  readonly table: string;
  /** column name -> information_schema data_type */
  readonly columns: ReadonlyMap<string, string>;
  /** Primary key columns in key order; null when the table has none. */
  readonly primaryKey: readonly string[] | null;
  /** Heap size in bytes (`pg_relation_size`), which decides whether whole rows are checksummed. */
  readonly bytes?: number;
  /** False when the checking role has no SELECT on the table (its columns are then unknown). */
  readonly readable?: boolean;
}

/** What is counted for one table; the same definition is applied on both databases. */
export interface TableMeasure {
  readonly schema: string;
  readonly table: string;
  /** Rows older than the cut-off are compared; null compares the whole table. */
  readonly timestampColumn: string | null;
  /** The primary key (null when there is none: then whole rows are checksummed). */
  readonly primaryKey: readonly string[] | null;
  /** Checksum whole rows even though there is a key (`checksum: rows`): changed values are found too. */
  readonly checksumRows?: boolean;
}

export interface TableStats extends TableMeasure {
  readonly rows: number;
  /** Order-independent: the sum of a 60-bit slice of md5(key) over the counted rows, as a decimal string. */
  readonly checksum: string;
  /** Newest timestamp before the recovery point, and newest overall (null without a timestamp column). */
  readonly newestBeforeRecoveryPoint: string | null;
  readonly newest: string | null;
}

export const TIMESTAMP_TYPES: ReadonlySet<string> = new Set([
  'timestamp with time zone',
  'timestamp without time zone',
  'date',
]);

/** Quotes a catalog-supplied identifier (any characters), unlike config identifiers which are validated. */
export function quoteCatalogIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualifiedName(table: { schema: string; table: string }): string {
  return `${table.schema}.${table.table}`;
}

/** Every base table of the given schemas, with its columns and primary key, in three catalog queries. */
export async function readTableShapes(
  session: ReadOnlySession,
  schemas: readonly string[],
): Promise<TableShape[]> {
  // From the catalog, not information_schema.tables: that view leaves out the tables the role
  // cannot read, so a table hidden by a missing grant would not be compared at all.
  const tables = await session.query<{ schema: string; table: string; bytes: string; readable: boolean }>(
    'tables',
    `SELECT n.nspname::text AS schema, c.relname::text AS table, pg_relation_size(c.oid) AS bytes,
            has_table_privilege(c.oid, 'SELECT') AS readable
       FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[]) ORDER BY n.nspname, c.relname`,
    [schemas],
  );
  const columns = await session.query<{ schema: string; table: string; column: string; type: string }>(
    'columns',
    `SELECT table_schema AS schema, table_name AS table, column_name AS column, data_type AS type
       FROM information_schema.columns WHERE table_schema = ANY($1::text[]) ORDER BY 1, 2, ordinal_position`,
    [schemas],
  );
  const keys = await session.query<{ schema: string; table: string; columns: string[] }>(
    'primary keys',
    `SELECT n.nspname::text AS schema, c.relname::text AS table, array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE i.indisprimary AND n.nspname = ANY($1::text[])
      GROUP BY 1, 2`,
    [schemas],
  );
  const byTable = new Map<string, Map<string, string>>();
  for (const column of columns) {
    const name = qualifiedName(column);
    const map = byTable.get(name) ?? new Map<string, string>();
    map.set(column.column, column.type);
    byTable.set(name, map);
  }
  const keyByTable = new Map(keys.map((key) => [qualifiedName(key), key.columns]));
  return tables.map((table) => ({
    schema: table.schema,
    table: table.table,
    columns: byTable.get(qualifiedName(table)) ?? new Map(),
    primaryKey: keyByTable.get(qualifiedName(table)) ?? null,
    bytes: Number(table.bytes),
    ...(table.readable ? {} : { readable: false }),
  }));
}

/** SQL expressions over alias `t`: the row's key as text, and what its checksum hashes. */
function rowExpressions(measure: TableMeasure): { key: string | null; hashed: string } {
  const q = quoteCatalogIdentifier;
  const pk = measure.primaryKey;
  const key =
    pk === null
      ? null
      : pk.length === 1
        ? `t.${q(pk[0] as string)}::text`
        : `ROW(${pk.map((column) => `t.${q(column)}`).join(', ')})::text`;
  const hashed =
    pk === null || measure.checksumRows
      ? 't::text'
      : `ROW(${pk.map((column) => `t.${q(column)}`).join(', ')})::text`;
  return { key, hashed };
}

/**
 * Counts and checksums one table in SQL: rows are never pulled into Node. `cutoff` bounds the
 * compared rows; `recoveryPoint` bounds "newest before the recovery point" for the RPO check.
 */
export async function measureTable(
  session: ReadOnlySession,
  measure: TableMeasure,
  cutoff: Date,
  recoveryPoint: Date,
): Promise<TableStats> {
  const q = quoteCatalogIdentifier;
  const relation = `${q(measure.schema)}.${q(measure.table)}`;
  const hash = `('x' || substr(md5(${rowExpressions(measure).hashed}), 1, 15))::bit(60)::bigint`;
  const label = `${measure.timestampColumn ? 'rows before cut-off' : 'all rows'} of ${qualifiedName(measure)}`;
  let rows: { rows: string; checksum: string; newest_before: Date | null; newest: Date | null }[];
  if (measure.timestampColumn) {
    rows = await session.query(
      label,
      `SELECT count(*) FILTER (WHERE ts < $1) AS rows,
              coalesce(sum(h) FILTER (WHERE ts < $1), 0)::text AS checksum,
              max(ts) FILTER (WHERE ts < $2) AS newest_before,
              max(ts) AS newest
         FROM (SELECT t.${q(measure.timestampColumn)}::timestamptz AS ts, ${hash} AS h FROM ${relation} AS t) AS s`,
      [cutoff.toISOString(), recoveryPoint.toISOString()],
    );
  } else {
    rows = await session.query(
      label,
      `SELECT count(*) AS rows, coalesce(sum(h), 0)::text AS checksum, NULL::timestamptz AS newest_before, NULL::timestamptz AS newest
         FROM (SELECT ${hash} AS h FROM ${relation} AS t) AS s`,
    );
  }
  const [row] = rows;
  return {
    ...measure,
    rows: Number(row?.rows ?? 0),
    checksum: row?.checksum ?? '0',
    newestBeforeRecoveryPoint: row?.newest_before?.toISOString() ?? null,
    newest: row?.newest?.toISOString() ?? null,
  };
}

/** Per hash bucket (first two hex digits of md5 of the key): rows and the sum of row digests. */
export type BucketDigests = ReadonlyMap<string, string>;

function comparedRows(measure: TableMeasure): { relation: string; where: string } {
  const q = quoteCatalogIdentifier;
  return {
    relation: `${q(measure.schema)}.${q(measure.table)}`,
    where: measure.timestampColumn
      ? `WHERE t.${q(measure.timestampColumn)}::timestamptz < $1`
      : 'WHERE $1::timestamptz IS NOT NULL',
  };
}

/**
 * One pass over a keyed table's compared rows, summarised into 256 buckets by key hash, so the
 * buckets that differ between two databases can be found without moving rows.
 */
export async function bucketDigests(
  session: ReadOnlySession,
  measure: TableMeasure,
  cutoff: Date,
): Promise<BucketDigests> {
  const { key, hashed } = rowExpressions(measure);
  if (key === null) return new Map();
  const { relation, where } = comparedRows(measure);
  const rows = await session.query<{ bucket: string; digest: string }>(
    `buckets of ${qualifiedName(measure)}`,
    `SELECT substr(md5(${key}), 1, 2) AS bucket,
            count(*)::text || ':' || sum(('x' || substr(md5(${hashed}), 1, 15))::bit(60)::bigint)::text AS digest
       FROM ${relation} AS t ${where} GROUP BY 1`,
    [cutoff.toISOString()],
  );
  return new Map(rows.map((row) => [row.bucket, row.digest]));
}

/** The keys (as text) and row digests of the compared rows in the given buckets, at most `limit`. */
export async function keysInBuckets(
  session: ReadOnlySession,
  measure: TableMeasure,
  cutoff: Date,
  buckets: readonly string[],
  limit: number,
): Promise<Map<string, string>> {
  const { key, hashed } = rowExpressions(measure);
  if (key === null || buckets.length === 0) return new Map();
  const { relation, where } = comparedRows(measure);
  const rows = await session.query<{ key: string; digest: string }>(
    `keys in differing buckets of ${qualifiedName(measure)}`,
    `SELECT ${key} AS key, md5(${hashed}) AS digest
       FROM ${relation} AS t ${where} AND substr(md5(${key}), 1, 2) = ANY($2::text[])
      LIMIT $3`,
    [cutoff.toISOString(), [...buckets], limit],
  );
  return new Map(rows.map((row) => [row.key, row.digest]));
}
