import * as z from 'zod';
import {
  durationSchema,
  durationToMs,
  positiveDurationSchema,
  quoteIdentifier,
  slugSchema,
  sqlIdentifierSchema,
} from '../shared/identifiers.ts';
import { needs, targetNeed } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { DAY_MS } from './evaluation-time.ts';
import { ControlCheckError, type ControlOutcome, outcome } from './outcome.ts';
import type { PopulationDeclaration } from './population.ts';
import { identityOnce, writeSqlPopulation } from './population-query.ts';
import type { ReadOnlySession } from './ports.ts';

const REQUIRED_ACTION_EVENTS = {
  name: 'required-action-events',
  description:
    'an audit-log event in the period of one of the required actions (for example admin_export), with its time, user, resource and outcome',
} as const satisfies PopulationDeclaration;

const timeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as HH:MM');

const offHoursSchema = z
  .strictObject({
    maxSilence: positiveDurationSchema.describe(
      'Longest tolerated silence lying entirely outside business hours; at least `maxSilence`.',
    ),
    businessStart: timeOfDaySchema
      .default('08:00')
      .describe("Local time (in the config's `timeZone`) business hours start."),
    businessEnd: timeOfDaySchema
      .default('18:00')
      .describe('Local time business hours end; after `businessStart`.'),
    businessDays: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .default([1, 2, 3, 4, 5])
      .describe('ISO weekdays (1 = Monday) with business hours.'),
  })
  .refine((hours) => hours.businessEnd > hours.businessStart, {
    message: 'expected businessEnd after businessStart',
    path: ['businessEnd'],
  });

export const logCompletenessParamsSchema = z
  .strictObject({
    type: z.literal('log-completeness'),
    target: slugSchema.describe('The `targets[].name` of the database holding the audit log.'),
    schema: sqlIdentifierSchema.default('public').describe('Schema of the audit-log table.'),
    table: sqlIdentifierSchema
      .default('audit_log')
      .describe('The audit-log table (or view): one row per event.'),
    columns: z
      .strictObject({
        timestamp: sqlIdentifierSchema
          .default('timestamp')
          .describe(
            "When the event happened (`timestamptz`, or `timestamp` read as UTC). Index it: the check reads the period's range.",
          ),
        userId: sqlIdentifierSchema.default('user_id').describe('Who acted (any type).'),
        action: sqlIdentifierSchema
          .default('action')
          .describe('What happened (text or an enum), compared with `requiredActions`.'),
        resourceId: sqlIdentifierSchema
          .default('resource_id')
          .describe('What it acted on; recorded in the evidence.'),
        success: sqlIdentifierSchema
          .default('success')
          .describe(
            'Whether it succeeded (boolean); failed events still count as activity, and are counted apart.',
          ),
      })
      .default({
        timestamp: 'timestamp',
        userId: 'user_id',
        action: 'action',
        resourceId: 'resource_id',
        success: 'success',
      })
      .describe(
        'Column names, defaulting to the reference `audit_log` shape. `timestamp` is `timestamptz` or `timestamp` (read as UTC), `action` text (or an enum), `success` boolean, `userId` any type.',
      ),
    maxSilence: positiveDurationSchema
      .default('PT1H')
      .describe('Longest tolerated silence during business hours (or at all, without `offHours`).'),
    offHours: offHoursSchema
      .optional()
      .describe('Optional looser limit for silences that lie entirely outside business hours.'),
    requiredActions: z
      .array(z.string().min(1).max(200))
      .default([])
      .describe('Actions that must occur at least once in the period, e.g. login, secrets_rotation.'),
    retention: durationSchema
      .default('P365D')
      .describe('The oldest retained event must be at least this old ("1 year active").'),
    maxGapsReported: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe('Gaps listed in the evidence at most; the count is always exact.'),
  })
  .refine(
    (params) =>
      !params.offHours || durationToMs(params.offHours.maxSilence) >= durationToMs(params.maxSilence),
    {
      message: 'expected offHours.maxSilence to be at least maxSilence (it is the looser limit)',
      path: ['offHours', 'maxSilence'],
    },
  );
export type LogCompletenessParams = z.output<typeof logCompletenessParamsSchema>;

export interface LogGap {
  readonly start: string;
  readonly end: string;
  readonly seconds: number;
  /** Which limit it broke: the business-hours one or the looser off-hours one. */
  readonly limit: 'maxSilence' | 'offHours.maxSilence';
}

/**
 * Above this many probes the gap search scans the period instead (see `gapSearchSql`). A year at
 * PT1H is 17,520 probes; a year at PT1M would be a million, where one scan is cheaper.
 */
export const MAX_GAP_PROBES = 250_000;

/**
 * Distinct users are counted by walking a (user, timestamp) index only when the period holds at
 * least this many events per user of the table: the walk costs two index probes per user of the
 * whole table (about as much CPU as hashing 400 rows, measured on the 10M-row bench), the hash
 * aggregate one hash lookup per event of the period. docs/benchmarks.md has the figures.
 */
export const WALK_MIN_EVENTS_PER_USER = 500;
/** At most this many users the walk is cheap whatever the period (a few thousand probes). */
export const WALK_ALWAYS_USERS = 1000;

interface TableShape {
  /** `timestamptz`, or `timestamp` whose values are read as UTC. */
  readonly timestampHasZone: boolean;
  /** A valid, non-partial btree index leads with the timestamp column. */
  readonly timestampIndexed: boolean;
  /**
   * A valid, non-partial btree index whose keys start with (user, timestamp), in the user column's
   * default ordering and collation: the one a walk from user to user can follow.
   */
  readonly userTimeIndexed: boolean;
  /** The statistics' estimate of the table's distinct non-NULL users; null without statistics. */
  readonly estimatedUsers: number | null;
}

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'citext']);

/**
 * Checks the relation and its columns from the catalog before any data query, so a missing table,
 * a missing column or a wrong type is named as such (an `error` verdict), never reported as silence.
 */
async function inspectTable(session: ReadOnlySession, params: LogCompletenessParams): Promise<TableShape> {
  const relation = `${params.schema}.${params.table}`;
  const rows = await session.query<{
    relkind: string;
    readable: boolean;
    column_name: string | null;
    type_name: string | null;
    type_kind: string | null;
    leads_index: boolean | null;
    leads_user_time_index: boolean | null;
    n_distinct: number | null;
    reltuples: number;
  }>(
    'table shape',
    `SELECT c.relkind::text AS relkind,
            has_table_privilege(c.oid, 'SELECT') AS readable,
            a.attname::text AS column_name,
            t.typname::text AS type_name,
            t.typtype::text AS type_kind,
            EXISTS (SELECT 1 FROM pg_index i
                      JOIN pg_class ic ON ic.oid = i.indexrelid
                      JOIN pg_am am ON am.oid = ic.relam
                     WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum AND am.amname = 'btree'
                       AND i.indpred IS NULL AND i.indisvalid) AS leads_index,
            a.attname = $4 AND EXISTS (SELECT 1 FROM pg_index i
                      JOIN pg_class ic ON ic.oid = i.indexrelid
                      JOIN pg_am am ON am.oid = ic.relam
                      JOIN pg_opclass uo ON uo.oid = i.indclass[0]
                      JOIN pg_opclass tso ON tso.oid = i.indclass[1]
                      JOIN pg_attribute ta ON ta.attrelid = c.oid AND ta.attnum = i.indkey[1]
                     WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum AND i.indnkeyatts >= 2
                       AND ta.attname = $3 AND am.amname = 'btree' AND i.indpred IS NULL AND i.indisvalid
                       AND uo.opcdefault AND tso.opcdefault AND i.indcollation[0] = a.attcollation) AS leads_user_time_index,
            CASE WHEN a.attname = $4 THEN
              (SELECT s.n_distinct FROM pg_stats s
                WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
                ORDER BY s.inherited DESC LIMIT 1) END::float8 AS n_distinct,
            c.reltuples::float8 AS reltuples
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_type dt ON dt.oid = a.atttypid
       LEFT JOIN pg_type t ON t.oid = CASE WHEN dt.typtype = 'd' THEN dt.typbasetype ELSE dt.oid END
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [params.schema, params.table, params.columns.timestamp, params.columns.userId],
  );
  const first = rows[0];
  if (!first) throw new ControlCheckError(`table ${relation} does not exist`);
  if (!first.readable) throw new ControlCheckError(`table ${relation} is not readable (no SELECT privilege)`);
  const columns = new Map(rows.map((row) => [row.column_name, row]));
  const column = (role: keyof LogCompletenessParams['columns']) => {
    const name = params.columns[role];
    const found = columns.get(name);
    if (!found?.type_name) throw new ControlCheckError(`column ${relation}.${name} does not exist`);
    return { name, type: found.type_name, kind: found.type_kind, indexed: found.leads_index === true, found };
  };
  const wrongType = (col: { name: string; type: string }, wanted: string) =>
    new ControlCheckError(`column ${relation}.${col.name} is ${col.type}, expected ${wanted}`);

  const timestamp = column('timestamp');
  if (timestamp.type !== 'timestamptz' && timestamp.type !== 'timestamp') {
    throw wrongType(timestamp, 'timestamptz or timestamp');
  }
  const user = column('userId');
  const action = column('action');
  if (!TEXT_TYPES.has(action.type) && action.kind !== 'e') throw wrongType(action, 'text or an enum');
  const success = column('success');
  if (success.type !== 'bool') throw wrongType(success, 'boolean');
  return {
    timestampHasZone: timestamp.type === 'timestamptz',
    timestampIndexed: timestamp.indexed,
    userTimeIndexed: user.found.leads_user_time_index === true,
    estimatedUsers: estimatedUsers(user.found.n_distinct, user.found.reltuples),
  };
}

/**
 * pg_stats' n_distinct is a count when positive and minus a fraction of the rows when negative
 * (ANALYZE expects it to grow with the table); unknown without statistics or a row estimate.
 */
function estimatedUsers(nDistinct: number | null, rowEstimate: number): number | null {
  if (nDistinct === null) return null;
  if (nDistinct >= 0) return nDistinct;
  return rowEstimate >= 0 ? Math.ceil(-nDistinct * rowEstimate) : null;
}

/** SQL fragments that keep the timestamp column's own type in comparisons, so its index is usable. */
function timestampSql(params: LogCompletenessParams, shape: TableShape) {
  const column = quoteIdentifier(params.columns.timestamp);
  return {
    column,
    /** An instant (timestamptz expression) in the column's type; naive columns hold UTC. */
    bound: (instant: string) =>
      shape.timestampHasZone ? `(${instant})::timestamptz` : `((${instant})::timestamptz AT TIME ZONE 'UTC')`,
    /** A column value (or aggregate of it) as an instant. */
    instant: (value: string) => (shape.timestampHasZone ? value : `(${value} AT TIME ZONE 'UTC')`),
  };
}

/**
 * The retention window's empty days: [$1, $1 + $2 days) cut into days from its start ($1 = the check
 * instant minus the retention; $2 = the whole days up to the period's cutoff, min(check, period
 * end)), and the days holding no event at all. The oldest event alone does
 * not show the window is retained: one row kept from a year ago passes that test with every month
 * between deleted. Events after the cutoff never count (they are not in the window).
 * - probe (a usable index): one index probe per day (365 for a year), whatever the row count.
 * - scan: one pass over the window bins events by day.
 * Returns the count and the first five empty days' starts (ISO, UTC).
 */
// Stryker disable all: SQL text, covered by the integration and differential suites on real PostgreSQL.
function retentionCoverageSql(
  relation: string,
  ts: ReturnType<typeof timestampSql>,
  strategy: 'probe' | 'scan',
) {
  const day = `($1::timestamptz + d.day * interval '1 day')`;
  const empty =
    strategy === 'probe'
      ? `NOT EXISTS (SELECT 1 FROM ${relation}
                      WHERE ${ts.column} >= ${ts.bound(day)} AND ${ts.column} < ${ts.bound(`${day} + interval '1 day'`)})`
      : `d.day NOT IN (SELECT floor(extract(epoch FROM (${ts.instant(ts.column)} - $1::timestamptz)) / 86400)::int
                         FROM ${relation}
                        WHERE ${ts.column} >= ${ts.bound('$1')}
                          AND ${ts.column} < ${ts.bound(`$1::timestamptz + $2::int * interval '1 day'`)})`;
  return `SELECT count(*) AS empty_days,
                 coalesce((array_agg(to_char(${day} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ORDER BY d.day))[1:5], '{}') AS first_empty
            FROM generate_series(0, $2::int - 1) AS d(day)
           WHERE ${empty}`;
}
// Stryker restore all

/**
 * The search for silences longer than `maxSilence` that overlap [$1, $2). A silence is measured
 * between real events: from the last event before it (even one before the period) to the first
 * event after it (even one after the period), so a silence crossing a period boundary is reported
 * whole in both periods. Events after the check instant ($4) are future events, not evidence of
 * logging: a silence with no later event lasts until the check. Only without any earlier event
 * does the period start stand in for the silence's start. Two exact strategies:
 * - probe: [$1 - limit, min($2 + limit, $4)) is cut into slots of half the limit; a silence longer
 *   than the limit that overlaps the period overlaps that window by more than the limit, so it
 *   contains a whole empty slot: one index probe per slot finds every candidate, and two more
 *   probes per empty slot find the events that bound it. Cost grows with period / limit, not rows.
 * - scan (no usable index, or too many slots): one pass bins the period's events into slots of the
 *   limit, keeping each slot's first and last event; silences inside a slot are shorter than the
 *   limit, so the silences between consecutive non-empty slots (and the events just outside the
 *   period) are all of the candidates.
 * Parameters: $1 period start, $2 period end, $3 slot seconds, $4 check instant, $5 maxSilence seconds.
 */
// Stryker disable all: SQL text, covered by the integration and differential suites on real PostgreSQL.
function gapSearchSql(
  relation: string,
  ts: ReturnType<typeof timestampSql>,
  strategy: 'probe' | 'scan',
): string {
  const seen = `${ts.column} <= ${ts.bound('$4')}`;
  // MATERIALIZED keeps the order of work: find empty slots first, then bound only those.
  if (strategy === 'probe') {
    return `slots AS MATERIALIZED (
        SELECT slot FROM generate_series($1::timestamptz - make_interval(secs => $5),
                                         least($2::timestamptz + make_interval(secs => $5), $4::timestamptz) - make_interval(secs => $3),
                                         make_interval(secs => $3)) AS slot
         WHERE NOT EXISTS (SELECT 1 FROM ${relation}
                            WHERE ${ts.column} >= ${ts.bound('slot')} AND ${ts.column} < ${ts.bound('slot + make_interval(secs => $3)')})),
      candidates AS MATERIALIZED (
        SELECT DISTINCT
               coalesce((SELECT ${ts.instant(`max(${ts.column})`)} FROM ${relation}
                          WHERE ${ts.column} < ${ts.bound('slot')}), $1::timestamptz) AS gap_start,
               coalesce((SELECT ${ts.instant(`min(${ts.column})`)} FROM ${relation}
                          WHERE ${ts.column} >= ${ts.bound('slot + make_interval(secs => $3)')} AND ${seen}), $4::timestamptz) AS gap_end
          FROM slots),
      silences AS MATERIALIZED (
        SELECT gap_start, gap_end FROM candidates
         WHERE gap_end > gap_start AND gap_end > $1::timestamptz AND gap_start < $2::timestamptz)`;
  }
  return `slots AS MATERIALIZED (
        SELECT ${ts.instant(`min(${ts.column})`)} AS first_event, ${ts.instant(`max(${ts.column})`)} AS last_event
          FROM ${relation} WHERE ${ts.column} >= ${ts.bound('$1')} AND ${ts.column} < ${ts.bound('$2')} AND ${seen}
         GROUP BY date_bin(make_interval(secs => $3), ${ts.column}, ${ts.bound('$1')})
        UNION ALL
        SELECT coalesce(previous, $1::timestamptz), coalesce(previous, $1::timestamptz)
          FROM (SELECT ${ts.instant(`max(${ts.column})`)} AS previous FROM ${relation} WHERE ${ts.column} < ${ts.bound('$1')}) AS before_period
        UNION ALL
        SELECT coalesce(following, $4::timestamptz), coalesce(following, $4::timestamptz)
          FROM (SELECT ${ts.instant(`min(${ts.column})`)} AS following FROM ${relation}
                 WHERE ${ts.column} >= ${ts.bound('$2')} AND ${seen}) AS after_period),
      silences AS MATERIALIZED (
        SELECT gap_start, gap_end
          FROM (SELECT lag(last_event) OVER (ORDER BY first_event, last_event) AS gap_start, first_event AS gap_end FROM slots) AS ordered
         WHERE gap_start IS NOT NULL AND gap_end > gap_start AND gap_end > $1::timestamptz AND gap_start < $2::timestamptz)`;
}

/**
 * Classifies silences against the limits in SQL, so the count is exact and Node only ever holds
 * `maxGapsReported` rows. Business hours are local times in the config's zone, DST included, on
 * every day a silence touches (a silence may start long before the period).
 * Parameters after the search's: $6 limit; with off-hours also $7 off-hours seconds, $8 zone,
 * $9 opening time, $10 closing time, $11 ISO weekdays.
 */
function gapsSql(search: string, offHours: boolean): string {
  const seconds = 'extract(epoch FROM gap_end - gap_start)';
  const limit = offHours
    ? `CASE WHEN ${seconds} > $7 THEN 'offHours.maxSilence'
            WHEN ${seconds} > $5 AND EXISTS (SELECT 1 FROM business_hours WHERE opens < gap_end AND closes > gap_start)
            THEN 'maxSilence' END`
    : `CASE WHEN ${seconds} > $5 THEN 'maxSilence' END`;
  const businessHours = offHours
    ? `,
      business_hours AS (
        SELECT (day::date + $9::time) AT TIME ZONE $8 AS opens, (day::date + $10::time) AT TIME ZONE $8 AS closes
          FROM generate_series((least($1::timestamptz, (SELECT min(gap_start) FROM silences)) AT TIME ZONE $8)::date - 1,
                               (greatest($2::timestamptz, (SELECT max(gap_end) FROM silences)) AT TIME ZONE $8)::date + 1,
                               interval '1 day') AS day
         WHERE extract(isodow FROM day)::int = ANY($11::int[]))`
    : '';
  return `WITH ${search}${businessHours},
      violations AS (
        SELECT gap_start, gap_end, ${seconds} AS seconds, ${limit} AS broken_limit FROM silences)
    SELECT gap_start, gap_end, seconds::float8 AS seconds, broken_limit,
           count(*) OVER () AS violations, max(seconds) OVER ()::float8 AS longest_seconds
      FROM violations
     WHERE broken_limit IS NOT NULL
     ORDER BY gap_start
     LIMIT $6`;
}
// Stryker restore all

function describeGap(gap: LogGap): string {
  const hours = (gap.seconds / 3600).toFixed(1);
  return `${gap.start} to ${gap.end} (${hours} h)`;
}

interface CountsRow extends Record<string, unknown> {
  total: string;
  succeeded: string;
  failed: string;
  unknown_outcome: string;
  [action: `action_${number}`]: string;
}

interface SummaryRow extends CountsRow {
  distinct_users: string;
}

/** How distinct users were counted: by walking the (user, timestamp) index, or by a hash aggregate. */
export type UserCount = 'index walk' | 'hash';

/**
 * The period's figures, all exact. Without a usable (user, timestamp) index, or when the period
 * holds too few events per user for a walk to pay (see {@link WALK_MIN_EVENTS_PER_USER}), one pass
 * groups the period by user (a parallel hash aggregate) and sums the groups. With one, a plain
 * parallel aggregate counts the events and a walk over the index counts the users: the hash lookup
 * per event is what made the check cost about 2x a bare pass over the period's columns.
 */
async function countPeriod(
  session: ReadOnlySession,
  params: LogCompletenessParams,
  shape: TableShape,
  relation: string,
  inPeriod: string,
  range: readonly string[],
): Promise<{ summary: SummaryRow; userCount: UserCount }> {
  const success = quoteIdentifier(params.columns.success);
  const userId = quoteIdentifier(params.columns.userId);
  const action = quoteIdentifier(params.columns.action);
  const actionCounts = params.requiredActions.map(
    (_, index) => `count(*) FILTER (WHERE ${action}::text = $${index + 3}::text) AS action_${index}`,
  );
  const userCount = await chooseUserCount(session, shape, relation, inPeriod, range);
  if (userCount === 'hash') {
    // Grouping by user first makes distinct users a hash aggregate that runs in parallel workers
    // (count(DISTINCT) would sort every row in one process); the other counts are summed from the
    // per-user groups. NULL users form one group that count(user_key) leaves out.
    const [summary] = await session.query<SummaryRow>(
      'period summary',
      periodSummarySql(relation, inPeriod, { userId, success }, actionCounts),
      [...range, ...params.requiredActions],
    );
    if (!summary) throw new ControlCheckError('the summary query returned no row');
    return { summary, userCount };
  }
  const [counts] = await session.query<CountsRow>(
    'period counts',
    periodCountsSql(relation, inPeriod, success, actionCounts),
    [...range, ...params.requiredActions],
  );
  if (!counts) throw new ControlCheckError('the counts query returned no row');
  // A walk longer than the statistics promised (they can be stale) stops and the hash count runs
  // instead, so a table that gained many users costs one more pass, never a walk without end.
  const maxSteps = 2 * (shape.estimatedUsers ?? 0) + WALK_ALWAYS_USERS;
  const [walk] = await session.query<{ distinct_users: string; complete: boolean | null }>(
    'distinct users (index walk)',
    userWalkSql(relation, inPeriod, userId),
    [...range, maxSteps],
  );
  if (!walk) throw new ControlCheckError('the user walk returned no row');
  if (walk.complete === true) {
    return { summary: { ...counts, distinct_users: walk.distinct_users }, userCount };
  }
  const [hashed] = await session.query<{ distinct_users: string }>(
    'distinct users (hash)',
    `SELECT count(*) AS distinct_users
       FROM (SELECT ${userId} FROM ${relation} WHERE ${inPeriod} AND ${userId} IS NOT NULL GROUP BY 1) AS users`,
    range,
  );
  if (!hashed) throw new ControlCheckError('the distinct users query returned no row');
  return { summary: { ...counts, distinct_users: hashed.distinct_users }, userCount: 'hash' };
}

/**
 * The walk pays when the period holds many events per user of the table; the table's user count
 * comes from its statistics (none: no walk) and, for large ones, the period's events from the
 * planner's estimate of the range.
 */
async function chooseUserCount(
  session: ReadOnlySession,
  shape: TableShape,
  relation: string,
  inPeriod: string,
  range: readonly string[],
): Promise<UserCount> {
  const users = shape.estimatedUsers;
  if (!shape.userTimeIndexed || users === null) return 'hash';
  if (users <= WALK_ALWAYS_USERS) return 'index walk';
  const [plan] = await session.query<{ 'QUERY PLAN': unknown }>(
    'period size estimate',
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${relation} WHERE ${inPeriod}`,
    range,
  );
  const events = plannedRows(plan?.['QUERY PLAN']);
  return events !== null && events >= users * WALK_MIN_EVENTS_PER_USER ? 'index walk' : 'hash';
}

/** The top node's row estimate from `EXPLAIN (FORMAT JSON)`; null when the answer has no such figure. */
function plannedRows(plan: unknown): number | null {
  const parsed = z
    .array(z.object({ Plan: z.object({ 'Plan Rows': z.number() }) }))
    .safeParse(typeof plan === 'string' ? safeJson(plan) : plan);
  return parsed.success ? (parsed.data[0]?.Plan['Plan Rows'] ?? null) : null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Stryker disable all: SQL text, covered by the integration and differential suites on real PostgreSQL.
function periodSummarySql(
  relation: string,
  inPeriod: string,
  columns: { userId: string; success: string },
  actionCounts: readonly string[],
): string {
  return `SELECT coalesce(sum(events), 0) AS total,
              coalesce(sum(succeeded), 0) AS succeeded,
              coalesce(sum(known) - sum(succeeded), 0) AS failed,
              coalesce(sum(events) - sum(known), 0) AS unknown_outcome,
              count(user_key) AS distinct_users${actionCounts.map((_, i) => `,\n              coalesce(sum(action_${i}), 0) AS action_${i}`).join('')}
         FROM (SELECT ${columns.userId} AS user_key, count(*) AS events,
                      count(*) FILTER (WHERE ${columns.success}) AS succeeded, count(${columns.success}) AS known${actionCounts.map((c) => `, ${c}`).join('')}
                 FROM ${relation}
                WHERE ${inPeriod}
                GROUP BY 1) AS per_user`;
}

/** Every count but distinct users in one plain (parallel) aggregate: no per-row hash lookup. */
function periodCountsSql(
  relation: string,
  inPeriod: string,
  success: string,
  actionCounts: readonly string[],
): string {
  return `SELECT count(*) AS total,
                 count(*) FILTER (WHERE ${success}) AS succeeded,
                 count(${success}) - count(*) FILTER (WHERE ${success}) AS failed,
                 count(*) - count(${success}) AS unknown_outcome${actionCounts.map((c) => `,\n                 ${c}`).join('')}
            FROM ${relation}
           WHERE ${inPeriod}`;
}

/**
 * A loose index scan: from each user to the next one in the (user, timestamp) index (one probe),
 * and one probe for an event of that user in the period. NULL users are never reached (the walk
 * starts at the lowest non-NULL user and only moves up). Stops after $3 steps: `complete` says
 * whether it reached the end. Qualified names keep the table's columns apart from the walk's.
 */
function userWalkSql(relation: string, inPeriod: string, userId: string): string {
  return `WITH RECURSIVE walk AS (
        SELECT (SELECT e.${userId} FROM ${relation} AS e WHERE e.${userId} IS NOT NULL ORDER BY e.${userId} LIMIT 1) AS walk_user,
               1 AS walk_step
        UNION ALL
        SELECT (SELECT e.${userId} FROM ${relation} AS e WHERE e.${userId} > w.walk_user ORDER BY e.${userId} LIMIT 1),
               w.walk_step + 1
          FROM walk AS w
         WHERE w.walk_user IS NOT NULL AND w.walk_step < $3::int)
    SELECT count(*) FILTER (WHERE w.walk_user IS NOT NULL
                              AND EXISTS (SELECT 1 FROM ${relation} AS e WHERE e.${userId} = w.walk_user AND ${inPeriod})) AS distinct_users,
           bool_or(w.walk_user IS NULL) AS complete
      FROM walk AS w`;
}
// Stryker restore all

async function run(params: LogCompletenessParams, context: ControlContext): Promise<ControlOutcome> {
  // "Future" and retention are judged against the moment of the check, not the period's as-of
  // date: a backfill for last year must not call this year's events future.
  const { period, now } = context;
  const relation = `${quoteIdentifier(params.schema)}.${quoteIdentifier(params.table)}`;
  const success = quoteIdentifier(params.columns.success);
  const userId = quoteIdentifier(params.columns.userId);
  const action = quoteIdentifier(params.columns.action);
  const range = [period.start.toISOString(), period.end.toISOString()];
  const maxSilenceMs = durationToMs(params.maxSilence);

  return context.ports.postgres.withReadOnlySession(params.target, context.evidence, async (session) => {
    const shape = await inspectTable(session, params);
    const ts = timestampSql(params, shape);
    const inPeriod = `${ts.column} >= ${ts.bound('$1')} AND ${ts.column} < ${ts.bound('$2')}`;

    const counted = await countPeriod(session, params, shape, relation, inPeriod, range);
    const summary = counted.summary;

    if (params.requiredActions.length > 0) {
      // Streamed: a year of a frequent action is millions of rows. The id is the event's own
      // content joined as "action|instant|user|resource" plus its rank among the events that join
      // to the same text: identical events, but also a NULL and an empty user or resource, or a "|"
      // inside a value, which numbering per field tuple gave the same id (and `sample` refuses
      // repeated ids). Ranked by outcome, user, resource and action (NULL first, bytewise), so the
      // same log gives the same ids on every run whatever its physical order; the audit log need
      // not have a key column. Without such collisions the ids are those of the per-tuple numbering.
      const resourceId = quoteIdentifier(params.columns.resourceId);
      // Events that join to the same text share their action and instant unless a required action
      // itself holds a "|": the first two "|" then end the action and the instant's text, which
      // holds none. So the partition can be (action, instant, "user|resource"), which sorts on a
      // short text and a number instead of the whole joined text (~20% of the query's time).
      const partition = params.requiredActions.some((name) => name.includes('|'))
        ? `(action || '|' || at || '|' || user_resource) COLLATE "C"`
        : `action COLLATE "C", instant, user_resource COLLATE "C"`;
      const at = `to_char(${ts.instant(ts.column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
      await writeSqlPopulation<{
        id: string;
        action: string;
        at: string;
        user_id: string | null;
        resource_id: string | null;
        success: boolean | null;
      }>(context, session, identityOnce(session), {
        declaration: REQUIRED_ACTION_EVENTS,
        target: params.target,
        text: `SELECT * FROM (
                 SELECT action || '|' || at || '|' || user_resource || '|' ||
                        row_number() OVER (PARTITION BY ${partition}
                                           ORDER BY success NULLS FIRST, user_id COLLATE "C" NULLS FIRST,
                                                    resource_id COLLATE "C" NULLS FIRST, action COLLATE "C") AS id,
                        action, at, user_id, resource_id, success
                   FROM (SELECT coalesce(user_id, '') || '|' || coalesce(resource_id, '') AS user_resource,
                                instant, action, at, user_id, resource_id, success
                           FROM (SELECT ${action}::text AS action, ${ts.instant(ts.column)} AS instant, ${at} AS at, ${userId}::text AS user_id,
                                        ${resourceId}::text AS resource_id, ${success} AS success
                                   FROM ${relation}
                                  WHERE ${inPeriod} AND ${action}::text = ANY($3::text[])) AS events) AS keyed_events) AS numbered
                ORDER BY id COLLATE "C"`,
        params: [...range, params.requiredActions],
        // Keys in sorted order: canonical JSON then stringifies the item as it is (no re-sort).
        toItem: (row) => ({
          action: row.action,
          at: row.at,
          id: row.id,
          resourceId: row.resource_id,
          success: row.success,
          userId: row.user_id,
        }),
      });
    }

    // Edges come from the index (one probe each) when there is one.
    const [edges] = await session.query<{
      first_event: Date | null;
      last_event: Date | null;
      oldest_event: Date | null;
      future_events: string;
    }>(
      'period edges, retention and future events',
      `SELECT (SELECT ${ts.instant(`min(${ts.column})`)} FROM ${relation} WHERE ${inPeriod}) AS first_event,
              (SELECT ${ts.instant(`max(${ts.column})`)} FROM ${relation} WHERE ${inPeriod}) AS last_event,
              (SELECT ${ts.instant(`min(${ts.column})`)} FROM ${relation}) AS oldest_event,
              (SELECT count(*) FROM ${relation} WHERE ${ts.column} > ${ts.bound('$3')}) AS future_events`,
      [...range, now.toISOString()],
    );
    if (!edges) throw new ControlCheckError('the edges query returned no row');

    const slots = (period.end.getTime() - period.start.getTime()) / (maxSilenceMs / 2);
    const strategy = shape.timestampIndexed && slots <= MAX_GAP_PROBES ? 'probe' : 'scan';
    const slotSeconds = (strategy === 'probe' ? maxSilenceMs / 2 : maxSilenceMs) / 1000;
    const offHours = params.offHours;
    const gapRows = await session.query<{
      gap_start: Date;
      gap_end: Date;
      seconds: number;
      broken_limit: LogGap['limit'];
      violations: string;
      longest_seconds: number;
    }>(`gaps (${strategy})`, gapsSql(gapSearchSql(relation, ts, strategy), offHours !== undefined), [
      ...range,
      slotSeconds,
      now.toISOString(),
      maxSilenceMs / 1000,
      params.maxGapsReported,
      ...(offHours
        ? [
            durationToMs(offHours.maxSilence) / 1000,
            period.timeZone,
            offHours.businessStart,
            offHours.businessEnd,
            offHours.businessDays,
          ]
        : []),
    ]);

    const total = Number(summary.total);
    const gaps: LogGap[] = gapRows.map((row) => ({
      start: row.gap_start.toISOString(),
      end: row.gap_end.toISOString(),
      seconds: Math.round(row.seconds),
      limit: row.broken_limit,
    }));
    const gapCount = Number(gapRows[0]?.violations ?? 0);
    const longestGapSeconds = Math.round(gapRows[0]?.longest_seconds ?? 0);
    const missingActions = params.requiredActions.filter(
      (_, index) => Number(summary[`action_${index}`]) === 0,
    );
    const retentionMs = durationToMs(params.retention);
    const oldest = edges.oldest_event;
    const retainedMs = oldest ? now.getTime() - oldest.getTime() : 0;
    const futureEvents = Number(edges.future_events);
    // Only once the oldest event is old enough: before that, the window is short by definition.
    // The window starts a retention before the check (what must be kept today) and ends at the
    // period's cutoff, min(check, period end): a run for an earlier period (a backfill, --as-of)
    // judges the log up to that period and must not need events written after it.
    const windowStart = now.getTime() - retentionMs;
    const windowEnd = Math.min(now.getTime(), period.end.getTime());
    const windowDays = Math.floor((windowEnd - windowStart) / DAY_MS);
    const coverage =
      oldest && retainedMs >= retentionMs && windowDays > 0
        ? await retentionCoverage(session, relation, ts, shape.timestampIndexed ? 'probe' : 'scan', {
            from: new Date(windowStart),
            days: windowDays,
          })
        : null;

    const reasons: string[] = [];
    if (total === 0) {
      reasons.push(`no events in ${period.key}: the audit log was silent for the whole period`);
    } else {
      for (const gap of gaps.slice(0, 5))
        reasons.push(`audit log silent ${describeGap(gap)}, over ${gap.limit}`);
      if (gapCount > 5) reasons.push(`${gapCount - 5} more gaps over the limit (see evidence)`);
    }
    if (missingActions.length > 0) reasons.push(`no ${missingActions.join(', ')} events in ${period.key}`);
    if (retainedMs < retentionMs) {
      const days = Math.floor(retainedMs / 86_400_000);
      reasons.push(
        oldest
          ? `oldest retained event is ${days} days old (${oldest.toISOString()}), less than the ${params.retention} retention: the log may have been truncated`
          : 'the audit log holds no events at all',
      );
    }
    if (coverage && coverage.emptyDays > 0) {
      reasons.push(
        `the ${params.retention} retention is not intact: ${coverage.emptyDays} of its ${windowDays} days hold no event (from ${coverage.firstEmpty.join(', ')}${coverage.emptyDays > coverage.firstEmpty.length ? ', ...' : ''}): events in that window may have been deleted`,
      );
    }
    if (futureEvents > 0) {
      reasons.push(
        `${futureEvents} events are dated after ${now.toISOString()}, the time of the check (clock skew or tampering)`,
      );
    }
    const warnings = shape.timestampIndexed
      ? []
      : [
          `no btree index leads with ${params.schema}.${params.table}.${params.columns.timestamp}: the check scanned the table; add one to keep it fast`,
        ];

    const counts = {
      total,
      succeeded: Number(summary.succeeded),
      failed: Number(summary.failed),
      unknownOutcome: Number(summary.unknown_outcome),
      distinctUsers: Number(summary.distinct_users),
    };
    return outcome({
      reasons,
      warnings,
      figures: {
        events: total,
        succeeded: counts.succeeded,
        failed: counts.failed,
        distinctUsers: counts.distinctUsers,
        gaps: gapCount,
        longestGapHours: Math.round((longestGapSeconds / 3600) * 100) / 100,
        futureEvents,
        oldestEvent: oldest ? oldest.toISOString() : null,
      },
      details: {
        period: { key: period.key, start: range[0], end: range[1], timeZone: period.timeZone },
        limits: { maxSilence: params.maxSilence, offHours: offHours ?? null, retention: params.retention },
        counts: {
          ...counts,
          firstEvent: edges.first_event?.toISOString() ?? null,
          lastEvent: edges.last_event?.toISOString() ?? null,
        },
        requiredActions: params.requiredActions.map((name, index) => ({
          action: name,
          events: Number(summary[`action_${index}`]),
        })),
        gaps,
        gapCount,
        gapsTruncated: gapCount > gaps.length,
        gapSearch: strategy,
        userCount: counted.userCount,
        retention: {
          oldestEvent: oldest?.toISOString() ?? null,
          retainedDays: Math.floor(retainedMs / 86_400_000),
          ...(coverage
            ? {
                coverageDays: windowDays,
                emptyDays: coverage.emptyDays,
                firstEmptyDays: coverage.firstEmpty,
              }
            : {}),
        },
        futureEvents,
      },
    });
  });
}

/** The retention window's days with no event ({@link retentionCoverageSql}). */
async function retentionCoverage(
  session: ReadOnlySession,
  relation: string,
  ts: ReturnType<typeof timestampSql>,
  strategy: 'probe' | 'scan',
  window: { from: Date; days: number },
): Promise<{ emptyDays: number; firstEmpty: string[] }> {
  const [row] = await session.query<{ empty_days: string; first_empty: string[] }>(
    `retention coverage (${strategy})`,
    retentionCoverageSql(relation, ts, strategy),
    [window.from.toISOString(), window.days],
  );
  if (!row) throw new ControlCheckError('the retention coverage query returned no row');
  return { emptyDays: Number(row.empty_days), firstEmpty: row.first_empty };
}

export const logCompleteness: ControlTest<LogCompletenessParams> = {
  type: 'log-completeness',
  description:
    'Audit-log completeness: no silent gaps, required events present, retention intact, no future events.',
  paramsSchema: logCompletenessParamsSchema,
  needs: (params) => needs({ targets: [targetNeed(params.target, 'target')] }),
  populations: [REQUIRED_ACTION_EVENTS],
  run,
};
