import type { AuditVerdict, AuditWindow } from '../../lib/audit/audit-verdicts.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import type { Figure, Verdict } from '../../lib/controls/outcome.ts';
import { type Cadence, periodFromKey } from '../../lib/shared/period.ts';

/** A small config in the shape of the example: one control per kind of evidence. */
export const RAW_CONFIG = {
  owners: [
    { id: 'security', name: 'Security', email: 'security@example.com' },
    { id: 'sre', name: 'SRE', email: 'sre@example.com' },
  ],
  targets: [
    { name: 'app', connection: { env: 'APP_URL' } },
    { name: 'restored', connection: { env: 'RESTORED_URL' } },
  ],
  controls: [
    {
      id: 'audit-log',
      title: 'Audit log complete',
      criteria: ['CC4.1', 'CC7.2'],
      cadence: 'monthly',
      owner: 'security',
      test: { type: 'log-completeness', target: 'app', retention: 'P365D' },
    },
    {
      id: 'access-review',
      title: 'Access review',
      criteria: ['CC6.1', 'CC6.2'],
      cadence: 'quarterly',
      owner: 'security',
      test: { type: 'access-review', target: 'app', schema: 'app', table: 'users' },
    },
    {
      id: 'restore',
      title: 'Restore test',
      criteria: ['CC7.3'],
      cadence: 'monthly',
      owner: 'sre',
      test: {
        type: 'restore-verification',
        sourceTarget: 'app',
        restoredTarget: 'restored',
        schemas: ['app'],
        restoreLog: { table: 'soc2_restore_log' },
      },
    },
    {
      id: 'scans',
      title: 'Weekly scans',
      criteria: ['CC9.2'],
      cadence: 'weekly',
      owner: 'security',
      test: { type: 'vulnerability-scan', prefix: 'scans/trivy/' },
    },
    {
      id: 'pentest',
      title: 'Pen test',
      criteria: ['CC9.2', 'CC7.1'],
      cadence: 'annual',
      owner: 'security',
      test: { type: 'manual-attestation', prefix: 'attestations/penetration-test/{period}/' },
    },
  ],
  riskRegister: {
    risks: [
      {
        id: 'R1',
        title: 'Tenant leak',
        asset: 'data',
        classification: 'confidential',
        threat: 'information-disclosure',
        likelihood: 3,
        impact: 5,
        mitigation: 'isolation',
        status: 'mitigated',
        owner: 'security',
        criteria: ['CC3.2', 'CC6.1'],
        lastReviewed: '2026-02-18',
      },
    ],
    remediations: [
      {
        id: 'G1',
        gap: 'No data classification',
        remediation: 'Labels',
        targetDate: '2026-01-01',
        owner: 'security',
        criteria: ['C1.1'],
      },
      {
        id: 'G2',
        gap: 'Closed gap',
        remediation: 'Done already',
        targetDate: '2026-01-01',
        owner: 'security',
        status: 'done',
        criteria: ['CC8.1'],
      },
    ],
  },
};

export function config(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({ ...structuredClone(RAW_CONFIG), ...overrides }, 'test');
}

export const WINDOW: AuditWindow = {
  asOf: new Date('2026-12-01T00:00:00Z'),
  from: '2025-12-01',
  timeZone: 'UTC',
};

export function verdict(
  controlId: string,
  cadence: Cadence,
  periodKey: string,
  outcome: Verdict,
  figures: Record<string, Figure> = {},
  recordedAt?: string,
): AuditVerdict {
  const period = periodFromKey(cadence, periodKey, 'UTC');
  return {
    controlId,
    cadence,
    periodKey,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    verdict: outcome,
    reasons: outcome === 'pass' ? [] : [`${controlId} ${outcome} reason`],
    figures,
    lastAttemptAt: recordedAt ?? new Date(period.end.getTime() + 15 * 60_000).toISOString(),
    evidenceKey: `evidence/${controlId}/${cadence}/${periodKey}/run/result.json`,
    manifestKey: `evidence/${controlId}/${cadence}/${periodKey}/run/manifest.json`,
  };
}

/** Every period key of a cadence in 2025-12..2026-11 (the default window as of 2026-12-01). */
export const MONTHS = [
  '2025-12',
  ...Array.from({ length: 11 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`),
];
export const QUARTERS = ['2025-Q4', '2026-Q1', '2026-Q2', '2026-Q3'];
