import * as z from 'zod';
import {
  durationSchema,
  durationToMs,
  quoteIdentifier,
  slugSchema,
  sqlIdentifierSchema,
} from '../shared/identifiers.ts';
import { needs, targetNeed } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { wholeDays } from './evaluation-time.ts';
import { ControlCheckError, type ControlOutcome, outcome } from './outcome.ts';
import type { PopulationDeclaration } from './population.ts';
import { identityOnce, isoOrNull, writeSqlPopulation } from './population-query.ts';
import type { ReadOnlySession } from './ports.ts';

const ACCOUNTS_AT_END = {
  name: 'accounts-at-period-end',
  description: 'an account in the accounts table as of the end of the period, with its state then',
} as const satisfies PopulationDeclaration;
const ACCOUNTS_REMOVED = {
  name: 'accounts-removed',
  description: 'an account whose recorded removal (offboarding) date lies in the period',
} as const satisfies PopulationDeclaration;
const ACCOUNTS_FLAGGED = {
  name: 'accounts-flagged',
  description: 'an account the review flagged: dormant, or still active after its removal date',
} as const satisfies PopulationDeclaration;

export const accessReviewParamsSchema = z.strictObject({
  type: z.literal('access-review'),
  target: slugSchema.describe('The `targets[].name` of the database holding the accounts.'),
  schema: sqlIdentifierSchema.default('public').describe('Schema of the accounts table.'),
  table: sqlIdentifierSchema.default('users').describe('The accounts table.'),
  columns: z
    .strictObject({
      account: sqlIdentifierSchema
        .default('username')
        .describe("Identifies the account (username, email); matched against the audit log's user id."),
      enabled: sqlIdentifierSchema.default('enabled').describe('Boolean: can the account sign in.'),
      lastLogin: sqlIdentifierSchema
        .default('last_login_at')
        .describe('Timestamp of the last successful login; ignored when `loginEvents` is set.'),
      createdAt: sqlIdentifierSchema
        .optional()
        .describe('Optional creation timestamp: accounts younger than `dormantAfter` are not dormant.'),
      removedAt: sqlIdentifierSchema
        .optional()
        .describe('Optional timestamp of the recorded removal (offboarding) date.'),
    })
    .default({ account: 'username', enabled: 'enabled', lastLogin: 'last_login_at' })
    .describe('Column names in the accounts table.'),
  loginEvents: z
    .strictObject({
      schema: sqlIdentifierSchema.default('public').describe('Schema of the audit log holding login events.'),
      table: sqlIdentifierSchema.default('audit_log').describe('The audit-log table.'),
      columns: z
        .strictObject({
          timestamp: sqlIdentifierSchema
            .default('timestamp')
            .describe('When the login happened (timestamp).'),
          userId: sqlIdentifierSchema
            .default('user_id')
            .describe("Who logged in, matched against the accounts' `account` column."),
          action: sqlIdentifierSchema.default('action').describe('The event kind, compared with `action`.'),
          success: sqlIdentifierSchema
            .default('success')
            .describe('Whether the login succeeded (boolean): only successful logins count.'),
        })
        .default({
          timestamp: 'timestamp',
          userId: 'user_id',
          action: 'action',
          success: 'success',
        })
        .describe('Column names in the audit log.'),
      action: z.string().min(1).max(200).default('login').describe('The `action` value of a login event.'),
    })
    .optional()
    .describe(
      "Read successful logins from an audit log on the same target instead of a last-login column (the reference `audit_log`: `action = 'login' AND success`).",
    ),
  dormantAfter: durationSchema
    .default('P90D')
    .describe('An enabled account with no successful login for this long is dormant.'),
  maxListed: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(200)
    .describe('Accounts listed in the evidence at most per finding; counts are always exact.'),
});
export type AccessReviewParams = z.output<typeof accessReviewParamsSchema>;

const TIMESTAMP_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone', 'date']);

async function columnTypes(
  session: ReadOnlySession,
  schema: string,
  table: string,
): Promise<Map<string, string>> {
  const rows = await session.query<{ column_name: string; data_type: string }>(
    `columns of ${schema}.${table}`,
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [schema, table],
  );
  if (rows.length === 0)
    throw new ControlCheckError(`table ${schema}.${table} does not exist or is not readable`);
  return new Map(rows.map((row) => [row.column_name, row.data_type]));
}

function expectColumn(
  types: Map<string, string>,
  relation: string,
  column: string,
  kind: 'timestamp' | 'boolean' | 'any' | 'text',
): void {
  const type = types.get(column);
  if (type === undefined) throw new ControlCheckError(`column ${relation}.${column} does not exist`);
  const ok =
    kind === 'any' ||
    (kind === 'timestamp' && TIMESTAMP_TYPES.has(type)) ||
    (kind === 'boolean' && type === 'boolean') ||
    (kind === 'text' && ['text', 'character varying', 'character'].includes(type));
  if (!ok)
    throw new ControlCheckError(
      `column ${relation}.${column} is ${type}, expected ${kind === 'text' ? 'text' : `a ${kind}`}`,
    );
}

/** Account names go into reasons (and notifications): long ones are cut, the evidence keeps them whole. */
function shortName(account: string | null): string {
  if (account === null) return '(no name)';
  return account.length > 50 ? `${account.slice(0, 50)}...` : account;
}

interface Counts extends Record<string, unknown> {
  total: string;
  enabled: string;
  unnamed: string;
  dormant: string;
  active_after_removal: string;
}

interface Listed extends Record<string, unknown> {
  account: string | null;
  enabled: boolean | null;
  last_login: Date | null;
  created_at: Date | null;
  removed_at: Date | null;
  dormant: boolean;
  active_after_removal: boolean;
}

async function run(params: AccessReviewParams, context: ControlContext): Promise<ControlOutcome> {
  const at = context.asOf;
  const cutoff = new Date(at.getTime() - durationToMs(params.dormantAfter));
  const { columns, loginEvents } = params;
  const relation = `${params.schema}.${params.table}`;

  return context.ports.postgres.withReadOnlySession(params.target, context.evidence, async (session) => {
    const types = await columnTypes(session, params.schema, params.table);
    expectColumn(types, relation, columns.account, 'any');
    expectColumn(types, relation, columns.enabled, 'boolean');
    if (!loginEvents) expectColumn(types, relation, columns.lastLogin, 'timestamp');
    if (columns.createdAt) expectColumn(types, relation, columns.createdAt, 'timestamp');
    if (columns.removedAt) expectColumn(types, relation, columns.removedAt, 'timestamp');
    if (loginEvents) {
      const eventsRelation = `${loginEvents.schema}.${loginEvents.table}`;
      const eventTypes = await columnTypes(session, loginEvents.schema, loginEvents.table);
      expectColumn(eventTypes, eventsRelation, loginEvents.columns.timestamp, 'timestamp');
      expectColumn(eventTypes, eventsRelation, loginEvents.columns.userId, 'any');
      expectColumn(eventTypes, eventsRelation, loginEvents.columns.action, 'text');
      expectColumn(eventTypes, eventsRelation, loginEvents.columns.success, 'boolean');
    }

    const q = quoteIdentifier;
    const a = (column: string) => `a.${q(column)}`;
    const createdAt = columns.createdAt ? `${a(columns.createdAt)}::timestamptz` : 'NULL::timestamptz';
    const removedAt = columns.removedAt ? `${a(columns.removedAt)}::timestamptz` : 'NULL::timestamptz';
    // $1 = as-of instant, $2 = dormancy cutoff, $3 = login action (with loginEvents).
    let lastLogin: string;
    if (loginEvents) {
      const e = loginEvents.columns;
      // Newest successful login up to as-of; uses an index on the audit log's timestamp or user id.
      lastLogin = `(SELECT max(l.${q(e.timestamp)})::timestamptz FROM ${q(loginEvents.schema)}.${q(loginEvents.table)} AS l
                     WHERE l.${q(e.userId)}::text = ${a(columns.account)}::text AND l.${q(e.action)} = $3
                       AND l.${q(e.success)} AND l.${q(e.timestamp)} <= $1)`;
    } else {
      lastLogin = `${a(columns.lastLogin)}::timestamptz`;
    }
    // A NULL enabled flag does not prove the account cannot sign in, so it is judged as enabled;
    // a login or creation dated after as-of says nothing about the account at as-of.
    const accounts = `WITH accounts AS (
        SELECT ${a(columns.account)}::text AS account, ${a(columns.enabled)} AS enabled,
               ${lastLogin} AS last_login, ${createdAt} AS created_at, ${removedAt} AS removed_at
          FROM ${q(params.schema)}.${q(params.table)} AS a),
      judged AS (
        SELECT *,
               enabled IS NOT FALSE AND coalesce(CASE WHEN last_login <= $1::timestamptz THEN last_login END,
                 CASE WHEN created_at <= $1::timestamptz THEN created_at END, '-infinity'::timestamptz) < $2::timestamptz AS dormant,
               removed_at IS NOT NULL AND removed_at <= $1::timestamptz
                 AND (enabled IS NOT FALSE OR last_login > removed_at) AS active_after_removal
          FROM accounts)`;
    const bound = loginEvents
      ? [at.toISOString(), cutoff.toISOString(), loginEvents.action]
      : [at.toISOString(), cutoff.toISOString()];

    const [counts] = await session.query<Counts>(
      'account counts',
      `${accounts}
       SELECT count(*) AS total, count(*) FILTER (WHERE enabled) AS enabled,
              count(*) FILTER (WHERE account IS NULL) AS unnamed,
              count(*) FILTER (WHERE dormant) AS dormant,
              count(*) FILTER (WHERE active_after_removal) AS active_after_removal
         FROM judged`,
      bound,
    );
    if (!counts) throw new ControlCheckError('the account count query returned no row');
    const list = (finding: 'dormant' | 'active_after_removal') =>
      session.query<Listed>(
        `accounts: ${finding.replaceAll('_', ' ')}`,
        `${accounts}
         SELECT * FROM judged WHERE ${finding} ORDER BY account LIMIT $${bound.length + 1}`,
        [...bound, params.maxListed],
      );
    const dormantRows = Number(counts.dormant) > 0 ? await list('dormant') : [];
    const removedRows = Number(counts.active_after_removal) > 0 ? await list('active_after_removal') : [];

    // The populations an auditor samples from, from the same CTE and bound values as the counts.
    const identity = identityOnce(session);
    const populationOf = (
      declaration: PopulationDeclaration,
      where: string,
      extra: readonly unknown[] = [],
    ) =>
      writeSqlPopulation<Listed>(context, session, identity, {
        declaration,
        target: params.target,
        text: `${accounts}
         SELECT * FROM judged WHERE ${where} ORDER BY account COLLATE "C"`,
        params: [...bound, ...extra],
        toItem: (row) => ({
          id: row.account ?? '(no account identifier)',
          account: row.account,
          enabled: row.enabled,
          lastLogin: isoOrNull(row.last_login),
          createdAt: isoOrNull(row.created_at),
          removedAt: isoOrNull(row.removed_at),
          dormant: row.dormant,
          activeAfterRemoval: row.active_after_removal,
        }),
      });
    await populationOf(ACCOUNTS_AT_END, 'true');
    if (columns.removedAt) {
      const n = bound.length;
      await populationOf(
        ACCOUNTS_REMOVED,
        `removed_at >= $${n + 1}::timestamptz AND removed_at < $${n + 2}::timestamptz`,
        [context.period.start.toISOString(), context.period.end.toISOString()],
      );
    }
    await populationOf(ACCOUNTS_FLAGGED, 'dormant OR active_after_removal');

    const total = Number(counts.total);
    const dormant = Number(counts.dormant);
    const afterRemoval = Number(counts.active_after_removal);
    const describe = (row: Listed) => ({
      account: row.account,
      enabled: row.enabled,
      lastLogin: row.last_login?.toISOString() ?? null,
      createdAt: row.created_at?.toISOString() ?? null,
      removedAt: row.removed_at?.toISOString() ?? null,
    });

    const reasons: string[] = [];
    const warnings: string[] = [];
    if (total === 0)
      reasons.push(`${relation} holds no accounts: nothing to review, check the configured table`);
    const unnamed = Number(counts.unnamed);
    if (unnamed > 0)
      reasons.push(`${unnamed} accounts in ${relation} have no ${columns.account}: they cannot be reviewed`);
    if (dormant > 0) {
      const names = dormantRows.slice(0, 5).map((row) => {
        const last = !row.last_login
          ? 'never logged in'
          : row.last_login > at
            ? `last login ${row.last_login.toISOString()} is after the check`
            : `last login ${wholeDays(at.getTime() - row.last_login.getTime())} days ago`;
        return `${shortName(row.account)} (${last})`;
      });
      reasons.push(
        `${dormant} enabled accounts have had no successful login for ${params.dormantAfter}: ${names.join(', ')}${dormant > 5 ? ', ...' : ''}`,
      );
    }
    if (afterRemoval > 0) {
      const names = removedRows
        .slice(0, 5)
        .map((row) => `${shortName(row.account)} (removed ${row.removed_at?.toISOString().slice(0, 10)})`);
      reasons.push(
        `${afterRemoval} accounts are still active after their recorded removal date: ${names.join(', ')}${afterRemoval > 5 ? ', ...' : ''}`,
      );
    }
    if (!columns.removedAt)
      warnings.push('no removedAt column configured: accounts active after removal were not checked');
    if (!columns.createdAt && !loginEvents) {
      warnings.push(
        'no createdAt column configured: accounts that never logged in count as dormant however new',
      );
    }

    return outcome({
      reasons,
      warnings,
      figures: {
        accounts: total,
        enabled: Number(counts.enabled),
        dormant,
        activeAfterRemoval: afterRemoval,
      },
      details: {
        asOf: at.toISOString(),
        dormancyCutoff: cutoff.toISOString(),
        unnamedAccounts: unnamed,
        lastLoginSource: loginEvents
          ? `${loginEvents.schema}.${loginEvents.table} (${loginEvents.action}, successful)`
          : `${relation}.${columns.lastLogin}`,
        dormant: dormantRows.map(describe),
        dormantTruncated: dormant > dormantRows.length,
        activeAfterRemoval: removedRows.map(describe),
        activeAfterRemovalTruncated: afterRemoval > removedRows.length,
      },
    });
  });
}

export const accessReview: ControlTest<AccessReviewParams> = {
  type: 'access-review',
  description: 'Access review: no dormant enabled accounts, no account active after its removal date.',
  paramsSchema: accessReviewParamsSchema,
  needs: (params) => needs({ targets: [targetNeed(params.target, 'target')] }),
  populations: [ACCOUNTS_AT_END, ACCOUNTS_REMOVED, ACCOUNTS_FLAGGED],
  run,
};
