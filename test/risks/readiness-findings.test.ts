import { describe, expect, it } from 'vitest';
import type { Readiness, ReadinessItemResult } from '../../lib/audit/readiness.ts';
import { readinessFindings } from '../../lib/risks/readiness-findings.ts';

const item = (overrides: Partial<ReadinessItemResult>): ReadinessItemResult => ({
  id: 'dr-tests',
  title: 'DR test results (quarterly)',
  section: 'evidence-collection',
  kind: 'every-period',
  status: 'not-ready',
  reasons: ['2 of 4 quarterly periods have a passing verdict'],
  owners: ['sre'],
  controls: ['backup-restore'],
  evidence: [],
  ...overrides,
});

const readiness = (items: ReadinessItemResult[], mode: Readiness['mode'] = 'verdicts'): Readiness => ({
  asOf: '2026-11-23T06:00:00.000Z',
  from: '2025-11-23',
  timeZone: 'UTC',
  mode,
  ready: false,
  summary: { ready: 0, 'not-ready': 0, unknown: 0 },
  items,
  ignoredVerdicts: [],
});

describe('readiness items as digest findings', () => {
  it('reminds every owner of a not-ready item, once each, naming the failing verdict', () => {
    const findings = readinessFindings(
      readiness([
        item({
          owners: ['sre', 'devops'],
          evidence: [
            {
              key: 'backup-restore monthly 2026-08',
              controlId: 'backup-restore',
              cadence: 'monthly',
              periodKey: '2026-08',
              verdict: 'pass',
              reasons: [],
              recordedAt: '2026-09-01T01:00:00Z',
              manifestKey: 'm',
              evidenceKey: 'e',
            },
            {
              key: 'backup-restore monthly 2026-05',
              controlId: 'backup-restore',
              cadence: 'monthly',
              periodKey: '2026-05',
              verdict: 'fail',
              reasons: ['a row is missing'],
              recordedAt: '2026-06-01T01:00:00Z',
              manifestKey: 'm',
              evidenceKey: 'e',
            },
          ],
        }),
      ]),
    );
    expect(findings.map((f) => [f.key, f.owner, f.rule, f.subjectKind, f.periodKey, f.verdict])).toEqual([
      ['readiness/dr-tests/sre', 'sre', 'readiness-not-ready', 'readiness', '2026-05', 'fail'],
      ['readiness/dr-tests/devops', 'devops', 'readiness-not-ready', 'readiness', '2026-05', 'fail'],
    ]);
    expect(findings[0]?.message).toBe(
      'Pre-audit checklist item "DR test results (quarterly)" is not ready: 2 of 4 quarterly periods have a passing verdict. It is decided by backup-restore; it clears once their verdicts do.',
    );
  });

  it('tells a manual item owner where to upload what', () => {
    const [finding] = readinessFindings(
      readiness([
        item({
          id: 'pen-test',
          title: 'Penetration test report (annual)',
          kind: 'manual',
          owners: ['security'],
          controls: [],
          upload: { prefix: 'attestations/pentest/{period}/', expects: 'the signed report (PDF)' },
          reasons: ['penetration-test failed 2025: evidence not provided'],
        }),
      ]),
    );
    expect(finding?.message).toMatch(
      /Upload the signed report \(PDF\) to attestations\/pentest\/\{period\}\/\.$/,
    );
  });

  it('reminds of nothing that is ready, unknown (no evidence yet, or not read) or has no owner', () => {
    expect(
      readinessFindings(
        readiness([
          item({ status: 'ready' }),
          item({ id: 'unknown', status: 'unknown' }),
          item({ id: 'nobody', owners: [] }),
        ]),
      ),
    ).toEqual([]);
    expect(readinessFindings(readiness([item({ status: 'unknown' })], 'design'))).toEqual([]);
  });
});
