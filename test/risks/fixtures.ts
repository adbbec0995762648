import {
  type RiskRegister,
  type RiskRegisterInput,
  riskRegisterSchema,
} from '../../lib/risks/register-schema.ts';

type RiskInput = NonNullable<RiskRegisterInput['risks']>[number];
type RemediationInput = NonNullable<RiskRegisterInput['remediations']>[number];

/** A mitigated, recently reviewed risk that produces no findings; override what a test needs. */
export function riskInput(overrides: Partial<RiskInput> = {}): RiskInput {
  return {
    id: 'R1',
    title: 'Tenant data leakage',
    asset: 'Customer data',
    classification: 'confidential',
    threat: 'information-disclosure',
    likelihood: 2,
    impact: 3,
    mitigation: 'Per-tenant databases.',
    status: 'mitigated',
    owner: 'founder',
    lastReviewed: '2026-11-01',
    ...overrides,
  };
}

export function remediationInput(overrides: Partial<RemediationInput> = {}): RemediationInput {
  return {
    id: 'G1',
    gap: 'Manual password rotation',
    remediation: 'Automate via API',
    targetDate: '2026-12-31',
    owner: 'security',
    ...overrides,
  };
}

export function register(input: RiskRegisterInput): RiskRegister {
  return riskRegisterSchema.parse(input);
}

type AssetInput = NonNullable<RiskRegisterInput['assets']>[number];

/** A confidential asset encrypted both ways; override what a test needs. */
export function assetInput(overrides: Partial<AssetInput> = {}): AssetInput {
  return {
    id: 'customer-data',
    name: 'Customer data',
    classification: 'confidential',
    encryption: {
      atRest: { encrypted: true, detail: 'AES-256 (KMS)' },
      inTransit: { encrypted: true, detail: 'TLS 1.3' },
    },
    access: 'Tenant-scoped via JWT',
    owner: 'founder',
    dataStores: ['PostgreSQL'],
    ...overrides,
  };
}

/** One mitigated risk per STRIDE category against `asset`: a complete walk-through. */
export function walkThrough(asset: string, prefix = 'W'): RiskInput[] {
  const categories = [
    'spoofing',
    'tampering',
    'repudiation',
    'information-disclosure',
    'denial-of-service',
    'elevation-of-privilege',
  ] as const;
  return categories.map((threat, index) =>
    riskInput({ id: `${prefix}${index + 1}`, asset, threat, classification: undefined }),
  );
}
