import { describe, expect, it } from 'vitest';
import {
  addCadence,
  daysBetween,
  evaluateRegister,
  evaluationForOwner,
  type LatestVerdict,
  localDate,
  REVIEW_SIGN_OFF_GRACE_DAYS,
  reviewEvidenceFindings,
} from '../../lib/risks/evaluate-register.ts';
import type { RiskRegisterInput } from '../../lib/risks/register-schema.ts';
import { assetInput, register, remediationInput, riskInput } from './fixtures.ts';

/**
 * Each risk rule at its boundary, with the finding it produces in full (key, severity, dates and
 * the message an owner reads), so a rule that fires a day early or late, or says the wrong thing,
 * fails here.
 */
const asOf = new Date('2026-11-23T12:00:00Z');
const evaluate = (
  input: RiskRegisterInput,
  options: { latestVerdicts?: LatestVerdict[]; asOf?: Date } = {},
) =>
  evaluateRegister(register(input), {
    asOf: options.asOf ?? asOf,
    timeZone: 'UTC',
    ...(options.latestVerdicts ? { latestVerdicts: options.latestVerdicts } : {}),
  });
const findingsOf = (input: RiskRegisterInput, options?: { latestVerdicts?: LatestVerdict[]; asOf?: Date }) =>
  evaluate(input, options).findings;

describe('missing mitigation', () => {
  it('flags a score exactly at the threshold without a mitigation, in full', () => {
    expect(findingsOf({ risks: [riskInput({ likelihood: 3, impact: 4, mitigation: '' })] })).toEqual([
      {
        key: 'R1/missing-mitigation',
        rule: 'missing-mitigation',
        category: 'violation',
        severity: 'high',
        subjectKind: 'risk',
        subjectId: 'R1',
        subjectTitle: 'Tenant data leakage',
        owner: 'founder',
        message:
          'Risk R1 "Tenant data leakage" scores 12 (likelihood 3 x impact 4), at or above the threshold of 12, but has no written mitigation: write down how it is mitigated.',
      },
    ]);
  });

  it('does not flag a score one below the threshold, and asks an accepted risk for its rationale', () => {
    expect(
      findingsOf({
        settings: { scoreThreshold: 13 },
        risks: [riskInput({ likelihood: 3, impact: 4, mitigation: '' })],
      }),
    ).toEqual([]);
    const accepted = findingsOf({
      risks: [
        riskInput({
          likelihood: 4,
          impact: 4,
          mitigation: '',
          status: 'accepted',
          residual: { likelihood: 1, impact: 1 },
        }),
      ],
    });
    expect(accepted.map((f) => f.message)).toEqual([
      'Risk R1 "Tenant data leakage" scores 16 (likelihood 4 x impact 4), at or above the threshold of 12, but has no written mitigation: write down how it is mitigated or why the risk is accepted.',
    ]);
  });
});

describe('acceptance above the threshold', () => {
  it('flags an accepted residual at the threshold, and says when the residual is the inherent score', () => {
    const stated = findingsOf({
      risks: [
        riskInput({ likelihood: 4, impact: 4, status: 'accepted', residual: { likelihood: 3, impact: 4 } }),
      ],
    });
    expect(stated).toEqual([
      expect.objectContaining({
        key: 'R1/acceptance-above-threshold',
        rule: 'acceptance-above-threshold',
        category: 'violation',
        severity: 'high',
        message:
          'Risk R1 "Tenant data leakage" is accepted at a residual score of 12, at or above the threshold of 12: only a residual below the threshold can be accepted; mitigate further and record the residual score.',
      }),
    ]);
    const inherent = findingsOf({ risks: [riskInput({ likelihood: 4, impact: 3, status: 'accepted' })] });
    expect(inherent.map((f) => f.message)).toEqual([
      'Risk R1 "Tenant data leakage" is accepted at a residual score of 12 (no residual stated, so the inherent score), at or above the threshold of 12: only a residual below the threshold can be accepted; mitigate further and record the residual score.',
    ]);
  });

  it('accepts a residual of 11 and does not apply the rule to other statuses', () => {
    expect(
      findingsOf({
        risks: [
          riskInput({ likelihood: 4, impact: 4, status: 'accepted', residual: { likelihood: 1, impact: 5 } }),
        ],
      }),
    ).toEqual([]);
    expect(findingsOf({ risks: [riskInput({ likelihood: 4, impact: 4, status: 'partial' })] })).toEqual([]);
  });
});

describe('review overdue', () => {
  it('is not overdue on the due date, and one day overdue the day after, in full', () => {
    // Quarterly from 2026-08-23: due 2026-11-23.
    expect(findingsOf({ risks: [riskInput({ lastReviewed: '2026-08-23' })] })).toEqual([]);
    expect(findingsOf({ risks: [riskInput({ lastReviewed: '2026-08-22' })] })).toEqual([
      {
        key: 'R1/review-overdue/2026-11-22',
        rule: 'review-overdue',
        category: 'overdue',
        severity: 'medium',
        subjectKind: 'risk',
        subjectId: 'R1',
        subjectTitle: 'Tenant data leakage',
        owner: 'founder',
        dueDate: '2026-11-22',
        daysOverdue: 1,
        message:
          'Risk R1 "Tenant data leakage" was last reviewed on 2026-08-22; its quarterly review was due on 2026-11-22 and is 1 day overdue: re-score it and update lastReviewed.',
      },
    ]);
  });

  it('counts days in the plural and follows the risk cadence', () => {
    const [late] = findingsOf({ risks: [riskInput({ lastReviewed: '2026-11-20', reviewCadence: 'daily' })] });
    expect(late).toMatchObject({ dueDate: '2026-11-21', daysOverdue: 2 });
    expect(late?.message).toContain('its daily review was due on 2026-11-21 and is 2 days overdue');
    expect(
      evaluate({ risks: [riskInput({ lastReviewed: '2026-11-01', reviewCadence: 'annual' })] }).risks[0]
        ?.nextReviewDue,
    ).toBe('2027-11-01');
  });
});

describe('mitigation overdue', () => {
  it('flags an open risk past its planned date, high at the threshold, medium below', () => {
    const high = findingsOf({
      risks: [riskInput({ status: 'open', likelihood: 3, impact: 4, plannedMitigationDate: '2026-11-22' })],
    });
    expect(high).toEqual([
      expect.objectContaining({
        key: 'R1/mitigation-overdue/2026-11-22',
        rule: 'mitigation-overdue',
        category: 'overdue',
        severity: 'high',
        dueDate: '2026-11-22',
        daysOverdue: 1,
        message:
          'Risk R1 "Tenant data leakage" is still open: its mitigation was planned for 2026-11-22 and is 1 day overdue.',
      }),
    ]);
    const medium = findingsOf({
      risks: [riskInput({ status: 'partial', plannedMitigationDate: '2026-11-01' })],
    });
    expect(medium).toEqual([
      expect.objectContaining({
        severity: 'medium',
        daysOverdue: 22,
        message:
          'Risk R1 "Tenant data leakage" is still only partially mitigated: its mitigation was planned for 2026-11-01 and is 22 days overdue.',
      }),
    ]);
  });

  it('does not flag the planned date itself, nor mitigated or accepted risks', () => {
    expect(
      findingsOf({ risks: [riskInput({ status: 'open', plannedMitigationDate: '2026-11-23' })] }),
    ).toEqual([]);
    expect(
      findingsOf({ risks: [riskInput({ status: 'mitigated', plannedMitigationDate: '2026-01-01' })] }),
    ).toEqual([]);
    expect(
      findingsOf({ risks: [riskInput({ status: 'accepted', plannedMitigationDate: '2026-01-01' })] }).map(
        (f) => f.rule,
      ),
    ).toEqual([]);
  });
});

describe('linked controls', () => {
  const failing = (extra: Partial<LatestVerdict> = {}): LatestVerdict => ({
    controlId: 'audit-log',
    cadence: 'monthly',
    periodKey: '2026-10',
    verdict: 'fail',
    reasons: ['audit log silent for 3 h', 'second reason'],
    periodEnd: '2026-11-01T00:00:00.000Z',
    ...extra,
  });
  const linked = (extra: Parameters<typeof riskInput>[0] = {}) =>
    ({
      risks: [riskInput({ linkedControls: ['audit-log'], lastReviewed: '2026-10-15', ...extra })],
    }) as RiskRegisterInput;

  it('asks for an incident re-score within the window and flags the failing control, in full', () => {
    expect(findingsOf(linked(), { latestVerdicts: [failing()] })).toEqual([
      {
        key: 'R1/incident-rescore/audit-log/monthly/2026-10',
        rule: 'incident-rescore',
        category: 'overdue',
        severity: 'medium',
        subjectKind: 'risk',
        subjectId: 'R1',
        subjectTitle: 'Tenant data leakage',
        owner: 'founder',
        controlId: 'audit-log',
        cadence: 'monthly',
        periodKey: '2026-10',
        verdict: 'fail',
        dueDate: '2026-12-01',
        message:
          'Risk R1 "Tenant data leakage" materialised: its control audit-log failed for 2026-10. Re-score it by 2026-12-01 (monthly window); it was last reviewed before the failure.',
      },
      {
        key: 'R1/control-failing/audit-log/monthly/2026-10',
        rule: 'control-failing',
        category: 'flagged',
        severity: 'high',
        subjectKind: 'risk',
        subjectId: 'R1',
        subjectTitle: 'Tenant data leakage',
        owner: 'founder',
        controlId: 'audit-log',
        cadence: 'monthly',
        periodKey: '2026-10',
        verdict: 'fail',
        message:
          'Risk R1 "Tenant data leakage" relies on control audit-log, which FAILED for its monthly period 2026-10: audit log silent for 3 h; the mitigation may not be working.',
      },
    ]);
  });

  it('makes the re-score high and counts the days once the window has passed', () => {
    const [rescore] = findingsOf(linked({ lastReviewed: '2026-09-01', reviewCadence: 'annual' }), {
      latestVerdicts: [failing({ periodEnd: '2026-10-01T00:00:00.000Z', periodKey: '2026-09' })],
    });
    expect(rescore).toMatchObject({
      rule: 'incident-rescore',
      severity: 'high',
      dueDate: '2026-11-01',
      daysOverdue: 22,
    });
    expect(rescore?.message).toContain(
      'Re-score it by 2026-11-01 (monthly window); the re-score is 22 days overdue.',
    );
    const onTheDay = findingsOf(linked({ lastReviewed: '2026-09-01', reviewCadence: 'annual' }), {
      latestVerdicts: [failing({ periodEnd: '2026-10-23T00:00:00.000Z' })],
    });
    expect(onTheDay[0]).toMatchObject({ severity: 'medium', dueDate: '2026-11-23' });
    expect(onTheDay[0]).not.toHaveProperty('daysOverdue');
  });

  it('needs no re-score when the risk was reviewed on or after the failure', () => {
    const rules = findingsOf(linked({ lastReviewed: '2026-11-01' }), { latestVerdicts: [failing()] }).map(
      (f) => f.rule,
    );
    expect(rules).toEqual(['control-failing']);
    const noEnd = findingsOf(linked(), { latestVerdicts: [failing({ periodEnd: undefined })] }).map(
      (f) => f.rule,
    );
    expect(noEnd).toEqual(['control-failing']);
  });

  it('flags an error as medium, not an incident, and without a reason when none is given', () => {
    const findings = findingsOf(linked(), { latestVerdicts: [failing({ verdict: 'error', reasons: [] })] });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'control-failing',
        severity: 'medium',
        verdict: 'error',
        message:
          'Risk R1 "Tenant data leakage" relies on control audit-log, which could not be checked (error) for its monthly period 2026-10; the mitigation may not be working.',
      }),
    ]);
  });

  it('says nothing about passing or unknown controls', () => {
    expect(findingsOf(linked(), { latestVerdicts: [failing({ verdict: 'pass' })] })).toEqual([]);
    expect(findingsOf(linked(), { latestVerdicts: [failing({ controlId: 'other' })] })).toEqual([]);
  });
});

describe('remediations', () => {
  it('flags an open item the day after its target date, in full, and not on it', () => {
    expect(findingsOf({ remediations: [remediationInput({ targetDate: '2026-11-23' })] })).toEqual([]);
    expect(findingsOf({ remediations: [remediationInput({ targetDate: '2026-11-22' })] })).toEqual([
      {
        key: 'G1/remediation-overdue/2026-11-22',
        rule: 'remediation-overdue',
        category: 'overdue',
        severity: 'medium',
        subjectKind: 'remediation',
        subjectId: 'G1',
        subjectTitle: 'Manual password rotation',
        owner: 'security',
        dueDate: '2026-11-22',
        daysOverdue: 1,
        message:
          'Remediation G1 for the gap "Manual password rotation" (Automate via API) was due on 2026-11-22 and is 1 day overdue; it is still open.',
      },
    ]);
  });

  it('says "in progress" for started items and nothing for done ones, sorting by target date then id', () => {
    const evaluation = evaluate({
      remediations: [
        remediationInput({ id: 'G10', targetDate: '2026-10-01', status: 'in-progress' }),
        remediationInput({ id: 'G2', targetDate: '2026-10-01' }),
        remediationInput({ id: 'G1', targetDate: '2026-09-01', status: 'done' }),
      ],
    });
    expect(evaluation.remediations.map((r) => r.item.id)).toEqual(['G1', 'G2', 'G10']);
    expect(evaluation.findings.map((f) => [f.subjectId, f.message.split('; ')[1]])).toEqual([
      ['G2', 'it is still open.'],
      ['G10', 'it is still in progress.'],
    ]);
  });
});

describe('assets', () => {
  it('flags a STRIDE gap in full, high for sensitive data, and lists the missing categories in order', () => {
    const evaluation = evaluate({
      assets: [assetInput()],
      risks: [
        riskInput({ asset: 'customer-data', threat: 'tampering' }),
        riskInput({ id: 'R2', asset: 'customer-data', threat: 'spoofing' }),
      ],
    });
    const gap = evaluation.findings.find((f) => f.rule === 'stride-gap');
    expect(gap).toEqual({
      key: 'customer-data/stride-gap',
      rule: 'stride-gap',
      category: 'violation',
      severity: 'high',
      subjectKind: 'asset',
      subjectId: 'customer-data',
      subjectTitle: 'Customer data',
      owner: 'founder',
      strideCategories: [
        'repudiation',
        'information-disclosure',
        'denial-of-service',
        'elevation-of-privilege',
      ],
      message:
        'Asset customer-data "Customer data" (confidential) has 2 of 6 STRIDE categories walked through; no risk and no written "not applicable" for repudiation, information-disclosure, denial-of-service, elevation-of-privilege: assess each (add a risk against customer-data) or record why it cannot apply.',
    });
    const internal = evaluate({ assets: [assetInput({ classification: 'internal' })] }).findings;
    expect(internal.find((f) => f.rule === 'stride-gap')?.severity).toBe('medium');
  });

  it('flags sensitive data stored in the clear or of unknown encryption, unless an accepted disclosure risk says why', () => {
    const clear = assetInput({
      encryption: {
        atRest: { encrypted: false, detail: 'plain EBS' },
        inTransit: { encrypted: true, detail: 'TLS 1.3' },
      },
    });
    const message = (asset: ReturnType<typeof assetInput>, risks: RiskRegisterInput['risks'] = []) =>
      evaluate({ assets: [asset], risks }).findings.find((f) => f.rule === 'unencrypted-at-rest');
    expect(message(clear)).toEqual(
      expect.objectContaining({
        key: 'customer-data/unencrypted-at-rest',
        category: 'violation',
        severity: 'high',
        message:
          'Asset customer-data "Customer data" is confidential, but it is stored without encryption at rest (plain EBS): encrypt it, or accept an information-disclosure risk against customer-data with the reason written.',
      }),
    );
    const unknown = assetInput({
      encryption: { atRest: { encrypted: 'unknown' }, inTransit: { encrypted: true, detail: 'TLS 1.3' } },
    });
    expect(message(unknown)?.message).toContain(
      'but whether it is encrypted at rest is not recorded: encrypt it',
    );
    const noDetail = assetInput({
      encryption: { atRest: { encrypted: false }, inTransit: { encrypted: true, detail: 'TLS 1.3' } },
    });
    expect(message(noDetail)?.message).toContain('but it is stored without encryption at rest: encrypt it');
    const excuse = (extra: Parameters<typeof riskInput>[0]) => [
      riskInput({
        asset: 'customer-data',
        threat: 'information-disclosure',
        status: 'accepted',
        likelihood: 1,
        impact: 1,
        ...extra,
      }),
    ];
    expect(message(clear, excuse({}))).toBeUndefined();
    expect(message(clear, excuse({ mitigation: '' }))).toBeDefined();
    expect(message(clear, excuse({ status: 'mitigated' }))).toBeDefined();
    expect(message(clear, excuse({ threat: 'tampering' }))).toBeDefined();
    expect(
      message(
        assetInput({
          classification: 'public',
          encryption: { atRest: { encrypted: false }, inTransit: { encrypted: false } },
        }),
      ),
    ).toBeUndefined();
  });
});

describe('sign-offs', () => {
  const risk = riskInput({ lastReviewed: '2026-11-01' });
  const r = register({ risks: [risk] }).risks;
  it(`backs a review by a sign-off on the day or up to ${REVIEW_SIGN_OFF_GRACE_DAYS} days after, with the same lastReviewed`, () => {
    const signOff = (date: string, lastReviewed = '2026-11-01') => [
      { date, risks: [{ id: 'R1', lastReviewed }] },
    ];
    expect(reviewEvidenceFindings(r, signOff('2026-11-01'))).toEqual([]);
    expect(reviewEvidenceFindings(r, signOff('2026-11-08'))).toEqual([]);
    expect(reviewEvidenceFindings(r, signOff('2026-11-09'))).toHaveLength(1);
    expect(reviewEvidenceFindings(r, signOff('2026-10-31'))).toHaveLength(1);
    expect(reviewEvidenceFindings(r, signOff('2026-11-02', '2026-10-01'))).toHaveLength(1);
    expect(
      reviewEvidenceFindings(r, [{ date: '2026-11-02', risks: [{ id: 'R2', lastReviewed: '2026-11-01' }] }]),
    ).toHaveLength(1);
    expect(reviewEvidenceFindings(r, [])).toEqual([
      {
        key: 'R1/review-not-evidenced/2026-11-01',
        rule: 'review-not-evidenced',
        category: 'flagged',
        severity: 'medium',
        subjectKind: 'risk',
        subjectId: 'R1',
        subjectTitle: 'Tenant data leakage',
        owner: 'founder',
        dueDate: '2026-11-01',
        message:
          'Risk R1 "Tenant data leakage" claims a review on 2026-11-01, but no sign-off records it (review claimed, not evidenced): the reviewer records it with `soc2-evidence risks sign-off`.',
      },
    ]);
  });

  it('applies the rule in evaluateRegister only when sign-offs were read', () => {
    const withSignOffs = evaluateRegister(register({ risks: [risk] }), {
      asOf,
      timeZone: 'UTC',
      signOffs: [],
    });
    expect(withSignOffs.risks[0]?.findings.map((f) => f.rule)).toEqual(['review-not-evidenced']);
    expect(evaluate({ risks: [risk] }).findings).toEqual([]);
  });
});

describe('the evaluation', () => {
  it('sorts risks by score then id, states thresholds and residuals, and cuts today in the zone', () => {
    const evaluation = evaluateRegister(
      register({
        risks: [
          riskInput({ id: 'R10', likelihood: 2, impact: 2 }),
          riskInput({ id: 'R2', likelihood: 2, impact: 2, residual: { likelihood: 1, impact: 2 } }),
          riskInput({ id: 'R3', likelihood: 3, impact: 4 }),
        ],
      }),
      { asOf: new Date('2026-11-23T23:30:00Z'), timeZone: 'Pacific/Auckland' },
    );
    expect(evaluation).toMatchObject({
      asOf: '2026-11-23T23:30:00.000Z',
      date: '2026-11-24',
      timeZone: 'Pacific/Auckland',
    });
    expect(
      evaluation.risks.map((s) => [
        s.risk.id,
        s.score,
        s.residualScore,
        s.residualStated,
        s.atOrAboveThreshold,
      ]),
    ).toEqual([
      ['R3', 12, 12, false, true],
      ['R2', 4, 2, true, false],
      ['R10', 4, 4, false, false],
    ]);
  });

  it('keeps one owner’s risks, remediations and assets with their findings', () => {
    const evaluation = evaluate({
      assets: [assetInput({ owner: 'security' })],
      risks: [
        riskInput({ asset: 'customer-data', lastReviewed: '2026-01-01' }),
        riskInput({ id: 'R2', asset: 'customer-data', owner: 'security', lastReviewed: '2026-01-01' }),
      ],
      remediations: [
        remediationInput({ targetDate: '2026-01-01' }),
        remediationInput({ id: 'G2', owner: 'founder', targetDate: '2026-01-01' }),
      ],
    });
    const mine = evaluationForOwner(evaluation, 'security');
    expect(mine.risks.map((s) => s.risk.id)).toEqual(['R2']);
    expect(mine.remediations.map((s) => s.item.id)).toEqual(['G1']);
    expect(mine.assets.map((s) => s.asset.id)).toEqual(['customer-data']);
    expect(mine.findings.map((f) => f.subjectId)).toEqual(['R2', 'G1', 'customer-data']);
  });
});

describe('date helpers', () => {
  it('adds cadences with month ends clamped, and counts whole days', () => {
    expect(addCadence('2026-11-30', 'quarterly')).toBe('2027-02-28');
    expect(addCadence('2026-11-30', 'weekly')).toBe('2026-12-07');
    expect(addCadence('2026-11-30', 'monthly')).toBe('2026-12-30');
    expect(addCadence('2028-02-29', 'annual')).toBe('2029-02-28');
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
    expect(daysBetween('2026-11-23', '2026-11-23')).toBe(0);
  });

  it('rejects an unknown zone and an invalid instant', () => {
    expect(() => localDate(asOf, 'Mars/Base')).toThrow('unknown time zone "Mars/Base"');
    expect(() => localDate(new Date(Number.NaN), 'UTC')).toThrow('invalid instant Invalid Date');
  });
});
