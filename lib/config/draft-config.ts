import { sqlIdentifierSchema } from '../shared/identifiers.ts';
import type { CatalogColumn, CatalogSnapshot, CatalogTable } from './introspect-catalog.ts';

/**
 * `soc2-evidence init`: proposes a configuration from what a database's catalog shows. Pure: the
 * snapshot comes from {@link introspectCatalog}; the output is commented YAML that `parseConfigYaml`
 * accepts as written, so a first `run --local` works before the user edits anything. Every guess is
 * said to be a guess in a comment next to it, with what was detected (column names, index, stats).
 */

const TIMESTAMP = /^timestamp/;
const TEXTUAL = new Set(['text', 'character varying', 'character', 'USER-DEFINED', 'citext']);

/** Candidate column names per role, best first (the reference schema's names lead). */
const NAMES = {
  timestamp: [
    'timestamp',
    'occurred_at',
    'event_time',
    'logged_at',
    'created_at',
    'event_at',
    'happened_at',
    'at',
    'ts',
    'time',
  ],
  action: ['action', 'event_type', 'event', 'event_name', 'activity', 'operation', 'verb'],
  user: ['user_id', 'actor_id', 'actor', 'username', 'user_name', 'user', 'principal', 'account_id'],
  success: ['success', 'succeeded', 'successful', 'is_success', 'ok'],
  resource: ['resource_id', 'target_id', 'object_id', 'entity_id', 'resource', 'subject_id'],
  account: ['username', 'user_name', 'login', 'email', 'account', 'name'],
  enabled: ['enabled', 'is_enabled', 'active', 'is_active'],
  lastLogin: [
    'last_login_at',
    'last_login',
    'last_sign_in_at',
    'last_signed_in_at',
    'last_seen_at',
    'last_active_at',
  ],
  createdAt: ['created_at', 'created', 'inserted_at', 'signup_at'],
  removedAt: ['removed_at', 'deactivated_at', 'offboarded_at', 'terminated_at', 'disabled_at', 'deleted_at'],
} as const;

type Kind = 'timestamp' | 'boolean' | 'text' | 'any';

function matches(column: CatalogColumn, kind: Kind): boolean {
  if (kind === 'timestamp') return TIMESTAMP.test(column.dataType);
  if (kind === 'boolean') return column.dataType === 'boolean';
  if (kind === 'text') return TEXTUAL.has(column.dataType);
  return true;
}

/** Names the config can hold (lowercase SQL identifiers); a mixed-case table cannot be proposed. */
const configurable = (name: string) => sqlIdentifierSchema.safeParse(name).success;
const configurableTable = (table: CatalogTable) => configurable(table.schema) && configurable(table.name);

function pick(table: CatalogTable, names: readonly string[], kind: Kind): CatalogColumn | undefined {
  for (const name of names) {
    const column = table.columns.find((candidate) => candidate.name === name);
    if (column && configurable(column.name) && matches(column, kind)) return column;
  }
  return undefined;
}

export interface AuditLogCandidate {
  readonly table: CatalogTable;
  readonly timestamp: CatalogColumn;
  readonly action: CatalogColumn;
  readonly user: CatalogColumn;
  readonly success: CatalogColumn;
  readonly resource: CatalogColumn | undefined;
  readonly timestampIndexed: boolean;
  /** Values of the action column the statistics list (most common first); empty when unanalyzed. */
  readonly actions: readonly string[];
  /** The action value that records secret rotations, when the statistics show one. */
  readonly rotationAction: string | undefined;
  /** Most common resource ids (candidates for the rotated secrets). */
  readonly resources: readonly string[];
}

export interface UsersTableCandidate {
  readonly table: CatalogTable;
  readonly account: CatalogColumn;
  readonly enabled: CatalogColumn;
  readonly lastLogin: CatalogColumn;
  readonly createdAt: CatalogColumn | undefined;
  readonly removedAt: CatalogColumn | undefined;
}

const AUDIT_NAME = /audit|event|activity|log/i;
const USERS_NAME = /^(users?|accounts?|members?|people|employees?|staff|identities)$/i;

/** Tables with what log completeness needs (a timestamp, user, action text and success boolean). */
export function findAuditLogs(snapshot: CatalogSnapshot): AuditLogCandidate[] {
  const found: { candidate: AuditLogCandidate; score: number }[] = [];
  for (const table of snapshot.tables.filter(configurableTable)) {
    const timestamp = pick(table, NAMES.timestamp, 'timestamp');
    const action = pick(table, NAMES.action, 'text');
    const user = pick(table, NAMES.user, 'any');
    const success = pick(table, NAMES.success, 'boolean');
    if (!timestamp || !action || !user || !success) continue;
    const resource = pick(table, NAMES.resource, 'any');
    const actions = table.statistics[action.name]?.commonValues ?? [];
    const rotationAction = actions.find((value) => value.length <= 200 && /rotat/i.test(value));
    const candidate: AuditLogCandidate = {
      table,
      timestamp,
      action,
      user,
      success,
      resource,
      timestampIndexed: table.indexedLeadingColumns.includes(timestamp.name),
      actions,
      rotationAction,
      resources: resource
        ? [...new Set(table.statistics[resource.name]?.commonValues ?? [])]
            .filter((id) => id.length > 0 && id.length <= 500)
            .slice(0, 10)
        : [],
    };
    const score =
      (AUDIT_NAME.test(table.name) ? 4 : 0) + (candidate.timestampIndexed ? 1 : 0) + (resource ? 1 : 0);
    found.push({ candidate, score });
  }
  return found
    .sort((a, b) => b.score - a.score || a.candidate.table.name.localeCompare(b.candidate.table.name))
    .map((entry) => entry.candidate);
}

/** Tables with what an access review needs (an account id, an enabled flag and a last login). */
export function findUsersTables(snapshot: CatalogSnapshot): UsersTableCandidate[] {
  const found: { candidate: UsersTableCandidate; score: number }[] = [];
  for (const table of snapshot.tables.filter(configurableTable)) {
    const account = pick(table, NAMES.account, 'any');
    const enabled = pick(table, NAMES.enabled, 'boolean');
    const lastLogin = pick(table, NAMES.lastLogin, 'timestamp');
    if (!account || !enabled || !lastLogin) continue;
    const candidate: UsersTableCandidate = {
      table,
      account,
      enabled,
      lastLogin,
      createdAt: pick(table, NAMES.createdAt, 'timestamp'),
      removedAt: pick(table, NAMES.removedAt, 'timestamp'),
    };
    found.push({ candidate, score: USERS_NAME.test(table.name) ? 1 : 0 });
  }
  return found
    .sort((a, b) => b.score - a.score || a.candidate.table.name.localeCompare(b.candidate.table.name))
    .map((entry) => entry.candidate);
}

export interface DraftOptions {
  /** The environment variable the target reads its connection string from (never the URL itself). */
  readonly connectionEnv: string;
  /** `addedOn` of every proposed control: the day the user starts operating it. */
  readonly addedOn: string;
  readonly ownerEmail?: string;
}

export interface DraftedConfig {
  readonly yaml: string;
  /** One line per proposal, for the command's summary. */
  readonly proposals: readonly string[];
}

/** The lines every drafted control starts with; all are owned by the drafted `security` owner. */
function controlHeader(
  id: string,
  title: string,
  criteria: string,
  cadence: string,
  options: DraftOptions,
): string {
  return `  - id: ${id}
    title: ${title}
    criteria: ${criteria}
    cadence: ${cadence}
    owner: security
    addedOn: ${options.addedOn}
`;
}

/** A YAML double-quoted scalar (identifiers from a catalog can hold anything). */
const str = (value: string) => JSON.stringify(value);
/** Catalog text inside a `#` comment: a line break in a statistics value must not end the comment. */
const commentSafe = (value: string) => value.replace(/[\p{Cc}\u2028\u2029]/gu, '?');
const flowList = (values: readonly string[]) => `[${values.map(str).join(', ')}]`;

function auditLogControl(log: AuditLogCandidate, options: DraftOptions): string {
  const known = log.actions
    .filter((value) => /login|export|rotat|delete|admin|grant|role/i.test(value))
    .slice(0, 5);
  const required = known.length
    ? `      requiredActions: ${flowList(known)}`
    : '      # requiredActions: [login, admin_export]  # actions every period must contain at least once';
  return `  # Detected: ${log.table.schema}.${log.table.name}, columns timestamp=${log.timestamp.name} (${log.timestamp.dataType}), user=${log.user.name}, action=${log.action.name}, success=${log.success.name}.
  # ${log.timestampIndexed ? `${log.timestamp.name} leads a btree index: the check reads only the period's range.` : `${log.timestamp.name} leads no btree index: every run scans the table. Consider CREATE INDEX ON ${log.table.schema}.${log.table.name} ("${log.timestamp.name}");`}
  # Actions the statistics show most often: ${log.actions.length ? commentSafe(log.actions.slice(0, 12).join(', ')) : '(none: run ANALYZE, or the role cannot read pg_stats)'}.
${controlHeader('audit-log-completeness', 'Audit logging captures all required events', '[CC4.1, CC7.2]', 'monthly', options)}    test:
      type: log-completeness
      target: app
      schema: ${str(log.table.schema)}
      table: ${str(log.table.name)}
      columns:
        timestamp: ${str(log.timestamp.name)}
        userId: ${str(log.user.name)}
        action: ${str(log.action.name)}
        resourceId: ${str(log.resource?.name ?? 'resource_id')}
        success: ${str(log.success.name)}
      maxSilence: PT1H  # the longest quiet spell in business hours
      offHours: { maxSilence: PT8H, businessStart: "08:00", businessEnd: "18:00" }
${required}
      retention: P365D  # the oldest row must be at least this old (the log is kept a year)
`;
}

function rotationControl(log: AuditLogCandidate, rotationAction: string, options: DraftOptions): string {
  const resources = log.resources.length ? log.resources.slice(0, 5) : ['db_password'];
  const origin = log.resources.length
    ? `the most common values of ${log.resource?.name ?? 'resource_id'} (all actions, not only rotations)`
    : 'a placeholder (the statistics list no resource ids)';
  return `  # Detected: rotation events (action ${str(rotationAction)}) in ${log.table.schema}.${log.table.name}.
  # The secrets below are ${origin}:
  # keep the ones that are credentials, name them, and add Secrets Manager secrets or IAM users.
${controlHeader('secrets-rotation', 'Secrets are rotated at least every 90 days', '[CC6.7]', 'monthly', options)}    test:
      type: secret-rotation
      target: app
      auditLog:
        schema: ${str(log.table.schema)}
        table: ${str(log.table.name)}
        columns: { timestamp: ${str(log.timestamp.name)}, action: ${str(log.action.name)}, resourceId: ${str(log.resource?.name ?? 'resource_id')}, success: ${str(log.success.name)} }
        action: ${str(rotationAction)}
      maxAge: P90D
      secrets:
${resources.map((resource) => `        - { name: ${str(resource)}, resourceId: ${str(resource)} }`).join('\n')}
`;
}

function accessReviewControl(users: UsersTableCandidate, options: DraftOptions): string {
  const optional = [
    users.createdAt
      ? `        createdAt: ${str(users.createdAt.name)}`
      : '        # createdAt: created_at  # not found: young accounts then count as dormant',
    users.removedAt
      ? `        removedAt: ${str(users.removedAt.name)}`
      : '        # removedAt: removed_at  # not found: offboarding dates cannot be checked',
  ];
  return `  # Detected: ${users.table.schema}.${users.table.name} (account ${users.account.name}, enabled ${users.enabled.name}, last login ${users.lastLogin.name}).
${controlHeader('access-review', 'Dormant and departed accounts are disabled', '[CC6.1, CC6.2]', 'quarterly', options)}    test:
      type: access-review
      target: app
      schema: ${str(users.table.schema)}
      table: ${str(users.table.name)}
      columns:
        account: ${str(users.account.name)}
        enabled: ${str(users.enabled.name)}
        lastLogin: ${str(users.lastLogin.name)}
${optional.join('\n')}
      dormantAfter: P90D
`;
}

const TEMPLATES = `  # The rest of the reference Control Testing Schedule, to enable once their inputs exist:
  #
  # - id: vulnerability-scanning        # weekly: Trivy JSON reports uploaded by CI
  #   title: Weekly scans run and critical findings are patched within 48 hours
  #   criteria: [CC7.1, CC9.2]
  #   cadence: weekly
  #   owner: security
  #   test: { type: vulnerability-scan, prefix: scans/trivy/, maxAge: P7D, patchSla: PT48H, severities: [CRITICAL] }
  #
  # - id: backup-restore                # monthly: a restored copy compared with production
  #   title: The monthly restore matches production within RPO and RTO
  #   criteria: [CC7.3, A1.2, A1.3]
  #   cadence: monthly
  #   owner: security
  #   test: { type: restore-verification, sourceTarget: app, restoredTarget: restored, schemas: [public], restoreLog: { table: soc2_restore_log }, rpo: PT15M, rto: PT60M }
  #
  # - id: penetration-test              # annual: the report uploaded as an attestation
  #   title: Annual external penetration test report is on file
  #   criteria: [CC7.1, CC9.2]
  #   cadence: annual
  #   owner: security
  #   test: { type: manual-attestation, prefix: "attestations/penetration-test/{period}/", expects: the penetration test report }
  #
  # - id: incident-response-tabletop    # annual
  #   title: Annual incident-response tabletop exercise
  #   criteria: [CC9.1]
  #   cadence: annual
  #   owner: security
  #   test: { type: manual-attestation, prefix: "attestations/incident-response/{period}/", expects: the tabletop exercise report }
`;

/** Drafts the whole file: what was detected as live controls, the rest as commented templates. */
export function draftConfig(snapshot: CatalogSnapshot, options: DraftOptions): DraftedConfig {
  const proposals: string[] = [];
  const sections: string[] = [];
  const [log] = findAuditLogs(snapshot);
  if (log) {
    sections.push(auditLogControl(log, options));
    proposals.push(
      `log-completeness on ${log.table.schema}.${log.table.name}${log.timestampIndexed ? '' : ' (timestamp not indexed)'}`,
    );
    if (log.rotationAction) {
      sections.push(rotationControl(log, log.rotationAction, options));
      proposals.push(
        `secret-rotation from "${log.rotationAction}" events in ${log.table.schema}.${log.table.name}`,
      );
    }
  }
  const [users] = findUsersTables(snapshot);
  if (users) {
    sections.push(accessReviewControl(users, options));
    proposals.push(`access-review on ${users.table.schema}.${users.table.name}`);
  }
  sections.push(`  # Works on any PostgreSQL: TLS of every session, password hashing.
${controlHeader('encryption-in-transit', 'Database connections are encrypted with TLS 1.2 or newer', '[CC6.6, C1.2]', 'quarterly', options)}    test: { type: encryption-config, target: app, minTlsVersion: TLSv1.2, passwordEncryption: scram-sha-256 }
`);
  proposals.push('encryption-config on the whole server');
  sections.push(`  # Monitoring of the monitoring: a control whose schedule stops is reported within a day.
${controlHeader('schedule-health', 'Every control has a verdict for every period since it was added', '[CC4.1]', 'daily', options)}    test: { type: schedule-health, grace: PT6H, lookback: P28D }
`);
  proposals.push('schedule-health over every control');
  const missing = [
    ...(log
      ? []
      : ['  # No audit-log-like table found (a timestamp, user, action text and success boolean column).']),
    ...(users
      ? []
      : ['  # No users table found (an account column, an enabled boolean and a last-login timestamp).']),
  ];
  const yaml = `# Drafted by \`soc2-evidence init\` from the catalog of database "${commentSafe(snapshot.database)}" (PostgreSQL
# ${commentSafe(snapshot.serverVersion)}). Only catalog queries were made; no row of data was read. Review every
# control, then: soc2-evidence run --local --config <this file>
timeZone: UTC

owners:
  - id: security
    name: Security team
    email: ${str(options.ownerEmail ?? 'security@example.com')}  # who gets failures and digests

targets:
  # The connection string is read from $${options.connectionEnv} at run time; in AWS add
  # secretId: <Secrets Manager secret> instead. Never put the URL in this file.
  - name: app
    connection: { env: ${options.connectionEnv} }
    statementTimeoutMs: 30000

controls:
${[...missing, ...sections, TEMPLATES].join('\n')}`;
  return { yaml, proposals };
}
