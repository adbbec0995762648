import { DateTime } from 'luxon';
import { type Cadence, nextPeriod, type Period, periodContaining, periodFromKey } from '../shared/period.ts';

/**
 * An inclusive range of calendar dates (`YYYY-MM-DD`), as given to `export --from/--to`. A period
 * belongs to the range when its last day falls inside it, read in the period's own time zone: the
 * year 2026 holds January..December, W01 (which starts in December 2025) and not W53 of 2026 if it
 * ends in 2027. Each period thus belongs to exactly one of two adjacent ranges.
 */
export interface DateRange {
  readonly from?: string;
  readonly to?: string;
}

/** How long after a period closes its run may still be pending before the period counts as missing. */
export const DUE_GRACE_MS = 24 * 60 * 60 * 1000;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export class InvalidRangeError extends Error {
  override name = 'InvalidRangeError';
}

export function parseIsoDate(value: string, label: string): string {
  if (!ISO_DATE.test(value) || !DateTime.fromISO(value, { zone: 'UTC' }).isValid) {
    throw new InvalidRangeError(`${label}: expected a date such as 2026-01-31, got "${value}"`);
  }
  return value;
}

export function checkRange(range: DateRange): DateRange {
  if (range.from) parseIsoDate(range.from, '--from');
  if (range.to) parseIsoDate(range.to, '--to');
  if (range.from && range.to && range.from > range.to) {
    throw new InvalidRangeError(`--from ${range.from} is after --to ${range.to}`);
  }
  return range;
}

interface PeriodLike {
  readonly end: Date | string;
  readonly timeZone: string;
}

/** The period's last calendar day in its time zone (`YYYY-MM-DD`). */
export function lastDayOf(period: PeriodLike): string {
  const end = typeof period.end === 'string' ? Date.parse(period.end) : period.end.getTime();
  // UTC needs no calendar library (and most deployments cut periods in UTC).
  if (period.timeZone === 'UTC') return new Date(end - 1).toISOString().slice(0, 10);
  return DateTime.fromMillis(end - 1, { zone: period.timeZone }).toISODate() ?? '';
}

export function periodInRange(period: PeriodLike, range: DateRange): boolean {
  const last = lastDayOf(period);
  return (!range.from || last >= range.from) && (!range.to || last <= range.to);
}

/** True when the period is before the range (its last day precedes `from`). */
export function periodBeforeRange(period: PeriodLike, range: DateRange): boolean {
  return range.from !== undefined && lastDayOf(period) < range.from;
}

/** The first period of `cadence` whose last day is on or after `from`. */
export function firstPeriodFrom(cadence: Cadence, from: string, timeZone: string): Period {
  const day = DateTime.fromISO(from, { zone: timeZone }).toJSDate();
  let period = periodContaining(cadence, day, timeZone);
  while (lastDayOf(period) < from) period = nextPeriod(period);
  return period;
}

export interface ExpectedPeriodsInput {
  readonly cadence: Cadence;
  readonly timeZone: string;
  readonly range: DateRange;
  /** The moment of the check (the export's time, or now): later periods are not yet due. */
  readonly asOf: Date;
  /**
   * The period the evidence starts at: the earliest period of the chain's first manifest when the
   * chain begins inside the range; absent when the chain began before the range.
   */
  readonly firstKey?: string;
  readonly graceMs?: number;
}

/**
 * Every period that must have a manifest: from the chain's first period (or the range's first
 * period when the chain began earlier) to the last period of the range that was due by `asOf`.
 */
export function expectedPeriods(input: ExpectedPeriodsInput): Period[] {
  const { cadence, timeZone, range } = input;
  const grace = input.graceMs ?? DUE_GRACE_MS;
  let period: Period | undefined;
  if (input.firstKey) {
    period = periodFromKey(cadence, input.firstKey, timeZone);
    if (range.from && lastDayOf(period) < range.from) period = firstPeriodFrom(cadence, range.from, timeZone);
  } else if (range.from) {
    period = firstPeriodFrom(cadence, range.from, timeZone);
  }
  const periods: Period[] = [];
  while (
    period &&
    period.end.getTime() + grace <= input.asOf.getTime() &&
    (!range.to || lastDayOf(period) <= range.to)
  ) {
    periods.push(period);
    period = nextPeriod(period);
  }
  return periods;
}
