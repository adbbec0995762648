import * as z from 'zod';
import { ControlCheckError, type EvidenceLog } from '../controls/outcome.ts';
import type { PostgresPort } from '../controls/ports.ts';
import { durationSchema, durationToMs, slugSchema, sqlIdentifierSchema } from '../shared/identifiers.ts';
import {
  type ComparedTable,
  compareRestore,
  type KeyDifferences,
  planComparison,
  type RestoreComparison,
  restoredShapeProblem,
} from './compare-databases.ts';
import {
  type BucketDigests,
  bucketDigests,
  keysInBuckets,
  measureTable,
  qualifiedName,
  readTableShapes,
  type TableMeasure,
  type TableStats,
} from './database-inventory.ts';

const tableRefSchema = z
  .string()
  .regex(
    /^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/,
    'expected a table name such as orders or public.orders',
  );

/** How two databases are compared; shared by the restore-verification and restore-test-history controls. */
export const restoreComparisonShape = {
  sourceTarget: slugSchema.describe('The production (source) database.'),
  schemas: z
    .union([
      z.array(sqlIdentifierSchema).min(1),
      z
        .record(sqlIdentifierSchema, sqlIdentifierSchema)
        .refine((map) => Object.keys(map).length > 0, 'expected at least one schema')
        .refine(
          (map) => new Set(Object.values(map)).size === Object.values(map).length,
          'two source schemas cannot map to the same restored schema',
        ),
    ])
    .default(['public'])
    .describe(
      'Schemas compared: a list (the same names on both sides), or a map from each source schema to its name in the restored copy (`{ app: app_restored }`), so the copy may live in the source database itself.',
    ),
  exclude: z
    .array(tableRefSchema)
    .default([])
    .describe('Tables left out (`table` or `schema.table`), e.g. queues and caches.'),
  timestampColumns: z
    .record(tableRefSchema, sqlIdentifierSchema.nullable())
    .default({})
    .describe(
      'Per table, the column that dates its rows (only rows older than the recovery point are compared), or null to compare the whole table. Unlisted tables use the first of `timestampCandidates` they have.',
    ),
  timestampCandidates: z
    .array(sqlIdentifierSchema)
    .default(['created_at', 'inserted_at', 'created', 'timestamp', 'occurred_at', 'recorded_at'])
    .describe(
      'Column names tried in order for a table without an entry in `timestampColumns`; a table with none is compared whole.',
    ),
  rpo: durationSchema
    .default('PT15M')
    .describe('Recovery point objective: newest restored row at most this far behind the recovery point.'),
  settle: durationSchema
    .default('PT1M')
    .describe('Rows written this close to the recovery point may be in flight and are not compared.'),
  rto: durationSchema
    .default('PT60M')
    .describe('Recovery time objective: the restore itself must take at most this long.'),
  checksum: z
    .enum(['keys', 'rows'])
    .default('keys')
    .describe(
      '`keys` checksums primary keys (finds missing and extra rows); `rows` checksums whole rows of keyed tables up to `rowChecksumMaxBytes` (finds changed values too, at the cost of reading them).',
    ),
  rowChecksumMaxBytes: z
    .number()
    .int()
    .min(0)
    .default(1_073_741_824)
    .describe(
      'Source table heap size up to which `checksum: rows` applies (1073741824 = 1 GiB); larger tables keep the key checksum.',
    ),
  reportKeys: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(10)
    .describe('Missing, extra and changed primary keys named per differing table in the evidence.'),
};
const comparisonSchema = z.strictObject(restoreComparisonShape);
export type RestoreComparisonParams = z.output<typeof comparisonSchema>;

/** A compared schema: its name in the source and in the restored copy. */
export interface SchemaPair {
  readonly source: string;
  readonly restored: string;
}

export function schemaPairs(schemas: RestoreComparisonParams['schemas']): SchemaPair[] {
  return Array.isArray(schemas)
    ? schemas.map((name) => ({ source: name, restored: name }))
    : Object.entries(schemas).map(([source, restored]) => ({ source, restored }));
}

/** True when some schema is compared with itself (then source and copy must be different databases). */
export function comparesSchemaWithItself(schemas: RestoreComparisonParams['schemas']): boolean {
  return schemaPairs(schemas).some((pair) => pair.source === pair.restored);
}

/**
 * Renames between the source's schema names (in which tables are planned, measured and reported)
 * and the restored copy's, for a schema map.
 */
function schemaRenaming(pairs: readonly SchemaPair[]) {
  const toRestored = new Map(pairs.map((pair) => [pair.source, pair.restored]));
  const toSource = new Map(pairs.map((pair) => [pair.restored, pair.source]));
  return {
    /** The same table in the restored copy. */
    onRestored: <T extends { schema: string }>(table: T): T => ({
      ...table,
      schema: toRestored.get(table.schema) ?? table.schema,
    }),
    /** A restored-copy table under its source name. */
    asSource: <T extends { schema: string }>(table: T): T => ({
      ...table,
      schema: toSource.get(table.schema) ?? table.schema,
    }),
  };
}

export interface RestoreVerificationInput {
  readonly postgres: PostgresPort;
  readonly evidence: EvidenceLog;
  readonly restoredTarget: string;
  readonly comparison: RestoreComparisonParams;
  readonly recoveryPoint: Date;
  readonly restoreStartedAt?: Date;
  readonly restoreCompletedAt?: Date;
  /** Tables of the restored database that are ours, not the source's (e.g. the restore log). */
  readonly ignoreInRestored?: readonly string[];
}

/**
 * Compares a restored database with its source: table set, per-table row counts and primary-key
 * checksums for rows older than the recovery point (all in SQL, in read-only sessions), then RPO
 * and RTO. Throws `ControlCheckError` when it cannot compare (unreachable, bad configuration).
 */
export async function verifyRestore(input: RestoreVerificationInput): Promise<RestoreComparison> {
  const { comparison: params, postgres, evidence } = input;
  const cutoff = new Date(input.recoveryPoint.getTime() - durationToMs(params.settle));

  const pairs = schemaPairs(params.schemas);
  const renaming = schemaRenaming(pairs);
  const source = await postgres.withReadOnlySession(params.sourceTarget, evidence, async (session) => {
    const shapes = await readTableShapes(
      session,
      pairs.map((pair) => pair.source),
    );
    const plan = planComparison(shapes, params);
    if (plan.configErrors.length > 0) throw new ControlCheckError(plan.configErrors.join('; '));
    const stats = new Map<string, TableStats>();
    for (const measure of plan.measures)
      stats.set(qualifiedName(measure), await measureTable(session, measure, cutoff, input.recoveryPoint));
    return { plan, stats };
  });

  const ignored = new Set([...source.plan.excluded, ...(input.ignoreInRestored ?? [])]);
  const restored = await postgres.withReadOnlySession(input.restoredTarget, evidence, async (session) => {
    const restoredShapes = await readTableShapes(
      session,
      pairs.map((pair) => pair.restored),
    );
    const shapes = restoredShapes.map(renaming.asSource);
    const byName = new Map(shapes.map((shape) => [qualifiedName(shape), shape]));
    const tables: ComparedTable[] = [];
    for (const measure of source.plan.measures) {
      const name = qualifiedName(measure);
      const problem = restoredShapeProblem(measure, byName.get(name));
      const sourceStats = source.stats.get(name) as TableStats;
      tables.push({
        measure,
        source: sourceStats,
        restored: problem
          ? null
          : await measureTable(session, renaming.onRestored(measure), cutoff, input.recoveryPoint),
        restoredProblem: problem,
      });
    }
    const known = new Set(source.plan.measures.map(qualifiedName));
    const isIgnored = (name: string) => ignored.has(name) || ignored.has(name.slice(name.indexOf('.') + 1));
    // Named as they are in the restored copy, where they were found.
    const extra = restoredShapes
      .filter((shape) => {
        const name = qualifiedName(renaming.asSource(shape));
        return !known.has(name) && !isIgnored(name) && !isIgnored(qualifiedName(shape));
      })
      .map(qualifiedName);
    return { tables, extra };
  });

  const differences = await locateDifferences(input, restored.tables, cutoff, renaming.onRestored);
  return compareRestore({
    differences,
    tables: restored.tables,
    extraInRestored: restored.extra,
    recoveryPoint: input.recoveryPoint,
    cutoff,
    rpo: { label: params.rpo, ms: durationToMs(params.rpo) },
    rto: { label: params.rto, ms: durationToMs(params.rto) },
    ...(input.restoreStartedAt ? { restoreStartedAt: input.restoreStartedAt } : {}),
    ...(input.restoreCompletedAt ? { restoreCompletedAt: input.restoreCompletedAt } : {}),
  });
}

/** Keys fetched per side and table at most while locating differences. */
const MAX_KEYS_LOCATED = 20_000;
/** Differing buckets (of 256) read per table at most. */
const MAX_BUCKETS_LOCATED = 16;

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * For keyed tables whose counts or checksums differ: which keys. Both sides are summarised into
 * 256 buckets by key hash, and only the keys of differing buckets are read (bounded), so a large
 * table costs one more aggregate pass per side, not a transfer of its rows.
 */
async function locateDifferences(
  input: RestoreVerificationInput,
  tables: readonly ComparedTable[],
  cutoff: Date,
  onRestored: (measure: TableMeasure) => TableMeasure,
): Promise<Map<string, KeyDifferences>> {
  const differing = tables.filter(
    (table): table is ComparedTable & { restored: TableStats } =>
      table.restored !== null &&
      table.measure.primaryKey !== null &&
      (table.restored.rows !== table.source.rows || table.restored.checksum !== table.source.checksum),
  );
  const found = new Map<string, KeyDifferences>();
  if (differing.length === 0) return found;
  const { postgres, evidence, comparison } = input;
  const same = (measure: TableMeasure) => measure;
  const digestsOf = (target: string, side: (measure: TableMeasure) => TableMeasure) =>
    postgres.withReadOnlySession(target, evidence, async (session) => {
      const byTable = new Map<string, BucketDigests>();
      for (const table of differing)
        byTable.set(qualifiedName(table.measure), await bucketDigests(session, side(table.measure), cutoff));
      return byTable;
    });
  const sourceDigests = await digestsOf(comparison.sourceTarget, same);
  const restoredDigests = await digestsOf(input.restoredTarget, onRestored);
  const plan = new Map<string, { measure: TableMeasure; buckets: string[]; more: boolean }>();
  for (const table of differing) {
    const name = qualifiedName(table.measure);
    const a = sourceDigests.get(name) ?? new Map();
    const b = restoredDigests.get(name) ?? new Map();
    const buckets = [...new Set([...a.keys(), ...b.keys()])]
      .filter((bucket) => a.get(bucket) !== b.get(bucket))
      .sort();
    plan.set(name, {
      measure: table.measure,
      buckets: buckets.slice(0, MAX_BUCKETS_LOCATED),
      more: buckets.length > MAX_BUCKETS_LOCATED,
    });
  }
  const keysOf = (target: string, side: (measure: TableMeasure) => TableMeasure) =>
    postgres.withReadOnlySession(target, evidence, async (session) => {
      const byTable = new Map<string, Map<string, string>>();
      for (const [name, { measure, buckets }] of plan)
        byTable.set(name, await keysInBuckets(session, side(measure), cutoff, buckets, MAX_KEYS_LOCATED));
      return byTable;
    });
  const sourceKeys = await keysOf(comparison.sourceTarget, same);
  const restoredKeys = await keysOf(input.restoredTarget, onRestored);
  for (const [name, { more }] of plan) {
    const a = sourceKeys.get(name) ?? new Map<string, string>();
    const b = restoredKeys.get(name) ?? new Map<string, string>();
    const missing = [...a.keys()].filter((key) => !b.has(key)).sort(naturalOrder);
    const extra = [...b.keys()].filter((key) => !a.has(key)).sort(naturalOrder);
    const changed = [...a.keys()].filter((key) => b.has(key) && b.get(key) !== a.get(key)).sort(naturalOrder);
    const limit = comparison.reportKeys;
    const cut = a.size >= MAX_KEYS_LOCATED || b.size >= MAX_KEYS_LOCATED;
    found.set(name, {
      missingKeys: missing.slice(0, limit),
      extraKeys: extra.slice(0, limit),
      changedKeys: changed.slice(0, limit),
      truncated: more || cut || missing.length > limit || extra.length > limit || changed.length > limit,
    });
  }
  return found;
}
