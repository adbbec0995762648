import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../lib/config/load-config.ts';
import { riskRegisterSchema } from '../../lib/risks/register-schema.ts';
import { securityOwner } from '../support/config-fixture.ts';
import { remediationInput, riskInput } from './fixtures.ts';

const baseConfig = (riskRegister: unknown) => ({
  owners: [{ id: 'founder', name: 'Founder', email: 'founder@example.com' }, securityOwner],
  controls: [
    {
      id: 'audit-log-completeness',
      title: 'Audit log',
      criteria: ['CC7.2'],
      cadence: 'monthly',
      owner: 'security',
      test: {
        type: 'log-completeness',
        target: 'app',
        schema: 'public',
        table: 'audit_log',
        maxSilence: 'PT1H',
      },
    },
  ],
  targets: [{ name: 'app', connection: { env: 'DATABASE_URL' } }],
  riskRegister,
});

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('risk register schema', () => {
  it('loads the example register with the reference settings and defaults', async () => {
    const config = await loadConfig('soc2-evidence.yaml');
    const register = config.riskRegister;
    expect(register?.settings).toEqual({
      scoreThreshold: 12,
      reminderInterval: 'P7D',
      escalateAfter: 3,
      escalationOwner: 'founder',
      incidentRescoreWithin: 'monthly',
    });
    expect(register?.risks.map((r) => `${r.id}:${r.likelihood * r.impact}:${r.status}`)).toEqual([
      'R1:15:mitigated',
      'R2:16:mitigated',
      'R3:10:mitigated',
      'R4:9:mitigated',
      'R5:12:mitigated',
      'R6:8:mitigated',
      'R7:12:mitigated',
      'R8:10:mitigated',
      'R9:9:partial',
      'R10:8:mitigated',
    ]);
    expect(new Set(register?.risks.map((r) => r.lastReviewed))).toEqual(new Set(['2026-02-18']));
    expect(register?.remediations.map((g) => [g.id, g.targetDate, g.owner])).toEqual([
      ['G1', '2025-11-01', 'security'],
      ['G2', '2025-10-15', 'devops'],
      ['G3', '2025-11-30', 'data-governance'],
    ]);
  });

  it('defaults settings, cadence, status and lists', () => {
    const parsed = riskRegisterSchema.parse({
      risks: [riskInput({ linkedControls: undefined })],
      remediations: [remediationInput()],
    });
    expect(parsed.settings).toEqual({
      scoreThreshold: 12,
      reminderInterval: 'P7D',
      escalateAfter: 3,
      incidentRescoreWithin: 'monthly',
    });
    expect(parsed.risks[0]?.reviewCadence).toBe('quarterly');
    expect(parsed.risks[0]?.linkedControls).toEqual([]);
    expect(parsed.remediations[0]?.status).toBe('open');
  });

  it.each([
    { change: { likelihood: 0 }, issue: 'riskRegister.risks[0].likelihood: expected likelihood from 1 to 5' },
    {
      change: { impact: 2.5 },
      issue: 'riskRegister.risks[0].impact: expected impact as a whole number from 1 to 5',
    },
    {
      change: { threat: 'phishing' },
      issue: 'riskRegister.risks[0].threat: expected one of spoofing, tampering',
    },
    {
      change: { status: 'closed' },
      issue: 'riskRegister.risks[0].status: expected one of open, mitigated, partial, accepted',
    },
    {
      change: { lastReviewed: '18/02/2026' },
      issue: 'riskRegister.risks[0].lastReviewed: expected a date as YYYY-MM-DD',
    },
    {
      change: { reviewCadence: 'fortnightly' },
      issue: 'riskRegister.risks[0].reviewCadence: expected one of daily',
    },
    {
      change: { owner: 'ghost' },
      issue: 'riskRegister.risks[0].owner: unknown owner "ghost"; expected one of founder, security',
    },
    {
      change: { linkedControls: ['audit-log-completeness', 'nope'] },
      issue:
        'riskRegister.risks[0].linkedControls[1]: unknown control "nope"; expected one of audit-log-completeness',
    },
    {
      change: { criteria: ['CC99'] },
      issue: 'riskRegister.risks[0].criteria[0]: expected a SOC 2 criterion',
    },
    { change: { color: 'red' }, issue: 'riskRegister.risks[0]: unknown key "color"' },
  ])('names the field: $issue', ({ change, issue }) => {
    const issues = issuesOf(baseConfig({ risks: [{ ...riskInput(), ...change }] }));
    expect(issues.some((text) => text.startsWith(issue))).toBe(true);
  });

  it('checks remediation owners, the escalation owner, duplicate ids and settings', () => {
    const issues = issuesOf(
      baseConfig({
        settings: { scoreThreshold: 30, reminderInterval: 'PT5M', escalationOwner: 'boss' },
        risks: [riskInput({ id: 'R1' })],
        remediations: [remediationInput({ id: 'R1', owner: 'ops', targetDate: '2025-13-01' })],
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^riskRegister\.settings\.scoreThreshold: /),
        'riskRegister.settings.reminderInterval: expected at least PT1H',
        'riskRegister.remediations[0].id: duplicate id "R1" (first used at risks[0])',
        'riskRegister.remediations[0].targetDate: expected a date as YYYY-MM-DD',
      ]),
    );
    // Cross-references run once the register itself parses.
    const refs = issuesOf(
      baseConfig({
        settings: { escalationOwner: 'boss' },
        remediations: [remediationInput({ owner: 'ops' })],
      }),
    );
    expect(refs).toEqual([
      'riskRegister.settings.escalationOwner: unknown owner "boss"; expected one of founder, security',
      'riskRegister.remediations[0].owner: unknown owner "ops"; expected one of founder, security',
    ]);
  });
});
