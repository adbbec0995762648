import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  CADENCES,
  type Cadence,
  completePeriodsSince,
  nextPeriod,
  type Period,
  periodContaining,
  periodFromKey,
  previousPeriod,
} from '../../lib/shared/period.ts';

/**
 * `UTC` periods are computed with Date.UTC arithmetic; every other zone, and `utc` spelled in lower
 * case (which luxon normalises to the very same UTC zone, named `UTC`), goes through luxon. So the
 * luxon answer for `utc` is the reference the fast path must reproduce exactly: same key, start,
 * end and zone name, the same accepted keys and the same error for every rejected key.
 *   SOC2_PBT_RUNS=20000 npx vitest run test/shared/period-utc.test.ts
 */
const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 2000);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261202);
const LUXON_UTC = 'utc';

const cadence = fc.constantFrom(...CADENCES);
const instant = fc.oneof(
  fc.date({
    min: new Date('1000-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  }),
  // Boundaries: midnights, the last millisecond before them, ISO week-year edges, leap days.
  fc
    .record({
      year: fc.integer({ min: 1899, max: 2101 }),
      month: fc.integer({ min: 0, max: 11 }),
      day: fc.constantFrom(1, 2, 3, 4, 28, 29, 30, 31),
      shift: fc.constantFrom(-1, 0, 1),
    })
    .map(({ year, month, day, shift }) => new Date(Date.UTC(year, month, day) + shift)),
);
const digits = (length: number, max: number) =>
  fc.integer({ min: 0, max }).map((value) => String(value).padStart(length, '0'));
const key = fc.oneof(
  fc.tuple(digits(4, 9999), digits(2, 14), digits(2, 32)).map(([y, m, d]) => `${y}-${m}-${d}`),
  fc.tuple(digits(4, 9999), digits(2, 54)).map(([y, w]) => `${y}-W${w}`),
  fc.tuple(digits(4, 9999), digits(2, 14)).map(([y, m]) => `${y}-${m}`),
  fc.tuple(digits(4, 9999), fc.integer({ min: 0, max: 5 })).map(([y, q]) => `${y}-Q${q}`),
  digits(4, 9999),
  fc.constantFrom(
    '2026-02-29',
    '2024-02-29',
    '2026-W53',
    '2020-W53',
    '2027-W53',
    '0999',
    '1000-01-01',
    '2026-1-01',
  ),
);

function outcome(run: () => Period): Period | { error: string } {
  try {
    return run();
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

describe('UTC periods without the calendar library', () => {
  it('luxon names the lower-case zone UTC, so it is the reference for the fast path', () => {
    expect(periodFromKey('daily', '2026-11-23', LUXON_UTC).timeZone).toBe('UTC');
  });

  it('contain every instant exactly as luxon does, with the same next and previous periods', () => {
    fc.assert(
      fc.property(cadence, instant, (unit: Cadence, at: Date) => {
        const fast = periodContaining(unit, at, 'UTC');
        expect(fast).toStrictEqual(periodContaining(unit, at, LUXON_UTC));
        expect(fast.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(fast.end.getTime()).toBeGreaterThan(at.getTime());
        const luxonPeriod = { ...fast, timeZone: LUXON_UTC };
        expect(nextPeriod(fast)).toStrictEqual(nextPeriod(luxonPeriod));
        expect(previousPeriod(fast)).toStrictEqual(previousPeriod(luxonPeriod));
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });

  it('accept exactly the keys luxon accepts and reject the others with the same error', () => {
    fc.assert(
      fc.property(cadence, key, (unit: Cadence, name: string) => {
        expect(outcome(() => periodFromKey(unit, name, 'UTC'))).toStrictEqual(
          outcome(() => periodFromKey(unit, name, LUXON_UTC)),
        );
      }),
      { numRuns: NUM_RUNS * 2, seed: SEED },
    );
  });

  it('walks a range of periods as luxon does (weeks across year ends included)', () => {
    for (const unit of CADENCES) {
      const from = new Date('2019-12-20T00:00:00Z');
      const asOf = new Date('2027-01-10T00:00:00Z');
      const fast = completePeriodsSince(unit, from, asOf, 'UTC');
      expect(fast).toStrictEqual(completePeriodsSince(unit, from, asOf, LUXON_UTC));
      expect(fast.length).toBeGreaterThan(0);
    }
  });
});
