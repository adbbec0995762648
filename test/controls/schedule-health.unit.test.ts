import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { ControlDefinition } from '../../lib/controls/control-definition.ts';
import type { Verdict } from '../../lib/controls/outcome.ts';
import type { VerdictHistoryPort } from '../../lib/controls/ports.ts';
import { judgeControlSchedule, scheduleHealthParamsSchema } from '../../lib/controls/schedule-health.ts';
import type { AttemptRecord, VerdictRecord } from '../../lib/runs/run-record.ts';
import type { Cadence } from '../../lib/shared/period.ts';
import { periodFromKey } from '../../lib/shared/period.ts';
import { runTest } from './control-harness.ts';

/**
 * Schedule health's decisions on the stored verdict history (an in-memory port; the DynamoDB
 * adapter runs against dynalite in schedule-health.test.ts).
 */
const SELF = 'schedule-health';
const control = (id: string, cadence: Cadence, addedOn?: string): ControlDefinition => ({
  id,
  title: id,
  cadence,
  owner: 'security',
  criteria: ['CC4.1'],
  ...(addedOn ? { addedOn } : {}),
});

const verdict = (
  controlId: string,
  cadence: Cadence,
  periodKey: string,
  value: Verdict,
  attempts = 1,
  lastAttemptAt = '2026-12-01T00:10:00.000Z',
): VerdictRecord => ({
  controlId,
  cadence,
  periodKey,
  periodStart: '',
  periodEnd: '',
  verdict: value,
  reasons: [],
  warnings: [],
  figures: {},
  runId: 'run',
  attempts,
  lastAttemptAt,
  evidenceKey: '',
  evidenceSha256: '',
  manifestKey: '',
  manifestSha256: '',
});

function history(
  controls: ControlDefinition[],
  verdicts: VerdictRecord[],
  /** Per `<control>#<period>`, attempts as verdicts, or `[verdict, finishedAt]` pairs. */
  attempts: Record<string, (Verdict | [Verdict, string])[]> = {},
): VerdictHistoryPort & { asked: string[] } {
  const asked: string[] = [];
  return {
    controls,
    asked,
    async verdictsOf(controlId) {
      asked.push(controlId);
      return verdicts.filter((v) => v.controlId === controlId);
    },
    async attemptsFor(controlId, cadence, periodKey) {
      return (attempts[`${controlId}#${periodKey}`] ?? []).map((entry) => {
        const [value, finishedAt] = typeof entry === 'string' ? [entry, '2026-12-01T00:10:00.000Z'] : entry;
        return {
          ...verdict(controlId, cadence, periodKey, value),
          startedAt: finishedAt,
          finishedAt,
        } as AttemptRecord;
      });
    },
  };
}

function check(
  port: VerdictHistoryPort,
  test: Record<string, unknown> = {},
  asOf = '2026-12-01T12:00:00.000Z',
  clock: { now?: string; timeZone?: string } = {},
) {
  return runTest({
    test: { type: 'schedule-health', ...test },
    cadence: 'daily',
    periodKey: clock.timeZone
      ? (DateTime.fromISO(asOf, { zone: clock.timeZone }).minus({ days: 1 }).toISODate() ?? '')
      : '2026-11-30',
    asOf,
    ...clock,
    controlId: SELF,
    ports: { verdictHistory: port },
  });
}

describe('schedule health verdicts', () => {
  it('passes when every owed period has a real verdict, with figures', async () => {
    const port = history(
      [control('audit-log', 'monthly', '2026-10-15'), control('backups', 'weekly')],
      [
        verdict('audit-log', 'monthly', '2026-10', 'pass'),
        verdict('audit-log', 'monthly', '2026-11', 'fail'),
        verdict('audit-log', 'weekly', '2026-W40', 'pass'),
        verdict('backups', 'weekly', '2026-W48', 'pass'),
      ],
    );
    const { outcome } = await check(port);
    expect(outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    expect(outcome.warnings).toEqual([
      'backups has no addedOn date: only its last complete period was checked',
    ]);
    expect(outcome.figures).toEqual({
      controls: 2,
      periodsOwed: 3,
      missing: 0,
      late: 0,
      stuck: 0,
      reviewsMissing: 0,
    });
    expect(outcome.details).toMatchObject({
      asOf: '2026-12-01T12:00:00.000Z',
      dueBy: '2026-12-01T06:00:00.000Z',
      grace: 'PT6H',
      controls: [
        {
          controlId: 'audit-log',
          cadence: 'monthly',
          since: '2026-10-15',
          periodsOwed: 2,
          verdictsFound: 2,
          problems: [],
        },
        {
          controlId: 'backups',
          cadence: 'weekly',
          since: null,
          periodsOwed: 1,
          verdictsFound: 1,
          problems: [],
        },
      ],
    });
  });

  it('fails on missing periods, listing eight and counting the rest', async () => {
    const port = history([control('daily-check', 'daily', '2026-11-01')], []);
    const { outcome } = await check(port);
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'daily-check: no verdict for 2026-11-01, 2026-11-02, 2026-11-03, 2026-11-04, 2026-11-05, 2026-11-06, 2026-11-07, 2026-11-08 and 22 more',
    ]);
    expect(outcome.figures).toMatchObject({ periodsOwed: 30, missing: 30, stuck: 0 });
  });

  it('lists up to eight missing periods in full', async () => {
    const port = history([control('daily-check', 'daily', '2026-11-23')], []);
    const { outcome } = await check(port);
    expect(outcome.reasons).toEqual([
      'daily-check: no verdict for 2026-11-23, 2026-11-24, 2026-11-25, 2026-11-26, 2026-11-27, 2026-11-28, 2026-11-29, 2026-11-30',
    ]);
  });

  it('does not owe a period that ended within the grace', async () => {
    const port = history([control('daily-check', 'daily', '2026-11-30')], []);
    const early = await check(port, {}, '2026-12-01T05:59:59.999Z');
    expect(early.outcome.figures).toMatchObject({ periodsOwed: 0 });
    const due = await check(port, {}, '2026-12-01T06:00:00.000Z');
    expect(due.outcome.reasons).toEqual(['daily-check: no verdict for 2026-11-30']);
    expect(port.asked).toEqual(['daily-check']);
  });

  it('reports a period whose verdict is error as stuck, all errors or the latest after real ones', async () => {
    const port = history(
      [control('audit-log', 'monthly', '2026-10-01')],
      [
        verdict('audit-log', 'monthly', '2026-10', 'error', 3),
        verdict('audit-log', 'monthly', '2026-11', 'error', 2),
      ],
      { 'audit-log#2026-11': ['pass', 'error'] },
    );
    const { outcome } = await check(port);
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'audit-log: 2026-10 is stuck: all 3 attempts errored',
      'audit-log: 2026-11 is stuck: the latest of 2 attempts errored',
    ]);
    expect(outcome.figures).toMatchObject({ missing: 0, stuck: 2 });
  });

  it('counts attempts from the attempt history when it has them', async () => {
    const port = history(
      [control('audit-log', 'monthly', '2026-11-01')],
      [verdict('audit-log', 'monthly', '2026-11', 'error', 1)],
      { 'audit-log#2026-11': ['error', 'error', 'error', 'error'] },
    );
    expect((await check(port)).outcome.reasons).toEqual([
      'audit-log: 2026-11 is stuck: all 4 attempts errored',
    ]);
  });

  it('checks only the listed controls, naming unknown ones, and skips its own current period', async () => {
    const port = history(
      [
        control('audit-log', 'monthly', '2026-11-01'),
        control(SELF, 'daily', '2026-11-30'),
        control('other', 'daily'),
      ],
      [],
    );
    const { outcome } = await check(port, { controls: ['audit-log', SELF, 'ghost'] });
    expect(outcome.reasons).toEqual([
      'audit-log: no verdict for 2026-11',
      'ghost: not a configured control, so its schedule cannot be checked',
    ]);
    expect(outcome.figures).toMatchObject({ controls: 2, periodsOwed: 1 });
    expect(port.asked).toEqual(['audit-log']);
  });

  it('ignores periods that ended before the lookback', async () => {
    const port = history([control('daily-check', 'daily', '2026-11-01')], []);
    const { outcome } = await check(port, { lookback: 'P2D' });
    // asOf 2026-12-01T12:00 minus two days: periods ending at or after 2026-11-29T12:00 are owed.
    expect(outcome.reasons).toEqual(['daily-check: no verdict for 2026-11-29, 2026-11-30']);
  });

  it('owes its own earlier periods, skipping only the current one', async () => {
    const port = history([control(SELF, 'daily', '2026-11-29')], []);
    const { outcome } = await check(port);
    expect(outcome.reasons).toEqual(['schedule-health: no verdict for 2026-11-29']);
  });

  it('owes a period that ends exactly at the lookback limit, and reports an empty owed list in full', async () => {
    // asOf 2026-12-01T12:00 minus 36 hours is 2026-11-30T00:00: the end of 2026-11-29 and of 2026-W48.
    const port = history(
      [control('daily-check', 'daily', '2026-11-28'), control('weekly-check', 'weekly')],
      [],
    );
    const { outcome } = await check(port, { lookback: 'PT36H' });
    expect(outcome.reasons).toEqual([
      'daily-check: no verdict for 2026-11-29, 2026-11-30',
      'weekly-check: no verdict for 2026-W48',
    ]);
    // Six hours back, no period has ended since: nothing is owed.
    const recent = await check(port, { lookback: 'PT6H' });
    expect((recent.outcome.details as { controls: unknown[] }).controls[1]).toEqual({
      controlId: 'weekly-check',
      cadence: 'weekly',
      since: null,
      periodsOwed: 0,
      verdictsFound: 0,
      problems: [],
    });
  });

  it('keeps a missing period as it is, even when attempts were recorded for it', async () => {
    const port = history([control('audit-log', 'monthly', '2026-11-01')], [], {
      'audit-log#2026-11': ['error'],
    });
    const { outcome } = await check(port);
    expect((outcome.details as { controls: { problems: unknown[] }[] }).controls[0]?.problems).toEqual([
      { kind: 'missing', periodKey: '2026-11', periodEnd: '2026-12-01T00:00:00.000Z' },
    ]);
  });

  // A verdict recorded after the check ran does not show the period had run when it looked (a
  // retried schedule-health run, a clock ahead, a hand-written item): only what was there counts.
  it('does not count a verdict recorded after the check instant as the period having run', async () => {
    const port = history(
      [control('audit-log', 'monthly', '2026-11-01')],
      [verdict('audit-log', 'monthly', '2026-11', 'pass', 1, '2026-12-01T12:00:00.001Z')],
    );
    const { outcome } = await check(port);
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'audit-log: 2026-11 has no verdict recorded by 2026-12-01T12:00:00.000Z, when this check ran (its verdict is recorded at 2026-12-01T12:00:00.001Z)',
    ]);
    expect(outcome.figures).toMatchObject({ missing: 0, late: 1, stuck: 0 });
  });

  it('counts a verdict recorded exactly at the check instant, and judges by the clock, not asOf', async () => {
    const port = history(
      [control('audit-log', 'monthly', '2026-11-01')],
      [verdict('audit-log', 'monthly', '2026-11', 'pass', 1, '2026-12-01T12:00:00.000Z')],
    );
    expect((await check(port)).outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    // A backfill runs the period as of an earlier instant, after the verdicts it checks were recorded.
    const backfill = await check(port, {}, '2026-12-01T07:00:00.000Z', { now: '2026-12-05T00:00:00.000Z' });
    expect(backfill.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
  });

  it('judges a re-run period by its latest attempt recorded before the check', async () => {
    const late = (earlier: [Verdict, string][]) =>
      history(
        [control('audit-log', 'monthly', '2026-11-01')],
        [verdict('audit-log', 'monthly', '2026-11', 'pass', 3, '2026-12-02T00:00:00.000Z')],
        { 'audit-log#2026-11': [...earlier, ['pass', '2026-12-02T00:00:00.000Z']] },
      );
    const passedBefore = await check(
      late([
        ['error', '2026-12-01T00:10:00.000Z'],
        ['fail', '2026-12-01T01:00:00.000Z'],
      ]),
    );
    expect(passedBefore.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    // The latest by its finishing time, whatever order the history lists the attempts in.
    const listedOutOfOrder = await check(
      late([
        ['fail', '2026-12-01T01:00:00.000Z'],
        ['error', '2026-12-01T00:10:00.000Z'],
      ]),
    );
    expect(listedOutOfOrder.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    const passedLast = await check(
      late([
        ['error', '2026-12-01T00:10:00.000Z'],
        ['pass', '2026-12-01T01:00:00.000Z'],
      ]),
    );
    expect(passedLast.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    const erroredBefore = await check(
      late([
        ['fail', '2026-12-01T00:10:00.000Z'],
        ['error', '2026-12-01T01:00:00.000Z'],
      ]),
    );
    expect(erroredBefore.outcome.reasons).toEqual([
      'audit-log: 2026-11 is stuck: the latest of 2 attempts errored',
    ]);
    const onlyErrors = await check(late([['error', '2026-12-01T00:10:00.000Z']]));
    expect(onlyErrors.outcome.reasons).toEqual(['audit-log: 2026-11 is stuck: all 1 attempts errored']);
    const nothingBefore = await check(late([]));
    expect(nothingBefore.outcome.reasons).toEqual([
      'audit-log: 2026-11 has no verdict recorded by 2026-12-01T12:00:00.000Z, when this check ran (its verdict is recorded at 2026-12-02T00:00:00.000Z)',
    ]);
  });

  it('does not count a verdict whose recording time has no zone or is not a time', async () => {
    // An expanded year (+002026-...) is not the form any writer here records: not counted either.
    for (const recordedAt of [
      '2026-12-01T00:10:00',
      '2026-12-01',
      'yesterday',
      '2026-13-01T00:10:00Z',
      '+002026-12-01T00:10:00Z',
    ]) {
      const port = history(
        [control('audit-log', 'monthly', '2026-11-01')],
        [verdict('audit-log', 'monthly', '2026-11', 'pass', 1, recordedAt)],
      );
      const { outcome } = await check(port);
      expect(outcome.reasons, recordedAt).toEqual([
        `audit-log: 2026-11 has no verdict recorded by 2026-12-01T12:00:00.000Z, when this check ran (its verdict is recorded at ${recordedAt})`,
      ]);
    }
    const withOffset = history(
      [control('audit-log', 'monthly', '2026-11-01')],
      [verdict('audit-log', 'monthly', '2026-11', 'pass', 1, '2026-12-01T13:00:00+01:00')],
    );
    expect((await check(withOffset)).outcome).toMatchObject({ verdict: 'pass' });
    const withoutSeconds = history(
      [control('audit-log', 'monthly', '2026-11-01')],
      [verdict('audit-log', 'monthly', '2026-11', 'pass', 1, '2026-12-01T12:00Z')],
    );
    expect((await check(withoutSeconds)).outcome).toMatchObject({ verdict: 'pass' });
  });

  // addedOn is the first day in force in the configuration's time zone, whatever the process's zone.
  it('reads addedOn as a day in the configured time zone, not the process zone', async () => {
    // Los Angeles is UTC-8 in November: its 2026-11-30 starts at 2026-11-30T08:00Z. Read in the
    // process's zone (UTC), addedOn would start at 2026-11-29T16:00 local and owe 2026-11-29 as well.
    const port = history([control('daily-check', 'daily', '2026-11-30')], []);
    const { outcome } = await check(port, { grace: 'PT0S' }, '2026-12-01T08:00:00.000Z', {
      timeZone: 'America/Los_Angeles',
    });
    expect(outcome.reasons).toEqual(['daily-check: no verdict for 2026-11-30']);
    expect(outcome.figures).toMatchObject({ periodsOwed: 1 });
  });

  it('rejects an addedOn that is not a calendar date, naming the control', async () => {
    for (const addedOn of [
      '2026-11-01T00:00:00',
      '2026-11-01T00:00:00Z',
      '1 Nov 2026',
      '2026-02-30',
      '+002026-11-01',
    ]) {
      const port = history([control('audit-log', 'monthly', addedOn)], []);
      const { outcome } = await check(port);
      expect(outcome.verdict, addedOn).toBe('error');
      expect(outcome.reasons).toEqual([
        `audit-log: addedOn ${JSON.stringify(addedOn)} is not a calendar date (YYYY-MM-DD), so the periods it owes are unknown`,
      ]);
    }
  });

  it('fails a period whose stored verdict, or latest earlier attempt, is not pass, fail or error', async () => {
    const stored = (value: unknown) =>
      history(
        [control('audit-log', 'monthly', '2026-11-01')],
        [{ ...verdict('audit-log', 'monthly', '2026-11', 'pass'), verdict: value as Verdict }],
      );
    expect((await check(stored('skipped'))).outcome.reasons).toEqual([
      'audit-log: 2026-11 has no real verdict (stored verdict: skipped)',
    ]);
    for (const value of [null, undefined]) {
      const { outcome } = await check(stored(value));
      expect(outcome.reasons, String(value)).toEqual([
        'audit-log: 2026-11 has no real verdict (stored verdict: none)',
      ]);
      expect((outcome.details as { controls: { problems: unknown[] }[] }).controls[0]?.problems).toEqual([
        { kind: 'unreal', periodKey: '2026-11', periodEnd: '2026-12-01T00:00:00.000Z', stored: null },
      ]);
    }
    // Recorded after the check; the latest attempt before it is no real verdict either.
    const rerun = (value: unknown) =>
      history(
        [control('audit-log', 'monthly', '2026-11-01')],
        [verdict('audit-log', 'monthly', '2026-11', 'pass', 2, '2026-12-02T00:00:00.000Z')],
        {
          'audit-log#2026-11': [
            [value as Verdict, '2026-12-01T00:10:00.000Z'],
            ['pass', '2026-12-02T00:00:00.000Z'],
          ],
        },
      );
    const skipped = await check(rerun('skipped'));
    expect(skipped.outcome.reasons).toEqual([
      'audit-log: 2026-11 has no real verdict (stored verdict: skipped)',
    ]);
    expect(
      (skipped.outcome.details as { controls: { problems: unknown[] }[] }).controls[0]?.problems,
    ).toEqual([
      { kind: 'unreal', periodKey: '2026-11', periodEnd: '2026-12-01T00:00:00.000Z', stored: 'skipped' },
    ]);
    for (const value of [null, undefined]) {
      expect((await check(rerun(value))).outcome.reasons, String(value)).toEqual([
        'audit-log: 2026-11 has no real verdict (stored verdict: none)',
      ]);
    }
  });

  it('fails a check of no controls, but not a check whose listed controls are all unknown for that reason', async () => {
    const none = await check(history([], []));
    expect(none.outcome).toMatchObject({
      verdict: 'fail',
      reasons: ['no controls to check: the verdict history lists no configured controls'],
    });
    expect(none.outcome.figures).toMatchObject({ controls: 0, periodsOwed: 0 });
    const unknown = await check(history([control('audit-log', 'monthly')], []), { controls: ['ghost'] });
    expect(unknown.outcome.reasons).toEqual([
      'ghost: not a configured control, so its schedule cannot be checked',
    ]);
  });

  it('owes nothing before addedOn, however far back the lookback reaches', async () => {
    const port = history([control('daily-check', 'daily', '2026-11-28')], []);
    const { outcome } = await check(port, { lookback: 'P10D' });
    expect(outcome.reasons).toEqual(['daily-check: no verdict for 2026-11-28, 2026-11-29, 2026-11-30']);
  });

  it('counts each kind of problem in its own figure', async () => {
    const port = history(
      [
        control('missing-check', 'monthly', '2026-11-01'),
        control('late-check', 'monthly', '2026-11-01'),
        control('stuck-check', 'monthly', '2026-11-01'),
        { ...control('reviewed-check', 'monthly', '2026-10-01'), review: 'required' },
      ],
      [
        verdict('late-check', 'monthly', '2026-11', 'pass', 1, '2026-12-02T00:00:00.000Z'),
        verdict('stuck-check', 'monthly', '2026-11', 'error'),
        verdict('reviewed-check', 'monthly', '2026-10', 'pass'),
        verdict('reviewed-check', 'monthly', '2026-11', 'pass'),
      ],
    );
    const { outcome } = await check(port);
    expect(outcome.figures).toEqual({
      controls: 4,
      periodsOwed: 5,
      missing: 1,
      late: 1,
      stuck: 1,
      reviewsMissing: 1,
    });
  });

  it('errors without the verdict history port', async () => {
    const { outcome } = await runTest({
      test: { type: 'schedule-health' },
      cadence: 'daily',
      periodKey: '2026-11-30',
      asOf: '2026-12-01T12:00:00Z',
      ports: {},
    });
    expect(outcome.reasons).toEqual([
      'this deployment provides no verdict history (verdictHistory port), so the control cannot be checked',
    ]);
  });
});

describe('schedule health of review: required controls', () => {
  const reviewed = (reviewWithin?: string): ControlDefinition => ({
    ...control('audit-log', 'monthly', '2026-10-01'),
    review: 'required',
    ...(reviewWithin ? { reviewWithin } : {}),
  });
  const ran = (key: string) => ({ ...verdict('audit-log', 'monthly', key, 'pass'), manifestKey: `m/${key}` });
  const signOff = (key: string, reviewedManifestKey: string, value: Verdict = 'pass') => ({
    ...verdict('audit-log.review', 'monthly', key, value),
    figures: { reviewedManifestKey },
  });

  it('fails a closed period whose review is due and has no sign-off, and reads the sign-offs once', async () => {
    // Checked 2026-12-01T12:00 (due by 06:00): 2026-10's review was due 14 days after it closed, on
    // 2026-11-15; 2026-11's is not due yet.
    const port = history([reviewed()], [ran('2026-10'), ran('2026-11')]);
    const { outcome } = await check(port);
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'audit-log: 2026-10 has no review sign-off (due 2026-11-15; `soc2-evidence sign-off --control audit-log --period 2026-10`)',
    ]);
    expect(outcome.figures).toMatchObject({ missing: 0, stuck: 0, reviewsMissing: 1 });
    expect((outcome.details as { controls: { problems: unknown[] }[] }).controls[0]?.problems).toEqual([
      {
        kind: 'review-missing',
        periodKey: '2026-10',
        periodEnd: '2026-11-01T00:00:00.000Z',
        dueAt: '2026-11-15T00:00:00.000Z',
        message: outcome.reasons[0],
      },
    ]);
    expect(port.asked).toEqual(['audit-log', 'audit-log.review']);
  });

  it('owes reviews by the configured reviewWithin', async () => {
    const port = history([reviewed('PT1H')], [ran('2026-10'), ran('2026-11')], {});
    const { outcome } = await check(port);
    expect(
      (
        outcome.details as { controls: { problems: { periodEnd: string; dueAt: string }[] }[] }
      ).controls[0]?.problems.map((problem) => [problem.periodEnd, problem.dueAt]),
    ).toEqual([
      ['2026-11-01T00:00:00.000Z', '2026-11-01T01:00:00.000Z'],
      ['2026-12-01T00:00:00.000Z', '2026-12-01T01:00:00.000Z'],
    ]);
    expect(outcome.reasons).toEqual([
      'audit-log: 2026-10 has no review sign-off (due 2026-11-01; `soc2-evidence sign-off --control audit-log --period 2026-10`)',
      'audit-log: 2026-11 has no review sign-off (due 2026-12-01; `soc2-evidence sign-off --control audit-log --period 2026-11`)',
    ]);
  });

  it('passes a signed-off period, and fails one re-run since its sign-off', async () => {
    const current = await check(
      history([reviewed()], [ran('2026-10'), ran('2026-11'), signOff('2026-10', 'm/2026-10')]),
    );
    expect(current.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    const stale = await check(
      history([reviewed()], [ran('2026-10'), ran('2026-11'), signOff('2026-10', 'm/old')]),
    );
    expect(stale.outcome.reasons).toEqual([
      'audit-log: the sign-off of 2026-10 reviewed m/old, but the period was re-run since (now m/2026-10): review it again',
    ]);
    expect(stale.outcome.figures).toMatchObject({ reviewsMissing: 1 });
    expect(
      (stale.outcome.details as { controls: { problems: unknown[] }[] }).controls[0]?.problems,
    ).toMatchObject([{ kind: 'review-stale', periodKey: '2026-10', periodEnd: '2026-11-01T00:00:00.000Z' }]);
  });

  // As with the control's own verdicts: a sign-off recorded after the check ran (a retried run, a
  // clock ahead, a hand-written item) does not show the period was reviewed when the check looked.
  it('does not count a sign-off recorded after the check instant, or at an unreadable time', async () => {
    for (const recordedAt of ['2026-12-01T12:00:00.001Z', '2026-11-20T00:00:00', 'yesterday']) {
      const late = { ...signOff('2026-10', 'm/2026-10'), lastAttemptAt: recordedAt };
      const { outcome } = await check(history([reviewed()], [ran('2026-10'), ran('2026-11'), late]));
      expect(outcome.reasons, recordedAt).toEqual([
        'audit-log: 2026-10 has no review sign-off (due 2026-11-15; `soc2-evidence sign-off --control audit-log --period 2026-10`)',
      ]);
    }
    const atTheCheck = { ...signOff('2026-10', 'm/2026-10'), lastAttemptAt: '2026-12-01T12:00:00.000Z' };
    const counted = await check(history([reviewed()], [ran('2026-10'), ran('2026-11'), atTheCheck]));
    expect(counted.outcome).toMatchObject({ verdict: 'pass', reasons: [] });
  });

  it('owes no review before the lookback, and reads no sign-offs when none is owed', async () => {
    // Twenty days back from 2026-12-01T12:00 is 2026-11-11T12:00: 2026-10 ended before it.
    const port = history([reviewed()], [ran('2026-10'), ran('2026-11')]);
    const { outcome } = await check(port, { lookback: 'P20D' });
    expect(outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    expect((outcome.details as { controls: { problems: unknown[] }[] }).controls[0]?.problems).toEqual([]);
    expect(port.asked).toEqual(['audit-log']);
    // 30.5 days back is 2026-11-01T00:00, the instant 2026-10 ended: its review is still owed.
    const atTheLimit = await check(port, { lookback: 'P30DT12H' });
    expect(atTheLimit.outcome.figures).toMatchObject({ reviewsMissing: 1 });
    const optional = history(
      [control('audit-log', 'monthly', '2026-10-01')],
      [ran('2026-10'), ran('2026-11')],
    );
    expect((await check(optional)).outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    expect(optional.asked).toEqual(['audit-log']);
  });
});

describe('judgeControlSchedule', () => {
  it('matches verdicts by cadence and key, and passes fail verdicts as real ones', () => {
    const owed = [periodFromKey('monthly', '2026-10', 'UTC'), periodFromKey('monthly', '2026-11', 'UTC')];
    expect(
      judgeControlSchedule(
        owed,
        [verdict('c', 'weekly', '2026-10', 'pass'), verdict('c', 'monthly', '2026-11', 'fail')],
        new Date('2026-12-01T12:00:00.000Z'),
      ),
    ).toEqual([{ kind: 'missing', periodKey: '2026-10', periodEnd: '2026-11-01T00:00:00.000Z' }]);
  });

  it('defaults the grace to six hours', () => {
    expect(scheduleHealthParamsSchema.parse({ type: 'schedule-health' })).toEqual({
      type: 'schedule-health',
      grace: 'PT6H',
    });
    expect(scheduleHealthParamsSchema.safeParse({ type: 'schedule-health', controls: [] }).success).toBe(
      false,
    );
  });
});

/** A port that keeps DynamoDB's order (sort key `VERDICT#<cadence>#<period>`, newest first) and limit. */
function orderedHistory(controls: ControlDefinition[], verdicts: VerdictRecord[]) {
  const reads: (number | undefined)[] = [];
  const sortKey = (v: VerdictRecord) => `${v.cadence}#${v.periodKey}`;
  const port: VerdictHistoryPort = {
    controls,
    async verdictsOf(controlId, _evidence, options = {}) {
      reads.push(options.limit);
      const all = verdicts
        .filter((v) => v.controlId === controlId)
        .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1));
      return options.limit ? all.slice(0, options.limit) : all;
    },
    async attemptsFor() {
      return [];
    },
  };
  return { port, reads };
}

const dated = (controlId: string, cadence: Cadence, key: string, value: Verdict): VerdictRecord => ({
  ...verdict(controlId, cadence, key, value),
  periodStart: periodFromKey(cadence, key, 'UTC').start.toISOString(),
});

describe('schedule health reads only the history its lookback can owe', () => {
  const days = (from: string, count: number) =>
    Array.from({ length: count }, (_, i) =>
      new Date(Date.parse(from) + i * 86_400_000).toISOString().slice(0, 10),
    );

  it('reads the newest verdicts of a long daily history, and still finds a missing day in the lookback', async () => {
    const year = days('2025-12-01', 365).filter((day) => day !== '2026-11-20');
    const { port, reads } = orderedHistory(
      [control('daily-check', 'daily', '2025-12-01')],
      year.map((day) => dated('daily-check', 'daily', day, 'pass')),
    );
    const { outcome } = await check(port, { lookback: 'P28D' });
    expect(outcome.reasons).toEqual(['daily-check: no verdict for 2026-11-20']);
    expect(reads).toEqual([31]);
  });

  it('reads the whole history when the newest verdicts are of another cadence and do not reach back', async () => {
    // Sort keys of the old weekly verdicts come after the monthly ones, so they fill the limit.
    const weekly = Array.from({ length: 20 }, (_, i) => `2026-W${String(i + 10).padStart(2, '0')}`);
    const { port, reads } = orderedHistory(
      [control('audit-log', 'monthly', '2026-10-01')],
      [
        ...weekly.map((week) => dated('audit-log', 'weekly', week, 'fail')),
        dated('audit-log', 'monthly', '2026-10', 'pass'),
        dated('audit-log', 'monthly', '2026-11', 'fail'),
      ],
    );
    const { outcome } = await check(port, { lookback: 'P60D' });
    expect(outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    expect(reads).toEqual([5, undefined]);
  });

  it('reads the whole history when the newest verdicts of its cadence do not reach its oldest owed period', async () => {
    // Thirty daily periods owed (limit 33). Twenty old weekly verdicts sort first and fill most of
    // the read, whose daily part (2026-11-18 on) does not reach 2026-11-01: the whole history is read.
    const daily = days('2026-11-01', 30);
    const weekly = (count: number) =>
      Array.from({ length: count }, (_, i) =>
        dated('daily-check', 'weekly', `2026-W${String(i + 10).padStart(2, '0')}`, 'pass'),
      );
    const mixed = orderedHistory(
      [control('daily-check', 'daily', '2026-11-01')],
      [...weekly(20), ...daily.map((day) => dated('daily-check', 'daily', day, 'pass'))],
    );
    expect((await check(mixed.port)).outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    expect(mixed.reads).toEqual([33, undefined]);
    // Three weekly ones: the read ends exactly at the oldest owed period, which is far enough.
    const exact = orderedHistory(
      [control('daily-check', 'daily', '2026-11-01')],
      [...weekly(3), ...daily.map((day) => dated('daily-check', 'daily', day, 'pass'))],
    );
    expect((await check(exact.port)).outcome).toMatchObject({ verdict: 'pass', reasons: [] });
    expect(exact.reads).toEqual([33]);
  });

  it('judges a missing oldest owed period as missing when older verdicts fill the read', async () => {
    const year = days('2025-12-01', 365).filter((day) => day !== '2026-11-03');
    const { port } = orderedHistory(
      [control('daily-check', 'daily', '2025-12-01')],
      year.map((day) => dated('daily-check', 'daily', day, 'pass')),
    );
    const { outcome } = await check(port, { lookback: 'P28D' });
    expect(outcome.reasons).toEqual(['daily-check: no verdict for 2026-11-03']);
  });
});
