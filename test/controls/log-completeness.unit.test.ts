import { describe, expect, it } from 'vitest';
import type { ControlConfig } from '../../lib/config/schema.ts';
import {
  logCompleteness,
  logCompletenessParamsSchema,
  MAX_GAP_PROBES,
  WALK_ALWAYS_USERS,
  WALK_MIN_EVENTS_PER_USER,
} from '../../lib/controls/log-completeness.ts';
import { EvidenceLog } from '../../lib/controls/outcome.ts';
import type { PopulationItem, PopulationProvenance, PopulationSink } from '../../lib/controls/population.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { periodFromKey } from '../../lib/shared/period.ts';
import { runTest } from './control-harness.ts';
import { type ScriptedAnswer, scriptedPostgres } from './scripted-postgres.ts';

/**
 * The decisions log completeness draws from what PostgreSQL answered: table-shape errors, which gap
 * search runs with which parameters, and every reason, figure and warning. The SQL itself runs in
 * log-completeness.test.ts and the differential suite on real PostgreSQL.
 */
const NOW = '2026-12-01T06:00:00.000Z';

const shape = (
  overrides: Partial<Record<'timestamp' | 'user_id' | 'action' | 'success', Record<string, unknown>>> = {},
  table: Record<string, unknown> = {},
) =>
  (['timestamp', 'user_id', 'action', 'success'] as const).map((column) => ({
    relkind: 'r',
    readable: true,
    column_name: column,
    type_name: { timestamp: 'timestamptz', user_id: 'text', action: 'text', success: 'bool' }[column],
    type_kind: 'b',
    leads_index: column === 'timestamp',
    leads_user_time_index: false,
    n_distinct: null,
    reltuples: -1,
    ...table,
    ...overrides[column],
  }));

const summary = (extra: Record<string, unknown> = {}) => ({
  total: '4320',
  succeeded: '4100',
  failed: '200',
  unknown_outcome: '20',
  distinct_users: '7',
  ...extra,
});

const edges = (extra: Record<string, unknown> = {}) => ({
  first_event: new Date('2026-11-01T00:05:00Z'),
  last_event: new Date('2026-11-30T23:55:00Z'),
  oldest_event: new Date('2025-11-01T00:00:00Z'),
  future_events: '0',
  ...extra,
});

const coverage = (emptyDays = 0, firstEmpty: string[] = []) => ({
  empty_days: String(emptyDays),
  first_empty: firstEmpty,
});

const gap = (start: string, end: string, violations: number, limit = 'maxSilence', longest?: number) => {
  const seconds = (Date.parse(end) - Date.parse(start)) / 1000;
  return {
    gap_start: new Date(start),
    gap_end: new Date(end),
    seconds,
    broken_limit: limit,
    violations: String(violations),
    longest_seconds: longest ?? seconds,
  };
};

function check(
  script: Partial<Record<string, ScriptedAnswer>>,
  test: Record<string, unknown> = {},
  options: { cadence?: 'monthly' | 'annual' | 'daily'; periodKey?: string; now?: string } = {},
) {
  const postgres = scriptedPostgres({
    'table shape': shape(),
    'period summary': [summary()],
    'period edges, retention and future events': [edges()],
    'gaps (probe)': [],
    'gaps (scan)': [],
    'retention coverage (probe)': [coverage()],
    'retention coverage (scan)': [coverage()],
    ...script,
  } as Record<string, ScriptedAnswer>);
  const run = runTest({
    test: { type: 'log-completeness', target: 'app', ...test },
    cadence: options.cadence ?? 'monthly',
    periodKey: options.periodKey ?? '2026-11',
    asOf: options.now ?? NOW,
    ports: { postgres: postgres.port },
  });
  return { run, queries: postgres.queries };
}

const paramsOf = (queries: { label: string; params: readonly unknown[] }[], label: string) =>
  queries.find((query) => query.label === label)?.params;

describe('log completeness verdicts', () => {
  it('passes a period with events, no gaps, retention held and nothing in the future, with exact figures', async () => {
    const { run, queries } = check({});
    const { outcome } = await run;
    expect(outcome).toMatchObject({ verdict: 'pass', reasons: [], warnings: [] });
    expect(outcome.figures).toEqual({
      events: 4320,
      succeeded: 4100,
      failed: 200,
      distinctUsers: 7,
      gaps: 0,
      longestGapHours: 0,
      futureEvents: 0,
      oldestEvent: '2025-11-01T00:00:00.000Z',
    });
    expect(outcome.details).toMatchObject({
      period: {
        key: '2026-11',
        start: '2026-11-01T00:00:00.000Z',
        end: '2026-12-01T00:00:00.000Z',
        timeZone: 'UTC',
      },
      limits: { maxSilence: 'PT1H', offHours: null, retention: 'P365D' },
      counts: {
        total: 4320,
        succeeded: 4100,
        failed: 200,
        unknownOutcome: 20,
        distinctUsers: 7,
        firstEvent: '2026-11-01T00:05:00.000Z',
        lastEvent: '2026-11-30T23:55:00.000Z',
      },
      requiredActions: [],
      gaps: [],
      gapCount: 0,
      gapsTruncated: false,
      gapSearch: 'probe',
      userCount: 'hash',
      retention: {
        oldestEvent: '2025-11-01T00:00:00.000Z',
        retainedDays: 395,
        coverageDays: 364,
        emptyDays: 0,
        firstEmptyDays: [],
      },
      futureEvents: 0,
    });
    expect(queries.map((query) => query.target)).toEqual(['app', 'app', 'app', 'app', 'app']);
    // The retention window: from a year before the check to the period's end (before the check),
    // 364.75 days, so its 364 whole days from its first instant.
    expect(paramsOf(queries, 'retention coverage (probe)')).toEqual(['2025-12-01T06:00:00.000Z', 364]);
    expect(paramsOf(queries, 'table shape')).toEqual(['public', 'audit_log', 'timestamp', 'user_id']);
    expect(paramsOf(queries, 'period summary')).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ]);
    expect(paramsOf(queries, 'period edges, retention and future events')).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
      NOW,
    ]);
  });

  it('probes the index in slots of half the limit, passing the check instant and the limits', async () => {
    const { run, queries } = check({}, { maxSilence: 'PT2H', maxGapsReported: 7 });
    await run;
    expect(paramsOf(queries, 'gaps (probe)')).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
      3600,
      NOW,
      7200,
      7,
    ]);
  });

  it('scans in slots of the whole limit when no index leads with the timestamp, and warns about it', async () => {
    const { run, queries } = check({ 'table shape': shape({ timestamp: { leads_index: null } }) });
    const { outcome } = await run;
    expect(outcome.verdict).toBe('pass');
    expect(outcome.warnings).toEqual([
      'no btree index leads with public.audit_log.timestamp: the check scanned the table; add one to keep it fast',
    ]);
    expect(paramsOf(queries, 'gaps (scan)')?.slice(2, 5)).toEqual([3600, NOW, 3600]);
    expect(outcome.details).toMatchObject({ gapSearch: 'scan' });
  });

  it('scans instead of probing when the probes would exceed MAX_GAP_PROBES', async () => {
    // 2025 in slots of half a 253-second limit is 249,296 probes; of half 252 seconds, 250,286.
    expect(MAX_GAP_PROBES).toBe(250_000);
    const annual = { cadence: 'annual' as const, periodKey: '2025', now: '2026-01-01T06:00:00Z' };
    const probing = check({}, { maxSilence: 'PT253S' }, annual);
    await probing.run;
    expect(probing.queries.map((query) => query.label)).toContain('gaps (probe)');
    const scanning = check({}, { maxSilence: 'PT252S' }, annual);
    await scanning.run;
    expect(scanning.queries.map((query) => query.label)).toContain('gaps (scan)');
    expect(paramsOf(scanning.queries, 'gaps (scan)')?.[2]).toBe(252);
  });

  it('passes the off-hours limit, zone, business hours and days to the gap query', async () => {
    const { run, queries } = check(
      {},
      {
        offHours: { maxSilence: 'PT8H', businessStart: '09:00', businessEnd: '17:30', businessDays: [1, 3] },
      },
    );
    const { outcome } = await run;
    expect(paramsOf(queries, 'gaps (probe)')?.slice(6)).toEqual([28_800, 'UTC', '09:00', '17:30', [1, 3]]);
    expect(outcome.details).toMatchObject({
      limits: {
        offHours: { maxSilence: 'PT8H', businessStart: '09:00', businessEnd: '17:30', businessDays: [1, 3] },
      },
    });
  });

  it('fails a silent period with one reason, not a list of gaps', async () => {
    const { outcome } = await check({
      'period summary': [
        summary({ total: '0', succeeded: '0', failed: '0', unknown_outcome: '0', distinct_users: '0' }),
      ],
      'gaps (probe)': [gap('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z', 1)],
    }).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual(['no events in 2026-11: the audit log was silent for the whole period']);
    expect(outcome.figures).toMatchObject({ events: 0, gaps: 1, longestGapHours: 720 });
  });

  it('fails on gaps, naming the first five with their hours and limit, and counting the rest', async () => {
    const rows = Array.from({ length: 6 }, (_, day) =>
      gap(`2026-11-0${day + 1}T02:00:00Z`, `2026-11-0${day + 1}T03:30:00Z`, 9, 'maxSilence', 12_345),
    );
    rows[1] = { ...gap('2026-11-02T02:00:00Z', '2026-11-02T14:00:00Z', 9, 'offHours.maxSilence', 12_345) };
    const { outcome } = await check({ 'gaps (probe)': rows }, { maxGapsReported: 6 }).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'audit log silent 2026-11-01T02:00:00.000Z to 2026-11-01T03:30:00.000Z (1.5 h), over maxSilence',
      'audit log silent 2026-11-02T02:00:00.000Z to 2026-11-02T14:00:00.000Z (12.0 h), over offHours.maxSilence',
      'audit log silent 2026-11-03T02:00:00.000Z to 2026-11-03T03:30:00.000Z (1.5 h), over maxSilence',
      'audit log silent 2026-11-04T02:00:00.000Z to 2026-11-04T03:30:00.000Z (1.5 h), over maxSilence',
      'audit log silent 2026-11-05T02:00:00.000Z to 2026-11-05T03:30:00.000Z (1.5 h), over maxSilence',
      '4 more gaps over the limit (see evidence)',
    ]);
    // 12,345 s is 3.429 h, kept to two decimals.
    expect(outcome.figures).toMatchObject({ gaps: 9, longestGapHours: 3.43 });
    expect(outcome.details).toMatchObject({ gapCount: 9, gapsTruncated: true });
    expect((outcome.details as { gaps: unknown[] }).gaps[0]).toEqual({
      start: '2026-11-01T02:00:00.000Z',
      end: '2026-11-01T03:30:00.000Z',
      seconds: 5400,
      limit: 'maxSilence',
    });
  });

  it('lists exactly five gaps without a "more" line, and rounds gap seconds', async () => {
    const rows = Array.from({ length: 5 }, (_, day) => ({
      ...gap(`2026-11-1${day}T02:00:00Z`, `2026-11-1${day}T04:00:00Z`, 5),
      seconds: 7200.4,
    }));
    const { outcome } = await check({ 'gaps (probe)': rows }).run;
    expect(outcome.reasons).toHaveLength(5);
    expect(outcome.details).toMatchObject({ gapCount: 5, gapsTruncated: false });
    expect((outcome.details as { gaps: { seconds: number }[] }).gaps[0]?.seconds).toBe(7200);
  });

  it('fails when a required action never occurred, counting each action from its own parameter', async () => {
    const { run, queries } = check(
      { 'period summary': [summary({ action_0: '12', action_1: '0', action_2: '0' })] },
      { requiredActions: ['login', 'secrets_rotation', 'admin_export'] },
    );
    const { outcome } = await run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual(['no secrets_rotation, admin_export events in 2026-11']);
    expect(outcome.details).toMatchObject({
      requiredActions: [
        { action: 'login', events: 12 },
        { action: 'secrets_rotation', events: 0 },
        { action: 'admin_export', events: 0 },
      ],
    });
    expect(paramsOf(queries, 'period summary')?.slice(2)).toEqual([
      'login',
      'secrets_rotation',
      'admin_export',
    ]);
  });

  it('fails when the oldest event is younger than the retention, by days, and passes at exactly the retention', async () => {
    const young = await check({
      'period edges, retention and future events': [
        edges({ oldest_event: new Date('2026-06-01T06:00:00Z') }),
      ],
    }).run;
    expect(young.outcome.verdict).toBe('fail');
    expect(young.outcome.reasons).toEqual([
      'oldest retained event is 183 days old (2026-06-01T06:00:00.000Z), less than the P365D retention: the log may have been truncated',
    ]);
    expect(young.outcome.details).toMatchObject({ retention: { retainedDays: 183 } });

    const exact = await check({
      'period edges, retention and future events': [
        edges({ oldest_event: new Date('2025-12-01T06:00:00Z') }),
      ],
    }).run;
    expect(exact.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    const oneMsShort = await check({
      'period edges, retention and future events': [
        edges({ oldest_event: new Date('2025-12-01T06:00:00.001Z') }),
      ],
    }).run;
    expect(oneMsShort.outcome.reasons).toEqual([
      'oldest retained event is 364 days old (2025-12-01T06:00:00.001Z), less than the P365D retention: the log may have been truncated',
    ]);
  });

  it('checks the retention window for empty days once the oldest event is exactly the retention old', async () => {
    const { run, queries } = check({
      'period edges, retention and future events': [
        edges({ oldest_event: new Date('2025-12-01T06:00:00Z') }),
      ],
      'retention coverage (probe)': [coverage(2, ['2026-02-01T06:00:00.000Z', '2026-02-02T06:00:00.000Z'])],
    });
    const { outcome } = await run;
    expect(queries.map((query) => query.label)).toContain('retention coverage (probe)');
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'the P365D retention is not intact: 2 of its 364 days hold no event (from 2026-02-01T06:00:00.000Z, 2026-02-02T06:00:00.000Z): events in that window may have been deleted',
    ]);
  });

  // One old row must not stand for a whole retained year: every day of the window needs an event.
  it('fails retention when days of the window hold no event, naming up to five', async () => {
    const days = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        new Date(Date.parse('2026-03-10T06:00:00Z') + i * 86_400_000).toISOString(),
      );
    const three = await check({ 'retention coverage (probe)': [coverage(3, days(3))] }).run;
    expect(three.outcome.verdict).toBe('fail');
    expect(three.outcome.reasons).toEqual([
      'the P365D retention is not intact: 3 of its 364 days hold no event (from 2026-03-10T06:00:00.000Z, 2026-03-11T06:00:00.000Z, 2026-03-12T06:00:00.000Z): events in that window may have been deleted',
    ]);
    expect(three.outcome.details).toMatchObject({ retention: { emptyDays: 3, firstEmptyDays: days(3) } });
    const many = await check({ 'retention coverage (probe)': [coverage(300, days(5))] }).run;
    expect(many.outcome.reasons).toEqual([
      `the P365D retention is not intact: 300 of its 364 days hold no event (from ${days(5).join(', ')}, ...): events in that window may have been deleted`,
    ]);
    const five = await check({ 'retention coverage (probe)': [coverage(5, days(5))] }).run;
    expect(five.outcome.reasons[0]).toMatch(/2026-03-14T06:00:00.000Z\): events/);
  });

  it('scans for empty days without an index, and skips the window when the oldest event is too young', async () => {
    const scan = check(
      {
        'table shape': shape({ timestamp: { leads_index: false } }),
        'retention coverage (scan)': [coverage(1, ['2026-01-01T06:00:00.000Z'])],
      },
      { retention: 'P30D' },
    );
    expect((await scan.run).outcome.reasons).toEqual([
      'the P30D retention is not intact: 1 of its 29 days hold no event (from 2026-01-01T06:00:00.000Z): events in that window may have been deleted',
    ]);
    expect(paramsOf(scan.queries, 'retention coverage (scan)')).toEqual(['2026-11-01T06:00:00.000Z', 29]);
    const young = check({
      'period edges, retention and future events': [
        edges({ oldest_event: new Date('2026-06-01T06:00:00Z') }),
      ],
    });
    await young.run;
    expect(young.queries.map((query) => query.label)).not.toContain('retention coverage (probe)');
    // A retention shorter than a day has no whole day to check.
    const hours = check({}, { retention: 'PT23H' });
    expect((await hours.run).outcome.reasons).toEqual([]);
    expect(hours.queries.map((query) => query.label)).not.toContain('retention coverage (probe)');
  });

  // A backfill (a run as of an earlier date) judges the log up to the period's end, not up to the
  // check: the window keeps its start (a retention before the check) and ends at the period's end.
  it('ends the coverage window at the period end when the period ended before the check, and skips it when the retention ends first', async () => {
    const backfill = check({}, {}, { periodKey: '2026-03', now: NOW });
    expect((await backfill.run).outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    // 2025-12-01T06:00 to 2026-04-01T00:00 is 120.75 days: its 120 whole days.
    expect(paramsOf(backfill.queries, 'retention coverage (probe)')).toEqual([
      '2025-12-01T06:00:00.000Z',
      120,
    ]);
    const empty = await check(
      { 'retention coverage (probe)': [coverage(1, ['2026-03-31T06:00:00.000Z'])] },
      {},
      { periodKey: '2026-03' },
    ).run;
    expect(empty.outcome.reasons).toEqual([
      'the P365D retention is not intact: 1 of its 120 days hold no event (from 2026-03-31T06:00:00.000Z): events in that window may have been deleted',
    ]);
    expect(empty.outcome.details).toMatchObject({ retention: { coverageDays: 120, emptyDays: 1 } });
    // A period ending before the window starts (or less than a day after) leaves no whole day.
    for (const [cadence, periodKey] of [
      ['monthly', '2025-11'],
      ['daily', '2025-12-01'],
    ] as const) {
      const old = check({}, {}, { cadence, periodKey });
      const { outcome } = await old.run;
      expect(old.queries.map((query) => query.label)).not.toContain('retention coverage (probe)');
      expect(outcome.details).not.toHaveProperty('retention.emptyDays');
    }
    // A period ending after the check: the window still ends at the check.
    const current = check({}, { retention: 'P30D' }, { now: '2026-11-20T00:00:00.000Z' });
    await current.run;
    expect(paramsOf(current.queries, 'retention coverage (probe)')).toEqual(['2026-10-21T00:00:00.000Z', 30]);
  });

  it('errors when the retention coverage query returns no row', async () => {
    const { outcome } = await check({ 'retention coverage (probe)': [] }).run;
    expect(outcome).toMatchObject({
      verdict: 'error',
      reasons: ['the retention coverage query returned no row'],
    });
  });

  it('fails an empty log for retention too, saying it holds no events at all', async () => {
    const { outcome } = await check({
      'period summary': [
        summary({ total: '0', succeeded: '0', failed: '0', unknown_outcome: '0', distinct_users: '0' }),
      ],
      'period edges, retention and future events': [
        edges({ first_event: null, last_event: null, oldest_event: null }),
      ],
    }).run;
    expect(outcome.reasons).toEqual([
      'no events in 2026-11: the audit log was silent for the whole period',
      'the audit log holds no events at all',
    ]);
    expect(outcome.figures).toMatchObject({ oldestEvent: null });
    expect(outcome.details).toMatchObject({
      counts: { firstEvent: null, lastEvent: null },
      retention: { oldestEvent: null, retainedDays: 0 },
    });
  });

  it('passes a zero retention even with no event at all before the period', async () => {
    const { outcome } = await check(
      {
        'period edges, retention and future events': [edges({ oldest_event: new Date(NOW) })],
      },
      { retention: 'P0D' },
    ).run;
    expect(outcome.reasons).toEqual([]);
  });

  it('fails on events dated after the check, as clock skew or tampering', async () => {
    const { outcome } = await check({
      'period edges, retention and future events': [edges({ future_events: '3' })],
    }).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      `3 events are dated after ${NOW}, the time of the check (clock skew or tampering)`,
    ]);
    expect(outcome.figures).toMatchObject({ futureEvents: 3 });
  });

  it.each([
    [[], 'table public.audit_log does not exist'],
    [shape({}, { readable: false }), 'table public.audit_log is not readable (no SELECT privilege)'],
    [
      shape().filter((row) => row.column_name !== 'success'),
      'column public.audit_log.success does not exist',
    ],
    [shape({ action: { type_name: null } }), 'column public.audit_log.action does not exist'],
    [
      shape({ timestamp: { type_name: 'date' } }),
      'column public.audit_log.timestamp is date, expected timestamptz or timestamp',
    ],
    [
      shape({ action: { type_name: 'int4' } }),
      'column public.audit_log.action is int4, expected text or an enum',
    ],
    [shape({ success: { type_name: 'text' } }), 'column public.audit_log.success is text, expected boolean'],
    [
      shape().filter((row) => row.column_name !== 'user_id'),
      'column public.audit_log.user_id does not exist',
    ],
  ])('errors before reading data when the table shape is wrong (%#)', async (rows, reason) => {
    const { run, queries } = check({ 'table shape': rows });
    const { outcome } = await run;
    expect(outcome).toMatchObject({ verdict: 'error', reasons: [reason] });
    expect(queries.map((query) => query.label)).toEqual(['table shape']);
  });

  it.each([['varchar'], ['bpchar'], ['name'], ['citext']])('accepts a %s action column', async (type) => {
    const { outcome } = await check({ 'table shape': shape({ action: { type_name: type } }) }).run;
    expect(outcome.verdict).toBe('pass');
  });

  it('accepts an enum action column and a naive timestamp column', async () => {
    const { outcome } = await check({
      'table shape': shape({
        action: { type_name: 'audit_action', type_kind: 'e' },
        timestamp: { type_name: 'timestamp' },
      }),
    }).run;
    expect(outcome.verdict).toBe('pass');
  });

  it('reads the configured schema, table and columns', async () => {
    const renamed = (['timestamp', 'user_id', 'action', 'success'] as const).map((role, index) => ({
      ...shape()[index],
      column_name: { timestamp: 'at', user_id: 'who', action: 'what', success: 'ok' }[role],
    }));
    const { run, queries } = check(
      { 'table shape': renamed },
      {
        schema: 'audit',
        table: 'events',
        columns: { timestamp: 'at', userId: 'who', action: 'what', success: 'ok' },
      },
    );
    const { outcome } = await run;
    expect(outcome.verdict).toBe('pass');
    expect(paramsOf(queries, 'table shape')).toEqual(['audit', 'events', 'at', 'who']);
  });

  it('errors when the summary or edges query returns no row', async () => {
    expect((await check({ 'period summary': [] }).run).outcome).toMatchObject({
      verdict: 'error',
      reasons: ['the summary query returned no row'],
    });
    expect((await check({ 'period edges, retention and future events': [] }).run).outcome).toMatchObject({
      verdict: 'error',
      reasons: ['the edges query returned no row'],
    });
  });
});
describe('how distinct users are counted', () => {
  /** A table shape whose user column leads a walkable (user, timestamp) index, with statistics. */
  const walkable = (nDistinct: number | null, reltuples = 100_000) =>
    shape({ user_id: { leads_user_time_index: true, n_distinct: nDistinct, reltuples } });
  const counts = (extra: Record<string, unknown> = {}) => ({
    total: '9000',
    succeeded: '8000',
    failed: '700',
    unknown_outcome: '300',
    ...extra,
  });
  const walked = (users: string, complete: boolean | null = true) => [{ distinct_users: users, complete }];
  const plan = (rows: number) => [
    { 'QUERY PLAN': [{ Plan: { 'Node Type': 'Index Only Scan', 'Plan Rows': rows } }] },
  ];
  const labels = (queries: { label: string }[]) => queries.map((query) => query.label);
  const RANGE = ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'];

  it('walks the index for a small user population: every count from the plain aggregate, users from the walk', async () => {
    expect(WALK_ALWAYS_USERS).toBe(1000);
    const { run, queries } = check(
      {
        'table shape': walkable(WALK_ALWAYS_USERS),
        'period counts': [counts({ action_0: '5' })],
        'distinct users (index walk)': walked('42'),
      },
      { requiredActions: ['login'] },
    );
    const { outcome } = await run;
    expect(labels(queries)).not.toContain('period summary');
    expect(labels(queries)).not.toContain('period size estimate');
    expect(labels(queries)).not.toContain('distinct users (hash)');
    expect(outcome.figures).toMatchObject({ events: 9000, succeeded: 8000, failed: 700, distinctUsers: 42 });
    expect(outcome.details).toMatchObject({
      userCount: 'index walk',
      counts: { total: 9000, succeeded: 8000, failed: 700, unknownOutcome: 300, distinctUsers: 42 },
      requiredActions: [{ action: 'login', events: 5 }],
    });
    expect(paramsOf(queries, 'period counts')).toEqual([...RANGE, 'login']);
    // The walk stops after twice the estimated users plus WALK_ALWAYS_USERS steps.
    expect(paramsOf(queries, 'distinct users (index walk)')).toEqual([...RANGE, 3 * WALK_ALWAYS_USERS]);
  });

  it('asks the planner how many events the period holds once the table has more users, and walks at 500 per user', async () => {
    expect(WALK_MIN_EVENTS_PER_USER).toBe(500);
    const users = WALK_ALWAYS_USERS + 1;
    const enough = check({
      'table shape': walkable(users),
      'period size estimate': plan(users * WALK_MIN_EVENTS_PER_USER),
      'period counts': [counts()],
      'distinct users (index walk)': walked('900'),
    });
    const walkedRun = await enough.run;
    expect(walkedRun.outcome.details).toMatchObject({ userCount: 'index walk' });
    expect(walkedRun.outcome.figures).toMatchObject({ distinctUsers: 900 });
    expect(paramsOf(enough.queries, 'period size estimate')).toEqual(RANGE);
    expect(paramsOf(enough.queries, 'distinct users (index walk)')).toEqual([
      ...RANGE,
      2 * users + WALK_ALWAYS_USERS,
    ]);

    const tooFew = check({
      'table shape': walkable(users),
      'period size estimate': plan(users * WALK_MIN_EVENTS_PER_USER - 1),
    });
    const hashedRun = await tooFew.run;
    expect(labels(tooFew.queries)).toContain('period summary');
    expect(labels(tooFew.queries)).not.toContain('period counts');
    expect(hashedRun.outcome.details).toMatchObject({ userCount: 'hash' });
    expect(hashedRun.outcome.figures).toMatchObject({ distinctUsers: 7 });
  });

  it('reads a negative n_distinct as a fraction of the rows', async () => {
    // -0.02 of 100,000 rows is 2,000 users: more than WALK_ALWAYS_USERS, so the planner is asked.
    const { run, queries } = check({
      'table shape': walkable(-0.02, 100_000),
      'period size estimate': plan(2000 * WALK_MIN_EVENTS_PER_USER),
      'period counts': [counts()],
      'distinct users (index walk)': walked('3'),
    });
    const { outcome } = await run;
    expect(outcome.details).toMatchObject({ userCount: 'index walk' });
    expect(paramsOf(queries, 'distinct users (index walk)')?.[2]).toBe(2 * 2000 + WALK_ALWAYS_USERS);
    // -0.01 of 100,000 rows is 1,000 users: walked without asking the planner.
    const small = check({
      'table shape': walkable(-0.01, 100_000),
      'period counts': [counts()],
      'distinct users (index walk)': walked('3'),
    });
    await small.run;
    expect(labels(small.queries)).not.toContain('period size estimate');
    expect(paramsOf(small.queries, 'distinct users (index walk)')?.[2]).toBe(3 * WALK_ALWAYS_USERS);
  });

  it('hashes when the table has no statistics, no row estimate, or no walkable index on the user column', async () => {
    for (const tableShape of [
      walkable(null),
      walkable(-0.5, -1),
      shape({ user_id: { leads_user_time_index: false, n_distinct: 5, reltuples: 100 } }),
      // The flag belongs to the user column; another column's is not the user index.
      shape({ timestamp: { leads_user_time_index: true }, user_id: { n_distinct: 5, reltuples: 100 } }),
    ]) {
      const { run, queries } = check({ 'table shape': tableShape });
      const { outcome } = await run;
      expect(labels(queries)).toEqual([
        'table shape',
        'period summary',
        'period edges, retention and future events',
        'gaps (probe)',
        'retention coverage (probe)',
      ]);
      expect(outcome.details).toMatchObject({ userCount: 'hash', counts: { distinctUsers: 7 } });
    }
  });

  it('walks an empty or all-NULL user population (n_distinct 0)', async () => {
    const { run } = check({
      'table shape': walkable(0),
      'period counts': [counts()],
      'distinct users (index walk)': walked('0'),
    });
    expect((await run).outcome.details).toMatchObject({
      userCount: 'index walk',
      counts: { distinctUsers: 0 },
    });
  });

  it('reads n_distinct 0 as no users, with or without a row estimate, and a fraction of 0 rows as 0 users', async () => {
    for (const tableShape of [walkable(0, -1), walkable(-0.5, 0)]) {
      const { run, queries } = check({
        'table shape': tableShape,
        'period counts': [counts()],
        'distinct users (index walk)': walked('0'),
      });
      expect((await run).outcome.details).toMatchObject({ userCount: 'index walk' });
      expect(paramsOf(queries, 'distinct users (index walk)')?.[2]).toBe(WALK_ALWAYS_USERS);
    }
  });

  it('hashes when the planner answer has no row estimate', async () => {
    for (const answer of [
      [{ 'QUERY PLAN': 'not json' }],
      [{ 'QUERY PLAN': '[{"Plan": {}}]' }],
      [{ 'QUERY PLAN': [] }],
      [],
    ]) {
      const { run } = check({ 'table shape': walkable(5000), 'period size estimate': answer });
      expect((await run).outcome.details).toMatchObject({ userCount: 'hash' });
    }
    // The estimate as JSON text (a driver without the json type parser) is read too.
    const text = check({
      'table shape': walkable(5000),
      'period size estimate': [
        { 'QUERY PLAN': JSON.stringify(plan(5000 * WALK_MIN_EVENTS_PER_USER)[0]?.['QUERY PLAN']) },
      ],
      'period counts': [counts()],
      'distinct users (index walk)': walked('5000'),
    });
    expect((await text.run).outcome.details).toMatchObject({ userCount: 'index walk' });
  });

  it('counts users by hash when the walk stops before the end (statistics older than the users)', async () => {
    for (const complete of [false, null]) {
      const { run, queries } = check({
        'table shape': walkable(10),
        'period counts': [counts()],
        'distinct users (index walk)': walked('1020', complete),
        'distinct users (hash)': [{ distinct_users: '4711' }],
      });
      const { outcome } = await run;
      expect(outcome.figures).toMatchObject({ events: 9000, distinctUsers: 4711 });
      expect(outcome.details).toMatchObject({ userCount: 'hash' });
      expect(paramsOf(queries, 'distinct users (hash)')).toEqual(RANGE);
      expect(labels(queries)).not.toContain('period summary');
    }
  });

  it('is an error, not a pass, when a count query returns no row', async () => {
    const base = {
      'table shape': walkable(10),
      'period counts': [counts()],
      'distinct users (index walk)': walked('1', false),
      'distinct users (hash)': [{ distinct_users: '1' }],
    };
    for (const [label, message] of [
      ['period counts', 'the counts query returned no row'],
      ['distinct users (index walk)', 'the user walk returned no row'],
      ['distinct users (hash)', 'the distinct users query returned no row'],
    ] as const) {
      const { outcome } = await check({ ...base, [label]: [] }).run;
      expect(outcome.verdict).toBe('error');
      expect(outcome.reasons.join(' ')).toContain(message);
    }
    const summaryless = await check({ 'period summary': [] }).run;
    expect(summaryless.outcome.verdict).toBe('error');
    expect(summaryless.outcome.reasons.join(' ')).toContain('the summary query returned no row');
  });
});

describe('the required-action events population', () => {
  /** The scripted session, with a population stream and a database identity added. */
  function withPopulation(rows: Record<string, unknown>[]) {
    const scripted = scriptedPostgres({
      'table shape': shape(),
      'period summary': [summary({ action_0: '2' })],
      'period edges, retention and future events': [edges()],
      'gaps (probe)': [],
      'retention coverage (probe)': [coverage()],
    });
    const streamed: { label: string; params: readonly unknown[] }[] = [];
    const port: PostgresPort = {
      withReadOnlySession: (target, evidence, work) =>
        scripted.port.withReadOnlySession(target, evidence, (session) =>
          work({
            ...session,
            async *stream<Row extends Record<string, unknown>>(
              label: string,
              _text: string,
              params: readonly unknown[] = [],
            ) {
              streamed.push({ label, params });
              for (const row of rows) yield row as Row;
            },
            identity: async () => ({ systemIdentifier: '7', serverVersion: '18.4', databaseName: 'app' }),
          }),
        ),
    };
    const written: { name: string; provenance: PopulationProvenance; items: PopulationItem[] }[] = [];
    const sink: PopulationSink = {
      async write(declaration, provenance, items) {
        const list: PopulationItem[] = [];
        for await (const item of items) list.push(item);
        const resolved = typeof provenance === 'function' ? provenance() : provenance;
        written.push({ name: declaration.name, provenance: resolved, items: list });
        return { name: declaration.name } as never;
      },
    };
    return { port, sink, streamed, written };
  }

  async function runWith(requiredActions: string[], rows: Record<string, unknown>[]) {
    const fixture = withPopulation(rows);
    const params = logCompletenessParamsSchema.parse({
      type: 'log-completeness',
      target: 'app',
      requiredActions,
    });
    const period = periodFromKey('monthly', '2026-11', 'UTC');
    const outcome = await logCompleteness.run(params, {
      control: {
        id: 'c',
        title: 'c',
        criteria: ['CC4.1'],
        cadence: 'monthly',
        owner: 'o',
        test: params,
      } as ControlConfig,
      period,
      asOf: new Date(NOW),
      now: new Date(NOW),
      ports: { postgres: fixture.port },
      evidence: new EvidenceLog(),
      populations: fixture.sink,
    });
    return { outcome, ...fixture };
  }

  it('streams every required-action event of the period into the population, item by item', async () => {
    const row = {
      id: 'login|2026-11-02T08:00:00.000000Z|u1|res-1|1',
      action: 'login',
      at: '2026-11-02T08:00:00.000000Z',
      user_id: 'u1',
      resource_id: 'res-1',
      success: false,
    };
    const { outcome, streamed, written } = await runWith(
      ['login'],
      [row, { ...row, id: 'x', user_id: null }],
    );
    expect(outcome.verdict).toBe('pass');
    expect(streamed).toEqual([
      {
        label: 'population required-action-events',
        params: ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', ['login']],
      },
    ]);
    expect(written).toHaveLength(1);
    expect(written[0]?.name).toBe('required-action-events');
    expect(written[0]?.provenance).toMatchObject({
      source: 'sql',
      target: 'app',
      database: { databaseName: 'app' },
    });
    expect(written[0]?.items).toEqual([
      {
        id: row.id,
        action: 'login',
        at: row.at,
        userId: 'u1',
        resourceId: 'res-1',
        success: false,
      },
      { id: 'x', action: 'login', at: row.at, userId: null, resourceId: 'res-1', success: false },
    ]);
  });

  it('writes no population when no action is required', async () => {
    const { streamed, written } = await runWith([], []);
    expect(streamed).toEqual([]);
    expect(written).toEqual([]);
  });
});

describe('log completeness parameters', () => {
  const parse = (extra: Record<string, unknown>) =>
    logCompletenessParamsSchema.safeParse({ type: 'log-completeness', target: 'app', ...extra });

  it('documents its defaults', () => {
    const parsed = parse({ offHours: { maxSilence: 'PT8H' } });
    expect(parsed.data).toEqual({
      type: 'log-completeness',
      target: 'app',
      schema: 'public',
      table: 'audit_log',
      columns: {
        timestamp: 'timestamp',
        userId: 'user_id',
        action: 'action',
        resourceId: 'resource_id',
        success: 'success',
      },
      maxSilence: 'PT1H',
      offHours: {
        maxSilence: 'PT8H',
        businessStart: '08:00',
        businessEnd: '18:00',
        businessDays: [1, 2, 3, 4, 5],
      },
      requiredActions: [],
      retention: 'P365D',
      maxGapsReported: 1000,
    });
    expect(parse({ columns: { timestamp: 'at' } }).data?.columns).toEqual({
      timestamp: 'at',
      userId: 'user_id',
      action: 'action',
      resourceId: 'resource_id',
      success: 'success',
    });
  });

  it.each(['00:00', '23:59', '19:05'])('accepts the time of day %s', (time) => {
    expect(
      parse({ offHours: { maxSilence: 'PT8H', businessStart: time, businessEnd: '23:59' } }).success,
    ).toBe(time !== '23:59');
  });

  it.each(['24:00', '7:00', '07:60', 'x07:00', '07:00x'])('rejects the time of day %s', (time) => {
    const result = parse({ offHours: { maxSilence: 'PT8H', businessStart: time } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('expected a time of day as HH:MM');
  });

  it('rejects business hours that end before or when they start', () => {
    const result = parse({ offHours: { maxSilence: 'PT8H', businessStart: '18:00', businessEnd: '18:00' } });
    expect(result.error?.issues).toMatchObject([
      { message: 'expected businessEnd after businessStart', path: ['offHours', 'businessEnd'] },
    ]);
  });

  it('rejects an off-hours limit tighter than maxSilence, and accepts an equal one', () => {
    const result = parse({ maxSilence: 'PT2H', offHours: { maxSilence: 'PT1H' } });
    expect(result.error?.issues).toMatchObject([
      {
        message: 'expected offHours.maxSilence to be at least maxSilence (it is the looser limit)',
        path: ['offHours', 'maxSilence'],
      },
    ]);
    expect(parse({ maxSilence: 'PT2H', offHours: { maxSilence: 'PT2H' } }).success).toBe(true);
  });

  it('bounds business days, required actions and the gap list', () => {
    expect(parse({ offHours: { maxSilence: 'PT8H', businessDays: [0] } }).success).toBe(false);
    expect(parse({ offHours: { maxSilence: 'PT8H', businessDays: [8] } }).success).toBe(false);
    expect(parse({ offHours: { maxSilence: 'PT8H', businessDays: [] } }).success).toBe(false);
    expect(parse({ offHours: { maxSilence: 'PT8H', businessDays: [1, 7] } }).success).toBe(true);
    expect(parse({ requiredActions: [''] }).success).toBe(false);
    expect(parse({ requiredActions: ['x'.repeat(201)] }).success).toBe(false);
    expect(parse({ requiredActions: ['x'.repeat(200)] }).success).toBe(true);
    expect(parse({ maxGapsReported: 0 }).success).toBe(false);
    expect(parse({ maxGapsReported: 100_001 }).success).toBe(false);
    expect(parse({ maxGapsReported: 100_000 }).success).toBe(true);
  });
});
