import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoResultsStore } from '../../../lib/adapters/dynamodb/dynamodb-results.ts';
import { loadConfig } from '../../../lib/config/load-config.ts';
import { runRiskDemo } from '../../../lib/local/demo/risk-demo.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';

let env: TestEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
});
afterAll(async () => {
  await env?.stop();
});

describe('risk demo (npm start)', () => {
  it('flags R8 from a failing audit-log verdict, delivers digests and sends nothing on the repeat', async () => {
    const config = await loadConfig('soc2-evidence.yaml');
    const results = makeDynamoResultsStore(env.clients.dynamodb, env.resources.resultsTable);
    await results.recordAttempt({
      controlId: 'audit-log-completeness',
      cadence: 'monthly',
      periodKey: '2026-11',
      periodStart: '2026-11-01T00:00:00.000Z',
      periodEnd: '2026-12-01T00:00:00.000Z',
      verdict: 'fail',
      reasons: ['the audit log was silent for 4 h 30 min from 2026-11-12T09:00Z (limit 1 h)'],
      warnings: [],
      figures: {},
      runId: 'demo-run',
      startedAt: '2026-12-01T00:15:00.000Z',
      finishedAt: '2026-12-01T00:15:01.000Z',
      evidenceKey: 'evidence/x.json',
      evidenceSha256: '0'.repeat(64),
      manifestKey: 'manifests/x.json',
      manifestSha256: '0'.repeat(64),
    });

    const result = await runRiskDemo({
      config,
      asOf: new Date('2026-12-01T00:15:00Z'),
      clients: env.clients,
      resources: env.resources,
    });
    expect(result.findings.find((f) => f.finding.startsWith('linked control failing'))).toMatchObject({
      subject: 'R8 Insider data exfiltration',
      finding: 'linked control failing (audit-log-completeness 2026-11)',
      category: 'flagged',
    });
    // The same failing verdict makes a pre-audit checklist item not ready: its owner is reminded too.
    // So do "Security policies current and approved" and "Manual control reviews signed off": the
    // example's documents and its access review (review: required) were never signed off.
    const checklist = result.findings.filter((f) =>
      f.finding.startsWith('pre-audit checklist item not ready'),
    );
    expect(checklist.map((f) => `${f.owner} ${f.subject.split(' ')[0]}`).sort()).toEqual([
      'founder security-policies',
      'security audit-logging',
      'security control-reviews',
      'security security-policies',
    ]);
    // Owed reviews reach their owners too: access-review's 2026-Q3 sign-off and the three documents.
    expect(
      result.findings
        .filter((f) => /review sign-off owed|document review overdue/.test(f.finding))
        .map((f) => f.subject.split(' ')[0])
        .sort(),
    ).toHaveLength(4);
    expect(result.findings).toHaveLength(32);
    expect(result.digests.map((d) => d.recipient).sort()).toEqual([
      'data-governance',
      'devops',
      'founder',
      'security',
    ]);
    expect(result.repeatDigests).toBe(0);
    expect(result.text).toContain(
      '32 findings (8 register violations, 19 overdue, 5 flagged by failing controls)',
    );
    expect(result.text).toContain('A second evaluation a minute later sent 0 digest(s)');
  });
});
