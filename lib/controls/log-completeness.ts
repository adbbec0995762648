import { DateTime } from 'luxon';
import { z } from 'zod';
import { durationSchema, durationToMs, quoteIdentifier, slugSchema, sqlIdentifierSchema } from '../config/identifiers.ts';
import { type ControlContext, type ControlOutcome, type ControlTest, ControlCheckError, outcome } from './control-test.ts';
import type { ReadOnlySession } from './ports.ts';

const timeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as HH:MM');

export const logCompletenessParamsSchema = z.strictObject({
  type: z.literal('log-completeness'),
  target: slugSchema,
  /** @default 'public' */
  schema: sqlIdentifierSchema.default('public'),
  /** @default 'audit_log' */
  table: sqlIdentifierSchema.default('audit_log'),
  /** Column names, defaulting to the reference `audit_log` shape. */
  columns: z
    .strictObject({
      timestamp: sqlIdentifierSchema.default('timestamp'),
      userId: sqlIdentifierSchema.default('user_id'),
      action: sqlIdentifierSchema.default('action'),
      resourceId: sqlIdentifierSchema.default('resource_id'),
      success: sqlIdentifierSchema.default('success'),
    })
    .default({ timestamp: 'timestamp', userId: 'user_id', action: 'action', resourceId: 'resource_id', success: 'success' }),
  /** Longest tolerated silence during business hours (or at all, without `offHours`). @default 'PT1H' */
  maxSilence: durationSchema.default('PT1H'),
  /** Optional looser limit for silences that lie entirely outside business hours. */
  offHours: z
    .strictObject({
      maxSilence: durationSchema,
      /** @default '08:00' */
      businessStart: timeOfDaySchema.default('08:00'),
      /** @default '18:00' */
      businessEnd: timeOfDaySchema.default('18:00'),
      /** ISO weekdays (1 = Monday). @default [1,2,3,4,5] */
      businessDays: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
    })
    .optional(),
  /** Actions that must occur at least once in the period, e.g. login, secrets_rotation. @default [] */
  requiredActions: z.array(z.string().min(1).max(200)).default([]),
  /** The oldest retained event must be at least this old ("1 year active"). @default 'P365D' */
  retention: durationSchema.default('P365D'),
  /** Gaps listed in the evidence at most; the count is always exact. @default 1000 */
  maxGapsReported: z.number().int().min(1).max(100_000).default(1000),
});
export type LogCompletenessParams = z.output<typeof logCompletenessParamsSchema>;

export interface LogGap {
  readonly start: string;
  readonly end: string;
  readonly seconds: number;
  /** Which limit it broke: the business-hours one or the looser off-hours one. */
  readonly limit: 'maxSilence' | 'offHours.maxSilence';
}

interface Summary extends Record<string, unknown> {
  total: string;
  succeeded: string;
  failed: string;
  unknown_outcome: string;
  distinct_users: string;
  first_event: Date | null;
  last_event: Date | null;
  [action: `action_${number}`]: string;
}

const TIMESTAMP_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone']);

async function checkColumns(session: ReadOnlySession, params: LogCompletenessParams): Promise<void> {
  const rows = await session.query<{ column_name: string; data_type: string }>(
    'columns',
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
    [params.schema, params.table],
  );
  const relation = `${params.schema}.${params.table}`;
  if (rows.length === 0) throw new ControlCheckError(`table ${relation} does not exist or is not readable`);
  const types = new Map(rows.map((row) => [row.column_name, row.data_type]));
  const expected: [keyof LogCompletenessParams['columns'], (type: string) => boolean, string][] = [
    ['timestamp', (t) => TIMESTAMP_TYPES.has(t), 'a timestamp'],
    ['userId', () => true, 'any type'],
    ['action', (t) => ['text', 'character varying', 'character'].includes(t), 'text'],
    ['success', (t) => t === 'boolean', 'boolean'],
  ];
  for (const [role, accepts, wanted] of expected) {
    const column = params.columns[role];
    const type = types.get(column);
    if (type === undefined) throw new ControlCheckError(`column ${relation}.${column} does not exist`);
    if (!accepts(type)) throw new ControlCheckError(`column ${relation}.${column} is ${type}, expected ${wanted}`);
  }
}

function isBusinessTime(instant: DateTime, offHours: NonNullable<LogCompletenessParams['offHours']>): boolean {
  if (!offHours.businessDays.includes(instant.weekday)) return false;
  const minutes = instant.hour * 60 + instant.minute;
  const [startH = 0, startM = 0] = offHours.businessStart.split(':').map(Number);
  const [endH = 0, endM = 0] = offHours.businessEnd.split(':').map(Number);
  return minutes >= startH * 60 + startM && minutes < endH * 60 + endM;
}

/** True when any minute of [start, end) falls inside business hours in the configured zone. */
export function overlapsBusinessHours(
  start: Date,
  end: Date,
  offHours: NonNullable<LogCompletenessParams['offHours']>,
  timeZone: string,
): boolean {
  // Walk boundary by boundary (each business-hours start/end), not minute by minute.
  let cursor = DateTime.fromJSDate(start, { zone: timeZone });
  const stop = DateTime.fromJSDate(end, { zone: timeZone });
  const [startH = 0, startM = 0] = offHours.businessStart.split(':').map(Number);
  while (cursor < stop) {
    if (isBusinessTime(cursor, offHours)) return true;
    const todayOpen = cursor.set({ hour: startH, minute: startM, second: 0, millisecond: 0 });
    cursor = todayOpen > cursor ? todayOpen : todayOpen.plus({ days: 1 });
  }
  return false;
}

export function classifyGaps(
  candidates: readonly { start: Date; end: Date }[],
  params: LogCompletenessParams,
  timeZone: string,
): LogGap[] {
  const strictMs = durationToMs(params.maxSilence);
  const offHours = params.offHours;
  const gaps: LogGap[] = [];
  for (const { start, end } of candidates) {
    const lengthMs = end.getTime() - start.getTime();
    const base = { start: start.toISOString(), end: end.toISOString(), seconds: Math.round(lengthMs / 1000) };
    if (!offHours) {
      if (lengthMs > strictMs) gaps.push({ ...base, limit: 'maxSilence' });
    } else if (lengthMs > durationToMs(offHours.maxSilence)) {
      gaps.push({ ...base, limit: 'offHours.maxSilence' });
    } else if (lengthMs > strictMs && overlapsBusinessHours(start, end, offHours, timeZone)) {
      gaps.push({ ...base, limit: 'maxSilence' });
    }
  }
  return gaps;
}

function describeGap(gap: LogGap): string {
  const hours = (gap.seconds / 3600).toFixed(1);
  return `${gap.start} to ${gap.end} (${hours} h)`;
}

async function run(params: LogCompletenessParams, context: ControlContext): Promise<ControlOutcome> {
  // "Future" and retention are judged against the moment of the check, not the period's as-of
  // date: a backfill for last year must not call this year's events future.
  const { period, now } = context;
  const relation = `${quoteIdentifier(params.schema)}.${quoteIdentifier(params.table)}`;
  const ts = quoteIdentifier(params.columns.timestamp);
  const success = quoteIdentifier(params.columns.success);
  const userId = quoteIdentifier(params.columns.userId);
  const action = quoteIdentifier(params.columns.action);
  const range = [period.start.toISOString(), period.end.toISOString()];
  const strictest = params.offHours
    ? Math.min(durationToMs(params.maxSilence), durationToMs(params.offHours.maxSilence))
    : durationToMs(params.maxSilence);

  return context.ports.postgres.withReadOnlySession(params.target, context.evidence, async (session) => {
    await checkColumns(session, params);

    // One pass over the period for every count; required actions become FILTER clauses on bound values.
    const actionFilters = params.requiredActions.map(
      (_, index) => `, count(*) FILTER (WHERE ${action} = $${index + 3}) AS action_${index}`,
    );
    const [summary] = await session.query<Summary>(
      'period summary',
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE ${success}) AS succeeded,
              count(*) FILTER (WHERE NOT ${success}) AS failed,
              count(*) FILTER (WHERE ${success} IS NULL) AS unknown_outcome,
              count(DISTINCT ${userId}) AS distinct_users,
              min(${ts}) AS first_event,
              max(${ts}) AS last_event${actionFilters.join('')}
         FROM ${relation}
        WHERE ${ts} >= $1 AND ${ts} < $2`,
      [...range, ...params.requiredActions],
    );
    if (!summary) throw new ControlCheckError('the summary query returned no row');

    // Sentinels at both period edges so silence at the start or end of the period counts as a gap.
    const gapRows = await session.query<{ gap_start: Date; gap_end: Date }>(
      'gaps',
      `SELECT previous AS gap_start, ts AS gap_end
         FROM (SELECT ts, lag(ts) OVER (ORDER BY ts) AS previous
                 FROM (SELECT ${ts}::timestamptz AS ts FROM ${relation} WHERE ${ts} >= $1 AND ${ts} < $2
                       UNION ALL SELECT $1::timestamptz UNION ALL SELECT $2::timestamptz) AS events) AS ordered
        WHERE ts - previous > make_interval(secs => $3)
        ORDER BY previous
        LIMIT $4`,
      [...range, strictest / 1000, params.maxGapsReported + 1],
    );

    const [edges] = await session.query<{ oldest_event: Date | null; future_events: string }>(
      'retention and future events',
      `SELECT (SELECT min(${ts})::timestamptz FROM ${relation}) AS oldest_event,
              (SELECT count(*) FROM ${relation} WHERE ${ts} > $1) AS future_events`,
      [now.toISOString()],
    );
    if (!edges) throw new ControlCheckError('the retention query returned no row');

    const total = Number(summary.total);
    const gaps = classifyGaps(
      gapRows.map((row) => ({ start: row.gap_start, end: row.gap_end })),
      params,
      period.timeZone,
    );
    const truncated = gapRows.length > params.maxGapsReported;
    const missingActions = params.requiredActions.filter((_, index) => Number(summary[`action_${index}`]) === 0);
    const retentionMs = durationToMs(params.retention);
    const oldest = edges.oldest_event;
    const retainedMs = oldest ? now.getTime() - oldest.getTime() : 0;
    const futureEvents = Number(edges.future_events);

    const reasons: string[] = [];
    if (total === 0) {
      reasons.push(`no events in ${period.key}: the audit log was silent for the whole period`);
    } else {
      for (const gap of gaps.slice(0, 5)) reasons.push(`audit log silent ${describeGap(gap)}, over ${gap.limit}`);
      if (gaps.length > 5) reasons.push(`${gaps.length - 5} more gaps over the limit (see evidence)`);
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
    if (futureEvents > 0) reasons.push(`${futureEvents} events are dated after ${now.toISOString()}, the time of the check (clock skew or tampering)`);

    return outcome({
      reasons,
      figures: {
        events: total,
        succeeded: Number(summary.succeeded),
        failed: Number(summary.failed),
        distinctUsers: Number(summary.distinct_users),
        gaps: gaps.length,
        longestGapHours: gaps.length ? Math.max(...gaps.map((g) => g.seconds)) / 3600 : 0,
        futureEvents,
        oldestEvent: oldest ? oldest.toISOString() : null,
      },
      details: {
        period: { start: period.start.toISOString(), end: period.end.toISOString(), timeZone: period.timeZone },
        limits: { maxSilence: params.maxSilence, offHours: params.offHours ?? null, retention: params.retention },
        counts: {
          total,
          succeeded: Number(summary.succeeded),
          failed: Number(summary.failed),
          unknownOutcome: Number(summary.unknown_outcome),
          distinctUsers: Number(summary.distinct_users),
          firstEvent: summary.first_event?.toISOString() ?? null,
          lastEvent: summary.last_event?.toISOString() ?? null,
        },
        requiredActions: params.requiredActions.map((name, index) => ({ action: name, events: Number(summary[`action_${index}`]) })),
        gaps,
        gapsTruncated: truncated,
        retention: { oldestEvent: oldest?.toISOString() ?? null, retainedDays: Math.floor(retainedMs / 86_400_000) },
        futureEvents,
      },
    });
  });
}

export const logCompleteness: ControlTest<LogCompletenessParams> = {
  type: 'log-completeness',
  description: 'Audit-log completeness: no silent gaps, required events present, retention intact, no future events.',
  paramsSchema: logCompletenessParamsSchema,
  run,
};
