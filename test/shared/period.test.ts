import { describe, expect, it } from 'vitest';
import {
  CADENCES,
  type Cadence,
  completePeriodsSince,
  InvalidPeriodError,
  isValidTimeZone,
  lastCompletePeriod,
  nextPeriod,
  type Period,
  periodContaining,
  periodFromKey,
  previousPeriod,
} from '../../lib/shared/period.ts';

const at = (iso: string) => new Date(iso);
const span = (period: Period) => ({
  key: period.key,
  start: period.start.toISOString(),
  end: period.end.toISOString(),
});
const HOUR = 3_600_000;

function expectContiguous(periods: readonly Period[]): void {
  for (let index = 1; index < periods.length; index++) {
    expect(periods[index]?.start).toEqual(periods[index - 1]?.end);
  }
}

describe('lastCompletePeriod in UTC', () => {
  it('covers November 2026 for a monthly run on 2026-12-01', () => {
    expect(span(lastCompletePeriod('monthly', at('2026-12-01T06:00:00Z'), 'UTC'))).toEqual({
      key: '2026-11',
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
    });
  });

  it('covers the period that just ended when run exactly on the boundary, never the one starting', () => {
    expect(lastCompletePeriod('monthly', at('2026-12-01T00:00:00.000Z'), 'UTC').key).toBe('2026-11');
    expect(lastCompletePeriod('daily', at('2026-12-01T00:00:00.000Z'), 'UTC').key).toBe('2026-11-30');
    expect(lastCompletePeriod('annual', at('2027-01-01T00:00:00.000Z'), 'UTC').key).toBe('2026');
  });

  it('does not cover a period that has one millisecond left', () => {
    expect(lastCompletePeriod('monthly', at('2026-11-30T23:59:59.999Z'), 'UTC').key).toBe('2026-10');
    expect(lastCompletePeriod('quarterly', at('2026-12-31T23:59:59.999Z'), 'UTC').key).toBe('2026-Q3');
  });

  it('covers the previous day for a daily run', () => {
    expect(span(lastCompletePeriod('daily', at('2026-11-24T03:00:00Z'), 'UTC'))).toEqual({
      key: '2026-11-23',
      start: '2026-11-23T00:00:00.000Z',
      end: '2026-11-24T00:00:00.000Z',
    });
  });

  it('covers the previous calendar quarter, across the year end', () => {
    expect(span(lastCompletePeriod('quarterly', at('2027-01-15T00:00:00Z'), 'UTC'))).toEqual({
      key: '2026-Q4',
      start: '2026-10-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
    });
    expect(lastCompletePeriod('quarterly', at('2026-07-01T00:00:00Z'), 'UTC').key).toBe('2026-Q2');
    expect(lastCompletePeriod('quarterly', at('2026-06-30T12:00:00Z'), 'UTC').key).toBe('2026-Q1');
  });

  it('covers the previous calendar year for an annual run', () => {
    expect(span(lastCompletePeriod('annual', at('2027-03-01T00:00:00Z'), 'UTC'))).toEqual({
      key: '2026',
      start: '2026-01-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
    });
  });

  it('keeps February at 28 or 29 days', () => {
    const leap = lastCompletePeriod('monthly', at('2028-03-01T00:00:00Z'), 'UTC');
    expect(leap.key).toBe('2028-02');
    expect((leap.end.getTime() - leap.start.getTime()) / (24 * HOUR)).toBe(29);
    const common = lastCompletePeriod('monthly', at('2027-03-01T00:00:00Z'), 'UTC');
    expect((common.end.getTime() - common.start.getTime()) / (24 * HOUR)).toBe(28);
  });
});

describe('weekly periods are ISO weeks', () => {
  it('start on Monday and are named by ISO week-year and week number', () => {
    // 2026-11-26 is a Thursday; the week before it is Monday 16 to Monday 23 November, W47.
    expect(span(lastCompletePeriod('weekly', at('2026-11-26T12:00:00Z'), 'UTC'))).toEqual({
      key: '2026-W47',
      start: '2026-11-16T00:00:00.000Z',
      end: '2026-11-23T00:00:00.000Z',
    });
  });

  it('put 2026-12-31 and 2027-01-01 in week 53 of 2026 (a 53-week ISO year)', () => {
    for (const day of [
      '2026-12-28T00:00:00Z',
      '2026-12-31T12:00:00Z',
      '2027-01-01T12:00:00Z',
      '2027-01-03T23:59:59Z',
    ]) {
      expect(span(periodContaining('weekly', at(day), 'UTC'))).toEqual({
        key: '2026-W53',
        start: '2026-12-28T00:00:00.000Z',
        end: '2027-01-04T00:00:00.000Z',
      });
    }
    expect(lastCompletePeriod('weekly', at('2027-01-04T00:00:00Z'), 'UTC').key).toBe('2026-W53');
    expect(lastCompletePeriod('weekly', at('2027-01-01T00:00:00Z'), 'UTC').key).toBe('2026-W52');
  });

  it('put 2025-12-31 in week 1 of 2026, whose week-year differs from its calendar year', () => {
    expect(span(periodContaining('weekly', at('2025-12-31T12:00:00Z'), 'UTC'))).toEqual({
      key: '2026-W01',
      start: '2025-12-29T00:00:00.000Z',
      end: '2026-01-05T00:00:00.000Z',
    });
  });

  it('go from the last week of 2026 to week 1 of 2027', () => {
    const w53 = periodFromKey('weekly', '2026-W53', 'UTC');
    expect(nextPeriod(w53).key).toBe('2027-W01');
    expect(previousPeriod(periodFromKey('weekly', '2027-W01', 'UTC')).key).toBe('2026-W53');
    expect(nextPeriod(periodFromKey('weekly', '2027-W52', 'UTC')).key).toBe('2028-W01');
  });
});

describe('periods in a time zone', () => {
  it('covers October for a monthly run at 2026-12-01T05:00Z in America/Los_Angeles, where November has not ended', () => {
    // 05:00Z is 21:00 on 30 November in Los Angeles (PST, UTC-8).
    expect(span(lastCompletePeriod('monthly', at('2026-12-01T05:00:00Z'), 'America/Los_Angeles'))).toEqual({
      key: '2026-10',
      // October starts and ends in daylight time (UTC-7): DST ends at 02:00 on 1 November 2026.
      start: '2026-10-01T07:00:00.000Z',
      end: '2026-11-01T07:00:00.000Z',
    });
    expect(span(lastCompletePeriod('monthly', at('2026-12-01T08:00:00Z'), 'America/Los_Angeles'))).toEqual({
      key: '2026-11',
      start: '2026-11-01T07:00:00.000Z',
      end: '2026-12-01T08:00:00.000Z',
    });
  });

  it('covers November already at 11:00Z on 30 November in Pacific/Auckland (NZDT, UTC+13)', () => {
    expect(span(lastCompletePeriod('monthly', at('2026-11-30T11:00:00Z'), 'Pacific/Auckland'))).toEqual({
      key: '2026-11',
      start: '2026-10-31T11:00:00.000Z',
      end: '2026-11-30T11:00:00.000Z',
    });
    expect(lastCompletePeriod('monthly', at('2026-11-30T10:59:59Z'), 'Pacific/Auckland').key).toBe('2026-10');
  });

  it('cuts the Auckland year at local midnight on 1 January', () => {
    expect(span(lastCompletePeriod('annual', at('2027-01-01T00:00:00Z'), 'Pacific/Auckland'))).toEqual({
      key: '2026',
      start: '2025-12-31T11:00:00.000Z',
      end: '2026-12-31T11:00:00.000Z',
    });
  });

  it('makes the New York spring-forward day 23 hours and the fall-back day 25 hours long', () => {
    const spring = periodFromKey('daily', '2026-03-08', 'America/New_York');
    expect(span(spring)).toEqual({
      key: '2026-03-08',
      start: '2026-03-08T05:00:00.000Z',
      end: '2026-03-09T04:00:00.000Z',
    });
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * HOUR);
    const fall = periodFromKey('daily', '2026-11-01', 'America/New_York');
    expect(span(fall)).toEqual({
      key: '2026-11-01',
      start: '2026-11-01T04:00:00.000Z',
      end: '2026-11-02T05:00:00.000Z',
    });
    expect(fall.end.getTime() - fall.start.getTime()).toBe(25 * HOUR);
  });

  it('makes the ISO week containing a DST change 167 hours long and keeps weeks contiguous', () => {
    const week = periodContaining('weekly', at('2026-03-05T12:00:00Z'), 'America/New_York');
    // DST starts on Sunday 8 March, the last day of ISO week 10.
    expect(week.key).toBe('2026-W10');
    expect(week.end.getTime() - week.start.getTime()).toBe(167 * HOUR);
    expect(nextPeriod(week).start).toEqual(week.end);
    expect(previousPeriod(week).end).toEqual(week.start);
  });

  it('starts a day at 01:00 where the DST change skips midnight, without overlapping the next day', () => {
    // Chile moves clocks from 00:00 to 01:00 on 6 September 2026.
    const skipped = periodFromKey('daily', '2026-09-06', 'America/Santiago');
    expect(span(skipped)).toEqual({
      key: '2026-09-06',
      start: '2026-09-06T04:00:00.000Z',
      end: '2026-09-07T03:00:00.000Z',
    });
    expect(nextPeriod(skipped).start).toEqual(skipped.end);
    expect(previousPeriod(skipped).key).toBe('2026-09-05');
    expect(previousPeriod(skipped).end).toEqual(skipped.start);
    expect(periodContaining('daily', at('2026-09-07T03:30:00Z'), 'America/Santiago').key).toBe('2026-09-07');
  });

  it('records the time zone the period was cut in', () => {
    expect(lastCompletePeriod('monthly', at('2026-12-15T00:00:00Z'), 'Europe/Berlin').timeZone).toBe(
      'Europe/Berlin',
    );
  });

  it('rejects an unknown time zone', () => {
    expect(() => lastCompletePeriod('monthly', at('2026-12-01T00:00:00Z'), 'Mars/Olympus_Mons')).toThrow(
      /unknown time zone "Mars\/Olympus_Mons"/,
    );
    expect(() => periodFromKey('monthly', '2026-11', 'Nowhere/City')).toThrow(
      /^unknown time zone "Nowhere\/City"$/,
    );
    expect(isValidTimeZone('Pacific/Auckland')).toBe(true);
    expect(isValidTimeZone('Pacific/Atlantis')).toBe(false);
  });

  it('rejects an invalid instant instead of naming a period "Invalid DateTime"', () => {
    expect(() => periodContaining('monthly', new Date('not a date'), 'UTC')).toThrow(
      'cannot place an invalid date in a period',
    );
    expect(() =>
      completePeriodsSince('monthly', at('2026-01-01T00:00:00Z'), new Date(Number.NaN), 'UTC'),
    ).toThrow('asOf is not a valid date');
  });

  it('throws errors named InvalidPeriodError, so callers and logs can tell them apart', () => {
    const thrown = (() => {
      try {
        periodFromKey('monthly', '2026-13', 'UTC');
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(InvalidPeriodError);
    expect((thrown as Error).name).toBe('InvalidPeriodError');
  });
});

describe('periodFromKey', () => {
  const samples: Record<Cadence, string[]> = {
    daily: ['2026-11-23', '2028-02-29', '2026-01-01'],
    weekly: ['2026-W48', '2026-W53', '2026-W01', '2020-W53'],
    monthly: ['2026-11', '2026-01', '2026-12'],
    quarterly: ['2026-Q1', '2026-Q4'],
    annual: ['2026', '1999'],
  };

  for (const cadence of CADENCES) {
    it(`round-trips ${cadence} keys in UTC and Pacific/Auckland`, () => {
      for (const timeZone of ['UTC', 'Pacific/Auckland', 'America/New_York']) {
        for (const key of samples[cadence]) {
          const period = periodFromKey(cadence, key, timeZone);
          expect(period.key).toBe(key);
          expect(period.cadence).toBe(cadence);
          expect(periodContaining(cadence, period.start, timeZone)).toEqual(period);
          expect(periodContaining(cadence, new Date(period.end.getTime() - 1), timeZone)).toEqual(period);
          expect(lastCompletePeriod(cadence, period.end, timeZone)).toEqual(period);
        }
      }
    });
  }

  it('gives the keys of the issue their calendar bounds', () => {
    expect(span(periodFromKey('daily', '2026-11-23', 'UTC')).end).toBe('2026-11-24T00:00:00.000Z');
    expect(span(periodFromKey('weekly', '2026-W48', 'UTC')).start).toBe('2026-11-23T00:00:00.000Z');
    expect(span(periodFromKey('quarterly', '2026-Q4', 'UTC')).start).toBe('2026-10-01T00:00:00.000Z');
    expect(span(periodFromKey('annual', '2026', 'UTC')).end).toBe('2027-01-01T00:00:00.000Z');
  });

  const bad: [Cadence, string][] = [
    ['daily', '2026-02-30'],
    ['daily', '2026-13-01'],
    ['daily', '2026-11'],
    ['daily', '2026-11-23T00:00'],
    ['weekly', '2027-W53'],
    ['weekly', '2026-W00'],
    ['weekly', '2026-W54'],
    ['weekly', '2026-48'],
    ['weekly', '2026-w48'],
    ['monthly', '2026-13'],
    ['monthly', '2026-00'],
    ['monthly', '2026-1'],
    ['monthly', '2026-11-01'],
    ['quarterly', '2026-Q0'],
    ['quarterly', '2026-Q5'],
    ['quarterly', '2026-11'],
    ['annual', '26'],
    ['annual', '2026-01'],
    ['annual', ' 2026'],
    ['monthly', ''],
  ];
  // Keys of the right shape that name no calendar period, and keys of the wrong shape, are told apart.
  const impossible = new Set([
    '2026-02-30',
    '2026-13-01',
    '2027-W53',
    '2026-W00',
    '2026-W54',
    '2026-13',
    '2026-00',
  ]);
  for (const [cadence, key] of bad) {
    it(`rejects the ${cadence} key "${key}"`, () => {
      expect(() => periodFromKey(cadence, key, 'UTC')).toThrow(InvalidPeriodError);
      expect(() => periodFromKey(cadence, key, 'UTC')).toThrow(
        impossible.has(key)
          ? `"${key}" is not a valid ${cadence} period`
          : `"${key}" is not a ${cadence} period key`,
      );
    });
  }
});

describe('completePeriodsSince', () => {
  it('lists every month that ended since a control was added mid-month, including the month it was added in', () => {
    const keys = completePeriodsSince(
      'monthly',
      at('2026-08-15T10:00:00Z'),
      at('2026-12-01T00:00:00Z'),
      'UTC',
    ).map((p) => p.key);
    expect(keys).toEqual(['2026-08', '2026-09', '2026-10', '2026-11']);
  });

  it('excludes the period still running at asOf', () => {
    const keys = completePeriodsSince(
      'monthly',
      at('2026-08-15T10:00:00Z'),
      at('2026-11-30T23:59:59Z'),
      'UTC',
    ).map((p) => p.key);
    expect(keys).toEqual(['2026-08', '2026-09', '2026-10']);
  });

  it('is empty when nothing has ended yet, or when from is after asOf', () => {
    expect(
      completePeriodsSince('quarterly', at('2026-10-02T00:00:00Z'), at('2026-12-31T00:00:00Z'), 'UTC'),
    ).toEqual([]);
    expect(
      completePeriodsSince('daily', at('2027-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), 'UTC'),
    ).toEqual([]);
  });

  it('crosses the ISO week-year boundary without skipping or repeating a week', () => {
    const weeks = completePeriodsSince(
      'weekly',
      at('2026-12-20T00:00:00Z'),
      at('2027-01-12T00:00:00Z'),
      'UTC',
    );
    expect(weeks.map((p) => p.key)).toEqual(['2026-W51', '2026-W52', '2026-W53', '2027-W01']);
    expectContiguous(weeks);
  });

  it('produces contiguous days across both DST changes of a year in America/New_York', () => {
    const days = completePeriodsSince(
      'daily',
      at('2026-01-01T12:00:00Z'),
      at('2027-01-01T12:00:00Z'),
      'America/New_York',
    );
    expect(days).toHaveLength(365);
    expect(days[0]?.key).toBe('2026-01-01');
    expect(days.at(-1)?.key).toBe('2026-12-31');
    expectContiguous(days);
    const lengths = new Set(days.map((d) => (d.end.getTime() - d.start.getTime()) / HOUR));
    expect([...lengths].sort((a, b) => a - b)).toEqual([23, 24, 25]);
  });

  it('uses the configured zone: an annual run on New Year in UTC has not yet ended the year in Los Angeles', () => {
    const utc = completePeriodsSince('annual', at('2025-06-01T00:00:00Z'), at('2027-01-01T02:00:00Z'), 'UTC');
    const la = completePeriodsSince(
      'annual',
      at('2025-06-01T00:00:00Z'),
      at('2027-01-01T02:00:00Z'),
      'America/Los_Angeles',
    );
    expect(utc.map((p) => p.key)).toEqual(['2025', '2026']);
    expect(la.map((p) => p.key)).toEqual(['2025']);
  });
});
