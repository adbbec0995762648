import { Settings } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addCadence,
  daysBetween,
  evaluateRegister,
  evaluationForOwner,
  type LatestVerdict,
  reviewEvidenceFindings,
} from '../../lib/risks/evaluate-register.ts';
import type { RiskRegisterInput } from '../../lib/risks/register-schema.ts';
import { assetInput, register, remediationInput, riskInput } from './fixtures.ts';

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

describe('linked controls without reasons', () => {
  it('flags a failing control whose stored verdict carries no reasons at all', () => {
    const evaluation = evaluate(
      { risks: [riskInput({ linkedControls: ['audit-log'] })] },
      {
        asOf: '2026-11-23T12:00:00Z',
        latestVerdicts: [
          { controlId: 'audit-log', cadence: 'monthly', periodKey: '2026-10', verdict: 'error' },
        ],
      },
    );
    expect(evaluation.findings.map((f) => f.message)).toEqual([
      'Risk R1 "Tenant data leakage" relies on control audit-log, which could not be checked (error) for its monthly period 2026-10; the mitigation may not be working.',
    ]);
  });
});

describe('STRIDE coverage', () => {
  const sensitive = 'customer-data';
  it('lists the risks of a category in id order, and one "not applicable" excuses only its own category', () => {
    const evaluation = evaluate(
      {
        assets: [
          assetInput({
            notApplicable: [{ category: 'repudiation', reason: 'Nobody performs actions on this data set.' }],
          }),
        ],
        risks: [
          riskInput({ id: 'R10', asset: sensitive, threat: 'spoofing' }),
          riskInput({ id: 'R2', asset: sensitive, threat: 'spoofing' }),
        ],
      },
      { asOf: '2026-11-23T12:00:00Z' },
    );
    const [state] = evaluation.assets;
    expect(state?.coverage).toEqual([
      { category: 'spoofing', kind: 'risks', riskIds: ['R2', 'R10'] },
      { category: 'tampering', kind: 'missing' },
      {
        category: 'repudiation',
        kind: 'not-applicable',
        reason: 'Nobody performs actions on this data set.',
      },
      { category: 'information-disclosure', kind: 'missing' },
      { category: 'denial-of-service', kind: 'missing' },
      { category: 'elevation-of-privilege', kind: 'missing' },
    ]);
    expect(state?.missing).toEqual([
      'tampering',
      'information-disclosure',
      'denial-of-service',
      'elevation-of-privilege',
    ]);
  });
});

describe('review evidence per risk', () => {
  it('backs every risk one sign-off froze, not only the first', () => {
    const risks = register({ risks: [riskInput(), riskInput({ id: 'R2' })] }).risks;
    const signOff = {
      date: '2026-11-02',
      risks: [
        { id: 'R1', lastReviewed: '2026-11-01' },
        { id: 'R2', lastReviewed: '2026-11-01' },
      ],
    };
    expect(reviewEvidenceFindings(risks, [signOff])).toEqual([]);
  });

  it('gives each risk only its own unevidenced review', () => {
    const evaluation = evaluateRegister(register({ risks: [riskInput(), riskInput({ id: 'R2' })] }), {
      asOf: new Date('2026-11-23T12:00:00Z'),
      timeZone: 'UTC',
      signOffs: [],
    });
    expect(evaluation.risks.map((state) => [state.risk.id, state.findings.map((f) => f.key)])).toEqual([
      ['R1', ['R1/review-not-evidenced/2026-11-01']],
      ['R2', ['R2/review-not-evidenced/2026-11-01']],
    ]);
  });
});

describe('one owner', () => {
  it("leaves out the other owners' assets and their findings", () => {
    const evaluation = evaluate(
      {
        assets: [
          assetInput({ owner: 'security' }),
          assetInput({ id: 'billing', name: 'Billing', owner: 'founder' }),
        ],
        remediations: [remediationInput({ owner: 'security' })],
      },
      { asOf: '2026-11-23T12:00:00Z' },
    );
    const mine = evaluationForOwner(evaluation, 'security');
    expect(mine.assets.map((state) => state.asset.id)).toEqual(['customer-data']);
    expect(mine.findings.map((f) => f.key)).toEqual(['customer-data/stride-gap']);
  });
});

describe('date arithmetic whatever the process zone', () => {
  // Samoa skipped 30 December 2011 (UTC-10 to UTC+14): read in the process's zone there, dates near
  // the jump would shift a day. Only the explicit UTC reading keeps calendar arithmetic exact.
  it('adds cadences and counts days in UTC even when the default zone is Pacific/Apia', () => {
    const saved = Settings.defaultZone;
    Settings.defaultZone = 'Pacific/Apia';
    try {
      expect(addCadence('2011-09-30', 'quarterly')).toBe('2011-12-30');
      expect(daysBetween('2011-12-31', '2011-12-31')).toBe(0);
      expect(daysBetween('2011-12-30', '2011-12-31')).toBe(1);
    } finally {
      Settings.defaultZone = saved;
    }
  });
});
