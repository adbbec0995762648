import { describe, expect, it } from 'vitest';
import { evaluateRegister, type LatestVerdict } from '../../lib/risks/evaluate-register.ts';
import type { RiskRegisterInput } from '../../lib/risks/register-schema.ts';
import { register, riskInput } from './fixtures.ts';

/**
 * What evaluate-register's mutation run showed no test observed (docs/mutation-mutate-rot.md), and
 * the incident re-score's day cut in the register's zone.
 */
const evaluate = (
  input: RiskRegisterInput,
  options: { asOf: string; timeZone?: string; latestVerdicts?: LatestVerdict[] },
) =>
  evaluateRegister(register(input), {
    asOf: new Date(options.asOf),
    timeZone: options.timeZone ?? 'UTC',
    ...(options.latestVerdicts ? { latestVerdicts: options.latestVerdicts } : {}),
  });

describe('incident re-score in the register zone', () => {
  // October 2026 in Tokyo ends at 2026-11-01T00:00+09:00, stored as 2026-10-31T15:00:00.000Z.
  const tokyoOctoberFailed: LatestVerdict = {
    controlId: 'audit-log',
    cadence: 'monthly',
    periodKey: '2026-10',
    verdict: 'fail',
    reasons: ['audit log silent for 3 h'],
    periodEnd: '2026-10-31T15:00:00.000Z',
  };
  const linked = (lastReviewed: string) => ({
    risks: [riskInput({ linkedControls: ['audit-log'], lastReviewed, reviewCadence: 'annual' })],
  });

  it('asks for a re-score of a risk reviewed on the last day of the failing period, not on the UTC day', () => {
    const evaluation = evaluate(linked('2026-10-31'), {
      asOf: '2026-11-05T00:00:00Z',
      timeZone: 'Asia/Tokyo',
      latestVerdicts: [tokyoOctoberFailed],
    });
    expect(evaluation.findings.find((f) => f.rule === 'incident-rescore')).toMatchObject({
      key: 'R1/incident-rescore/audit-log/monthly/2026-10',
      dueDate: '2026-12-01',
      severity: 'medium',
    });
  });

  it('needs none once the risk was reviewed on the day the period ended in the zone', () => {
    const evaluation = evaluate(linked('2026-11-01'), {
      asOf: '2026-11-05T00:00:00Z',
      timeZone: 'Asia/Tokyo',
      latestVerdicts: [tokyoOctoberFailed],
    });
    expect(evaluation.findings.map((f) => f.rule)).toEqual(['control-failing']);
  });

  it('cuts the same day as before west of UTC (Los Angeles: the period ends at 07:00Z)', () => {
    const evaluation = evaluate(linked('2026-10-31'), {
      asOf: '2026-11-05T12:00:00Z',
      timeZone: 'America/Los_Angeles',
      latestVerdicts: [{ ...tokyoOctoberFailed, periodEnd: '2026-11-01T07:00:00.000Z' }],
    });
    expect(evaluation.findings.find((f) => f.rule === 'incident-rescore')?.dueDate).toBe('2026-12-01');
  });

  it('keeps the written date of a stored end that is not an instant', () => {
    const evaluation = evaluate(linked('2026-10-31'), {
      asOf: '2026-11-05T00:00:00Z',
      timeZone: 'Asia/Tokyo',
      latestVerdicts: [{ ...tokyoOctoberFailed, periodEnd: '2026-11-01T99:00:00Z' }],
    });
    expect(evaluation.findings.find((f) => f.rule === 'incident-rescore')?.dueDate).toBe('2026-12-01');
  });
});
