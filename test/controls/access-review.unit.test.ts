import { describe, expect, it } from 'vitest';
import { accessReviewParamsSchema } from '../../lib/controls/access-review.ts';
import { AS_OF, CUTOFF, logColumns, userColumns } from './access-review-fixture.ts';
import { runTest } from './control-harness.ts';
import { type ScriptedAnswer, scriptedPostgres } from './scripted-postgres.ts';

/**
 * Access review's decisions on what PostgreSQL answered: column checks, the dormancy cutoff passed to
 * the query, and the reasons, warnings and evidence. Dormancy itself is judged in SQL, run on real
 * PostgreSQL in access-review.test.ts.
 */

const counts = (extra: Record<string, string> = {}) => ({
  total: '6',
  enabled: '5',
  dormant: '0',
  active_after_removal: '0',
  unnamed: '0',
  ...extra,
});

const account = (name: string | null, extra: Record<string, unknown> = {}) => ({
  account: name,
  enabled: true,
  last_login: null,
  created_at: null,
  removed_at: null,
  dormant: false,
  active_after_removal: false,
  ...extra,
});

function check(script: Record<string, ScriptedAnswer>, test: Record<string, unknown> = {}) {
  const postgres = scriptedPostgres({
    'columns of public.users': userColumns,
    'columns of public.audit_log': logColumns,
    'account counts': [counts()],
    ...script,
  });
  const run = runTest({
    test: { type: 'access-review', target: 'app', ...test },
    cadence: 'quarterly',
    periodKey: '2026-Q3',
    asOf: AS_OF,
    ports: { postgres: postgres.port },
  });
  return { run, queries: postgres.queries };
}

const withDates = { columns: { createdAt: 'created_at', removedAt: 'removed_at' } };

describe('access review verdicts', () => {
  it('passes when no account is dormant or active after removal, with figures and the query bounds', async () => {
    const { run, queries } = check({}, withDates);
    const { outcome } = await run;
    expect(outcome).toMatchObject({ verdict: 'pass', reasons: [], warnings: [] });
    expect(outcome.figures).toEqual({ accounts: 6, enabled: 5, dormant: 0, activeAfterRemoval: 0 });
    expect(outcome.details).toEqual({
      asOf: AS_OF,
      dormancyCutoff: CUTOFF,
      lastLoginSource: 'public.users.last_login_at',
      unnamedAccounts: 0,
      dormant: [],
      dormantTruncated: false,
      activeAfterRemoval: [],
      activeAfterRemovalTruncated: false,
    });
    expect(queries.map((query) => [query.label, query.params])).toEqual([
      ['columns of public.users', ['public', 'users']],
      ['account counts', [AS_OF, CUTOFF]],
    ]);
  });

  it('warns when removal and creation dates are not configured', async () => {
    const { outcome } = await check({}).run;
    expect(outcome.warnings).toEqual([
      'no removedAt column configured: accounts active after removal were not checked',
      'no createdAt column configured: accounts that never logged in count as dormant however new',
    ]);
  });

  it('fails an empty accounts table', async () => {
    const { outcome } = await check({ 'account counts': [counts({ total: '0', enabled: '0' })] }, withDates)
      .run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'public.users holds no accounts: nothing to review, check the configured table',
    ]);
  });

  it('fails dormant accounts, naming five with their last login, and lists them in the evidence', async () => {
    const rows = [
      account('alice', { last_login: new Date('2026-05-01T00:30:00Z'), dormant: true }),
      account('bob', { dormant: true }),
      account('carol', { dormant: true, created_at: new Date('2020-01-01T00:00:00Z') }),
      account('dave', { dormant: true }),
      account('erin', { dormant: true }),
      account('frank', { dormant: true }),
    ];
    const { run, queries } = check(
      { 'account counts': [counts({ dormant: '7' })], 'accounts: dormant': rows },
      { ...withDates, maxListed: 6 },
    );
    const { outcome } = await run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      '7 enabled accounts have had no successful login for P90D: alice (last login 153 days ago), bob (never logged in), carol (never logged in), dave (never logged in), erin (never logged in), ...',
    ]);
    expect(outcome.details).toMatchObject({
      dormant: [
        {
          account: 'alice',
          enabled: true,
          lastLogin: '2026-05-01T00:30:00.000Z',
          createdAt: null,
          removedAt: null,
        },
        { account: 'bob' },
        { account: 'carol', createdAt: '2020-01-01T00:00:00.000Z' },
        { account: 'dave' },
        { account: 'erin' },
        { account: 'frank' },
      ],
      dormantTruncated: true,
    });
    expect(queries.find((query) => query.label === 'accounts: dormant')?.params).toEqual([AS_OF, CUTOFF, 6]);
    expect(queries.map((query) => query.label)).not.toContain('accounts: active after removal');
  });

  it('names five or fewer dormant accounts without an ellipsis', async () => {
    const { outcome } = await check(
      {
        'account counts': [counts({ dormant: '1' })],
        'accounts: dormant': [account('bob', { dormant: true })],
      },
      withDates,
    ).run;
    expect(outcome.reasons).toEqual([
      '1 enabled accounts have had no successful login for P90D: bob (never logged in)',
    ]);
    expect(outcome.details).toMatchObject({ dormantTruncated: false });
  });

  it('fails accounts without a name, and names dormant ones without a name, a long name or a login after the check', async () => {
    const long = 'x'.repeat(51);
    const fifty = 'y'.repeat(50);
    const { outcome } = await check(
      {
        'account counts': [counts({ dormant: '5', unnamed: '2' })],
        'accounts: dormant': [
          account(null, { dormant: true }),
          account(long, { dormant: true }),
          account(fifty, { dormant: true }),
          account('zed', { dormant: true, last_login: new Date('2030-01-01T00:00:00Z') }),
          account('amy', { dormant: true, last_login: new Date(AS_OF) }),
        ],
      },
      withDates,
    ).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      '2 accounts in public.users have no username: they cannot be reviewed',
      `5 enabled accounts have had no successful login for P90D: (no name) (never logged in), ${'x'.repeat(50)}... (never logged in), ${fifty} (never logged in), zed (last login 2030-01-01T00:00:00.000Z is after the check), amy (last login 0 days ago)`,
    ]);
    expect(outcome.details).toMatchObject({ unnamedAccounts: 2 });
  });

  it('names five accounts active after removal without an ellipsis, and says when the list is cut', async () => {
    const rows = Array.from({ length: 5 }, (_, i) =>
      account(`u${i}`, { removed_at: new Date(`2026-09-0${i + 1}T00:00:00Z`), active_after_removal: true }),
    );
    const five = await check(
      { 'account counts': [counts({ active_after_removal: '5' })], 'accounts: active after removal': rows },
      withDates,
    ).run;
    expect(five.outcome.reasons).toEqual([
      '5 accounts are still active after their recorded removal date: u0 (removed 2026-09-01), u1 (removed 2026-09-02), u2 (removed 2026-09-03), u3 (removed 2026-09-04), u4 (removed 2026-09-05)',
    ]);
    const cut = await check(
      {
        'account counts': [counts({ active_after_removal: '9' })],
        'accounts: active after removal': rows.slice(0, 2),
      },
      withDates,
    ).run;
    expect(cut.outcome.reasons[0]).toMatch(/^9 accounts .*u1 \(removed 2026-09-02\), \.\.\.$/);
    expect(cut.outcome.details).toMatchObject({ activeAfterRemovalTruncated: true });
    const fiveDormant = await check(
      {
        'account counts': [counts({ dormant: '5' })],
        'accounts: dormant': ['a', 'b', 'c', 'd', 'e'].map((name) => account(name, { dormant: true })),
      },
      withDates,
    ).run;
    expect(fiveDormant.outcome.reasons[0]).toMatch(/e \(never logged in\)$/);
  });

  it('fails accounts still active after their removal date, naming the date', async () => {
    const rows = Array.from({ length: 6 }, (_, i) =>
      account(`u${i}`, { removed_at: new Date(`2026-09-0${i + 1}T00:00:00Z`), active_after_removal: true }),
    );
    const { outcome } = await check(
      { 'account counts': [counts({ active_after_removal: '6' })], 'accounts: active after removal': rows },
      withDates,
    ).run;
    expect(outcome.reasons).toEqual([
      '6 accounts are still active after their recorded removal date: u0 (removed 2026-09-01), u1 (removed 2026-09-02), u2 (removed 2026-09-03), u3 (removed 2026-09-04), u4 (removed 2026-09-05), ...',
    ]);
    expect(outcome.details).toMatchObject({
      activeAfterRemoval: [{ account: 'u0', removedAt: '2026-09-01T00:00:00.000Z' }, {}, {}, {}, {}, {}],
      activeAfterRemovalTruncated: false,
    });
    expect(outcome.figures).toMatchObject({ activeAfterRemoval: 6 });
  });

  it('reads last logins from the audit log when configured, checking its columns, without the createdAt warning', async () => {
    const { run, queries } = check(
      {},
      { loginEvents: { action: 'sign_in' }, columns: { removedAt: 'removed_at' } },
    );
    const { outcome } = await run;
    expect(outcome).toMatchObject({ verdict: 'pass', warnings: [] });
    expect(outcome.details).toMatchObject({ lastLoginSource: 'public.audit_log (sign_in, successful)' });
    expect(queries.map((query) => [query.label, query.params])).toEqual([
      ['columns of public.users', ['public', 'users']],
      ['columns of public.audit_log', ['public', 'audit_log']],
      ['account counts', [AS_OF, CUTOFF, 'sign_in']],
    ]);
  });

  it('does not require a last-login column when logins come from the audit log', async () => {
    const { outcome } = await check(
      { 'columns of public.users': userColumns.filter((c) => c.column_name !== 'last_login_at') },
      { loginEvents: {} },
    ).run;
    expect(outcome.verdict).toBe('pass');
  });

  it.each([
    [{ 'columns of public.users': [] }, {}, 'table public.users does not exist or is not readable'],
    [
      { 'columns of public.users': userColumns.filter((c) => c.column_name !== 'username') },
      {},
      'column public.users.username does not exist',
    ],
    [
      {
        'columns of public.users': userColumns.map((c) =>
          c.column_name === 'enabled' ? { ...c, data_type: 'text' } : c,
        ),
      },
      {},
      'column public.users.enabled is text, expected a boolean',
    ],
    [
      {
        'columns of public.users': userColumns.map((c) =>
          c.column_name === 'last_login_at' ? { ...c, data_type: 'text' } : c,
        ),
      },
      {},
      'column public.users.last_login_at is text, expected a timestamp',
    ],
    [
      {
        'columns of public.users': userColumns.map((c) =>
          c.column_name === 'created_at' ? { ...c, data_type: 'bigint' } : c,
        ),
      },
      withDates,
      'column public.users.created_at is bigint, expected a timestamp',
    ],
    [
      { 'columns of public.users': userColumns.filter((c) => c.column_name !== 'removed_at') },
      withDates,
      'column public.users.removed_at does not exist',
    ],
    [
      { 'columns of public.audit_log': [] },
      { loginEvents: {} },
      'table public.audit_log does not exist or is not readable',
    ],
    [
      {
        'columns of public.audit_log': logColumns.map((c) =>
          c.column_name === 'action' ? { ...c, data_type: 'integer' } : c,
        ),
      },
      { loginEvents: {} },
      'column public.audit_log.action is integer, expected text',
    ],
    [
      {
        'columns of public.audit_log': logColumns.map((c) =>
          c.column_name === 'success' ? { ...c, data_type: 'text' } : c,
        ),
      },
      { loginEvents: {} },
      'column public.audit_log.success is text, expected a boolean',
    ],
    [
      {
        'columns of public.audit_log': logColumns.map((c) =>
          c.column_name === 'timestamp' ? { ...c, data_type: 'text' } : c,
        ),
      },
      { loginEvents: {} },
      'column public.audit_log.timestamp is text, expected a timestamp',
    ],
    [
      { 'columns of public.audit_log': logColumns.filter((c) => c.column_name !== 'user_id') },
      { loginEvents: {} },
      'column public.audit_log.user_id does not exist',
    ],
    [
      {
        'columns of public.users': userColumns.map((c) =>
          c.column_name === 'enabled' ? { ...c, data_type: 'timestamp with time zone' } : c,
        ),
      },
      {},
      'column public.users.enabled is timestamp with time zone, expected a boolean',
    ],
    [
      {
        'columns of public.users': userColumns.map((c) =>
          c.column_name === 'last_login_at' ? { ...c, data_type: 'boolean' } : c,
        ),
      },
      {},
      'column public.users.last_login_at is boolean, expected a timestamp',
    ],
    [{ 'account counts': [] }, {}, 'the account count query returned no row'],
  ])('errors on a wrong table shape or an empty answer (%#)', async (script, test, reason) => {
    const { outcome } = await check(script, test).run;
    expect(outcome).toMatchObject({ verdict: 'error', reasons: [reason] });
  });

  it.each([['text'], ['character varying'], ['character']])('accepts a %s action column', async (type) => {
    const { outcome } = await check(
      {
        'columns of public.audit_log': logColumns.map((c) =>
          c.column_name === 'action' ? { ...c, data_type: type } : c,
        ),
      },
      { loginEvents: {} },
    ).run;
    expect(outcome.verdict).toBe('pass');
  });
});

describe('access review parameters', () => {
  it('documents its defaults', () => {
    expect(accessReviewParamsSchema.parse({ type: 'access-review', target: 'app' })).toEqual({
      type: 'access-review',
      target: 'app',
      schema: 'public',
      table: 'users',
      columns: { account: 'username', enabled: 'enabled', lastLogin: 'last_login_at' },
      dormantAfter: 'P90D',
      maxListed: 200,
    });
    expect(
      accessReviewParamsSchema.parse({ type: 'access-review', target: 'app', loginEvents: {} }).loginEvents,
    ).toEqual({
      schema: 'public',
      table: 'audit_log',
      columns: { timestamp: 'timestamp', userId: 'user_id', action: 'action', success: 'success' },
      action: 'login',
    });
    expect(
      accessReviewParamsSchema.parse({ type: 'access-review', target: 'app', columns: { account: 'email' } })
        .columns,
    ).toEqual({ account: 'email', enabled: 'enabled', lastLogin: 'last_login_at' });
  });
});
