import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoResultsStore } from '../../lib/adapters/dynamodb/dynamodb-results.ts';
import type { ControlConfig } from '../../lib/config/schema.ts';
import type { Verdict } from '../../lib/controls/outcome.ts';
import { judgeControlSchedule } from '../../lib/controls/schedule-health.ts';
import { makeVerdictHistory } from '../../lib/controls/verdict-history.ts';
import type { ResultsStore } from '../../lib/runs/results-store.ts';
import { type Cadence, periodFromKey } from '../../lib/shared/period.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { periodAttempt, runTest } from './control-harness.ts';

// 05:00 the day after 2026-11-23: with the default 6 h grace, yesterday is not yet owed.
const AS_OF = '2026-11-24T05:00:00Z';

function control(id: string, cadence: Cadence, addedOn?: string): ControlConfig {
  return {
    id,
    title: id,
    criteria: ['CC4.1'],
    cadence,
    owner: 'security',
    ...(addedOn ? { addedOn } : {}),
    test: { type: 'manual-attestation', prefix: 'x/', expects: 'x', minObjects: 1, maxObjects: 1 },
  };
}

const CONTROLS: ControlConfig[] = [
  control('monthly-ok', 'monthly', '2026-09-15'),
  control('monthly-missing', 'monthly', '2026-08-01'),
  control('weekly-stuck', 'weekly', '2026-11-02'),
  control('quarterly-late', 'quarterly', '2026-07-01'),
  control('annual-no-date', 'annual'),
  control('daily-recent', 'daily', '2026-11-23'),
  control('schedule-health', 'daily', '2026-11-22'),
];

describe('schedule-health', () => {
  let env: TestEnvironment;
  let results: ResultsStore;

  async function record(
    controlId: string,
    cadence: Cadence,
    periodKey: string,
    verdict: Verdict,
    finishedAt?: string,
  ) {
    await results.recordAttempt(periodAttempt(controlId, cadence, periodKey, verdict, finishedAt));
  }

  const run = (test: Record<string, unknown>, history = makeVerdictHistory(CONTROLS, results)) =>
    runTest({
      test: { type: 'schedule-health', ...test },
      controlId: 'schedule-health',
      cadence: 'daily',
      periodKey: '2026-11-23',
      asOf: AS_OF,
      ports: { verdictHistory: history },
    });

  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    results = makeDynamoResultsStore(env.clients.dynamodb, env.resources.resultsTable);
    await record('monthly-ok', 'monthly', '2026-09', 'pass');
    await record('monthly-ok', 'monthly', '2026-10', 'fail');
    await record('monthly-missing', 'monthly', '2026-08', 'pass');
    await record('monthly-missing', 'monthly', '2026-10', 'pass');
    await record('weekly-stuck', 'weekly', '2026-W45', 'pass');
    await record('weekly-stuck', 'weekly', '2026-W46', 'pass');
    await record('weekly-stuck', 'weekly', '2026-W46', 'error', '2026-11-16T09:00:00.000Z');
    await record('weekly-stuck', 'weekly', '2026-W47', 'error', '2026-11-23T00:10:00.000Z');
    await record('weekly-stuck', 'weekly', '2026-W47', 'error', '2026-11-23T00:20:00.000Z');
    await record('quarterly-late', 'quarterly', '2026-Q3', 'error', '2026-10-01T00:10:00.000Z');
    await record('quarterly-late', 'quarterly', '2026-Q3', 'pass', '2026-10-02T08:00:00.000Z');
    await record('monthly-ok', 'monthly', '2026-08', 'error');
    await record('annual-no-date', 'annual', '2025', 'pass');
    await record('schedule-health', 'daily', '2026-11-22', 'pass');
  });
  afterAll(async () => env?.stop());

  it('passes when every owed period has a real verdict, whatever that verdict was', async () => {
    const { outcome } = await run({
      controls: ['monthly-ok', 'annual-no-date', 'daily-recent', 'schedule-health'],
    });
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toEqual({
      controls: 4,
      periodsOwed: 4,
      missing: 0,
      late: 0,
      stuck: 0,
      reviewsMissing: 0,
    });
    expect(outcome.warnings).toEqual([
      'annual-no-date has no addedOn date: only its last complete period was checked',
    ]);
  });

  it('fails naming each control and period that is missing or stuck, but not one whose retry succeeded', async () => {
    const { outcome, evidence } = await run({});
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'monthly-missing: no verdict for 2026-09',
      'weekly-stuck: 2026-W46 is stuck: the latest of 2 attempts errored',
      'weekly-stuck: 2026-W47 is stuck: all 2 attempts errored',
    ]);
    expect(
      evidence.entries
        .filter((e) => e.kind === 'api')
        .every((e) => e.kind === 'api' && e.operation === 'Query'),
    ).toBe(true);
  });

  it('only re-checks periods inside the lookback window', async () => {
    // 2026-09 ended long before the window; both November weeks fall inside it.
    const { outcome } = await run({ lookback: 'P10D' });
    expect(outcome.reasons).toEqual([
      'weekly-stuck: 2026-W46 is stuck: the latest of 2 attempts errored',
      'weekly-stuck: 2026-W47 is stuck: all 2 attempts errored',
    ]);
  });

  it('owes a period only once the grace period after its end has passed', async () => {
    const { outcome } = await run({ controls: ['daily-recent'], grace: 'PT0S' });
    expect(outcome.reasons).toEqual(['daily-recent: no verdict for 2026-11-23']);
  });

  it('errors rather than passes when no verdict history is wired in', async () => {
    const { outcome } = await runTest({
      test: { type: 'schedule-health' },
      cadence: 'daily',
      periodKey: '2026-11-23',
      asOf: AS_OF,
      ports: {},
    });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toContain('no verdict history');
  });

  it('errors naming the cause when the results table cannot be read', async () => {
    const broken = makeVerdictHistory(
      CONTROLS,
      makeDynamoResultsStore(env.clients.dynamodb, 'no-such-table'),
    );
    const { outcome } = await run({}, broken);
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toMatch(/non-existent table|not found|ResourceNotFound/i);
  });
});

describe('judgeControlSchedule', () => {
  it('matches verdicts by cadence as well as period key', () => {
    const owed = [periodFromKey('monthly', '2026-10', 'UTC')];
    const problems = judgeControlSchedule(
      owed,
      [
        {
          cadence: 'daily',
          periodKey: '2026-10',
          verdict: 'pass',
          lastAttemptAt: '2026-11-01T01:00:00Z',
          attempts: 1,
        },
      ],
      new Date('2026-12-01T00:00:00Z'),
    );
    expect(problems).toEqual([
      { kind: 'missing', periodKey: '2026-10', periodEnd: '2026-11-01T00:00:00.000Z' },
    ]);
  });
});
