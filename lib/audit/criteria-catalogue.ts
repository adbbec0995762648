import * as z from 'zod';
import { criterionSchema } from '../shared/identifiers.ts';

/**
 * Whether a criterion is part of the audit. `planned` criteria (the reference's Privacy P1.x, "not
 * required for MVP but planned") and `out-of-scope` ones are listed but never fail `coverage`.
 */
export const CRITERION_SCOPES = ['in-scope', 'planned', 'out-of-scope'] as const;
export type CriterionScope = (typeof CRITERION_SCOPES)[number];

/** One Trust Services Criterion as the catalogue lists it. */
export interface Criterion {
  readonly id: string;
  readonly title: string;
  /** The criteria group, e.g. `CC6` or `A1`. */
  readonly group: string;
  readonly groupTitle: string;
  readonly scope: CriterionScope;
  /** The reference mapping's implementation and evidence columns, when the criterion comes from it. */
  readonly implementation?: string;
  readonly expectedEvidence?: string;
  /** `reference`: from the compliance mapping; `config`: added or changed by the `criteria` section. */
  readonly source: 'reference' | 'config';
}

/** Group titles, as the reference mapping's headings name them. */
export const CRITERIA_GROUPS: Readonly<Record<string, string>> = {
  CC1: 'Control Environment',
  CC2: 'Communication and Information',
  CC3: 'Risk Assessment',
  CC4: 'Monitoring Activities',
  CC5: 'Control Activities',
  CC6: 'Logical and Physical Access Controls',
  CC7: 'System Operations',
  CC8: 'Change Management',
  CC9: 'Risk Mitigation',
  A1: 'Availability',
  C1: 'Confidentiality',
  PI1: 'Processing Integrity',
  P1: 'Privacy',
};

type Row = readonly [id: string, title: string, implementation?: string, expectedEvidence?: string];

// Transcribed from ../shared/reference/soc2-compliance-mapping.md ("Trust Services Criteria
// Coverage" and the A1, C1, PI1 and P1 sections); ids and titles exactly as it lists them.
const REFERENCE_ROWS: readonly Row[] = [
  ['CC1.1', 'Commitment to Integrity', 'Code of conduct, ethics training', 'HR records, training completion'],
  ['CC1.2', 'Board Oversight', 'Quarterly security reviews', 'Board minutes'],
  [
    'CC1.3',
    'Organizational Structure',
    'Clear security roles and responsibilities',
    'Org chart, role descriptions',
  ],
  ['CC1.4', 'Competence', 'Security certifications required (CISSP, CEH)', 'HR records, certifications'],
  ['CC1.5', 'Accountability', 'Performance reviews include security metrics', 'HR performance data'],
  ['CC2.1', 'Quality Information', 'Real-time monitoring dashboards', 'Grafana screenshots, metrics'],
  ['CC2.2', 'Internal Communication', 'Slack security channel, weekly emails', 'Message archives'],
  ['CC2.3', 'External Communication', 'Security advisories, status page', 'Public communications log'],
  ['CC3.1', 'Risk Identification', 'Quarterly threat modeling sessions', 'Risk register'],
  ['CC3.2', 'Risk Analysis', 'CVSS scoring, impact assessment', 'Vulnerability reports'],
  ['CC3.3', 'Fraud Risk', 'Annual fraud risk assessment', 'Assessment reports'],
  ['CC3.4', 'Risk Mitigation', 'Patch management, security hardening', 'Patching logs, scan results'],
  ['CC4.1', 'Ongoing Monitoring', '24/7 SOC monitoring, SIEM', 'SIEM dashboards, alerts'],
  ['CC4.2', 'Internal Audit', 'Quarterly internal security audits', 'Audit reports'],
  ['CC5.1', 'Selection of Controls', 'Based on NIST CSF', 'Control matrix'],
  ['CC5.2', 'Implementation of Controls', 'Automated via IaC', 'Kubernetes manifests, Helm charts'],
  ['CC5.3', 'Technology Controls', 'WAF, IDS/IPS, encryption', 'Security configs'],
  ['CC6.1', 'Access Credentials', 'OIDC via Keycloak, MFA enforced', 'Keycloak logs'],
  ['CC6.2', 'Access Removal', 'Automated deprovisioning', 'Audit logs'],
  ['CC6.3', 'Physical Access', 'Datacenter access controls', 'Badge logs (cloud provider)'],
  ['CC6.6', 'Encryption', 'TLS 1.3, AES-256 at rest', 'Certificate configs, encryption settings'],
  ['CC6.7', 'Credential Management', '90-day rotation, no shared accounts', 'Secret rotation logs'],
  [
    'CC6.8',
    'Customer Data Protection',
    'Multi-tenant isolation, entitlements',
    'Entitlement configs, queries',
  ],
  ['CC7.1', 'Change Detection', 'GitOps, all changes in Git', 'Git commit history'],
  ['CC7.2', 'Capacity Management', 'Autoscaling, resource monitoring', 'HPA configs, Grafana metrics'],
  [
    'CC7.3',
    'Backup and Disaster Recovery',
    'Daily backups, RPO 15min, RTO 60min',
    'Backup logs, DR test results',
  ],
  ['CC7.4', 'Business Continuity', 'Multi-zone deployment, failover', 'Architecture diagrams, runbooks'],
  ['CC8.1', 'Change Authorization', 'PR approval required (2 reviewers)', 'GitLab PR history'],
  ['CC8.2', 'Development Standards', 'Linting, testing in CI/CD', 'CI/CD pipeline logs'],
  ['CC9.1', 'Incident Response', 'Documented IR procedures', 'Runbooks, incident logs'],
  ['CC9.2', 'Vulnerability Management', 'Weekly scans, 48hr critical patch SLA', 'Scan reports, patch logs'],
  ['A1.1', 'Availability Objectives', '99.9% uptime SLA', 'SLA agreement'],
  ['A1.2', 'Capacity Planning', 'Horizontal scaling, load testing', 'Load test results, HPA configs'],
  ['A1.3', 'Environmental Protections', 'Kubernetes liveness/readiness probes', 'Pod configs'],
  ['C1.1', 'Confidentiality Policies', 'Data classification, handling procedures', 'Policy docs'],
  [
    'C1.2',
    'Access Restrictions',
    'Entitlement system, encryption',
    'Entitlement configs, encryption settings',
  ],
  ['PI1.1', 'Input Validation', 'Schema validation, data quality checks', 'Connector code, validation logs'],
  ['PI1.2', 'Processing Integrity', 'Lineage tracking, reproducibility', 'run_id tracking, audit logs'],
  ['PI1.3', 'Error Handling', 'Logging, alerting, retries', 'Application logs, error metrics'],
  // "Privacy Criteria (P1) - Future: Not required for MVP but planned".
  ['P1.1', 'Privacy Notice'],
  ['P1.2', 'Consent Management'],
  ['P1.3', 'Data Minimization'],
  ['P1.4', 'Right to Access/Erasure'],
];

/** `CC6.7` -> `CC6`, `PI1.2` -> `PI1`. */
export function groupOf(id: string): string {
  return id.split('.')[0] ?? id;
}

/** The reference mapping's criteria, in its order. */
export const REFERENCE_CRITERIA: readonly Criterion[] = REFERENCE_ROWS.map(
  ([id, title, implementation, expectedEvidence]) => ({
    id,
    title,
    group: groupOf(id),
    groupTitle: CRITERIA_GROUPS[groupOf(id)] ?? groupOf(id),
    scope: groupOf(id) === 'P1' ? 'planned' : 'in-scope',
    ...(implementation === undefined ? {} : { implementation }),
    ...(expectedEvidence === undefined ? {} : { expectedEvidence }),
    source: 'reference',
  }),
);

export const criterionEntrySchema = z
  .strictObject({
    id: criterionSchema,
    /** Short title; required for a criterion the reference does not list, else the reference title. */
    title: z.string().trim().min(1).max(200).optional(),
    /** @default 'in-scope' for a new criterion, the reference's scope for a listed one */
    scope: z.enum(CRITERION_SCOPES).optional(),
    /** What the auditor expects as evidence, shown next to the criterion. */
    expectedEvidence: z.string().trim().min(1).max(500).optional(),
  })
  .describe('Adds a criterion to the catalogue, or changes the title or scope of a listed one.');

export const criteriaSettingsSchema = z
  .strictObject({
    /**
     * `reference`: start from the reference mapping's criteria (CC1.1-CC9.2, A1, C1, PI1 in scope;
     * P1.1-P1.4 planned). `none`: only the criteria listed in `items`. @default 'reference'
     */
    base: z.enum(['reference', 'none']).default('reference'),
    /** Criteria to add or change; an id already in the base replaces its fields. @default [] */
    items: z.array(criterionEntrySchema).default([]),
  })
  .superRefine((settings, ctx) => {
    const known = new Set(settings.base === 'reference' ? REFERENCE_CRITERIA.map((c) => c.id) : []);
    const seen = new Set<string>();
    settings.items.forEach((item, index) => {
      if (seen.has(item.id))
        ctx.addIssue({ code: 'custom', path: ['items', index, 'id'], message: `duplicate id "${item.id}"` });
      seen.add(item.id);
      if (!known.has(item.id) && item.title === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['items', index, 'title'],
          message: `criterion "${item.id}" is not in the ${settings.base === 'reference' ? 'reference catalogue' : 'catalogue'}: give it a title`,
        });
    });
  })
  .describe('The catalogue of SOC 2 criteria that coverage reports on (default: the reference mapping).');

export type CriteriaSettings = z.output<typeof criteriaSettingsSchema>;
export type CriteriaSettingsInput = z.input<typeof criteriaSettingsSchema>;

/** The effective catalogue: the base, then each configured item added or merged in, in order. */
export function criteriaCatalogue(settings?: CriteriaSettingsInput): Criterion[] {
  const base = settings?.base ?? 'reference';
  const catalogue = new Map<string, Criterion>(
    (base === 'reference' ? REFERENCE_CRITERIA : []).map((criterion) => [criterion.id, criterion]),
  );
  for (const item of settings?.items ?? []) {
    const existing = catalogue.get(item.id);
    const group = groupOf(item.id);
    catalogue.set(item.id, {
      id: item.id,
      title: item.title ?? existing?.title ?? item.id,
      group,
      groupTitle: CRITERIA_GROUPS[group] ?? group,
      scope: item.scope ?? existing?.scope ?? 'in-scope',
      ...(existing?.implementation === undefined ? {} : { implementation: existing.implementation }),
      ...((item.expectedEvidence ?? existing?.expectedEvidence) === undefined
        ? {}
        : { expectedEvidence: item.expectedEvidence ?? existing?.expectedEvidence }),
      source: 'config',
    });
  }
  return [...catalogue.values()];
}

interface IssueSink {
  addIssue(issue: { code: 'custom'; path: (string | number)[]; message: string }): void;
}

/**
 * Every criterion a control (or a risk or remediation item of the register) names must be in the
 * catalogue, so a typo (`CC6.9`) cannot silently leave a criterion without evidence.
 */
export function checkCriteriaReferences(
  config: {
    readonly criteria?: CriteriaSettingsInput;
    readonly controls: readonly { readonly criteria: readonly string[] }[];
    readonly riskRegister?: {
      readonly risks: readonly { readonly criteria: readonly string[] }[];
      readonly remediations: readonly { readonly criteria: readonly string[] }[];
    };
  },
  ctx: IssueSink,
): void {
  const known = new Set(criteriaCatalogue(config.criteria).map((criterion) => criterion.id));
  const check = (ids: readonly string[], path: (string | number)[]) => {
    ids.forEach((id, index) => {
      // A malformed id is already reported by the field's own schema; report each problem once.
      if (!known.has(id) && criterionSchema.safeParse(id).success)
        ctx.addIssue({
          code: 'custom',
          path: [...path, index],
          message: `unknown criterion "${id}": not in the criteria catalogue (add it under criteria.items with a title)`,
        });
    });
  };
  for (const [index, control] of config.controls.entries())
    check(control.criteria, ['controls', index, 'criteria']);
  for (const [index, risk] of (config.riskRegister?.risks ?? []).entries())
    check(risk.criteria, ['riskRegister', 'risks', index, 'criteria']);
  for (const [index, item] of (config.riskRegister?.remediations ?? []).entries())
    check(item.criteria, ['riskRegister', 'remediations', index, 'criteria']);
}
