import { stringify } from 'yaml';
import type { ConfigInput } from '../../lib/config/schema.ts';

/**
 * The configuration most tests need: the security owner, one `app` database target and the monthly
 * audit-log control (log completeness). One definition instead of a literal per test file; pass
 * overrides for what a test is about.
 */
export const securityOwner = { id: 'security', name: 'Security', email: 'security@example.com' } as const;

type ControlInput = ConfigInput['controls'][number];
type LogCompletenessInput = Extract<ControlInput['test'], { type: 'log-completeness' }>;

export interface AuditLogControlOptions {
  /** @default 'audit-log' */
  readonly id?: string;
  /** @default 'Audit log complete' */
  readonly title?: string;
  /** @default 'monthly' */
  readonly cadence?: ControlInput['cadence'];
  /** Fields of the log-completeness test besides `type` and `target: app`. @default { retention: 'P30D' } */
  readonly test?: Omit<Partial<LogCompletenessInput>, 'type'>;
}

export function auditLogControl(options: AuditLogControlOptions = {}): ControlInput {
  return {
    id: options.id ?? 'audit-log',
    title: options.title ?? 'Audit log complete',
    criteria: ['CC7.2'],
    cadence: options.cadence ?? 'monthly',
    owner: 'security',
    test: { type: 'log-completeness', target: 'app', retention: 'P30D', ...options.test },
  };
}

export interface AuditLogConfigOptions extends AuditLogControlOptions {
  /** The env var holding the `app` target's connection string. @default 'APP_URL' */
  readonly targetEnv?: string;
}

export function auditLogConfig(options: AuditLogConfigOptions = {}): ConfigInput {
  return {
    owners: [securityOwner],
    targets: [{ name: 'app', connection: { env: options.targetEnv ?? 'APP_URL' } }],
    controls: [auditLogControl(options)],
  };
}

/** The same configuration as a YAML file's text, for the CLI and synth tests that read a path. */
export function auditLogConfigYaml(options: AuditLogConfigOptions = {}): string {
  return stringify(auditLogConfig(options));
}

/**
 * The config without document reviews and `review: required`: for tests of the digest mechanics on
 * the example register, whose counts would otherwise include the example documents' owed reviews.
 */
export function withoutReviews<C extends { documents?: unknown; controls: readonly object[] }>(config: C): C {
  const { documents: _documents, ...rest } = config;
  return {
    ...rest,
    controls: config.controls.map((control) => {
      const {
        review: _review,
        reviewWithin: _within,
        ...kept
      } = control as { review?: unknown; reviewWithin?: unknown };
      return kept;
    }),
  } as unknown as C;
}
