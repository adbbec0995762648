import * as z from 'zod';
import { ControlCheckError, type EvidenceLog } from '../controls/outcome.ts';
import type { PostgresPort } from '../controls/ports.ts';
import { durationSchema, durationToMs, slugSchema, sqlIdentifierSchema } from '../shared/identifiers.ts';
import {
  type ComparedTable,
  compareRestore,
  planComparison,
  type RestoreComparison,
  restoredShapeProblem,
} from './compare-databases.ts';
import { measureTable, qualifiedName, readTableShapes, type TableStats } from './database-inventory.ts';

const tableRefSchema = z
  .string()
  .regex(
    /^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/,
    'expected a table name such as orders or public.orders',
  );

/** How two databases are compared; shared by the restore-verification and restore-test-history controls. */
export const restoreComparisonShape = {
  /** The production (source) database. */
  sourceTarget: slugSchema,
  /** Schemas compared. @default ['public'] */
  schemas: z.array(sqlIdentifierSchema).min(1).default(['public']),
  /** Tables left out (`table` or `schema.table`), e.g. queues and caches. @default [] */
  exclude: z.array(tableRefSchema).default([]),
  /**
   * Per table, the column that dates its rows (only rows older than the recovery point are
   * compared), or null to compare the whole table. Unlisted tables use the first of
   * `timestampCandidates` they have.
   */
  timestampColumns: z.record(tableRefSchema, sqlIdentifierSchema.nullable()).default({}),
  /** @default ['created_at', 'inserted_at', 'created', 'timestamp', 'occurred_at', 'recorded_at'] */
  timestampCandidates: z
    .array(sqlIdentifierSchema)
    .default(['created_at', 'inserted_at', 'created', 'timestamp', 'occurred_at', 'recorded_at']),
  /** Recovery point objective: newest restored row at most this far behind the recovery point. @default 'PT15M' */
  rpo: durationSchema.default('PT15M'),
  /** Rows written this close to the recovery point may be in flight and are not compared. @default 'PT1M' */
  settle: durationSchema.default('PT1M'),
  /** Recovery time objective: the restore itself must take at most this long. @default 'PT60M' */
  rto: durationSchema.default('PT60M'),
};
const comparisonSchema = z.strictObject(restoreComparisonShape);
export type RestoreComparisonParams = z.output<typeof comparisonSchema>;

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

  const source = await postgres.withReadOnlySession(params.sourceTarget, evidence, async (session) => {
    const shapes = await readTableShapes(session, params.schemas);
    const plan = planComparison(shapes, params);
    if (plan.configErrors.length > 0) throw new ControlCheckError(plan.configErrors.join('; '));
    const stats = new Map<string, TableStats>();
    for (const measure of plan.measures)
      stats.set(qualifiedName(measure), await measureTable(session, measure, cutoff, input.recoveryPoint));
    return { plan, stats };
  });

  const ignored = new Set([...source.plan.excluded, ...(input.ignoreInRestored ?? [])]);
  const restored = await postgres.withReadOnlySession(input.restoredTarget, evidence, async (session) => {
    const shapes = await readTableShapes(session, params.schemas);
    const byName = new Map(shapes.map((shape) => [qualifiedName(shape), shape]));
    const tables: ComparedTable[] = [];
    for (const measure of source.plan.measures) {
      const name = qualifiedName(measure);
      const problem = restoredShapeProblem(measure, byName.get(name));
      const sourceStats = source.stats.get(name) as TableStats;
      tables.push({
        measure,
        source: sourceStats,
        restored: problem ? null : await measureTable(session, measure, cutoff, input.recoveryPoint),
        restoredProblem: problem,
      });
    }
    const known = new Set(source.plan.measures.map(qualifiedName));
    const extra = shapes
      .map(qualifiedName)
      .filter(
        (name) => !known.has(name) && !ignored.has(name) && !ignored.has(name.slice(name.indexOf('.') + 1)),
      );
    return { tables, extra };
  });

  return compareRestore({
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
