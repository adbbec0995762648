import { DateTime, IANAZone } from 'luxon';

/** How often a control is tested. `daily` exists for monitoring controls such as schedule health. */
export const CADENCES = ['daily', 'weekly', 'monthly', 'quarterly', 'annual'] as const;
export type Cadence = (typeof CADENCES)[number];

/**
 * A closed-open interval [start, end) of one cadence in one time zone, named by a stable key:
 * `2026-11-23` (daily), `2026-W48` (ISO week), `2026-11`, `2026-Q4`, `2026`.
 */
export interface Period {
  readonly cadence: Cadence;
  readonly key: string;
  readonly start: Date;
  readonly end: Date;
  readonly timeZone: string;
}

export class InvalidPeriodError extends Error {
  override name = 'InvalidPeriodError';
}

const LUXON_UNIT = {
  daily: 'day',
  weekly: 'week',
  monthly: 'month',
  quarterly: 'quarter',
  annual: 'year',
} as const satisfies Record<Cadence, string>;

// luxon checks a zone by building an Intl.DateTimeFormat (~30 KB of native ICU memory the GC does
// not see) on every call; period arithmetic asks thousands of times, so remember the answers.
const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (zoneValidity.size >= 256) zoneValidity.clear();
    zoneValidity.set(zone, valid);
  }
  return valid;
}

function assertTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) throw new InvalidPeriodError(`unknown time zone "${timeZone}"`);
}

function zoned(instant: Date, timeZone: string): DateTime {
  assertTimeZone(timeZone);
  if (Number.isNaN(instant.getTime()))
    throw new InvalidPeriodError('cannot place an invalid date in a period');
  return DateTime.fromJSDate(instant, { zone: timeZone });
}

/** The first instant of the calendar unit containing `instant` (ISO weeks, never locale weeks). */
function startOfUnit(cadence: Cadence, instant: DateTime): DateTime {
  return instant.startOf(LUXON_UNIT[cadence], { useLocaleWeeks: false });
}

function keyOf(cadence: Cadence, start: DateTime): string {
  switch (cadence) {
    case 'daily':
      return start.toFormat('yyyy-MM-dd');
    case 'weekly':
      return `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}`;
    case 'monthly':
      return start.toFormat('yyyy-MM');
    case 'quarterly':
      return `${start.year}-Q${start.quarter}`;
    case 'annual':
      return String(start.year);
  }
}

function periodStartingAt(cadence: Cadence, at: DateTime): Period {
  const start = startOfUnit(cadence, at);
  // Re-anchor the end on its own unit start: where a DST change skips midnight (America/Santiago,
  // Asia/Beirut) a day starts at 01:00, and "start + 1 day" would overlap the next day's period.
  const end = startOfUnit(cadence, start.plus({ [`${LUXON_UNIT[cadence]}s`]: 1 }));
  return {
    cadence,
    key: keyOf(cadence, start),
    start: start.toJSDate(),
    end: end.toJSDate(),
    timeZone: start.zoneName ?? 'UTC',
  };
}

/*
 * UTC without the calendar library: plain Date.UTC arithmetic, the same periods luxon gives
 * (test/shared/period-utc.test.ts compares them). Verify walks thousands of periods and most
 * deployments cut periods in UTC; luxon cost ~0.3 ms a call. Years outside 1000-9999 (where
 * Date.UTC and the 4-digit keys need care) still go through luxon.
 */
const DAY_MS = 86_400_000;
const MIN_UTC_FAST = Date.UTC(1000, 0, 8);
const MAX_UTC_FAST = Date.UTC(9999, 0, 1);
const pad2 = (value: number) => (value < 10 ? `0${value}` : String(value));

function utcStart(cadence: Cadence, ms: number): number {
  const day = new Date(ms);
  const year = day.getUTCFullYear();
  const month = day.getUTCMonth();
  switch (cadence) {
    case 'daily':
      return Date.UTC(year, month, day.getUTCDate());
    case 'weekly':
      return Date.UTC(year, month, day.getUTCDate()) - ((day.getUTCDay() + 6) % 7) * DAY_MS;
    case 'monthly':
      return Date.UTC(year, month, 1);
    case 'quarterly':
      return Date.UTC(year, month - (month % 3), 1);
    case 'annual':
      return Date.UTC(year, 0, 1);
  }
}

function utcPeriodStartingAt(cadence: Cadence, ms: number): Period {
  const start = utcStart(cadence, ms);
  const first = new Date(start);
  const year = first.getUTCFullYear();
  const month = first.getUTCMonth();
  let end: number;
  let key: string;
  switch (cadence) {
    case 'daily':
      end = start + DAY_MS;
      key = `${year}-${pad2(month + 1)}-${pad2(first.getUTCDate())}`;
      break;
    case 'weekly': {
      end = start + 7 * DAY_MS;
      // The ISO week belongs to the year of its Thursday.
      const weekYear = new Date(start + 3 * DAY_MS).getUTCFullYear();
      const week = Math.floor((start + 3 * DAY_MS - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS)) + 1;
      key = `${weekYear}-W${pad2(week)}`;
      break;
    }
    case 'monthly':
      end = Date.UTC(year, month + 1, 1);
      key = `${year}-${pad2(month + 1)}`;
      break;
    case 'quarterly':
      end = Date.UTC(year, month + 3, 1);
      key = `${year}-Q${month / 3 + 1}`;
      break;
    case 'annual':
      end = Date.UTC(year + 1, 0, 1);
      key = String(year);
      break;
  }
  return { cadence, key, start: new Date(start), end: new Date(end), timeZone: 'UTC' };
}

/** Where the UTC arithmetic applies: the zone is exactly `UTC` and the instant is a plain year. */
function utcFast(timeZone: string, ms: number): boolean {
  return timeZone === 'UTC' && ms >= MIN_UTC_FAST && ms < MAX_UTC_FAST;
}

/** The period of `cadence` that contains `instant`. */
export function periodContaining(cadence: Cadence, instant: Date, timeZone: string): Period {
  const ms = instant.getTime();
  if (utcFast(timeZone, ms)) return utcPeriodStartingAt(cadence, ms);
  return periodStartingAt(cadence, zoned(instant, timeZone));
}

/** A UTC key's first instant, or undefined when the fast path does not apply (luxon decides). */
function utcKeyStart(cadence: Cadence, key: string): number | undefined {
  const year = Number(key.slice(0, 4));
  if (!(year >= 1001 && year <= 9998)) return undefined;
  switch (cadence) {
    case 'daily':
      return Date.UTC(year, Number(key.slice(5, 7)) - 1, Number(key.slice(8, 10)));
    case 'weekly': {
      // Monday of ISO week 1 is the Monday of the week holding 4 January.
      const fourth = Date.UTC(year, 0, 4);
      const weekOne = fourth - ((new Date(fourth).getUTCDay() + 6) % 7) * DAY_MS;
      return weekOne + (Number(key.slice(6, 8)) - 1) * 7 * DAY_MS;
    }
    case 'monthly':
      return Date.UTC(year, Number(key.slice(5, 7)) - 1, 1);
    case 'quarterly':
      return Date.UTC(year, (Number(key.slice(6, 7)) - 1) * 3, 1);
    case 'annual':
      return Date.UTC(year, 0, 1);
  }
}

/**
 * The last period that has fully ended at `asOf`: a monthly run on 2026-12-01 covers November 2026.
 * A run exactly at a period boundary covers the period that just ended, never the one starting.
 */
export function lastCompletePeriod(cadence: Cadence, asOf: Date, timeZone: string): Period {
  const current = periodContaining(cadence, asOf, timeZone);
  return previousPeriod(current);
}

/** The period just before `period`: the one containing the last millisecond before its start. */
export function previousPeriod(period: Period): Period {
  return periodContaining(period.cadence, new Date(period.start.getTime() - 1), period.timeZone);
}

/** The period starting where `period` ends. */
export function nextPeriod(period: Period): Period {
  return periodContaining(period.cadence, period.end, period.timeZone);
}

const KEY_PATTERNS: Record<Cadence, RegExp> = {
  daily: /^\d{4}-\d{2}-\d{2}$/,
  weekly: /^\d{4}-W\d{2}$/,
  monthly: /^\d{4}-\d{2}$/,
  quarterly: /^\d{4}-Q[1-4]$/,
  annual: /^\d{4}$/,
};

/** Parses a period key back into its period; rejects keys that do not round-trip. */
export function periodFromKey(cadence: Cadence, key: string, timeZone: string): Period {
  assertTimeZone(timeZone);
  if (!KEY_PATTERNS[cadence].test(key))
    throw new InvalidPeriodError(`"${key}" is not a ${cadence} period key`);
  const utc = timeZone === 'UTC' ? utcKeyStart(cadence, key) : undefined;
  if (utc !== undefined) {
    // Out-of-range parts (month 13, day 31 of a 30-day month, week 53 of a 52-week year) roll
    // over into another period, whose key then differs: rejected, as luxon rejects them.
    const period = utcPeriodStartingAt(cadence, utc);
    if (period.key !== key) throw new InvalidPeriodError(`"${key}" is not a valid ${cadence} period`);
    return period;
  }
  let start: DateTime;
  if (cadence === 'weekly') {
    const [year, week] = key.split('-W').map(Number);
    start = DateTime.fromObject({ weekYear: year, weekNumber: week, weekday: 1 }, { zone: timeZone });
  } else if (cadence === 'quarterly') {
    const [year, quarter] = key.split('-Q').map(Number);
    start = DateTime.fromObject({ year, month: ((quarter ?? 1) - 1) * 3 + 1, day: 1 }, { zone: timeZone });
  } else {
    start = DateTime.fromISO(key, { zone: timeZone });
  }
  if (!start.isValid) throw new InvalidPeriodError(`"${key}" is not a valid ${cadence} period`);
  const period = periodStartingAt(cadence, start);
  if (period.key !== key) throw new InvalidPeriodError(`"${key}" is not a valid ${cadence} period`);
  return period;
}

/**
 * Every period of `cadence` that ended after `from` and by `asOf`. A control added mid-month owes
 * that month's verdict: its first scheduled run covers the month it was added in.
 */
export function completePeriodsSince(cadence: Cadence, from: Date, asOf: Date, timeZone: string): Period[] {
  if (Number.isNaN(asOf.getTime())) throw new InvalidPeriodError('asOf is not a valid date');
  const periods: Period[] = [];
  let period = periodContaining(cadence, from, timeZone);
  while (period.end.getTime() <= asOf.getTime()) {
    periods.push(period);
    period = nextPeriod(period);
  }
  return periods;
}
