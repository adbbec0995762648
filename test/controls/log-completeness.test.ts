import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import type { LogGap } from '../../lib/controls/log-completeness.ts';
import { ControlCheckError, EvidenceLog } from '../../lib/controls/outcome.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { type HarnessRun, runTest } from './control-harness.ts';

/**
 * Fixtures: November 2026 with an event every 10 minutes from 00:05 to 23:55 UTC (4,320 events,
 * 7 users, every 25th attempt failed, actions cycling through six values), plus one event a year
 * earlier and one every day at noon since (to 30 October) so the 365-day retention holds, and the
 * log's neighbourhood: events every 10 minutes on
 * 31 October from 23:05 and on 1 December until 05:55, so the silences at the period's edges are
 * bounded by real events. Each test changes one thing in a table of its own.
 */
const NOW = new Date('2026-12-01T06:00:00Z');
const EVENTS_IN_NOVEMBER = 4320;
const FAILED_IN_NOVEMBER = Math.floor(EVENTS_IN_NOVEMBER / 25);
/** 6 on 31 October (23:05-23:55), 36 on 1 December (00:05-05:55). */
const NEIGHBOUR_EVENTS = 42;
/** One at noon every day from 2 November 2025 to 30 October 2026, after the year-old event. */
const RETENTION_EVENTS = 363;

let env: TestEnvironment;
let url: string;
let port: PostgresPort;

interface TableOptions {
  /** `timestamptz` or naive `timestamp` (values written as UTC). @default 'timestamptz' */
  readonly type?: 'timestamptz' | 'timestamp';
  /** @default true */
  readonly index?: boolean;
  /** @default 'public' */
  readonly schema?: string;
  readonly columns?: { timestamp: string; userId: string; action: string; success: string };
  /** Deletes events in these UTC ranges [from, to) to make silences. */
  readonly silences?: readonly (readonly [string, string])[];
  /** SQL run after the fill, with `$table` replaced by the qualified table name. */
  readonly afterFill?: string;
  /** @default '2025-11-01T00:00:00Z' */
  readonly oldestEvent?: string | null;
}

async function auditLog(name: string, options: TableOptions = {}): Promise<void> {
  const schema = options.schema ?? 'public';
  const table = `${schema}.${name}`;
  const c = options.columns ?? {
    timestamp: '"timestamp"',
    userId: 'user_id',
    action: 'action',
    success: 'success',
  };
  const type = options.type ?? 'timestamptz';
  const value = (instant: string) => (type === 'timestamp' ? `(${instant} AT TIME ZONE 'UTC')` : instant);
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    `CREATE TABLE ${table} (id bigserial PRIMARY KEY, ${c.timestamp} ${type} NOT NULL, ${c.userId} text NOT NULL,
       ${c.action} text NOT NULL, resource_id text, ${c.success} boolean)`,
    `INSERT INTO ${table} (${c.timestamp}, ${c.userId}, ${c.action}, resource_id, ${c.success})
     SELECT ${value('ts')}, 'u' || (n % 7), (ARRAY['login','read','update','secrets_rotation','admin_export','read'])[1 + n % 6],
            'res-' || n, n % 25 <> 0
       FROM (SELECT ts, row_number() OVER (ORDER BY ts) AS n
               FROM generate_series('2026-11-01T00:05:00Z'::timestamptz, '2026-11-30T23:55:00Z'::timestamptz, interval '10 minutes') AS ts) AS events`,
    `INSERT INTO ${table} (${c.timestamp}, ${c.userId}, ${c.action}, ${c.success})
     SELECT ${value('ts')}, 'u0', 'read', true
       FROM generate_series('2026-10-31T23:05:00Z'::timestamptz, '2026-12-01T05:55:00Z'::timestamptz, interval '10 minutes') AS ts
      WHERE ts < '2026-11-01T00:00:00Z' OR ts >= '2026-12-01T00:00:00Z'`,
    ...(options.oldestEvent === null
      ? []
      : [
          `INSERT INTO ${table} (${c.timestamp}, ${c.userId}, ${c.action}, ${c.success})
           VALUES (${value(`'${options.oldestEvent ?? '2025-11-01T00:00:00Z'}'::timestamptz`)}, 'u0', 'login', true)`,
          // The retention window holds an event every day (at noon) up to the neighbourhood.
          `INSERT INTO ${table} (${c.timestamp}, ${c.userId}, ${c.action}, ${c.success})
           SELECT ${value('ts')}, 'u0', 'read', true
             FROM generate_series(date_trunc('day', '${options.oldestEvent ?? '2025-11-01T00:00:00Z'}'::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day 12 hours',
                                  '2026-10-30T12:00:00Z'::timestamptz, interval '1 day') AS ts`,
        ]),
    ...(options.silences ?? []).map(
      ([from, to]) =>
        `DELETE FROM ${table} WHERE ${c.timestamp} >= ${value(`'${from}'::timestamptz`)} AND ${c.timestamp} < ${value(`'${to}'::timestamptz`)}`,
    ),
    ...(options.index === false ? [] : [`CREATE INDEX ON ${table} (${c.timestamp})`]),
    ...(options.afterFill ? [options.afterFill.replaceAll('$table', table)] : []),
    `ANALYZE ${table}`,
  ];
  for (const statement of statements) await env.sql(url, statement);
}

async function check(
  test: Record<string, unknown>,
  options: { periodKey?: string; timeZone?: string; now?: Date; ports?: { postgres: PostgresPort } } = {},
): Promise<HarnessRun> {
  return runTest({
    test: { type: 'log-completeness', target: 'app', ...test },
    cadence: 'monthly',
    periodKey: options.periodKey ?? '2026-11',
    asOf: NOW,
    now: options.now ?? NOW,
    timeZone: options.timeZone ?? 'UTC',
    ports: options.ports ?? { postgres: port },
  });
}

function details(run: HarnessRun) {
  return run.outcome.details as {
    gaps: LogGap[];
    gapCount: number;
    gapsTruncated: boolean;
    gapSearch: 'probe' | 'scan';
    counts: Record<string, number | string | null>;
    requiredActions: { action: string; events: number }[];
  };
}

function portFor(connectionUrl: string, statementTimeoutMs = 30_000): PostgresPort {
  return makePostgresPort(
    [{ name: 'app', connection: { env: 'APP_DATABASE_URL' }, statementTimeoutMs }],
    envConnectionResolver({ APP_DATABASE_URL: connectionUrl }),
    { connectTimeoutMs: 2_000 },
  );
}

beforeAll(async () => {
  env = await startTestEnvironment();
  url = await env.createDatabase('log_completeness');
  port = portFor(url);
});

afterAll(async () => {
  await env?.stop();
});

describe('log completeness on a complete month', () => {
  it('passes with exact counts, distinct users and required actions', async () => {
    await auditLog('complete');
    const run = await check({
      table: 'complete',
      requiredActions: ['login', 'secrets_rotation', 'admin_export'],
    });
    expect(run.outcome.reasons).toEqual([]);
    expect(run.outcome.verdict).toBe('pass');
    expect(run.outcome.figures).toMatchObject({
      events: EVENTS_IN_NOVEMBER,
      succeeded: EVENTS_IN_NOVEMBER - FAILED_IN_NOVEMBER,
      failed: FAILED_IN_NOVEMBER,
      distinctUsers: 7,
      gaps: 0,
      futureEvents: 0,
      oldestEvent: '2025-11-01T00:00:00.000Z',
    });
    expect(details(run).counts).toMatchObject({
      firstEvent: '2026-11-01T00:05:00.000Z',
      lastEvent: '2026-11-30T23:55:00.000Z',
      unknownOutcome: 0,
    });
    expect(details(run).requiredActions).toEqual([
      { action: 'login', events: EVENTS_IN_NOVEMBER / 6 },
      { action: 'secrets_rotation', events: EVENTS_IN_NOVEMBER / 6 },
      { action: 'admin_export', events: EVENTS_IN_NOVEMBER / 6 },
    ]);
    expect(details(run).gapSearch).toBe('probe');
    expect(run.outcome.warnings).toEqual([]);
  });

  it('records every query with its bound parameters as evidence, never values spliced into SQL', async () => {
    const run = await check({ table: 'complete', requiredActions: ["login'; DROP TABLE complete; --"] });
    expect(run.outcome.verdict).toBe('fail');
    expect(run.outcome.reasons).toEqual([`no login'; DROP TABLE complete; -- events in 2026-11`]);
    const sql = run.evidence.entries.filter((entry) => entry.kind === 'sql');
    expect(sql.map((entry) => entry.label)).toEqual([
      'table shape',
      'period summary',
      'period edges, retention and future events',
      'gaps (probe)',
      'retention coverage (probe)',
    ]);
    for (const entry of sql) expect(entry.text).not.toContain('DROP TABLE');
    expect(sql[1]?.params).toEqual([
      '2026-11-01T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
      "login'; DROP TABLE complete; --",
    ]);
    const [count] = (await env.sql(url, 'SELECT count(*)::int AS n FROM complete')).rows;
    expect(count.n).toBe(EVENTS_IN_NOVEMBER + NEIGHBOUR_EVENTS + RETENTION_EVENTS + 1);
  });
});

const VARIANTS = [
  { name: 'timestamptz, indexed', type: 'timestamptz', index: true, search: 'probe' },
  { name: 'timestamptz, no index', type: 'timestamptz', index: false, search: 'scan' },
  { name: 'naive timestamp, indexed', type: 'timestamp', index: true, search: 'probe' },
  { name: 'naive timestamp, no index', type: 'timestamp', index: false, search: 'scan' },
] as const;

describe.each(VARIANTS)('gaps ($name)', ({ type, index, search }) => {
  const suffix = `${type}_${index ? 'indexed' : 'unindexed'}`;

  it('fails the period when the audit log is silent for 3 hours', async () => {
    // Events at 10:05 ... 12:45 removed: the last before is 09:55, the next 12:55.
    await auditLog(`three_hours_${suffix}`, {
      type,
      index,
      silences: [['2026-11-10T10:00:00Z', '2026-11-10T12:50:00Z']],
    });
    const run = await check({ table: `three_hours_${suffix}` });
    expect(run.outcome.verdict).toBe('fail');
    expect(details(run).gaps).toEqual([
      {
        start: '2026-11-10T09:55:00.000Z',
        end: '2026-11-10T12:55:00.000Z',
        seconds: 10_800,
        limit: 'maxSilence',
      },
    ]);
    expect(run.outcome.reasons).toEqual([
      'audit log silent 2026-11-10T09:55:00.000Z to 2026-11-10T12:55:00.000Z (3.0 h), over maxSilence',
    ]);
    expect(run.outcome.figures).toMatchObject({ gaps: 1, longestGapHours: 3 });
    expect(details(run).gapSearch).toBe(search);
    expect(run.outcome.warnings).toHaveLength(index ? 0 : 1);
  });

  it('measures silence at the edges from the last event before the period and the first after it', async () => {
    await auditLog(`edges_${suffix}`, {
      type,
      index,
      silences: [
        ['2026-11-01T00:00:00Z', '2026-11-01T01:30:00Z'],
        ['2026-11-30T22:00:00Z', '2026-12-01T00:00:00Z'],
      ],
    });
    const run = await check({ table: `edges_${suffix}` });
    expect(details(run).gaps).toEqual([
      {
        start: '2026-10-31T23:55:00.000Z',
        end: '2026-11-01T01:35:00.000Z',
        seconds: 6000,
        limit: 'maxSilence',
      },
      {
        start: '2026-11-30T21:55:00.000Z',
        end: '2026-12-01T00:05:00.000Z',
        seconds: 7800,
        limit: 'maxSilence',
      },
    ]);
  });

  it('does not report a silence of exactly the limit, and ends the last silence at the first event after the period', async () => {
    // 09:55 -> 10:55 is exactly one hour; the event at the period's end closes the final silence.
    await auditLog(`exact_${suffix}`, {
      type,
      index,
      silences: [
        ['2026-11-15T10:00:00Z', '2026-11-15T10:50:00Z'],
        ['2026-11-30T21:00:00Z', '2026-12-01T00:00:00Z'],
      ],
      afterFill: `INSERT INTO $table ("timestamp", user_id, action, success) VALUES ('2026-12-01T00:00:00Z', 'u1', 'login', true)`,
    });
    const run = await check({ table: `exact_${suffix}` });
    expect(details(run).gaps).toEqual([
      {
        start: '2026-11-30T20:55:00.000Z',
        end: '2026-12-01T00:00:00.000Z',
        seconds: 11_100,
        limit: 'maxSilence',
      },
    ]);
  });

  it('reports a silence crossing the period start whole, in both periods', async () => {
    // 23:15 on 31 October to 00:55 on 1 November: 100 minutes, only 55 of them in November.
    await auditLog(`across_start_${suffix}`, {
      type,
      index,
      silences: [['2026-10-31T23:20:00Z', '2026-11-01T00:50:00Z']],
      afterFill: `INSERT INTO $table ("timestamp", user_id, action, success)
                  SELECT ${type === 'timestamp' ? "ts AT TIME ZONE 'UTC'" : 'ts'}, 'u1', 'login', true
                    FROM generate_series('2026-10-01T00:05:00Z'::timestamptz, '2026-10-31T23:15:00Z'::timestamptz, interval '10 minutes') AS ts`,
    });
    const whole = {
      start: '2026-10-31T23:15:00.000Z',
      end: '2026-11-01T00:55:00.000Z',
      seconds: 6000,
      limit: 'maxSilence',
    };
    const november = await check({ table: `across_start_${suffix}` });
    expect(november.outcome.verdict).toBe('fail');
    expect(details(november).gaps).toEqual([whole]);
    const october = await check({ table: `across_start_${suffix}` }, { periodKey: '2026-10' });
    expect(october.outcome.verdict).toBe('fail');
    // October also opens inside the silence since the year-old event; the crossing one is whole.
    expect(details(october).gaps.at(-1)).toEqual(whole);
  });

  it('reports a silence crossing the period end whole', async () => {
    await auditLog(`across_end_${suffix}`, {
      type,
      index,
      silences: [['2026-11-30T23:20:00Z', '2026-12-01T00:50:00Z']],
    });
    const run = await check({ table: `across_end_${suffix}` });
    expect(run.outcome.verdict).toBe('fail');
    expect(details(run).gaps).toEqual([
      {
        start: '2026-11-30T23:15:00.000Z',
        end: '2026-12-01T00:55:00.000Z',
        seconds: 6000,
        limit: 'maxSilence',
      },
    ]);
  });

  it('measures a silence that is still going on to the time of the check', async () => {
    await auditLog(`ongoing_${suffix}`, {
      type,
      index,
      silences: [['2026-11-30T23:30:00Z', '2026-12-02T00:00:00Z']],
    });
    const run = await check({ table: `ongoing_${suffix}` });
    expect(run.outcome.verdict).toBe('fail');
    expect(details(run).gaps).toEqual([
      {
        start: '2026-11-30T23:25:00.000Z',
        end: '2026-12-01T06:00:00.000Z',
        seconds: 23_700,
        limit: 'maxSilence',
      },
    ]);
  });

  it('lists at most maxGapsReported gaps but counts all of them', async () => {
    // With a 1-second limit every interval is a gap: one more than the 4,303 events left.
    const run = await check({ table: `three_hours_${suffix}`, maxSilence: 'PT1S', maxGapsReported: 10 });
    expect(details(run).gaps).toHaveLength(10);
    expect(details(run).gapCount).toBe(EVENTS_IN_NOVEMBER - 17 + 1);
    expect(details(run).gapsTruncated).toBe(true);
    expect(run.outcome.figures.gaps).toBe(EVENTS_IN_NOVEMBER - 17 + 1);
    expect(run.outcome.reasons.at(-1)).toBe(
      `${EVENTS_IN_NOVEMBER - 17 + 1 - 5} more gaps over the limit (see evidence)`,
    );
    // A month of half-second slots is more probes than a scan costs, so even an indexed table is scanned.
    expect(details(run).gapSearch).toBe('scan');
  });
});

describe('off-hours limit', () => {
  const offHours = { maxSilence: 'PT8H', businessStart: '08:00', businessEnd: '18:00' };

  it('tolerates a 7-hour night gap and a weekend afternoon gap but fails a 2-hour business-hours gap', async () => {
    await auditLog('off_hours', {
      silences: [
        ['2026-11-11T22:00:00Z', '2026-11-12T05:00:00Z'], // Wednesday night, 7 h 10 min
        ['2026-11-14T10:00:00Z', '2026-11-14T14:00:00Z'], // Saturday, 4 h 10 min
        ['2026-11-12T09:00:00Z', '2026-11-12T11:00:00Z'], // Thursday morning, 2 h 10 min
      ],
    });
    const run = await check({ table: 'off_hours', offHours });
    expect(details(run).gaps).toEqual([
      {
        start: '2026-11-12T08:55:00.000Z',
        end: '2026-11-12T11:05:00.000Z',
        seconds: 7800,
        limit: 'maxSilence',
      },
    ]);
    expect(run.outcome.verdict).toBe('fail');
  });

  it('fails a night gap that is longer than the off-hours limit', async () => {
    await auditLog('long_night', { silences: [['2026-11-11T20:00:00Z', '2026-11-12T05:00:00Z']] });
    const run = await check({ table: 'long_night', offHours });
    expect(details(run).gaps).toEqual([
      {
        start: '2026-11-11T19:55:00.000Z',
        end: '2026-11-12T05:05:00.000Z',
        seconds: 33_000,
        limit: 'offHours.maxSilence',
      },
    ]);
  });

  it('fails a gap that only touches business hours at its end', async () => {
    await auditLog('into_morning', { silences: [['2026-11-12T05:00:00Z', '2026-11-12T08:30:00Z']] });
    const run = await check({ table: 'into_morning', offHours });
    expect(details(run).gaps.map((gap) => gap.limit)).toEqual(['maxSilence']);
  });

  it('reads business hours in the configured time zone', async () => {
    // 03:00-06:00 UTC on a Thursday is night in New York (22:00-01:00 EST) but midday in Tokyo.
    await auditLog('zones', { silences: [['2026-11-12T03:00:00Z', '2026-11-12T06:00:00Z']] });
    const newYork = await check({ table: 'zones', offHours }, { timeZone: 'America/New_York' });
    const tokyo = await check({ table: 'zones', offHours }, { timeZone: 'Asia/Tokyo' });
    expect(details(newYork).gaps.filter((gap) => gap.start.startsWith('2026-11-12'))).toEqual([]);
    expect(details(tokyo).gaps.filter((gap) => gap.start.startsWith('2026-11-12'))).toEqual([
      {
        start: '2026-11-12T02:55:00.000Z',
        end: '2026-11-12T06:05:00.000Z',
        seconds: 11_400,
        limit: 'maxSilence',
      },
    ]);
  });

  it('rejects an off-hours limit stricter than the business-hours one, and business hours that end before they start', async () => {
    await expect(
      check({ table: 'zones', maxSilence: 'PT2H', offHours: { maxSilence: 'PT1H' } }),
    ).rejects.toThrow(/offHours\.maxSilence to be at least maxSilence/);
    await expect(
      check({
        table: 'zones',
        offHours: { maxSilence: 'PT8H', businessStart: '18:00', businessEnd: '08:00' },
      }),
    ).rejects.toThrow(/businessEnd after businessStart/);
  });
});

describe('required actions, retention, future events and empty periods', () => {
  it('fails naming each required action with no event in the period', async () => {
    const run = await check({ table: 'complete', requiredActions: ['login', 'break_glass', 'key_export'] });
    expect(run.outcome.verdict).toBe('fail');
    expect(run.outcome.reasons).toEqual(['no break_glass, key_export events in 2026-11']);
    expect(details(run).requiredActions).toEqual([
      { action: 'login', events: EVENTS_IN_NOVEMBER / 6 },
      { action: 'break_glass', events: 0 },
      { action: 'key_export', events: 0 },
    ]);
  });

  it('fails when the oldest retained event is younger than the retention', async () => {
    await auditLog('truncated', {
      oldestEvent: null,
      afterFill: `DELETE FROM $table WHERE "timestamp" < '2026-11-02T00:00:00Z'`,
    });
    const run = await check({ table: 'truncated' });
    expect(run.outcome.verdict).toBe('fail');
    expect(run.outcome.reasons).toEqual([
      'audit log silent 2026-11-01T00:00:00.000Z to 2026-11-02T00:05:00.000Z (24.1 h), over maxSilence',
      'oldest retained event is 29 days old (2026-11-02T00:05:00.000Z), less than the P365D retention: the log may have been truncated',
    ]);
    const shorter = await check({ table: 'truncated', retention: 'P29D', maxSilence: 'P2D' });
    expect(shorter.outcome.verdict).toBe('pass');
  });

  it('fails retention on days of the window with no event, whatever the oldest event, with or without an index', async () => {
    const hole = `DELETE FROM $table WHERE "timestamp" >= '2026-03-10T00:00:00Z' AND "timestamp" < '2026-03-13T00:00:00Z'`;
    const expected =
      'the P365D retention is not intact: 3 of its 364 days hold no event (from 2026-03-10T06:00:00.000Z, 2026-03-11T06:00:00.000Z, 2026-03-12T06:00:00.000Z): events in that window may have been deleted';
    await auditLog('retention_hole', { afterFill: hole });
    await auditLog('retention_hole_scan', { index: false, afterFill: hole });
    await auditLog('retention_hole_naive', { type: 'timestamp', afterFill: hole.replaceAll("Z'", "'") });
    for (const table of ['retention_hole', 'retention_hole_scan', 'retention_hole_naive']) {
      const run = await check({ table });
      expect(run.outcome.reasons, table).toEqual([expected]);
      expect((run.outcome.details as { retention: unknown }).retention, table).toMatchObject({
        emptyDays: 3,
      });
    }
    // One old event alone, every later day before the neighbourhood deleted: 334 empty days, five named.
    await auditLog('old_row_alone', {
      index: false,
      afterFill: `DELETE FROM $table WHERE "timestamp" > '2025-11-01T00:00:00Z' AND "timestamp" < '2026-10-31T00:00:00Z'`,
    });
    const alone = await check({ table: 'old_row_alone' });
    expect(alone.outcome.reasons).toEqual([
      'the P365D retention is not intact: 334 of its 364 days hold no event (from 2025-12-01T06:00:00.000Z, 2025-12-02T06:00:00.000Z, 2025-12-03T06:00:00.000Z, 2025-12-04T06:00:00.000Z, 2025-12-05T06:00:00.000Z, ...): events in that window may have been deleted',
    ]);
  });

  // A backfill of November run on 15 January: the log stops on 1 December, six weeks before the
  // check. The window starts a retention before the check and ends at November's end, so the days
  // after the period (which the rule once required) do not count, while a day inside it still does.
  it("checks a past period's retention window up to the period end, not up to the check", async () => {
    const later = new Date('2027-01-15T00:00:00Z');
    const backfill = await check({ table: 'complete' }, { now: later });
    expect(backfill.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    // 15 January 2026 to 1 December 2026.
    expect((backfill.outcome.details as { retention: unknown }).retention).toMatchObject({
      coverageDays: 320,
      emptyDays: 0,
    });
    await auditLog('backfill_hole', {
      afterFill: `DELETE FROM $table WHERE "timestamp" >= '2026-06-10T00:00:00Z' AND "timestamp" < '2026-06-11T00:00:00Z'`,
    });
    const hole = await check({ table: 'backfill_hole' }, { now: later });
    expect(hole.outcome.verdict).toBe('fail');
    expect(hole.outcome.reasons).toEqual([
      'the P365D retention is not intact: 1 of its 320 days hold no event (from 2026-06-10T00:00:00.000Z): events in that window may have been deleted',
    ]);
  });

  it('fails on events dated after the time of the check', async () => {
    await auditLog('future', {
      afterFill: `INSERT INTO $table ("timestamp", user_id, action, success)
             VALUES ('2027-03-01T00:00:00Z', 'u1', 'login', true), ('2026-12-01T06:00:01Z', 'u2', 'login', true)`,
    });
    const run = await check({ table: 'future' });
    expect(run.outcome.reasons).toEqual([
      '2 events are dated after 2026-12-01T06:00:00.000Z, the time of the check (clock skew or tampering)',
    ]);
    expect(run.outcome.figures.futureEvents).toBe(2);
  });

  it('fails an empty period with "no events" instead of passing', async () => {
    await auditLog('quiet_november', {
      afterFill: `DELETE FROM $table WHERE "timestamp" >= '2026-11-01T00:00:00Z'`,
    });
    const run = await check({ table: 'quiet_november' });
    expect(run.outcome.verdict).toBe('fail');
    expect(run.outcome.reasons).toEqual([
      'no events in 2026-11: the audit log was silent for the whole period',
      // The retention window's last 29 whole days are November's: empty, so the window is not retained either.
      'the P365D retention is not intact: 29 of its 364 days hold no event (from 2026-11-01T06:00:00.000Z, 2026-11-02T06:00:00.000Z, 2026-11-03T06:00:00.000Z, 2026-11-04T06:00:00.000Z, 2026-11-05T06:00:00.000Z, ...): events in that window may have been deleted',
    ]);
    // The silence runs from the last October event to the check: reported whole.
    expect(run.outcome.figures).toMatchObject({
      events: 0,
      distinctUsers: 0,
      gaps: 1,
      longestGapHours: 726.08,
    });
  });

  it('fails an empty table on both the period and the retention', async () => {
    await auditLog('empty', { oldestEvent: null, afterFill: 'TRUNCATE $table' });
    const run = await check({ table: 'empty' });
    expect(run.outcome.reasons).toEqual([
      'no events in 2026-11: the audit log was silent for the whole period',
      'the audit log holds no events at all',
    ]);
    expect(run.outcome.figures.oldestEvent).toBeNull();
  });

  it('counts attempts with no recorded outcome apart from successes and failures', async () => {
    await auditLog('unknown_outcome', {
      afterFill: `UPDATE $table SET success = NULL WHERE "timestamp" >= '2026-11-03T00:00:00Z' AND "timestamp" < '2026-11-03T01:00:00Z'`,
    });
    const run = await check({ table: 'unknown_outcome' });
    expect(details(run).counts).toMatchObject({ total: EVENTS_IN_NOVEMBER, unknownOutcome: 6 });
    expect(Number(details(run).counts.succeeded) + Number(details(run).counts.failed)).toBe(
      EVENTS_IN_NOVEMBER - 6,
    );
  });
});

describe('distinct users through a (user_id, "timestamp") index', () => {
  const USER_INDEX = `CREATE INDEX ON $table (user_id, "timestamp")`;
  const labels = (run: HarnessRun) =>
    run.evidence.entries.filter((entry) => entry.kind === 'sql').map((entry) => entry.label);
  const userCount = (run: HarnessRun) => (run.outcome.details as { userCount: string }).userCount;

  it('walks the index and reports the same figures as the hash count, NULL users and users outside the period left out', async () => {
    // NULL is not a user; users whose only events lie just before or after the period (the lowest
    // and highest ids, where the walk starts and ends) are not users of the period.
    const edgeUsers = `ALTER TABLE $table ALTER COLUMN user_id DROP NOT NULL;
      UPDATE $table SET user_id = NULL WHERE user_id = 'u3';
      INSERT INTO $table ("timestamp", user_id, action, success) VALUES
        ('2026-10-31T23:59:59.999Z', 'a-before', 'read', true), ('2026-12-01T00:00:00Z', 'z-after', 'read', true),
        ('2026-11-15T12:00:00Z', NULL, 'read', NULL)`;
    await auditLog('users_walked', { afterFill: `${edgeUsers}; ${USER_INDEX}` });
    await auditLog('users_hashed', { afterFill: edgeUsers });
    const test = { requiredActions: ['login', 'secrets_rotation'] };
    const walked = await check({ table: 'users_walked', ...test });
    const hashed = await check({ table: 'users_hashed', ...test });
    expect(userCount(walked)).toBe('index walk');
    expect(userCount(hashed)).toBe('hash');
    expect(labels(walked)).toEqual([
      'table shape',
      'period counts',
      'distinct users (index walk)',
      'period edges, retention and future events',
      'gaps (probe)',
      'retention coverage (probe)',
    ]);
    expect(walked.outcome.figures).toMatchObject({
      events: EVENTS_IN_NOVEMBER + 1,
      succeeded: EVENTS_IN_NOVEMBER - FAILED_IN_NOVEMBER,
      failed: FAILED_IN_NOVEMBER,
      distinctUsers: 6,
    });
    expect(walked.outcome.figures).toEqual(hashed.outcome.figures);
    expect(details(walked).counts).toEqual(details(hashed).counts);
    expect(details(walked).counts.unknownOutcome).toBe(1);
    expect(details(walked).requiredActions).toEqual(details(hashed).requiredActions);
    expect(walked.outcome.verdict).toBe(hashed.outcome.verdict);
  });

  it('walks an index with more key columns and a naive timestamp column, and counts only the users active in the period', async () => {
    await auditLog('users_wide_index', {
      type: 'timestamp',
      afterFill: `CREATE INDEX ON $table (user_id, "timestamp", action)`,
    });
    const run = await check({ table: 'users_wide_index' });
    expect(userCount(run)).toBe('index walk');
    expect(run.outcome.figures).toMatchObject({ events: EVENTS_IN_NOVEMBER, distinctUsers: 7 });
    // August holds only the retention's daily event, by u0.
    const august = await check({ table: 'users_wide_index' }, { periodKey: '2026-08' });
    expect(userCount(august)).toBe('index walk');
    expect(august.outcome.figures).toMatchObject({ events: 31, distinctUsers: 1 });
  });

  it.each([
    ['timestamp first', `CREATE INDEX ON $table ("timestamp", user_id)`],
    ['partial', `CREATE INDEX ON $table (user_id, "timestamp") WHERE success`],
    ['another ordering', `CREATE INDEX ON $table (user_id text_pattern_ops, "timestamp")`],
    ['another collation', `CREATE INDEX ON $table (user_id COLLATE "POSIX", "timestamp")`],
    ['timestamp only included', `CREATE INDEX ON $table (user_id) INCLUDE ("timestamp")`],
    ['an expression', `CREATE INDEX ON $table (lower(user_id), "timestamp")`],
    ['not a btree', `CREATE INDEX ON $table USING hash (user_id)`],
  ])('counts by hash when the only user index is %s', async (name, index) => {
    const table = `users_${name.replaceAll(' ', '_')}`;
    await auditLog(table, { afterFill: index });
    const run = await check({ table });
    expect(userCount(run)).toBe('hash');
    expect(run.outcome.figures).toMatchObject({ events: EVENTS_IN_NOVEMBER, distinctUsers: 7 });
  });

  it('counts by hash on a table without statistics', async () => {
    await auditLog('users_stats_source', { afterFill: USER_INDEX });
    await env.sql(url, `CREATE TABLE users_no_stats AS SELECT * FROM users_stats_source`);
    await env.sql(
      url,
      `CREATE INDEX ON users_no_stats ("timestamp"); CREATE INDEX ON users_no_stats (user_id, "timestamp")`,
    );
    const run = await check({ table: 'users_no_stats' });
    expect(userCount(run)).toBe('hash');
    expect(run.outcome.figures).toMatchObject({ events: EVENTS_IN_NOVEMBER, distinctUsers: 7 });
  });

  it('falls back to the hash count, still exact, when the users outgrew the statistics', async () => {
    await auditLog('users_stale', { afterFill: USER_INDEX });
    // After ANALYZE saw 7 users: 1,500 more, one event each, inside the period.
    await env.sql(
      url,
      `INSERT INTO users_stale ("timestamp", user_id, action, success)
       SELECT '2026-11-10T00:00:00Z'::timestamptz + n * interval '1 second', 'new-' || n, 'read', true
         FROM generate_series(1, 1500) AS n`,
    );
    const run = await check({ table: 'users_stale' });
    expect(labels(run)).toContain('distinct users (index walk)');
    expect(labels(run)).toContain('distinct users (hash)');
    expect(userCount(run)).toBe('hash');
    expect(run.outcome.figures).toMatchObject({ events: EVENTS_IN_NOVEMBER + 1500, distinctUsers: 1507 });
  });

  it('asks the planner for the period size when the table has many users, and hashes a period with few events per user', async () => {
    await auditLog('users_many', {
      afterFill: `INSERT INTO $table ("timestamp", user_id, action, success)
                  SELECT '2026-11-10T00:00:00Z'::timestamptz + n * interval '1 second', 'many-' || n, 'read', true
                    FROM generate_series(1, 2000) AS n; ${USER_INDEX}`,
    });
    const run = await check({ table: 'users_many' });
    expect(labels(run)).toContain('period size estimate');
    const estimate = run.evidence.entries.find(
      (entry) => entry.kind === 'sql' && entry.label === 'period size estimate',
    );
    // The planner's JSON plan, with a row estimate near the period's 6,320 events.
    expect(JSON.stringify(estimate)).toMatch(/"Plan Rows":\s*\d{4}/);
    expect(userCount(run)).toBe('hash');
    expect(run.outcome.figures).toMatchObject({ events: EVENTS_IN_NOVEMBER + 2000, distinctUsers: 2007 });
  });
});

describe('non-default names and types', () => {
  it('reads a table in another schema with its own column names', async () => {
    await auditLog('events', {
      schema: 'security_audit',
      columns: { timestamp: 'occurred_at', userId: 'actor', action: 'verb', success: 'ok' },
      silences: [['2026-11-20T14:00:00Z', '2026-11-20T16:00:00Z']],
    });
    const run = await check({
      schema: 'security_audit',
      table: 'events',
      columns: { timestamp: 'occurred_at', userId: 'actor', action: 'verb', success: 'ok' },
      requiredActions: ['login'],
    });
    expect(run.outcome.figures).toMatchObject({ events: EVENTS_IN_NOVEMBER - 12, distinctUsers: 7, gaps: 1 });
    expect(details(run).gaps[0]).toMatchObject({
      start: '2026-11-20T13:55:00.000Z',
      end: '2026-11-20T16:05:00.000Z',
    });
  });

  it('accepts an enum action column and a varchar user column', async () => {
    await env.sql(
      url,
      `CREATE TYPE audit_action AS ENUM ('login', 'read', 'update', 'secrets_rotation', 'admin_export')`,
    );
    await auditLog('typed', {
      afterFill: `ALTER TABLE $table ALTER COLUMN action TYPE audit_action USING action::audit_action,
                              ALTER COLUMN user_id TYPE varchar(20)`,
    });
    // 'break_glass' is not a label of the enum: compared as text it is simply absent, not an error.
    const run = await check({ table: 'typed', requiredActions: ['admin_export', 'break_glass'] });
    expect(run.outcome.verdict).toBe('fail');
    expect(run.outcome.reasons).toEqual(['no break_glass events in 2026-11']);
    expect(run.outcome.figures.distinctUsers).toBe(7);
  });

  it('reads the period in the configured zone: November in Auckland starts at 11:00 UTC on 31 October', async () => {
    const run = await check({ table: 'complete' }, { timeZone: 'Pacific/Auckland' });
    // The fixture's October events start at 23:05 UTC on 31 October, so Auckland's November opens
    // inside a silence that began at the retention window's last daily event, and closes 13 hours early.
    expect(details(run).gaps[0]).toMatchObject({
      start: '2026-10-30T12:00:00.000Z',
      end: '2026-10-31T23:05:00.000Z',
    });
    expect(details(run).counts.total).toBe(EVENTS_IN_NOVEMBER - 13 * 6 + 6);
  });
});

describe('errors, never a pass, when the log cannot be checked', () => {
  it('names a missing table', async () => {
    const run = await check({ table: 'no_such_table' });
    expect(run.outcome.verdict).toBe('error');
    expect(run.outcome.reasons).toEqual(['table public.no_such_table does not exist']);
  });

  it('names a missing column', async () => {
    await env.sql(url, `CREATE TABLE no_success AS SELECT "timestamp", user_id, action FROM complete`);
    const run = await check({ table: 'no_success' });
    expect(run.outcome.verdict).toBe('error');
    expect(run.outcome.reasons).toEqual(['column public.no_success.success does not exist']);
  });

  it('names a column of the wrong type', async () => {
    await env.sql(
      url,
      `CREATE TABLE text_success AS SELECT "timestamp", user_id, action, success::text AS success FROM complete`,
    );
    await env.sql(
      url,
      `CREATE TABLE text_time AS SELECT "timestamp"::text AS "timestamp", user_id, action, success FROM complete`,
    );
    const success = await check({ table: 'text_success' });
    const time = await check({ table: 'text_time' });
    expect(success.outcome.verdict).toBe('error');
    expect(success.outcome.reasons).toEqual(['column public.text_success.success is text, expected boolean']);
    expect(time.outcome.reasons).toEqual([
      'column public.text_time.timestamp is text, expected timestamptz or timestamp',
    ]);
  });

  it('names an unreachable database', async () => {
    const closed = new URL(url);
    closed.port = '1';
    const run = await check({ table: 'complete' }, { ports: { postgres: portFor(closed.toString()) } });
    expect(run.outcome.verdict).toBe('error');
    expect(run.outcome.reasons).toEqual(['database "app" is unreachable (ECONNREFUSED)']);
    expect(run.outcome.reasons[0]).not.toContain('postgres://');
  });

  it('reports the statement timeout when the log is too big to check in time', async () => {
    // A view over an endless series stands in for a table far too large for the time limit.
    await env.sql(
      url,
      `CREATE VIEW endless_log AS
         SELECT ts AS "timestamp", 'u' || (extract(epoch FROM ts)::bigint % 7) AS user_id, 'login'::text AS action, true AS success
           FROM generate_series('2000-01-01'::timestamptz, '2100-01-01'::timestamptz, interval '1 millisecond') AS ts`,
    );
    const started = Date.now();
    const run = await check({ table: 'endless_log' }, { ports: { postgres: portFor(url, 500) } });
    expect(run.outcome.verdict).toBe('error');
    expect(run.outcome.reasons).toEqual([
      'period summary: query on "app" was cancelled by the statement timeout',
    ]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('the session the check runs in', () => {
  it('is read-only: an INSERT, a sequence bump and DDL through it all fail and change nothing', async () => {
    const attempts = [
      `INSERT INTO complete ("timestamp", user_id, action, success) VALUES (now(), 'intruder', 'login', true)`,
      `SELECT nextval('complete_id_seq')`,
      'DELETE FROM complete',
      'CREATE TABLE planted (id int)',
    ];
    for (const text of attempts) {
      const failure = await port
        .withReadOnlySession('app', new EvidenceLog(), (session) => session.query('write attempt', text))
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ControlCheckError);
      expect((failure as Error).message).toMatch(/read-only transaction/);
    }
    const [row] = (
      await env.sql(
        url,
        `SELECT count(*)::int AS n, to_regclass('planted') IS NULL AS no_table FROM complete`,
      )
    ).rows;
    expect(row).toEqual({ n: EVENTS_IN_NOVEMBER + NEIGHBOUR_EVENTS + RETENTION_EVENTS + 1, no_table: true });
  });
});
