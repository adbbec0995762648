import { describe, expect, it } from 'vitest';
import { checkRange, expectedPeriods, periodInRange } from '../../lib/evidence/coverage.ts';
import { periodFromKey } from '../../lib/shared/period.ts';

const year = { from: '2026-01-01', to: '2026-12-31' };

describe('export range and expected periods', () => {
  it('puts a period in the range its last day falls in, read in its own time zone', () => {
    expect(periodInRange(periodFromKey('monthly', '2026-12', 'UTC'), year)).toBe(true);
    expect(periodInRange(periodFromKey('monthly', '2025-12', 'UTC'), year)).toBe(false);
    expect(periodInRange(periodFromKey('weekly', '2026-W01', 'UTC'), year)).toBe(true); // Dec 29 .. Jan 4
    expect(periodInRange(periodFromKey('weekly', '2026-W53', 'UTC'), year)).toBe(false); // ends Jan 3 2027
    expect(periodInRange(periodFromKey('monthly', '2026-12', 'America/Los_Angeles'), year)).toBe(true);
    expect(periodInRange(periodFromKey('monthly', '2025-12', 'Pacific/Auckland'), year)).toBe(false);
  });

  it('expects every period from the chain start to the last one due by the check time', () => {
    const periods = expectedPeriods({
      cadence: 'monthly',
      timeZone: 'UTC',
      range: year,
      asOf: new Date('2026-11-24T00:00:00Z'),
      firstKey: '2026-03',
    });
    expect(periods.map((period) => period.key)).toEqual([
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
    ]);
  });

  it('allows a day of grace after a period closes before its manifest counts as missing', () => {
    const keys = (asOf: string) =>
      expectedPeriods({
        cadence: 'quarterly',
        timeZone: 'UTC',
        range: year,
        asOf: new Date(asOf),
        firstKey: '2026-Q1',
      }).map((p) => p.key);
    expect(keys('2026-10-01T12:00:00Z')).toEqual(['2026-Q1', '2026-Q2']);
    expect(keys('2026-10-02T00:00:00Z')).toEqual(['2026-Q1', '2026-Q2', '2026-Q3']);
  });

  it('starts at the range when the chain began before it', () => {
    const periods = expectedPeriods({
      cadence: 'annual',
      timeZone: 'UTC',
      range: year,
      asOf: new Date('2027-03-01T00:00:00Z'),
    });
    expect(periods.map((period) => period.key)).toEqual(['2026']);
  });

  it('rejects a reversed or malformed range', () => {
    expect(() => checkRange({ from: '2026-12-31', to: '2026-01-01' })).toThrow(/after --to/);
    expect(() => checkRange({ from: '2026-02-30' })).toThrow(/--from: expected a date/);
  });
});
