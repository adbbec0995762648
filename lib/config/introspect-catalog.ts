import type { ReadOnlySession } from '../controls/ports.ts';

/** One column of a user table, as the catalog describes it. */
export interface CatalogColumn {
  readonly name: string;
  /** `information_schema.columns.data_type`, e.g. `timestamp with time zone`, `boolean`, `text`. */
  readonly dataType: string;
}

/** What the planner's statistics say about a column (only when the table was analyzed). */
export interface ColumnStatistics {
  /** `pg_stats.most_common_vals`, most frequent first, as text. */
  readonly commonValues: readonly string[];
}

export interface CatalogTable {
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly CatalogColumn[];
  /** Columns that lead a btree index (a range scan on them does not read the whole table). */
  readonly indexedLeadingColumns: readonly string[];
  /** `pg_class.reltuples` (-1 when never analyzed). */
  readonly estimatedRows: number;
  /** Statistics per column name, where the role may read them (pg_stats filters by privilege). */
  readonly statistics: Readonly<Record<string, ColumnStatistics>>;
}

export interface CatalogSnapshot {
  readonly database: string;
  readonly serverVersion: string;
  readonly tables: readonly CatalogTable[];
}

const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast'];

/**
 * Reads the catalog only (information_schema, pg_class, pg_index, pg_stats): never a row of user
 * data, so `init` can run against production with a read-only role. The session is the control
 * tests' read-only transaction, so nothing here could write even by mistake.
 */
export async function introspectCatalog(session: ReadOnlySession): Promise<CatalogSnapshot> {
  const [identity] = await session.query<{ database: string; server_version: string }>(
    'database identity',
    `SELECT current_database() AS database, current_setting('server_version') AS server_version`,
  );
  const columns = await session.query<{
    table_schema: string;
    table_name: string;
    column_name: string;
    data_type: string;
  }>(
    'user table columns',
    `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
       FROM information_schema.columns c
       JOIN information_schema.tables t
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE t.table_type IN ('BASE TABLE', 'VIEW', 'FOREIGN')
        AND c.table_schema <> ALL($1::text[])
        AND c.table_schema NOT LIKE 'pg_temp%'
      ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
    [SYSTEM_SCHEMAS],
  );
  const indexes = await session.query<{ schema: string; table: string; column: string }>(
    'columns leading a btree index',
    `SELECT n.nspname AS schema, t.relname AS "table", a.attname AS "column"
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_class ix ON ix.oid = i.indexrelid
       JOIN pg_am am ON am.oid = ix.relam AND am.amname = 'btree'
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
      WHERE n.nspname <> ALL($1::text[])`,
    [SYSTEM_SCHEMAS],
  );
  const sizes = await session.query<{ schema: string; table: string; reltuples: number }>(
    'estimated row counts',
    `SELECT n.nspname AS schema, c.relname AS "table", c.reltuples::float8 AS reltuples
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> ALL($1::text[])`,
    [SYSTEM_SCHEMAS],
  );
  const stats = await session.query<{
    schemaname: string;
    tablename: string;
    attname: string;
    common_values: string[] | null;
  }>(
    'column statistics (most common values)',
    `SELECT schemaname, tablename, attname, most_common_vals::text::text[] AS common_values
       FROM pg_stats
      WHERE schemaname <> ALL($1::text[]) AND most_common_vals IS NOT NULL`,
    [SYSTEM_SCHEMAS],
  );

  const key = (schema: string, table: string) => `${schema}\u0000${table}`;
  const tables = new Map<string, { schema: string; name: string; columns: CatalogColumn[] }>();
  for (const row of columns) {
    const id = key(row.table_schema, row.table_name);
    const table = tables.get(id) ?? { schema: row.table_schema, name: row.table_name, columns: [] };
    table.columns.push({ name: row.column_name, dataType: row.data_type });
    tables.set(id, table);
  }
  const indexed = new Map<string, string[]>();
  for (const row of indexes)
    indexed.set(key(row.schema, row.table), [...(indexed.get(key(row.schema, row.table)) ?? []), row.column]);
  const estimated = new Map(sizes.map((row) => [key(row.schema, row.table), Number(row.reltuples)]));
  const statistics = new Map<string, Record<string, ColumnStatistics>>();
  for (const row of stats) {
    const id = key(row.schemaname, row.tablename);
    statistics.set(id, {
      ...(statistics.get(id) ?? {}),
      [row.attname]: { commonValues: row.common_values ?? [] },
    });
  }
  return {
    database: identity?.database ?? '(unknown)',
    serverVersion: identity?.server_version ?? '(unknown)',
    tables: [...tables.entries()].map(([id, table]) => ({
      ...table,
      indexedLeadingColumns: [...new Set(indexed.get(id) ?? [])],
      estimatedRows: estimated.get(id) ?? -1,
      statistics: statistics.get(id) ?? {},
    })),
  };
}
