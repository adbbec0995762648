import { DateTime } from 'luxon';
import * as z from 'zod';
import type { VerdictRecord } from '../runs/run-record.ts';
import { durationSchema, durationToMs, slugSchema } from '../shared/identifiers.ts';
import { completePeriodsSince, lastCompletePeriod, type Period, periodContaining } from '../shared/period.ts';
import type { ControlDefinition } from './control-definition.ts';
import { NO_NEEDS } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { ControlCheckError, type ControlOutcome, type EvidenceLog, outcome } from './outcome.ts';
import { requirePort, type VerdictHistoryPort } from './ports.ts';
import {
  controlReviewChainId,
  describeReviewGap,
  type ReviewedControl,
  reviewGaps,
  reviewsOwed,
} from './review-schedule.ts';

export const scheduleHealthParamsSchema = z.strictObject({
  type: z.literal('schedule-health'),
  grace: durationSchema
    .default('PT6H')
    .describe('A period that ended less than this long ago is not yet owed a verdict.'),
  controls: z
    .array(slugSchema)
    .min(1)
    .optional()
    .describe('Only these controls. control in the configuration, this one included'),
  lookback: durationSchema
    .optional()
    .describe(
      'Ignore periods that ended longer ago than this (e.g. after a deliberate backfill cut-off). limit',
    ),
});
export type ScheduleHealthParams = z.output<typeof scheduleHealthParamsSchema>;

export type PeriodProblem =
  | { readonly kind: 'missing'; readonly periodKey: string; readonly periodEnd: string }
  /** A stored verdict that is not pass, fail or error (a broken writer, a manual edit). */
  | {
      readonly kind: 'unreal';
      readonly periodKey: string;
      readonly periodEnd: string;
      readonly stored: string | null;
    }
  /** The only verdict was recorded after the check ran (or at an unreadable time): no proof yet. */
  | {
      readonly kind: 'late';
      readonly periodKey: string;
      readonly periodEnd: string;
      readonly recordedAt: string;
      readonly checkedAt: string;
    }
  | {
      readonly kind: 'stuck';
      readonly periodKey: string;
      readonly periodEnd: string;
      readonly attempts: number;
      readonly allErrors: boolean;
      readonly lastAttemptAt: string;
    }
  | {
      /** A `review: required` control's period with no review sign-off (or one of older evidence). */
      readonly kind: 'review-missing' | 'review-stale';
      readonly periodKey: string;
      readonly periodEnd: string;
      readonly dueAt: string;
      readonly message: string;
    };

export interface ControlHealth {
  readonly controlId: string;
  readonly cadence: string;
  readonly since: string | null;
  readonly periodsOwed: number;
  readonly verdictsFound: number;
  readonly problems: readonly PeriodProblem[];
}

/**
 * Pure: compares the periods a control owes with its stored verdicts. A period whose verdict is
 * `error` was never actually checked: the run is stuck until an attempt gets through. A verdict
 * counts only when it was recorded by `checkedAt`, the instant this check runs (its clock): one
 * recorded later, or whose recording time is not a zoned timestamp, does not show the period had
 * run when the check looked (`late`; the caller then looks for an earlier attempt). Recorded after
 * the period's `asOf` is fine: backfills and the demo run periods "as of" earlier instants.
 */
export function judgeControlSchedule(
  owed: readonly Period[],
  verdicts: readonly Pick<
    VerdictRecord,
    'periodKey' | 'cadence' | 'verdict' | 'lastAttemptAt' | 'attempts'
  >[],
  checkedAt: Date,
): PeriodProblem[] {
  const byKey = new Map(verdicts.map((verdict) => [`${verdict.cadence}#${verdict.periodKey}`, verdict]));
  const problems: PeriodProblem[] = [];
  for (const period of owed) {
    const verdict = byKey.get(`${period.cadence}#${period.key}`);
    const periodEnd = period.end.toISOString();
    if (!verdict) problems.push({ kind: 'missing', periodKey: period.key, periodEnd });
    else if (!recordedBy(verdict.lastAttemptAt, checkedAt))
      problems.push({
        kind: 'late',
        periodKey: period.key,
        periodEnd,
        recordedAt: String(verdict.lastAttemptAt),
        checkedAt: checkedAt.toISOString(),
      });
    else if (verdict.verdict !== 'pass' && verdict.verdict !== 'fail' && verdict.verdict !== 'error') {
      const stored: unknown = verdict.verdict;
      problems.push({
        kind: 'unreal',
        periodKey: period.key,
        periodEnd,
        stored: stored === undefined || stored === null ? null : String(stored),
      });
    } else if (verdict.verdict === 'error') {
      problems.push({
        kind: 'stuck',
        periodKey: period.key,
        periodEnd,
        attempts: verdict.attempts,
        allErrors: true,
        lastAttemptAt: verdict.lastAttemptAt,
      });
    }
  }
  return problems;
}

function describe(controlId: string, problems: readonly PeriodProblem[]): string[] {
  const list = (keys: string[]) =>
    keys.length > 8 ? `${keys.slice(0, 8).join(', ')} and ${keys.length - 8} more` : keys.join(', ');
  const lines: string[] = [];
  const missing = problems.filter((p) => p.kind === 'missing').map((p) => p.periodKey);
  if (missing.length > 0) lines.push(`${controlId}: no verdict for ${list(missing)}`);
  for (const problem of problems) {
    if (problem.kind === 'unreal')
      lines.push(
        `${controlId}: ${problem.periodKey} has no real verdict (stored verdict: ${problem.stored ?? 'none'})`,
      );
    if (problem.kind === 'late')
      lines.push(
        `${controlId}: ${problem.periodKey} has no verdict recorded by ${problem.checkedAt}, when this check ran (its verdict is recorded at ${problem.recordedAt})`,
      );
    if (problem.kind === 'review-missing' || problem.kind === 'review-stale') lines.push(problem.message);
    if (problem.kind === 'stuck') {
      lines.push(
        `${controlId}: ${problem.periodKey} is stuck: ${problem.allErrors ? `all ${problem.attempts} attempts errored` : `the latest of ${problem.attempts} attempts errored`}`,
      );
    }
  }
  return lines;
}

async function checkControl(
  control: ControlDefinition,
  history: VerdictHistoryPort,
  context: ControlContext,
  dueBy: Date,
  notBefore: Date | null,
): Promise<ControlHealth> {
  const timeZone = context.period.timeZone;
  const since = control.addedOn ? addedOnStart(control.id, control.addedOn, timeZone) : null;
  // Periods that ended before the lookback are not judged, so they need not be listed: starting at
  // the period containing its first instant keeps a daily run over a long history cheap.
  const listFrom =
    since && notBefore
      ? new Date(
          Math.max(
            since.getTime(),
            periodContaining(control.cadence, new Date(notBefore.getTime() - 1), timeZone).start.getTime(),
          ),
        )
      : since;
  // Without addedOn, only the last complete period is certainly owed.
  let owed = listFrom
    ? completePeriodsSince(control.cadence, listFrom, dueBy, timeZone)
    : [lastCompletePeriod(control.cadence, dueBy, timeZone)];
  if (notBefore) owed = owed.filter((period) => period.end.getTime() >= notBefore.getTime());
  // This run is producing the current period's verdict of schedule health itself.
  if (control.id === context.control.id) owed = owed.filter((period) => period.key !== context.period.key);
  if (owed.length === 0) {
    return {
      controlId: control.id,
      cadence: control.cadence,
      since: control.addedOn ?? null,
      periodsOwed: 0,
      verdictsFound: 0,
      problems: [],
    };
  }
  const verdicts = await owedVerdicts(control, history, owed, context.evidence);
  const problems = judgeControlSchedule(owed, verdicts, context.now);
  const refined = (
    await Promise.all(
      problems.map(async (problem) =>
        problem.kind === 'late'
          ? earlierAttempt(control, problem, history, context)
          : refineStuck(control, problem, history, context.evidence),
      ),
    )
  ).filter((problem): problem is PeriodProblem => problem !== null);
  refined.push(...(await reviewProblems(control, history, context, dueBy, notBefore, verdicts)));
  return {
    controlId: control.id,
    cadence: control.cadence,
    since: control.addedOn ?? null,
    periodsOwed: owed.length,
    verdictsFound: verdicts.filter((v) => v.cadence === control.cadence).length,
    problems: refined,
  };
}

/** Verdicts of periods newer than the owed ones that a read may meet (those ended within the grace). */
const NEWER_PERIODS_READ = 3;

/**
 * The control's verdicts as far back as its oldest owed period: the newest few more than it owes
 * (newest period first), and the whole history only when those do not reach back that far (verdicts
 * of another cadence, or of many newer periods), so a year of daily history is not read every day.
 */
async function owedVerdicts(
  control: ControlDefinition,
  history: VerdictHistoryPort,
  owed: readonly Period[],
  evidence: EvidenceLog,
): Promise<VerdictRecord[]> {
  const oldest = owed[0]?.start.toISOString();
  const limit = owed.length + NEWER_PERIODS_READ;
  const newest = await history.verdictsOf(control.id, evidence, { limit });
  const reachesBack = newest.some(
    (verdict) => verdict.cadence === control.cadence && oldest !== undefined && verdict.periodStart <= oldest,
  );
  return newest.length < limit || reachesBack ? newest : history.verdictsOf(control.id, evidence);
}

/**
 * A `review: required` control's periods whose review is owed (closed, and `reviewWithin` passed by
 * `dueBy`) with no sign-off recorded by the check's clock, or a sign-off of evidence a re-run has
 * since replaced.
 */
async function reviewProblems(
  control: ControlDefinition,
  history: VerdictHistoryPort,
  context: ControlContext,
  dueBy: Date,
  notBefore: Date | null,
  verdicts: readonly VerdictRecord[],
): Promise<PeriodProblem[]> {
  if (control.review !== 'required') return [];
  const timeZone = context.period.timeZone;
  const reviewed: ReviewedControl = {
    ...control,
    ...(control.reviewWithin ? { reviewWithinMs: durationToMs(control.reviewWithin) } : {}),
  };
  let owed = reviewsOwed(reviewed, dueBy, timeZone);
  if (notBefore) owed = owed.filter((period) => period.end.getTime() >= notBefore.getTime());
  if (owed.length === 0) return [];
  // A sign-off counts, like a verdict, only when it was recorded by the instant this check runs.
  const reviews = (await history.verdictsOf(controlReviewChainId(control.id), context.evidence)).filter(
    (review) => recordedBy(review.lastAttemptAt, context.now),
  );
  return reviewGaps(reviewed, owed, reviews, verdicts).map((gap) => ({
    kind: gap.kind,
    periodKey: gap.periodKey,
    periodEnd: owed.find((p) => p.key === gap.periodKey)?.end.toISOString() ?? '',
    dueAt: gap.dueAt,
    message: describeReviewGap(gap),
  }));
}

/**
 * A period whose stored verdict was recorded after this check ran may still have had an attempt
 * recorded before it (a re-run since): judged by the latest attempt finished by the check's clock.
 * Returns null when that attempt is a real verdict.
 */
async function earlierAttempt(
  control: ControlDefinition,
  problem: Extract<PeriodProblem, { kind: 'late' }>,
  history: VerdictHistoryPort,
  context: ControlContext,
): Promise<PeriodProblem | null> {
  const attempts = (
    await history.attemptsFor(control.id, control.cadence, problem.periodKey, context.evidence)
  ).filter((attempt) => recordedBy(attempt.finishedAt, context.now));
  const latest = attempts.reduce<(typeof attempts)[number] | undefined>(
    (newest, attempt) =>
      newest === undefined || Date.parse(attempt.finishedAt) > Date.parse(newest.finishedAt)
        ? attempt
        : newest,
    undefined,
  );
  if (latest === undefined) return problem;
  const { periodKey, periodEnd } = problem;
  if (latest.verdict === 'pass' || latest.verdict === 'fail') return null;
  if (latest.verdict === 'error')
    return {
      kind: 'stuck',
      periodKey,
      periodEnd,
      attempts: attempts.length,
      allErrors: attempts.every((attempt) => attempt.verdict === 'error'),
      lastAttemptAt: latest.finishedAt,
    };
  const stored: unknown = latest.verdict;
  return {
    kind: 'unreal',
    periodKey,
    periodEnd,
    stored: stored === undefined || stored === null ? null : String(stored),
  };
}

/** An ISO 8601 instant with its zone (`Z` or an offset). Without one it names no instant: local to what? */
const ZONED_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Whether a recording time is a zoned instant at or before `checkedAt`. */
function recordedBy(recordedAt: unknown, checkedAt: Date): boolean {
  if (typeof recordedAt !== 'string' || !ZONED_INSTANT.test(recordedAt)) return false;
  // An unparsable date is NaN, and NaN <= anything is false: not recorded by the check.
  return Date.parse(recordedAt) <= checkedAt.getTime();
}

/**
 * `addedOn` is a calendar day (YYYY-MM-DD), the first day the control is in force, read as the
 * start of that day in the configuration's time zone (never the process's zone). A timestamp, with
 * or without a zone, or anything else is rejected: what the control owes would be a guess.
 */
function addedOnStart(controlId: string, addedOn: string, timeZone: string): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(addedOn) ? DateTime.fromISO(addedOn, { zone: timeZone }) : null;
  if (!day?.isValid)
    throw new ControlCheckError(
      `${controlId}: addedOn ${JSON.stringify(addedOn)} is not a calendar date (YYYY-MM-DD), so the periods it owes are unknown`,
    );
  return day.toJSDate();
}

/** A stuck period is "all attempts errored" or "the latest errored after earlier real verdicts". */
async function refineStuck(
  control: ControlDefinition,
  problem: PeriodProblem,
  history: VerdictHistoryPort,
  evidence: EvidenceLog,
): Promise<PeriodProblem> {
  if (problem.kind !== 'stuck') return problem;
  const attempts = await history.attemptsFor(control.id, control.cadence, problem.periodKey, evidence);
  if (attempts.length === 0) return problem;
  return {
    ...problem,
    attempts: attempts.length,
    allErrors: attempts.every((attempt) => attempt.verdict === 'error'),
  };
}

async function run(params: ScheduleHealthParams, context: ControlContext): Promise<ControlOutcome> {
  const history = requirePort(context.ports.verdictHistory, 'verdict history (verdictHistory port)');
  const dueBy = new Date(context.asOf.getTime() - durationToMs(params.grace));
  const notBefore = params.lookback ? new Date(context.asOf.getTime() - durationToMs(params.lookback)) : null;
  const wanted = params.controls;
  const unknown = wanted?.filter((id) => !history.controls.some((control) => control.id === id)) ?? [];
  const controls = history.controls.filter((control) => !wanted || wanted.includes(control.id));

  const health: ControlHealth[] = [];
  for (const control of controls)
    health.push(await checkControl(control, history, context, dueBy, notBefore));

  const reasons = health.flatMap((h) => describe(h.controlId, h.problems));
  for (const id of unknown)
    reasons.push(`${id}: not a configured control, so its schedule cannot be checked`);
  // Checking zero controls proves nothing about the schedule.
  if (health.length === 0 && unknown.length === 0)
    reasons.push('no controls to check: the verdict history lists no configured controls');
  const warnings = health
    .filter((h) => h.since === null)
    .map((h) => `${h.controlId} has no addedOn date: only its last complete period was checked`);
  const problems = health.flatMap((h) => h.problems);

  return outcome({
    reasons,
    warnings,
    figures: {
      controls: health.length,
      periodsOwed: health.reduce((sum, h) => sum + h.periodsOwed, 0),
      missing: problems.filter((p) => p.kind === 'missing').length,
      late: problems.filter((p) => p.kind === 'late').length,
      stuck: problems.filter((p) => p.kind === 'stuck').length,
      reviewsMissing: problems.filter((p) => p.kind === 'review-missing' || p.kind === 'review-stale').length,
    },
    details: {
      asOf: context.asOf.toISOString(),
      dueBy: dueBy.toISOString(),
      grace: params.grace,
      controls: health,
    },
  });
}

export const scheduleHealth: ControlTest<ScheduleHealthParams> = {
  type: 'schedule-health',
  description:
    'Schedule health: every control has a real verdict for every period that ended since it was added.',
  paramsSchema: scheduleHealthParamsSchema,
  // Verdict history is the results table, which every runner reads anyway.
  needs: () => NO_NEEDS,
  run,
};
