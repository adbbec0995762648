import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { computeReadiness } from '../../lib/audit/readiness.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import {
  controlReviewChainId,
  documentReviewChainId,
  REVIEWED_MANIFEST_FIGURE,
  reviewChainSubject,
  reviewGaps,
  reviewsOwed,
  signOffChainsOf,
} from '../../lib/controls/review-schedule.ts';
import {
  checkDecisions,
  type DecisionsFile,
  decisionsTemplate,
  flaggedAccounts,
  type ReviewedEvidence,
} from '../../lib/reviews/control-review.ts';
import { documentStatus } from '../../lib/reviews/document-review.ts';
import { SignOffError } from '../../lib/reviews/sign-off.ts';
import { reviewFindings, reviewVerdictIds } from '../../lib/risks/review-findings.ts';
import { periodFromKey } from '../../lib/shared/period.ts';

const CONTROL = {
  id: 'access-review',
  title: 'Dormant accounts disabled',
  cadence: 'quarterly' as const,
  owner: 'security',
  criteria: ['CC6.1'],
  test: { type: 'access-review' },
  review: 'required' as const,
  addedOn: '2026-07-01',
};
const EVIDENCE: ReviewedEvidence = {
  manifestKey: 'evidence/access-review/quarterly/2026-Q3/r1/manifest.json',
  manifestSha256: 'a'.repeat(64),
  evidenceKey: 'evidence/access-review/quarterly/2026-Q3/r1/result.json',
  evidenceSha256: 'b'.repeat(64),
  runId: 'r1',
  verdict: 'fail',
  collectedAt: '2026-10-01T01:00:00.000Z',
  keyFingerprint: 'c'.repeat(64),
};
const DOCUMENT = {
  details: {
    dormant: [
      { account: 'alice', lastLogin: '2026-03-02T10:00:00.000Z' },
      { account: 'bob', lastLogin: null },
    ],
    dormantTruncated: false,
    activeAfterRemoval: [{ account: 'bob', removedAt: '2026-08-01T00:00:00.000Z' }],
    activeAfterRemovalTruncated: false,
  },
};
const FLAGGED = flaggedAccounts('access-review', DOCUMENT);
const file = (decisions: DecisionsFile['decisions'], extra: Partial<DecisionsFile> = {}): DecisionsFile => ({
  control: 'access-review',
  period: '2026-Q3',
  evidence: EVIDENCE.manifestSha256,
  decisions,
  ...extra,
});
const refusal = (decisions: DecisionsFile | undefined) => {
  try {
    checkDecisions(CONTROL, '2026-Q3', EVIDENCE, FLAGGED, decisions);
  } catch (error) {
    expect(error).toBeInstanceOf(SignOffError);
    return (error as Error).message;
  }
  throw new Error('expected the decisions to be refused');
};

describe('control review decisions', () => {
  it('lists each flagged account once, with every reason it is flagged', () => {
    expect(FLAGGED).toEqual([
      { account: 'alice', flags: ['dormant'], detail: 'dormant: last login 2026-03-02' },
      {
        account: 'bob',
        flags: ['dormant', 'active-after-removal'],
        detail: 'dormant: never logged in; active after removal on 2026-08-01',
      },
    ]);
  });

  it('refuses evidence that lists only part of what it counted: nobody can decide an unlisted account', () => {
    expect(() =>
      flaggedAccounts('access-review', { details: { ...DOCUMENT.details, dormantTruncated: true } }),
    ).toThrow(/maxListed/);
    expect(() => flaggedAccounts('access-review', { details: {} })).toThrow(SignOffError);
    expect(flaggedAccounts('vulnerability-scan', { details: {} })).toEqual([]);
  });

  it('accepts a decision per flagged account: removed, or kept with a justification', () => {
    const decisions = checkDecisions(
      CONTROL,
      '2026-Q3',
      EVIDENCE,
      FLAGGED,
      file([
        { account: 'bob', decision: 'removed' },
        { account: 'alice', decision: 'kept', justification: ' On parental leave until 2026-12. ' },
      ]),
    );
    expect(decisions).toEqual([
      {
        account: 'alice',
        flags: ['dormant'],
        decision: 'kept',
        justification: 'On parental leave until 2026-12.',
      },
      {
        account: 'bob',
        flags: ['dormant', 'active-after-removal'],
        decision: 'removed',
        justification: null,
      },
    ]);
  });

  it('names the account whose decision is missing', () => {
    const message = refusal(file([{ account: 'alice', decision: 'removed' }]));
    expect(message).toContain(
      'bob: flagged (dormant: never logged in; active after removal on 2026-08-01) but not decided',
    );
    expect(message).not.toContain('alice');
  });

  it('refuses kept without a justification (blank counts as none), and a blank decision', () => {
    const message = refusal(
      file([
        { account: 'alice', decision: 'kept', justification: '   ' },
        { account: 'bob', decision: null },
      ]),
    );
    expect(message).toContain('alice: kept without a justification');
    expect(message).toContain('bob: no decision');
  });

  it('refuses unknown and duplicate accounts, another control, period or evidence, each named', () => {
    const message = refusal(
      file(
        [
          { account: 'alice', decision: 'removed' },
          { account: 'alice', decision: 'removed' },
          { account: 'bob', decision: 'removed' },
          { account: 'mallory', decision: 'kept', justification: 'x' },
        ],
        { period: '2026-Q2', evidence: 'd'.repeat(64) },
      ),
    );
    expect(message).toContain(
      'mallory: not flagged in the evidence of access-review 2026-Q3 (unknown account)',
    );
    expect(message).toContain('alice: decided more than once');
    expect(message).toContain('the file is for period 2026-Q2, not 2026-Q3');
    expect(message).toContain('re-run since');
    // No file at all while accounts are flagged: every one is named.
    expect(refusal(undefined)).toMatch(/alice: flagged[\s\S]*bob: flagged/);
  });

  it('writes a template that parses back to every flagged account with the decision blank', () => {
    const template = parseYaml(decisionsTemplate(CONTROL, '2026-Q3', EVIDENCE, FLAGGED)) as DecisionsFile;
    expect(template.evidence).toBe(EVIDENCE.manifestSha256);
    expect(template.decisions?.map((d) => [d.account, d.decision ?? null])).toEqual([
      ['alice', null],
      ['bob', null],
    ]);
    expect(refusal(template)).toContain('alice: no decision');
  });
});

describe('review completeness', () => {
  const owed = (asOf: string) => reviewsOwed(CONTROL, new Date(asOf), 'UTC');
  const review = (periodKey: string, manifestKey = EVIDENCE.manifestKey) => ({
    cadence: 'quarterly',
    periodKey,
    verdict: 'pass',
    figures: { [REVIEWED_MANIFEST_FIGURE]: manifestKey },
  });
  const current = [{ cadence: 'quarterly', periodKey: '2026-Q3', manifestKey: EVIDENCE.manifestKey }];

  it('owes a review only once the period closed and reviewWithin passed', () => {
    expect(owed('2026-10-14T23:59:00Z').map((p) => p.key)).toEqual([]);
    expect(owed('2026-10-15T00:00:00Z').map((p) => p.key)).toEqual(['2026-Q3']);
    expect(reviewsOwed({ ...CONTROL, review: undefined }, new Date('2027-06-01'), 'UTC')).toEqual([]);
  });

  it('is incomplete without a sign-off, complete with one of the current evidence, stale after a re-run', () => {
    const periods = owed('2026-11-24T00:00:00Z');
    expect(reviewGaps(CONTROL, periods, [], current).map((g) => g.kind)).toEqual(['review-missing']);
    expect(reviewGaps(CONTROL, periods, [review('2026-Q2')], current).map((g) => g.kind)).toEqual([
      'review-missing',
    ]);
    expect(reviewGaps(CONTROL, periods, [review('2026-Q3')], current)).toEqual([]);
    expect(reviewGaps(CONTROL, periods, [{ ...review('2026-Q3'), verdict: 'error' }], current)).toHaveLength(
      1,
    );
    const rerun = [
      {
        cadence: 'quarterly',
        periodKey: '2026-Q3',
        manifestKey: 'evidence/access-review/quarterly/2026-Q3/r2/manifest.json',
      },
    ];
    expect(reviewGaps(CONTROL, periods, [review('2026-Q3')], rerun)).toEqual([
      expect.objectContaining({ kind: 'review-stale', periodKey: '2026-Q3' }),
    ]);
  });

  it('names review chains so they can never be a control id, and lists every sign-off chain', () => {
    expect(controlReviewChainId('access-review')).toBe('access-review.review');
    expect(reviewChainSubject('access-review.review')).toEqual({ kind: 'control', id: 'access-review' });
    expect(reviewChainSubject(documentReviewChainId('policy'))).toEqual({ kind: 'document', id: 'policy' });
    expect(reviewChainSubject('access-review')).toBeUndefined();
    expect(reviewChainSubject('a.b.review')).toBeUndefined();
    expect(
      signOffChainsOf({
        controls: [CONTROL],
        riskRegister: {},
        documents: [{ id: 'policy', reviewCadence: 'annual' }],
      }),
    ).toEqual([
      { id: 'risk-register-review', cadence: 'quarterly' },
      { id: 'access-review.review', cadence: 'quarterly' },
      { id: 'document.policy.review', cadence: 'annual' },
    ]);
  });
});

describe('document reviews', () => {
  const doc = {
    id: 'policy',
    title: 'Policy',
    owner: 'security',
    reviewCadence: 'annual' as const,
    criteria: [],
  };
  const signed = (at: string, sha: string | null = 'e'.repeat(64)) => ({
    verdict: 'pass',
    lastAttemptAt: at,
    figures: { documentSha256: sha },
  });

  it('is current within its cadence, overdue the day after, never reviewed without a sign-off', () => {
    expect(documentStatus(doc, [], '2026-11-24', 'UTC').kind).toBe('never-reviewed');
    expect(documentStatus(doc, [signed('2025-11-24T09:00:00Z')], '2026-11-24', 'UTC')).toEqual({
      kind: 'current',
      reviewedOn: '2025-11-24',
      nextReviewDue: '2026-11-24',
    });
    expect(documentStatus(doc, [signed('2025-11-24T09:00:00Z')], '2026-11-25', 'UTC').kind).toBe('overdue');
  });

  it('is not approved once the file changed after its approval', () => {
    expect(
      documentStatus(doc, [signed('2026-11-01T09:00:00Z')], '2026-11-24', 'UTC', 'f'.repeat(64)).kind,
    ).toBe('changed');
    expect(
      documentStatus(doc, [signed('2026-11-01T09:00:00Z')], '2026-11-24', 'UTC', 'e'.repeat(64)).kind,
    ).toBe('current');
  });

  it('makes "Security policies current and approved" computed in readiness', () => {
    const config = parseConfig(
      {
        owners: [{ id: 'security', name: 'S', email: 's@example.com' }],
        targets: [{ name: 'app', connection: { env: 'APP' } }],
        controls: [{ ...CONTROL, test: { type: 'access-review', target: 'app' } }],
        documents: [{ id: 'policy', title: 'Policy', url: 'https://example.com/p', owner: 'security' }],
      },
      'test',
    );
    const period = periodFromKey('quarterly', '2026-Q3', 'UTC');
    const verdict = (controlId: string, lastAttemptAt: string, figures: Record<string, string> = {}) => ({
      controlId,
      cadence: controlId.startsWith('document.') ? ('annual' as const) : ('quarterly' as const),
      periodKey: controlId.startsWith('document.') ? '2026' : '2026-Q3',
      periodStart: period.start.toISOString(),
      periodEnd: period.end.toISOString(),
      verdict: 'pass' as const,
      reasons: [],
      figures,
      lastAttemptAt,
      evidenceKey: 'e',
      manifestKey: EVIDENCE.manifestKey,
    });
    const window = { asOf: new Date('2026-11-24T00:00:00Z'), from: '2025-11-24', timeZone: 'UTC' };
    const before = computeReadiness({
      config,
      window,
      verdicts: [verdict('access-review', '2026-10-01T01:00:00Z')],
    });
    const item = (model: typeof before, id: string) => model.items.find((i) => i.id === id);
    expect(item(before, 'security-policies')).toMatchObject({ status: 'not-ready', kind: 'document-review' });
    expect(item(before, 'control-reviews')).toMatchObject({ status: 'not-ready' });
    expect(item(before, 'control-reviews')?.reasons.join('\n')).toContain('2026-Q3 has no review sign-off');
    const after = computeReadiness({
      config,
      window,
      verdicts: [
        verdict('access-review', '2026-10-01T01:00:00Z'),
        verdict('access-review.review', '2026-10-05T10:00:00Z', {
          [REVIEWED_MANIFEST_FIGURE]: EVIDENCE.manifestKey,
        }),
        verdict('document.policy.review', '2026-11-20T10:00:00Z'),
      ],
    });
    expect(item(after, 'security-policies')?.status).toBe('ready');
    expect(item(after, 'control-reviews')?.status).toBe('ready');
    // Review verdicts are not mistaken for unknown controls.
    expect(after.ignoredVerdicts).toEqual([]);
    // A sign-off dated after --as-of does not make the past ready.
    const early = computeReadiness({
      config,
      window: { ...window, asOf: new Date('2026-11-19T00:00:00Z') },
      verdicts: [verdict('document.policy.review', '2026-11-20T10:00:00Z')],
    });
    expect(item(early, 'security-policies')?.status).toBe('not-ready');
  });
});

describe('owed reviews as findings for their owners', () => {
  const config = parseConfig(
    {
      owners: [
        { id: 'security', name: 'S', email: 's@example.com' },
        { id: 'founder', name: 'F', email: 'f@example.com' },
      ],
      targets: [{ name: 'app', connection: { env: 'APP' } }],
      controls: [{ ...CONTROL, test: { type: 'access-review', target: 'app' } }],
      documents: [{ id: 'policy', title: 'Policy', url: 'https://example.com/p', owner: 'founder' }],
    },
    'test',
  );
  const controlVerdict = {
    controlId: 'access-review',
    cadence: 'quarterly' as const,
    periodKey: '2026-Q3',
    verdict: 'fail' as const,
    figures: {},
    lastAttemptAt: '2026-10-01T01:00:00.000Z',
    manifestKey: EVIDENCE.manifestKey,
  };

  it('asks the control owner for the period review and the document owner for the document review', () => {
    expect(reviewVerdictIds(config)).toEqual([
      'access-review',
      'access-review.review',
      'document.policy.review',
    ]);
    const findings = reviewFindings(config, [controlVerdict], new Date('2026-11-24T00:00:00Z'));
    expect(findings.map((f) => [f.key, f.owner, f.daysOverdue ?? null])).toEqual([
      ['access-review/review-missing/quarterly/2026-Q3', 'security', 40],
      ['policy/document-review-overdue/never', 'founder', null],
    ]);
    expect(findings[0]?.severity).toBe('high');
  });

  it('raises nothing once both are signed off', () => {
    const signed = [
      controlVerdict,
      {
        ...controlVerdict,
        controlId: 'access-review.review',
        verdict: 'pass' as const,
        figures: { [REVIEWED_MANIFEST_FIGURE]: EVIDENCE.manifestKey },
      },
      {
        ...controlVerdict,
        controlId: 'document.policy.review',
        cadence: 'annual' as const,
        periodKey: '2026',
        verdict: 'pass' as const,
        lastAttemptAt: '2026-11-20T10:00:00.000Z',
      },
    ];
    expect(reviewFindings(config, signed, new Date('2026-11-24T00:00:00Z'))).toEqual([]);
  });
});
