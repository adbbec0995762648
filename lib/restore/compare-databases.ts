import type { Figure } from '../controls/outcome.ts';
import {
  qualifiedName,
  type TableMeasure,
  type TableShape,
  type TableStats,
  TIMESTAMP_TYPES,
} from './database-inventory.ts';

export interface PlanOptions {
  /** `schema.table` or bare `table` (any schema). */
  readonly exclude: readonly string[];
  /** Per table (`schema.table` or `table`): the column bounding "rows older than the recovery point"; null: none. */
  readonly timestampColumns: Readonly<Record<string, string | null>>;
  /** Tried in order when a table has no configured column. */
  readonly timestampCandidates: readonly string[];
  /** `rows`: checksum whole rows of keyed tables up to `rowChecksumMaxBytes`. @default 'keys' */
  readonly checksum?: 'keys' | 'rows';
  /** Source heap size up to which `checksum: rows` applies; larger tables keep the key checksum. */
  readonly rowChecksumMaxBytes?: number;
}

export interface ComparisonPlan {
  readonly measures: readonly TableMeasure[];
  readonly excluded: readonly string[];
  /** Configuration that does not match the source database (becomes an `error`). */
  readonly configErrors: readonly string[];
}

function lookup<T>(
  record: Readonly<Record<string, T>>,
  table: { schema: string; table: string },
): T | undefined {
  return record[qualifiedName(table)] ?? record[table.table];
}

function matches(patterns: readonly string[], table: { schema: string; table: string }): boolean {
  return patterns.includes(qualifiedName(table)) || patterns.includes(table.table);
}

/** Pure: decides, from the source's catalog, which tables are compared and how. */
export function planComparison(sourceShapes: readonly TableShape[], options: PlanOptions): ComparisonPlan {
  const measures: TableMeasure[] = [];
  const excluded: string[] = [];
  const configErrors: string[] = [];
  for (const shape of sourceShapes) {
    const name = qualifiedName(shape);
    if (matches(options.exclude, shape)) {
      excluded.push(name);
      continue;
    }
    if (shape.readable === false) {
      configErrors.push(`table ${name} is not readable by the checking role (no SELECT privilege)`);
      continue;
    }
    const configured = lookup(options.timestampColumns, shape);
    let timestampColumn: string | null = null;
    if (configured !== undefined && configured !== null) {
      const type = shape.columns.get(configured);
      if (type === undefined)
        configErrors.push(`column ${name}.${configured} (timestampColumns) does not exist on the source`);
      else if (!TIMESTAMP_TYPES.has(type))
        configErrors.push(`column ${name}.${configured} is ${type}, expected a timestamp`);
      else timestampColumn = configured;
    } else if (configured === undefined) {
      timestampColumn =
        options.timestampCandidates.find((candidate) =>
          TIMESTAMP_TYPES.has(shape.columns.get(candidate) ?? ''),
        ) ?? null;
    }
    const checksumRows =
      options.checksum === 'rows' &&
      shape.primaryKey !== null &&
      (shape.bytes ?? 0) <= (options.rowChecksumMaxBytes ?? Number.POSITIVE_INFINITY);
    measures.push({
      schema: shape.schema,
      table: shape.table,
      timestampColumn,
      primaryKey: shape.primaryKey,
      ...(checksumRows ? { checksumRows: true } : {}),
    });
  }
  for (const key of [...Object.keys(options.timestampColumns), ...options.exclude]) {
    const known = sourceShapes.some((shape) => qualifiedName(shape) === key || shape.table === key);
    if (!known) configErrors.push(`table ${key} (configured) does not exist on the source`);
  }
  return { measures, excluded, configErrors };
}

/** Pure: why the restored copy of a table cannot be measured like the source's, or null. */
export function restoredShapeProblem(measure: TableMeasure, restored: TableShape | undefined): string | null {
  if (!restored) return 'missing from the restored database';
  if (restored.readable === false) return 'not readable by the checking role (no SELECT privilege)';
  const needed = [
    ...(measure.primaryKey ?? []),
    ...(measure.timestampColumn ? [measure.timestampColumn] : []),
  ];
  const absent = needed.filter((column) => !restored.columns.has(column));
  if (absent.length > 0) return `restored table lacks column ${absent.join(', ')}`;
  // A keyless source table is checksummed by whole rows: whatever key the restored copy has is fine.
  if (measure.primaryKey) {
    const sourceKey = measure.primaryKey.join(',');
    const restoredKey = (restored.primaryKey ?? []).join(',');
    if (sourceKey !== restoredKey)
      return `primary key differs (source ${sourceKey}, restored ${restoredKey || 'none'})`;
  }
  return null;
}

export type TableStatus = 'match' | 'missing' | 'schema-differs' | 'rows-differ' | 'checksum-differs';

/** Which rows differ, by primary key (first N of each kind, sorted); null where not located. */
export interface KeyDifferences {
  /** In the source, not in the restored copy. */
  readonly missingKeys: readonly string[];
  /** In the restored copy, not in the source. */
  readonly extraKeys: readonly string[];
  /** In both, with different contents (only with `checksum: rows`). */
  readonly changedKeys: readonly string[];
  /** More differences exist than are listed (or than could be located). */
  readonly truncated: boolean;
}

export interface TableComparison {
  readonly table: string;
  readonly status: TableStatus;
  readonly compared: 'rows before the cut-off' | 'whole table';
  readonly timestampColumn: string | null;
  readonly checksumOf: string;
  readonly source: { readonly rows: number; readonly checksum: string };
  readonly restored: { readonly rows: number; readonly checksum: string } | null;
  readonly problem: string | null;
  readonly differences: KeyDifferences | null;
}

export interface ComparedTable {
  readonly measure: TableMeasure;
  readonly source: TableStats;
  readonly restored: TableStats | null;
  readonly restoredProblem: string | null;
}

export interface ComparisonInput {
  readonly tables: readonly ComparedTable[];
  /** Tables only the restored database has (after exclusions). */
  readonly extraInRestored: readonly string[];
  readonly recoveryPoint: Date;
  readonly cutoff: Date;
  readonly rpo: { readonly label: string; readonly ms: number };
  readonly rto: { readonly label: string; readonly ms: number };
  readonly restoreStartedAt?: Date;
  readonly restoreCompletedAt?: Date;
  /** Located differences per table (`schema.table`). */
  readonly differences?: ReadonlyMap<string, KeyDifferences>;
}

export interface RestoreComparison {
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
  readonly figures: Readonly<Record<string, Figure>>;
  readonly tables: readonly TableComparison[];
  readonly rpo: {
    readonly limit: string;
    readonly recoveryPoint: string;
    readonly newestRestoredRow: string | null;
    readonly newestSourceRowBeforeRecoveryPoint: string | null;
    readonly lagMinutes: number | null;
    readonly met: boolean | null;
  };
  readonly rto: {
    readonly limit: string;
    readonly startedAt: string | null;
    readonly completedAt: string | null;
    readonly durationMinutes: number | null;
    readonly met: boolean | null;
  };
}

function maxIso(values: readonly (string | null)[]): string | null {
  const present = values.filter((value): value is string => value !== null);
  return present.length === 0 ? null : present.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

const minutes = (ms: number) => Math.round((ms / 60_000) * 10) / 10;

/**
 * Pure verdict logic of a restore check. The RPO is measured against the recovery point, or against
 * the source's newest row before it when the source was quiet then (so a quiet hour does not count
 * as lost data).
 */
export function compareRestore(input: ComparisonInput): RestoreComparison {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const tables: TableComparison[] = input.tables.map(({ measure, source, restored, restoredProblem }) => {
    const base = {
      table: qualifiedName(measure),
      compared: measure.timestampColumn ? ('rows before the cut-off' as const) : ('whole table' as const),
      timestampColumn: measure.timestampColumn,
      checksumOf: !measure.primaryKey
        ? 'whole row (no primary key)'
        : measure.checksumRows
          ? 'whole row (checksum: rows)'
          : `primary key (${measure.primaryKey.join(', ')})`,
      source: { rows: source.rows, checksum: source.checksum },
      differences: input.differences?.get(qualifiedName(measure)) ?? null,
    };
    if (restoredProblem || !restored) {
      // A shape problem (lost key, lost column) is named as such; only an absent table is "missing".
      const status: TableStatus =
        restoredProblem === null || restoredProblem === 'missing from the restored database'
          ? 'missing'
          : 'schema-differs';
      return { ...base, status, restored: null, problem: restoredProblem ?? 'not measured' };
    }
    const status: TableStatus =
      restored.rows !== source.rows
        ? 'rows-differ'
        : restored.checksum !== source.checksum
          ? 'checksum-differs'
          : 'match';
    return { ...base, status, restored: { rows: restored.rows, checksum: restored.checksum }, problem: null };
  });

  for (const table of tables) {
    const scope =
      table.compared === 'whole table'
        ? ' (whole table: no timestamp column, so rows written since the restore also count)'
        : '';
    if (table.status === 'missing')
      reasons.push(`table ${table.table} is missing from the restored database`);
    else if (table.status === 'schema-differs') reasons.push(`table ${table.table}: ${table.problem}`);
    else if (table.status === 'rows-differ') {
      reasons.push(
        `table ${table.table}: ${table.restored?.rows} rows restored, ${table.source.rows} in the source${scope}`,
      );
    } else if (table.status === 'checksum-differs') {
      reasons.push(
        `table ${table.table}: same ${table.source.rows} rows counted but the ${table.checksumOf} checksum differs${scope}`,
      );
    }
  }
  const untimed = tables.filter((table) => table.compared === 'whole table').map((table) => table.table);
  if (untimed.length > 0) warnings.push(`compared whole tables (no timestamp column): ${untimed.join(', ')}`);
  const keyless = tables
    .filter((table) => table.checksumOf === 'whole row (no primary key)')
    .map((table) => table.table);
  if (keyless.length > 0) warnings.push(`checksummed whole rows (no primary key): ${keyless.join(', ')}`);
  if (input.extraInRestored.length > 0)
    warnings.push(`tables only in the restored database: ${input.extraInRestored.join(', ')}`);
  if (tables.length === 0) reasons.push('no tables to compare: check the configured schemas');

  // RPO: newest restored row against the recovery point (or the source's newest row before it).
  const newestRestored = maxIso(input.tables.map((t) => t.restored?.newest ?? null));
  const newestSourceBefore = maxIso(input.tables.map((t) => t.source.newestBeforeRecoveryPoint));
  let lagMs: number | null = null;
  let rpoMet: boolean | null = null;
  if (newestSourceBefore === null) {
    warnings.push('RPO not measured: the source has no timestamped rows before the recovery point');
  } else {
    const reference = Math.min(input.recoveryPoint.getTime(), Date.parse(newestSourceBefore));
    lagMs = newestRestored === null ? null : Math.max(0, reference - Date.parse(newestRestored));
    rpoMet = lagMs !== null && lagMs <= input.rpo.ms;
    if (newestRestored === null) {
      reasons.push('RPO: the restored database holds no timestamped rows');
    } else if (!rpoMet) {
      reasons.push(
        `RPO: newest restored row is ${newestRestored}, ${minutes(lagMs ?? 0)} min before the recovery point ${input.recoveryPoint.toISOString()}` +
          `${reference < input.recoveryPoint.getTime() ? ` (measured from the source's newest row before it, ${newestSourceBefore})` : ''}, over the ${input.rpo.label} limit`,
      );
    }
  }

  // RTO: only where both ends of the restore are known.
  let durationMs: number | null = null;
  let rtoMet: boolean | null = null;
  if (input.restoreStartedAt && input.restoreCompletedAt) {
    durationMs = input.restoreCompletedAt.getTime() - input.restoreStartedAt.getTime();
    rtoMet = durationMs <= input.rto.ms;
    if (!rtoMet)
      reasons.push(`RTO: the restore took ${minutes(durationMs)} min, over the ${input.rto.label} limit`);
  } else {
    warnings.push('RTO not measured: the restore start and end times are unknown');
  }

  const count = (status: TableStatus) => tables.filter((table) => table.status === status).length;
  return {
    reasons,
    warnings,
    figures: {
      tables: tables.length,
      matching: count('match'),
      differing: count('rows-differ') + count('checksum-differs'),
      missing: count('missing') + count('schema-differs'),
      rowsCompared: tables.reduce((sum, table) => sum + table.source.rows, 0),
      rpoLagMinutes: lagMs === null ? null : minutes(lagMs),
      restoreMinutes: durationMs === null ? null : minutes(durationMs),
    },
    tables,
    rpo: {
      limit: input.rpo.label,
      recoveryPoint: input.recoveryPoint.toISOString(),
      newestRestoredRow: newestRestored,
      newestSourceRowBeforeRecoveryPoint: newestSourceBefore,
      lagMinutes: lagMs === null ? null : minutes(lagMs),
      met: rpoMet,
    },
    rto: {
      limit: input.rto.label,
      startedAt: input.restoreStartedAt?.toISOString() ?? null,
      completedAt: input.restoreCompletedAt?.toISOString() ?? null,
      durationMinutes: durationMs === null ? null : minutes(durationMs),
      met: rtoMet,
    },
  };
}
