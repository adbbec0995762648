import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/parse-config.ts';
import type { ConfigInput } from '../../lib/config/schema.ts';
import {
  backfillJobs,
  DEFAULT_BACKFILL_CAP,
  InvalidBackfillError,
  scheduledRunInstant,
} from '../../lib/runs/backfill.ts';
import { UnknownControlError } from '../../lib/runs/dispatch-due-controls.ts';
import { type Cadence, lastCompletePeriod, periodFromKey } from '../../lib/shared/period.ts';
import { auditLogControl, securityOwner } from '../support/config-fixture.ts';

const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 25);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261201);

function config(cadences: readonly Cadence[], timeZone = 'UTC') {
  const input: ConfigInput = {
    timeZone,
    owners: [securityOwner],
    targets: [{ name: 'app', connection: { env: 'APP_URL' } }],
    controls: cadences.map((cadence) => auditLogControl({ id: `log-${cadence}`, cadence })),
  };
  return parseConfig(input);
}

const ALL: Cadence[] = ['daily', 'weekly', 'monthly', 'quarterly', 'annual'];

describe('backfillJobs', () => {
  it('plans every period since FROM that has ended, each as of its scheduled run', () => {
    const plan = backfillJobs(config(['monthly']), {
      from: new Date('2026-01-01T00:00:00Z'),
      asOf: new Date('2026-12-01T23:00:00Z'),
    });
    expect(plan.jobs.map((job) => job.periodKey)).toEqual([
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
    ]);
    expect(plan.jobs[0]?.asOf).toBe('2026-02-01T00:15:00.000Z');
    expect(plan.capped).toEqual([]);
  });

  it('never plans a period that has not ended, and runs one whose schedule has not fired as of asOf', () => {
    const asOf = new Date('2026-12-01T00:05:00Z');
    const plan = backfillJobs(config(['monthly', 'daily']), { from: new Date('2026-11-29T00:00:00Z'), asOf });
    const keys = plan.jobs.map((job) => `${job.cadence}:${job.periodKey}:${job.asOf}`);
    expect(keys).toContain('monthly:2026-11:2026-12-01T00:05:00.000Z');
    expect(keys).toContain('daily:2026-11-30:2026-12-01T00:05:00.000Z');
    expect(keys.some((key) => key.includes('2026-12-01:'))).toBe(false);
  });

  it('runs the daily cadence last at each instant, so schedule health sees the others first', () => {
    const plan = backfillJobs(config(['daily', 'monthly', 'weekly']), {
      from: new Date('2026-01-31T00:00:00Z'),
      asOf: new Date('2026-02-02T00:00:00Z'),
    });
    const atFebFirst = plan.jobs.filter((job) => job.asOf === '2026-02-01T00:15:00.000Z');
    expect(atFebFirst.map((job) => job.cadence)).toEqual(['monthly', 'daily']);
  });

  it('keeps the most recent periods over the cap and says how many older ones it left out', () => {
    const plan = backfillJobs(config(['daily', 'monthly']), {
      from: new Date('2025-01-01T00:00:00Z'),
      asOf: new Date('2026-12-01T23:00:00Z'),
      maxPeriodsPerControl: 100,
    });
    const daily = plan.jobs.filter((job) => job.cadence === 'daily');
    expect(daily).toHaveLength(100);
    expect(daily.at(-1)?.periodKey).toBe('2026-11-30');
    // 2025-01-01..2026-11-30 is 699 days; the 23 months are under the cap.
    expect(plan.capped).toEqual([{ controlId: 'log-daily', skippedPeriods: 599 }]);
    expect(DEFAULT_BACKFILL_CAP).toBeGreaterThanOrEqual(366);
  });

  it('rejects a start after asOf, a bad cap and unknown controls', () => {
    const c = config(['monthly']);
    const asOf = new Date('2026-06-01T00:00:00Z');
    expect(() => backfillJobs(c, { from: new Date('2026-07-01T00:00:00Z'), asOf })).toThrow(
      InvalidBackfillError,
    );
    expect(() => backfillJobs(c, { from: new Date('nope'), asOf })).toThrow(InvalidBackfillError);
    expect(() => backfillJobs(c, { from: asOf, asOf, maxPeriodsPerControl: 0 })).toThrow(
      InvalidBackfillError,
    );
    expect(() => backfillJobs(c, { from: asOf, asOf, controlIds: ['ghost'] })).toThrow(UnknownControlError);
  });

  it('only plans the cadences and controls asked for', () => {
    const plan = backfillJobs(config(ALL), {
      from: new Date('2026-01-01T00:00:00Z'),
      asOf: new Date('2026-12-01T23:00:00Z'),
      cadences: ['monthly', 'quarterly'],
      controlIds: ['log-quarterly'],
    });
    expect(plan.jobs.map((job) => job.periodKey)).toEqual(['2026-Q1', '2026-Q2', '2026-Q3']);
  });

  // The property a backfill must never break: each job evaluates exactly the period it names (the
  // runner cuts the period from the job's key, the control reads "as of" the job's instant), no
  // period is skipped or repeated, and none ends after asOf. A naive day-by-day walk is the reference.
  it('covers exactly the ended periods since FROM, each job as of an instant that names its period', () => {
    const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'America/Santiago'];
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL),
        fc.constantFrom(...zones),
        fc.date({
          min: new Date('2024-01-01T00:00:00Z'),
          max: new Date('2026-10-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 400 * 24 }),
        (cadence, timeZone, from, hours) => {
          const asOf = new Date(from.getTime() + hours * 3_600_000);
          const c = config([cadence], timeZone);
          const { jobs } = backfillJobs(c, { from, asOf, maxPeriodsPerControl: 10_000 });
          const seen = new Set<string>();
          for (const job of jobs) {
            const period = periodFromKey(cadence, job.periodKey, timeZone);
            expect(period.end.getTime()).toBeLessThanOrEqual(asOf.getTime());
            expect(lastCompletePeriod(cadence, new Date(job.asOf), timeZone).key).toBe(job.periodKey);
            expect(new Date(job.asOf).getTime()).toBe(
              Math.min(scheduledRunInstant(period).getTime(), asOf.getTime()),
            );
            expect(seen.has(job.periodKey)).toBe(false);
            seen.add(job.periodKey);
          }
          // Reference: the last complete period as of every half day between FROM and asOf (no period
          // is shorter than 23 h, so none is stepped over), kept if it ended after FROM.
          const expected = new Set<string>();
          for (let t = from.getTime(); t <= asOf.getTime(); t += 12 * 3_600_000) {
            const period = lastCompletePeriod(cadence, new Date(t), timeZone);
            if (period.end.getTime() > from.getTime()) expected.add(period.key);
          }
          const last = lastCompletePeriod(cadence, asOf, timeZone);
          if (last.end.getTime() > from.getTime()) expected.add(last.key);
          expect([...seen].sort()).toEqual([...expected].sort());
        },
      ),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  }, 120_000);
});
