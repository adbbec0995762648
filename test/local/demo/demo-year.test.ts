import { describe, expect, it } from 'vitest';
import { demoYear } from '../../../lib/local/demo/demo-year.ts';

/** The demo's year as dates: pure, so a wrong incident month fails here before the demo runs. */
describe('demoYear', () => {
  const year = demoYear(new Date('2026-12-01T00:15:00Z'), 'UTC');

  it('spans the twelve complete months before the demo date', () => {
    expect(year.from.toISOString()).toBe('2025-12-01T00:00:00.000Z');
    expect([year.months.length, year.months[0], year.months[11]]).toEqual([12, '2025-12', '2026-11']);
  });

  it('places each incident in its month, with a remediation after it', () => {
    expect(year.auditLogGap).toEqual({
      start: new Date('2026-03-17T09:00:00.000Z'),
      end: new Date('2026-03-17T13:30:00.000Z'),
      monthKey: '2026-03',
    });
    expect([year.secretOverdueMonths, year.secretRotatedMonth]).toEqual([['2026-05', '2026-06'], '2026-07']);
    const failed = year.restores.filter((restore) => restore.completedAt === null);
    expect([year.restoreFailedMonth, failed.map((r) => r.recoveryPoint.toISOString())]).toEqual([
      '2026-09',
      ['2026-09-20T02:00:00.000Z'],
    ]);
    // Every other month has a completed restore within the 60-minute RTO.
    const done = year.restores.filter((restore) => restore.completedAt !== null);
    expect(done).toHaveLength(11);
    for (const restore of done)
      expect((restore.completedAt?.getTime() ?? 0) - restore.startedAt.getTime()).toBe(37 * 60_000);
  });

  it('has a Trivy report in every week, uploaded after it was made, one week with a patched critical', () => {
    const weeks = new Set(year.scans.map((scan) => scan.createdAt.toISOString().slice(0, 10)));
    expect(weeks.size).toBe(year.scans.length);
    for (const scan of year.scans)
      expect(scan.uploadedAt.getTime()).toBeGreaterThan(scan.createdAt.getTime());
    const gaps = year.scans
      .slice(1)
      .map((scan, i) => scan.createdAt.getTime() - (year.scans[i]?.createdAt.getTime() ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(7 * 86_400_000);
    expect(year.scans.filter((scan) => scan.critical).map((scan) => scan.createdAt.toISOString())).toEqual([
      '2026-06-21T22:00:00.000Z',
    ]);
  });

  it('moves the whole year with the demo date', () => {
    const later = demoYear(new Date('2027-03-15T10:00:00Z'), 'UTC');
    expect([later.months[0], later.months[11], later.auditLogGap.monthKey, later.restoreFailedMonth]).toEqual(
      ['2026-03', '2027-02', '2026-06', '2026-12'],
    );
  });
});
