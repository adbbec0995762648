import { afterAll, beforeAll, expect } from 'vitest';
import type { PostgresPort } from '../../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { accessReviewMatrix } from './cells/access-review.ts';
import { cellRole, portFor } from './postgres-fixture.ts';

/**
 * Each cell gets a schema of its own holding the same healthy accounts (and their logins), plus
 * what the cell plants; a `pass` would mean the planted rows fooled the review.
 */
const AS_OF = new Date('2026-12-01T00:10:00Z');
const DAY = 86_400_000;
const ago = (ms: number) => `'${new Date(AS_OF.getTime() - ms).toISOString()}'`;
const ACCOUNTS = `(username text, enabled boolean, last_login_at timestamptz, created_at timestamptz, removed_at timestamptz)`;
const HEALTHY = `('alice', true, ${ago(DAY)}, '2025-01-01', NULL), ('bob', true, ${ago(10 * DAY)}, '2025-01-01', NULL),
                 ('carol', false, ${ago(400 * DAY)}, '2024-01-01', '2026-06-01')`;
const HEALTHY_LOGINS = `(${ago(DAY)}, 'alice', 'login', true), (${ago(10 * DAY)}, 'bob', 'login', true),
                        (${ago(400 * DAY)}, 'carol', 'login', true)`;

let env: TestEnvironment;
let url: string;
let port: PostgresPort;

interface Plant {
  /** Replaces the accounts table definition. */
  readonly table?: string;
  /** More account rows (a VALUES list). */
  readonly accounts?: string;
  /** More audit-log rows (timestamp, user_id, action, success). */
  readonly logins?: string;
  /** Leave the healthy rows out. */
  readonly bare?: boolean;
  /** Anything else, with `$s` for the schema. */
  readonly sql?: string;
}

async function plant(schema: string, cell: Plant = {}): Promise<void> {
  const healthy = cell.bare ? '' : `INSERT INTO ${schema}.users VALUES ${HEALTHY};`;
  const healthyLogins = cell.bare ? '' : `INSERT INTO ${schema}.audit_log VALUES ${HEALTHY_LOGINS};`;
  await env.sql(
    url,
    `CREATE SCHEMA ${schema};
     CREATE TABLE ${schema}.users ${cell.table ?? ACCOUNTS};
     CREATE TABLE ${schema}.audit_log ("timestamp" timestamptz, user_id text, action text, success boolean);
     ${cell.table ? '' : healthy} ${healthyLogins}
     ${cell.accounts ? `INSERT INTO ${schema}.users VALUES ${cell.accounts};` : ''}
     ${cell.logins ? `INSERT INTO ${schema}.audit_log VALUES ${cell.logins};` : ''}
     ${(cell.sql ?? '').replaceAll('$s', schema)}`,
  );
}

const COLUMNS = {
  account: 'username',
  enabled: 'enabled',
  lastLogin: 'last_login_at',
  createdAt: 'created_at',
  removedAt: 'removed_at',
};

function review(schema: string, options: { loginEvents?: boolean; postgres?: PostgresPort } = {}) {
  return runTest({
    test: {
      type: 'access-review',
      target: 'app',
      schema,
      columns: COLUMNS,
      ...(options.loginEvents ? { loginEvents: { schema } } : {}),
    },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf: AS_OF,
    ports: { postgres: options.postgres ?? port },
  });
}

async function planted(schema: string, cell: Plant, options: { loginEvents?: boolean } = {}) {
  await plant(schema, cell);
  return review(schema, options);
}

/** Runs the check as `role`, created for the cell with `grants` (`$s` = the schema). */
async function asCellRole(
  schema: string,
  role: string,
  grants: string,
  options: { loginEvents?: boolean } = {},
) {
  await plant(schema);
  const roleUrl = await cellRole(
    env,
    url,
    role,
    `GRANT USAGE ON SCHEMA ${schema} TO ${role}; ${grants.replaceAll('$s', schema)}`,
  );
  return review(schema, { ...options, postgres: portFor({ app: roleUrl }) });
}

beforeAll(async () => {
  env = await startTestEnvironment();
  url = await env.createDatabase('hostile_access_review');
  port = portFor({ app: url });
});
afterAll(async () => env?.stop());

describeMatrix('access-review', accessReviewMatrix, {
  'control-last-login-column': () => planted('control_column', {}),
  'control-login-events': () => planted('control_events', {}, { loginEvents: true }),
  'empty-accounts': () => planted('empty_accounts', { bare: true }),
  'empty-login-events': () =>
    planted('empty_events', { sql: 'TRUNCATE $s.audit_log' }, { loginEvents: true }),
  'null-enabled': () =>
    planted('null_enabled', { accounts: `('dave', NULL, ${ago(400 * DAY)}, '2024-01-01', NULL)` }),
  'null-last-login': () => planted('null_last_login', { accounts: `('dave', true, NULL, NULL, NULL)` }),
  'null-account': () =>
    planted('null_account', { accounts: `(NULL, true, ${ago(DAY)}, '2024-01-01', NULL)` }),
  'null-login-success': () =>
    planted(
      'null_success',
      {
        accounts: `('dave', true, NULL, '2024-01-01', NULL)`,
        logins: `(${ago(400 * DAY)}, 'dave', 'login', true), (${ago(DAY)}, 'dave', 'login', NULL)`,
      },
      { loginEvents: true },
    ),
  'type-enabled-text': () =>
    planted('type_enabled', {
      table:
        '(username text, enabled text, last_login_at timestamptz, created_at timestamptz, removed_at timestamptz)',
      accounts: `('alice', 'true', ${ago(DAY)}, '2025-01-01', NULL)`,
    }),
  'type-last-login-text': () =>
    planted('type_last_login', {
      table:
        '(username text, enabled boolean, last_login_at text, created_at timestamptz, removed_at timestamptz)',
      accounts: `('alice', true, ${ago(DAY)}, '2025-01-01', NULL)`,
    }),
  'on-dormancy-limit': () =>
    planted('on_limit', { accounts: `('dave', true, ${ago(90 * DAY)}, '2024-01-01', NULL)` }),
  'just-over-dormancy-limit': () =>
    planted('over_limit', { accounts: `('dave', true, ${ago(90 * DAY + 1)}, '2024-01-01', NULL)` }),
  'removed-at-check-instant': () =>
    planted('removed_now', { accounts: `('dave', true, ${ago(DAY)}, '2024-01-01', ${ago(0)})` }),
  'future-last-login': () =>
    planted('future_login', { accounts: `('dave', true, '2030-01-01T00:00:00Z', '2024-01-01', NULL)` }),
  'future-created-at': () =>
    planted('future_created', { accounts: `('dave', true, NULL, '2099-01-01', NULL)` }),
  'future-login-event': () =>
    planted(
      'future_event',
      {
        accounts: `('dave', true, NULL, '2024-01-01', NULL)`,
        logins: `('2026-12-01T00:10:00.001Z', 'dave', 'login', true)`,
      },
      { loginEvents: true },
    ),
  'outlier-one-dormant': () =>
    planted('outlier_dormant', {
      sql: `INSERT INTO $s.users SELECT 'u' || i, true, ${ago(DAY)}, '2024-01-01', NULL FROM generate_series(1, 1000) AS i;
            INSERT INTO $s.users VALUES ('zed', true, '2019-05-01', '2018-01-01', NULL)`,
    }),
  'outlier-failed-login': () =>
    planted(
      'outlier_failed',
      {
        accounts: `('dave', true, NULL, '2024-01-01', NULL)`,
        logins: `(${ago(400 * DAY)}, 'dave', 'login', true), (${ago(DAY)}, 'dave', 'login', false)`,
      },
      { loginEvents: true },
    ),
  'duplicate-account-rows': () =>
    planted('duplicates', {
      accounts: `('dave', true, ${ago(DAY)}, '2024-01-01', NULL), ('dave', true, ${ago(400 * DAY)}, '2024-01-01', NULL)`,
    }),
  'control-character-user-id': () =>
    planted(
      'control_chars',
      {
        accounts: `('dave', true, NULL, '2024-01-01', NULL)`,
        logins: `(${ago(DAY)}, E'dave\\n', 'login', true)`,
      },
      { loginEvents: true },
    ),
  'huge-username': async () => {
    const run = await planted('huge_name', {
      sql: `INSERT INTO $s.users VALUES (repeat('x', 100000), true, ${ago(400 * DAY)}, '2024-01-01', NULL)`,
    });
    // The reason goes into notifications: it names the account, it does not carry 100 kB of it.
    expect(run.outcome.reasons.join('').length).toBeLessThan(1_000);
    return run;
  },
  'no-select-on-accounts': () =>
    asCellRole('no_select', 'hm_ar_blind', 'GRANT SELECT ON $s.audit_log TO hm_ar_blind'),
  'column-privilege-missing': () =>
    asCellRole(
      'column_privilege',
      'hm_ar_columns',
      'GRANT SELECT (username, enabled, created_at, removed_at) ON $s.users TO hm_ar_columns',
    ),
  'row-level-security': () =>
    asCellRole(
      'rls',
      'hm_ar_rls',
      `INSERT INTO $s.users VALUES ('dave', true, ${ago(400 * DAY)}, '2024-01-01', NULL);
       GRANT SELECT ON $s.users TO hm_ar_rls;
       ALTER TABLE $s.users ENABLE ROW LEVEL SECURITY;
       CREATE POLICY recent ON $s.users FOR SELECT TO hm_ar_rls USING (last_login_at > now() - interval '10 years' AND username <> 'dave')`,
    ),
  'no-select-on-audit-log': () =>
    asCellRole('no_audit', 'hm_ar_noaudit', 'GRANT SELECT ON $s.users TO hm_ar_noaudit', {
      loginEvents: true,
    }),
  'stale-removed-still-enabled': () =>
    planted('stale_removed', { accounts: `('dave', true, ${ago(DAY)}, '2024-01-01', '2026-06-01')` }),
});
