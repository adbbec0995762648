import { describe, expect, it } from 'vitest';
import {
  addCadence,
  evaluateRegister,
  evaluationForOwner,
  type LatestVerdict,
  localDate,
} from '../../lib/risks/evaluate-register.ts';
import { register, remediationInput, riskInput } from './fixtures.ts';

const at = (iso: string) => new Date(iso);
const rulesOf = (evaluation: ReturnType<typeof evaluateRegister>) => evaluation.findings.map((f) => f.rule);

describe('missing mitigation', () => {
  it.each([
    {
      case: 'score 12 (threshold) without mitigation',
      likelihood: 3,
      impact: 4,
      mitigation: undefined,
      flagged: true,
    },
    {
      case: 'score 10 (below) without mitigation',
      likelihood: 2,
      impact: 5,
      mitigation: undefined,
      flagged: false,
    },
    { case: 'score 16 with a blank mitigation', likelihood: 4, impact: 4, mitigation: '   ', flagged: true },
    {
      case: 'score 16 with a written mitigation',
      likelihood: 4,
      impact: 4,
      mitigation: 'HMAC compare.',
      flagged: false,
    },
    { case: 'score 25 without mitigation', likelihood: 5, impact: 5, mitigation: undefined, flagged: true },
  ])('$case: violation = $flagged', ({ likelihood, impact, mitigation, flagged }) => {
    const evaluation = evaluateRegister(
      register({ risks: [riskInput({ likelihood, impact, mitigation })] }),
      { asOf: at('2026-11-23T12:00:00Z'), timeZone: 'UTC' },
    );
    expect(rulesOf(evaluation).includes('missing-mitigation')).toBe(flagged);
  });

  it('uses the configured threshold, not 12, when one is set', () => {
    const settings = { scoreThreshold: 9 };
    const input = register({
      settings,
      risks: [riskInput({ likelihood: 3, impact: 3, mitigation: undefined })],
    });
    const evaluation = evaluateRegister(input, { asOf: at('2026-11-23T12:00:00Z'), timeZone: 'UTC' });
    expect(evaluation.findings[0]?.rule).toBe('missing-mitigation');
    expect(evaluation.findings[0]?.message).toContain('threshold of 9');
  });

  it('asks an accepted risk for its acceptance rationale', () => {
    const evaluation = evaluateRegister(
      register({
        risks: [riskInput({ likelihood: 4, impact: 4, status: 'accepted', mitigation: undefined })],
      }),
      { asOf: at('2026-11-23T12:00:00Z'), timeZone: 'UTC' },
    );
    expect(evaluation.findings[0]?.message).toMatch(/why the risk is accepted/);
  });
});

describe('review overdue', () => {
  it.each([
    { case: 'due yesterday', lastReviewed: '2026-08-22', cadence: 'quarterly', overdue: true, days: 1 },
    {
      case: 'due exactly today (not overdue)',
      lastReviewed: '2026-08-23',
      cadence: 'quarterly',
      overdue: false,
    },
    { case: 'due tomorrow', lastReviewed: '2026-08-24', cadence: 'quarterly', overdue: false },
    {
      case: 'monthly, due 2026-11-22',
      lastReviewed: '2026-10-22',
      cadence: 'monthly',
      overdue: true,
      days: 1,
    },
    {
      case: 'annual, reviewed a year ago today',
      lastReviewed: '2025-11-23',
      cadence: 'annual',
      overdue: false,
    },
    {
      case: 'the reference: 2026-02-18 quarterly',
      lastReviewed: '2026-02-18',
      cadence: 'quarterly',
      overdue: true,
      days: 189,
    },
  ] as const)('$case', ({ lastReviewed, cadence, overdue, ...rest }) => {
    const evaluation = evaluateRegister(
      register({ risks: [riskInput({ lastReviewed, reviewCadence: cadence })] }),
      {
        asOf: at('2026-11-23T12:00:00Z'),
        timeZone: 'UTC',
      },
    );
    const finding = evaluation.findings.find((f) => f.rule === 'review-overdue');
    expect(finding !== undefined).toBe(overdue);
    if ('days' in rest) expect(finding?.daysOverdue).toBe(rest.days);
  });

  it('clamps month ends: reviewed 2026-11-30, next quarterly review due 2027-02-28', () => {
    expect(addCadence('2026-11-30', 'quarterly')).toBe('2027-02-28');
    expect(addCadence('2026-02-18', 'quarterly')).toBe('2026-05-18');
  });

  it('keys the finding by its due date, so a later review starts a new occurrence', () => {
    const evaluation = evaluateRegister(
      register({ risks: [riskInput({ id: 'R2', lastReviewed: '2026-02-18' })] }),
      {
        asOf: at('2026-11-23T12:00:00Z'),
        timeZone: 'UTC',
      },
    );
    expect(evaluation.findings[0]?.key).toBe('R2/review-overdue/2026-05-18');
    expect(evaluation.findings[0]?.message).toBe(
      'Risk R2 "Tenant data leakage" was last reviewed on 2026-02-18; its quarterly review was due on 2026-05-18 ' +
        'and is 189 days overdue: re-score it and update lastReviewed.',
    );
  });
});

describe('time zones', () => {
  // Review due 2026-11-22. 2026-11-23T03:00Z is still 22 November in Los Angeles and already
  // 23 November in Tokyo.
  const input = register({ risks: [riskInput({ lastReviewed: '2026-08-22' })] });
  it.each([
    { zone: 'UTC', date: '2026-11-23', overdue: true },
    { zone: 'America/Los_Angeles', date: '2026-11-22', overdue: false },
    { zone: 'Asia/Tokyo', date: '2026-11-23', overdue: true },
  ])('in $zone today is $date, so the review is overdue: $overdue', ({ zone, date, overdue }) => {
    const evaluation = evaluateRegister(input, { asOf: at('2026-11-23T03:00:00Z'), timeZone: zone });
    expect(evaluation.date).toBe(date);
    expect(evaluation.findings.some((f) => f.rule === 'review-overdue')).toBe(overdue);
  });

  it('cuts the day at local midnight on a DST change (Europe/Berlin, 2026-03-29)', () => {
    expect(localDate(at('2026-03-28T22:59:59Z'), 'Europe/Berlin')).toBe('2026-03-28');
    expect(localDate(at('2026-03-28T23:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29');
  });

  it('rejects an unknown time zone', () => {
    expect(() =>
      evaluateRegister(input, { asOf: at('2026-11-23T03:00:00Z'), timeZone: 'Mars/Olympus' }),
    ).toThrow(/unknown time zone/);
  });
});

describe('planned mitigation and remediation dates', () => {
  it.each([
    { status: 'partial', planned: '2026-05-31', overdue: true },
    { status: 'open', planned: '2026-11-22', overdue: true },
    { status: 'open', planned: '2026-11-23', overdue: false },
    { status: 'mitigated', planned: '2026-05-31', overdue: false },
    { status: 'accepted', planned: '2026-05-31', overdue: false },
  ] as const)('a $status risk planned for $planned is overdue: $overdue', ({ status, planned, overdue }) => {
    const evaluation = evaluateRegister(
      register({ risks: [riskInput({ status, plannedMitigationDate: planned })] }),
      { asOf: at('2026-11-23T12:00:00Z'), timeZone: 'UTC' },
    );
    expect(evaluation.findings.some((f) => f.rule === 'mitigation-overdue')).toBe(overdue);
  });

  it.each([
    { status: 'open', target: '2025-11-01', overdue: true, days: 387 },
    { status: 'in-progress', target: '2026-11-22', overdue: true, days: 1 },
    { status: 'open', target: '2026-11-23', overdue: false },
    { status: 'done', target: '2025-11-01', overdue: false },
  ] as const)(
    'a remediation $status with target $target is overdue: $overdue',
    ({ status, target, overdue, ...rest }) => {
      const evaluation = evaluateRegister(
        register({ remediations: [remediationInput({ status, targetDate: target })] }),
        { asOf: at('2026-11-23T12:00:00Z'), timeZone: 'UTC' },
      );
      const finding = evaluation.findings.find((f) => f.rule === 'remediation-overdue');
      expect(finding !== undefined).toBe(overdue);
      if ('days' in rest) expect(finding?.daysOverdue).toBe(rest.days);
    },
  );
});

describe('linked controls', () => {
  const input = register({
    risks: [riskInput({ id: 'R8', linkedControls: ['audit-log-completeness', 'access-review'] })],
  });
  const verdict = (
    controlId: string,
    v: LatestVerdict['verdict'],
    reasons: string[] = [],
  ): LatestVerdict => ({
    controlId,
    cadence: 'monthly',
    periodKey: '2026-10',
    verdict: v,
    reasons,
  });

  it('flags a failing linked control, naming the control and its period', () => {
    const evaluation = evaluateRegister(input, {
      asOf: at('2026-11-23T12:00:00Z'),
      timeZone: 'UTC',
      latestVerdicts: [
        verdict('audit-log-completeness', 'fail', ['a 4.5 h gap in the audit log']),
        verdict('access-review', 'pass'),
      ],
    });
    expect(evaluation.findings).toHaveLength(1);
    expect(evaluation.findings[0]).toMatchObject({
      rule: 'control-failing',
      controlId: 'audit-log-completeness',
      periodKey: '2026-10',
      severity: 'high',
      key: 'R8/control-failing/audit-log-completeness/monthly/2026-10',
    });
    expect(evaluation.findings[0]?.message).toBe(
      'Risk R8 "Tenant data leakage" relies on control audit-log-completeness, which FAILED for its monthly period ' +
        '2026-10: a 4.5 h gap in the audit log; the mitigation may not be working.',
    );
  });

  it('flags an errored linked control as "could not be checked"', () => {
    const evaluation = evaluateRegister(input, {
      asOf: at('2026-11-23T12:00:00Z'),
      timeZone: 'UTC',
      latestVerdicts: [verdict('access-review', 'error')],
    });
    expect(evaluation.findings[0]?.message).toMatch(
      /access-review, which could not be checked \(error\) for its monthly period 2026-10;/,
    );
  });

  it('says nothing about controls without a verdict or with a pass', () => {
    const evaluation = evaluateRegister(input, {
      asOf: at('2026-11-23T12:00:00Z'),
      timeZone: 'UTC',
      latestVerdicts: [verdict('audit-log-completeness', 'pass')],
    });
    expect(evaluation.findings).toEqual([]);
  });
});

describe('ordering and owners', () => {
  const input = register({
    risks: [
      riskInput({ id: 'R10', likelihood: 2, impact: 4, owner: 'founder' }),
      riskInput({ id: 'R2', likelihood: 4, impact: 4, owner: 'founder' }),
      riskInput({ id: 'R7', likelihood: 4, impact: 3, owner: 'security' }),
      riskInput({ id: 'R5', likelihood: 3, impact: 4, owner: 'founder' }),
    ],
    remediations: [
      remediationInput({ id: 'G2', targetDate: '2025-11-01', owner: 'devops' }),
      remediationInput({ id: 'G1', targetDate: '2025-10-15', owner: 'security' }),
    ],
  });

  it('sorts risks by score, ties by natural id order; remediations by target date', () => {
    const evaluation = evaluateRegister(input, { asOf: at('2026-11-23T12:00:00Z'), timeZone: 'UTC' });
    expect(evaluation.risks.map((r) => `${r.risk.id}:${r.score}`)).toEqual([
      'R2:16',
      'R5:12',
      'R7:12',
      'R10:8',
    ]);
    expect(evaluation.remediations.map((r) => r.item.id)).toEqual(['G1', 'G2']);
  });

  it('narrows to one owner', () => {
    const evaluation = evaluationForOwner(
      evaluateRegister(input, { asOf: at('2026-11-23T12:00:00Z'), timeZone: 'UTC' }),
      'security',
    );
    expect(evaluation.risks.map((r) => r.risk.id)).toEqual(['R7']);
    expect(evaluation.findings.map((f) => f.key)).toEqual(['G1/remediation-overdue/2025-10-15']);
  });
});
