import type { Config } from '../config/schema.ts';
import { CADENCES, type Cadence, completePeriodsSince, type Period } from '../shared/period.ts';
import type { ControlJob } from './control-job.ts';
import { assertKnownControls } from './dispatch-due-controls.ts';

/** Periods per control a backfill runs at most: a year of daily periods and some room. */
export const DEFAULT_BACKFILL_CAP = 400;

/**
 * How long after a period ends its schedule fires: the deployed schedules run at 00:15 in the
 * config's time zone on the first day of the next period (infra/constructs/cadence-schedules.ts).
 */
export const SCHEDULE_OFFSET_MS = 15 * 60_000;

/** The instant the deployed schedule runs a period's job: 15 minutes after the period ends. */
export function scheduledRunInstant(period: Pick<Period, 'end'>): Date {
  return new Date(period.end.getTime() + SCHEDULE_OFFSET_MS);
}

export interface BackfillRequest {
  /** The first day to cover: the period containing it is the first one run. */
  readonly from: Date;
  /** Periods must have ended by this instant (the run's `--as-of`, else now). */
  readonly asOf: Date;
  /** Only these cadences. @default every cadence */
  readonly cadences?: readonly Cadence[];
  /** Only these controls. @default every control of the cadences */
  readonly controlIds?: readonly string[];
  /** Periods per control at most; the most recent are kept. @default {@link DEFAULT_BACKFILL_CAP} */
  readonly maxPeriodsPerControl?: number;
}

export interface BackfillPlan {
  /** Every job, in the order the schedules would have run them. */
  readonly jobs: readonly ControlJob[];
  /** Controls whose periods exceeded the cap: how many of their oldest periods were left out. */
  readonly capped: readonly { readonly controlId: string; readonly skippedPeriods: number }[];
}

export class InvalidBackfillError extends Error {
  override name = 'InvalidBackfillError';
}

// At one instant the daily schedule runs last: its schedule-health control checks that the other
// cadences' runs of that instant happened.
const CADENCE_ORDER: Record<Cadence, number> = { weekly: 0, monthly: 1, quarterly: 2, annual: 3, daily: 4 };

/**
 * Every period that has ended since `from`, for every selected control, as the jobs the schedules
 * would have dispatched: each job's `asOf` is its period's scheduled instant ({@link
 * scheduledRunInstant}), or `asOf` when the schedule has not fired yet. Sorted by that instant (then
 * daily last, then config order), so a history is built in the order it would have happened and
 * each job evaluates exactly the period it names. Pure: no clock, no I/O; re-planning the same
 * request yields the same jobs, so a re-run of a backfill records nothing twice.
 */
export function backfillJobs(config: Config, request: BackfillRequest): BackfillPlan {
  const { from, asOf } = request;
  if (Number.isNaN(from.getTime())) throw new InvalidBackfillError('the backfill start is not a valid date');
  if (from.getTime() > asOf.getTime()) {
    throw new InvalidBackfillError(
      `the backfill start ${from.toISOString()} is after the run's as-of ${asOf.toISOString()}`,
    );
  }
  const cap = request.maxPeriodsPerControl ?? DEFAULT_BACKFILL_CAP;
  if (!Number.isInteger(cap) || cap < 1)
    throw new InvalidBackfillError(`the cap must be a whole number of periods >= 1, got ${cap}`);
  const wanted = request.controlIds;
  assertKnownControls(config, wanted);
  const cadences = new Set<Cadence>(request.cadences ?? CADENCES);
  const periodsByCadence = new Map<Cadence, Period[]>();
  const periodsOf = (cadence: Cadence) => {
    let periods = periodsByCadence.get(cadence);
    if (!periods) {
      periods = completePeriodsSince(cadence, from, asOf, config.timeZone);
      periodsByCadence.set(cadence, periods);
    }
    return periods;
  };

  const planned: { job: ControlJob; at: number; cadenceOrder: number; controlOrder: number }[] = [];
  const capped: { controlId: string; skippedPeriods: number }[] = [];
  config.controls.forEach((control, controlOrder) => {
    if (!cadences.has(control.cadence)) return;
    if (wanted && !wanted.includes(control.id)) return;
    const all = periodsOf(control.cadence);
    const kept = all.length > cap ? all.slice(all.length - cap) : all;
    if (kept.length < all.length)
      capped.push({ controlId: control.id, skippedPeriods: all.length - kept.length });
    for (const period of kept) {
      const at = Math.min(scheduledRunInstant(period).getTime(), asOf.getTime());
      planned.push({
        job: {
          controlId: control.id,
          cadence: control.cadence,
          periodKey: period.key,
          asOf: new Date(at).toISOString(),
        },
        at,
        cadenceOrder: CADENCE_ORDER[control.cadence],
        controlOrder,
      });
    }
  });
  planned.sort((a, b) => a.at - b.at || a.cadenceOrder - b.cadenceOrder || a.controlOrder - b.controlOrder);
  return { jobs: planned.map((entry) => entry.job), capped };
}
