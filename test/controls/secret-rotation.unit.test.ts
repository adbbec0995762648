import { describe, expect, it } from 'vitest';
import type { AccessKeyDescription, SecretDescription } from '../../lib/controls/ports.ts';
import { judgeSecret, secretRotationParamsSchema } from '../../lib/controls/secret-rotation.ts';
import { runTest } from './control-harness.ts';
import { scriptedPostgres } from './scripted-postgres.ts';

/**
 * Secret rotation's decisions on what each source said: the audit log (scripted rows), Secrets
 * Manager and IAM (in-memory ports). The audit-log SQL runs in secret-rotation.test.ts on real PostgreSQL.
 */
const AS_OF = '2026-12-01T00:00:00.000Z';
const daysBefore = (days: number, at = AS_OF) => new Date(Date.parse(at) - days * 86_400_000);

const auditColumns = [
  { column_name: 'timestamp', data_type: 'timestamp with time zone' },
  { column_name: 'action', data_type: 'text' },
  { column_name: 'resource_id', data_type: 'text' },
  { column_name: 'success', data_type: 'boolean' },
];

interface Sources {
  readonly columns?: readonly Record<string, unknown>[];
  readonly rotations?: readonly Record<string, unknown>[];
  readonly secrets?: Record<string, SecretDescription | undefined>;
  readonly keys?: Record<string, AccessKeyDescription[] | undefined>;
  readonly withoutSecretsPort?: boolean;
  readonly withoutAccessKeysPort?: boolean;
}

function check(test: Record<string, unknown>, sources: Sources = {}) {
  const postgres = scriptedPostgres({
    'audit log columns': sources.columns ?? auditColumns,
    'last rotation per secret': sources.rotations ?? [],
  });
  const run = runTest({
    test: { type: 'secret-rotation', ...test },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf: AS_OF,
    ports: {
      postgres: postgres.port,
      ...(sources.withoutSecretsPort
        ? {}
        : { secrets: { describeSecret: async (id: string) => sources.secrets?.[id] } }),
      ...(sources.withoutAccessKeysPort
        ? {}
        : { accessKeys: { listAccessKeys: async (user: string) => sources.keys?.[user] } }),
    },
  });
  return { run, queries: postgres.queries };
}

const described = (extra: Partial<SecretDescription> = {}): SecretDescription => ({
  name: 'prod/db',
  arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf',
  rotationEnabled: true,
  lastRotatedDate: daysBefore(10),
  createdDate: daysBefore(400),
  ...extra,
});

describe('secret rotation verdicts', () => {
  it('passes a secret rotated within its maximum age, with figures and the audit query parameters', async () => {
    const { run, queries } = check(
      { target: 'app', secrets: [{ name: 'DB password', resourceId: 'db_password' }] },
      { rotations: [{ resource_id: 'db_password', last_rotated: daysBefore(30), rotations: '4' }] },
    );
    const { outcome } = await run;
    expect(outcome).toMatchObject({ verdict: 'pass', reasons: [], warnings: [] });
    expect(outcome.figures).toEqual({
      secrets: 1,
      overdue: 0,
      noRecord: 0,
      missing: 0,
      dueSoon: 0,
      oldestDays: 30,
    });
    expect(outcome.details).toMatchObject({
      asOf: AS_OF,
      policy: { maxAge: 'P90D', warnBefore: 'P14D' },
      secrets: [
        {
          name: 'DB password',
          status: 'ok',
          source: 'audit-log',
          ageDays: 30,
          sources: [{ source: 'audit-log', note: '4 successful rotation events' }],
        },
      ],
    });
    expect(queries.map((query) => [query.target, query.label, query.params])).toEqual([
      ['app', 'audit log columns', ['public', 'audit_log']],
      ['app', 'last rotation per secret', ['secrets_rotation', ['db_password'], AS_OF]],
    ]);
  });

  it('fails an overdue secret naming its age, date, source and limit; warns inside the warning window', async () => {
    const { outcome } = await check(
      {
        target: 'app',
        maxAge: 'P60D',
        warnBefore: 'P10D',
        secrets: [
          { name: 'Old', resourceId: 'old' },
          { name: 'Soon', resourceId: 'soon' },
          { name: 'Fresh', resourceId: 'fresh' },
          { name: 'Own limit', resourceId: 'own', maxAge: 'P30D' },
        ],
      },
      {
        rotations: [
          { resource_id: 'old', last_rotated: daysBefore(61), rotations: '1' },
          { resource_id: 'soon', last_rotated: daysBefore(55), rotations: '1' },
          { resource_id: 'fresh', last_rotated: daysBefore(50), rotations: '1' },
          { resource_id: 'own', last_rotated: daysBefore(31), rotations: '1' },
        ],
      },
    ).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      `Old was last rotated 61 days ago (${daysBefore(61).toISOString()}, audit-log), over the P60D maximum`,
      `Own limit was last rotated 31 days ago (${daysBefore(31).toISOString()}, audit-log), over the P30D maximum`,
    ]);
    expect(outcome.warnings).toEqual([
      `Soon is 55 days old; rotate it before ${daysBefore(-5).toISOString()}`,
    ]);
    expect(outcome.figures).toMatchObject({ secrets: 4, overdue: 2, dueSoon: 1, oldestDays: 61 });
  });

  it('fails a secret with no successful rotation on record, and reads no audit log without resource ids', async () => {
    const audit = check({ target: 'app', secrets: [{ name: 'DB password', resourceId: 'db_password' }] });
    const { outcome } = await audit.run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual(['DB password: no rotation on record']);
    expect(outcome.figures).toMatchObject({ noRecord: 1, oldestDays: null });
    expect(outcome.details).toMatchObject({
      secrets: [{ sources: [{ note: 'no successful rotation events for resource db_password' }] }],
    });

    const secretsOnly = check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: { 'prod/db': described() } },
    );
    expect((await secretsOnly.run).outcome.verdict).toBe('pass');
    expect(secretsOnly.queries).toEqual([]);
  });

  it.each([
    [[], 'table public.audit_log does not exist or is not readable'],
    [
      auditColumns.filter((c) => c.column_name !== 'success'),
      'column public.audit_log.success does not exist',
    ],
    [auditColumns.filter((c) => c.column_name !== 'action'), 'column public.audit_log.action does not exist'],
    [
      auditColumns.filter((c) => c.column_name !== 'resource_id'),
      'column public.audit_log.resource_id does not exist',
    ],
    [
      auditColumns.filter((c) => c.column_name !== 'timestamp'),
      'column public.audit_log.timestamp does not exist',
    ],
    [
      auditColumns.map((c) => (c.column_name === 'timestamp' ? { ...c, data_type: 'date' } : c)),
      'column public.audit_log.timestamp is date, expected a timestamp',
    ],
    [
      auditColumns.map((c) => (c.column_name === 'timestamp' ? { ...c, data_type: 'text timestamp' } : c)),
      'column public.audit_log.timestamp is text timestamp, expected a timestamp',
    ],
    [
      auditColumns.map((c) => (c.column_name === 'success' ? { ...c, data_type: 'text' } : c)),
      'column public.audit_log.success is text, expected boolean',
    ],
  ])('errors on a wrong audit log shape (%#)', async (columns, reason) => {
    const { outcome } = await check(
      { target: 'app', secrets: [{ name: 'DB password', resourceId: 'db_password' }] },
      { columns },
    ).run;
    expect(outcome).toMatchObject({ verdict: 'error', reasons: [reason] });
  });

  it('accepts a naive timestamp column', async () => {
    const { outcome } = await check(
      { target: 'app', secrets: [{ name: 'DB password', resourceId: 'db_password' }] },
      {
        columns: auditColumns.map((c) =>
          c.column_name === 'timestamp' ? { ...c, data_type: 'timestamp without time zone' } : c,
        ),
        rotations: [{ resource_id: 'db_password', last_rotated: daysBefore(1), rotations: '1' }],
      },
    ).run;
    expect(outcome.verdict).toBe('pass');
  });

  it('reads the configured audit log', async () => {
    const { run, queries } = check(
      {
        target: 'app',
        auditLog: {
          schema: 'ops',
          table: 'events',
          columns: { timestamp: 'at', action: 'kind', resourceId: 'thing', success: 'ok' },
          action: 'rotate',
        },
        secrets: [{ name: 'DB password', resourceId: 'db_password' }],
      },
      {
        columns: [
          { column_name: 'at', data_type: 'timestamp with time zone' },
          { column_name: 'kind', data_type: 'text' },
          { column_name: 'thing', data_type: 'text' },
          { column_name: 'ok', data_type: 'boolean' },
        ],
        rotations: [{ resource_id: 'db_password', last_rotated: daysBefore(1), rotations: '1' }],
      },
    );
    expect((await run).outcome.verdict).toBe('pass');
    expect(queries.map((query) => query.params)).toEqual([
      ['ops', 'events'],
      ['rotate', ['db_password'], AS_OF],
    ]);
  });

  it('lets an old Secrets Manager rotation override a fresh audit-log row, and warns when rotation is off', async () => {
    const { outcome } = await check(
      { target: 'app', secrets: [{ name: 'DB password', resourceId: 'db_password', secretId: 'prod/db' }] },
      {
        rotations: [{ resource_id: 'db_password', last_rotated: daysBefore(1), rotations: '9' }],
        secrets: { 'prod/db': described({ lastRotatedDate: daysBefore(120), rotationEnabled: false }) },
      },
    ).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      `DB password was last rotated 120 days ago (${daysBefore(120).toISOString()}, secrets-manager), over the P90D maximum`,
    ]);
    expect(outcome.warnings).toEqual(['DB password: automatic rotation is disabled in Secrets Manager']);
    expect(outcome.details).toMatchObject({
      secrets: [
        {
          sources: [
            { source: 'audit-log' },
            { source: 'secrets-manager', note: 'LastRotatedDate; automatic rotation is disabled' },
          ],
        },
      ],
    });
  });

  it('dates a never-rotated secret by its creation, and ignores a rotation after the as-of instant', async () => {
    const never = await check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: { 'prod/db': described({ lastRotatedDate: undefined, createdDate: daysBefore(100) }) } },
    ).run;
    expect(never.outcome.reasons).toEqual([
      `Key was last rotated 100 days ago (${daysBefore(100).toISOString()}, secrets-manager), over the P90D maximum`,
    ]);
    expect(never.outcome.details).toMatchObject({
      secrets: [{ sources: [{ note: 'never rotated: CreatedDate' }] }],
    });

    const later = await check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: { 'prod/db': described({ lastRotatedDate: new Date(Date.parse(AS_OF) + 1) }) } },
    ).run;
    expect(later.outcome.reasons).toEqual(['Key: no rotation on record']);
    expect(later.outcome.details).toMatchObject({
      secrets: [
        { sources: [{ lastRotation: null, note: `rotated after ${AS_OF}; its state then is unknown` }] },
      ],
    });

    const atTheInstant = await check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: { 'prod/db': described({ lastRotatedDate: new Date(AS_OF) }) } },
    ).run;
    expect(atTheInstant.outcome).toMatchObject({ verdict: 'pass', figures: { oldestDays: 0 } });
  });

  it('errors on a deleted or scheduled-for-deletion secret, naming it', async () => {
    const gone = await check({ secrets: [{ name: 'Key', secretId: 'prod/gone' }] }).run;
    expect(gone.outcome).toMatchObject({
      verdict: 'error',
      reasons: ['Key: Secrets Manager secret prod/gone no longer exists'],
      figures: { missing: 1 },
    });
    const deleting = await check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: { 'prod/db': described({ deletedDate: new Date('2026-11-30T00:00:00Z') }) } },
    ).run;
    expect(deleting.outcome.reasons).toEqual([
      'Key: Secrets Manager secret prod/db is scheduled for deletion (2026-11-30T00:00:00.000Z)',
    ]);
  });

  it('judges the oldest active IAM key, ignoring inactive keys and keys created after the as-of instant', async () => {
    const keys: AccessKeyDescription[] = [
      { accessKeyId: 'AKIAINACTIVE', status: 'Inactive', createDate: daysBefore(900) },
      { accessKeyId: 'AKIANEW', status: 'Active', createDate: daysBefore(5) },
      { accessKeyId: 'AKIAOLD', status: 'Active', createDate: daysBefore(95) },
      { accessKeyId: 'AKIAFUTURE', status: 'Active', createDate: new Date(Date.parse(AS_OF) + 1000) },
    ];
    const { outcome } = await check({ secrets: [{ name: 'CI key', iamUser: 'ci' }] }, { keys: { ci: keys } })
      .run;
    expect(outcome.reasons).toEqual([
      `CI key was last rotated 95 days ago (${daysBefore(95).toISOString()}, iam-access-keys), over the P90D maximum`,
    ]);
    expect(outcome.details).toMatchObject({
      secrets: [{ sources: [{ note: 'oldest active key AKIAOLD of 2 active, 2 other' }] }],
    });
  });

  it('fails a user with no active key, and errors on a deleted IAM user', async () => {
    const none = await check(
      { secrets: [{ name: 'CI key', iamUser: 'ci' }] },
      { keys: { ci: [{ accessKeyId: 'AKIAX', status: 'Inactive', createDate: daysBefore(1) }] } },
    ).run;
    expect(none.outcome.reasons).toEqual(['CI key: no rotation on record']);
    expect(none.outcome.details).toMatchObject({
      secrets: [{ sources: [{ note: 'user ci has no active access keys' }] }],
    });
    const gone = await check({ secrets: [{ name: 'CI key', iamUser: 'gone' }] }).run;
    expect(gone.outcome).toMatchObject({
      verdict: 'error',
      reasons: ['CI key: IAM user gone no longer exists'],
    });
  });

  it('errors, never passes, when the Secrets Manager or IAM port is not wired in', async () => {
    const noSecrets = await check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { withoutSecretsPort: true },
    ).run;
    expect(noSecrets.outcome.reasons).toEqual([
      'this deployment provides no Secrets Manager reader (secrets port), so the control cannot be checked',
    ]);
    const noKeys = await check(
      { secrets: [{ name: 'CI key', iamUser: 'ci' }] },
      { withoutAccessKeysPort: true },
    ).run;
    expect(noKeys.outcome.reasons).toEqual([
      'this deployment provides no IAM access key reader (accessKeys port), so the control cannot be checked',
    ]);
  });

  it('puts errors before failures, and reports the oldest age across secrets', async () => {
    const { outcome } = await check(
      {
        secrets: [
          { name: 'Overdue', secretId: 'old' },
          { name: 'Gone', secretId: 'gone' },
          { name: 'Fine', secretId: 'fine' },
        ],
      },
      {
        secrets: {
          old: described({ lastRotatedDate: daysBefore(91) }),
          fine: described({ lastRotatedDate: daysBefore(2) }),
        },
      },
    ).run;
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons).toEqual([
      'Gone: Secrets Manager secret gone no longer exists',
      `Overdue was last rotated 91 days ago (${daysBefore(91).toISOString()}, secrets-manager), over the P90D maximum`,
    ]);
    expect(outcome.figures).toMatchObject({ secrets: 3, overdue: 1, missing: 1, oldestDays: 91 });
  });
});

describe('judgeSecret at its limits', () => {
  const reading = (days: number) => [
    { source: 'audit-log' as const, lastRotation: daysBefore(days).toISOString() },
  ];
  const warn = 14 * 86_400_000;
  it('is ok one millisecond before the warning window and overdue one millisecond after the maximum', () => {
    const at = new Date(AS_OF);
    const ms = (offset: number) => [
      { source: 'audit-log' as const, lastRotation: new Date(at.getTime() - offset).toISOString() },
    ];
    const max = 90 * 86_400_000;
    expect(judgeSecret({ name: 's', maxAge: 'P90D' }, ms(max - warn), at, warn).status).toBe('ok');
    expect(judgeSecret({ name: 's', maxAge: 'P90D' }, ms(max - warn + 1), at, warn).status).toBe('warning');
    expect(judgeSecret({ name: 's', maxAge: 'P90D' }, ms(max), at, warn).status).toBe('warning');
    expect(judgeSecret({ name: 's', maxAge: 'P90D' }, ms(max + 1), at, warn).status).toBe('overdue');
    expect(judgeSecret({ name: 's', maxAge: 'P90D' }, reading(10), at, warn)).toMatchObject({
      dueBy: daysBefore(-80).toISOString(),
      ageDays: 10,
    });
  });
});

describe('secret rotation parameters', () => {
  const parse = (extra: Record<string, unknown>) =>
    secretRotationParamsSchema.safeParse({ type: 'secret-rotation', ...extra });

  it('documents its defaults', () => {
    expect(parse({ secrets: [{ name: 'Key', secretId: 'prod/db' }] }).data).toEqual({
      type: 'secret-rotation',
      auditLog: {
        schema: 'public',
        table: 'audit_log',
        columns: { timestamp: 'timestamp', action: 'action', resourceId: 'resource_id', success: 'success' },
        action: 'secrets_rotation',
      },
      maxAge: 'P90D',
      warnBefore: 'P14D',
      secrets: [{ name: 'Key', secretId: 'prod/db' }],
    });
    expect(
      parse({ auditLog: { schema: 'ops' }, secrets: [{ name: 'Key', secretId: 'prod/db' }] }).data?.auditLog,
    ).toEqual({
      schema: 'ops',
      table: 'audit_log',
      columns: { timestamp: 'timestamp', action: 'action', resourceId: 'resource_id', success: 'success' },
      action: 'secrets_rotation',
    });
  });

  it('rejects a secret with no source, a resource id without a target, duplicate names and no secrets', () => {
    expect(parse({ secrets: [{ name: 'Key' }] }).error?.issues).toMatchObject([
      { path: ['secrets', 0], message: 'expected at least one of resourceId, secretId, iamUser' },
    ]);
    expect(parse({ secrets: [{ name: 'Key', resourceId: 'db' }] }).error?.issues).toMatchObject([
      { path: ['target'], message: "secrets[0].resourceId needs the audit log's target" },
    ]);
    expect(
      parse({
        secrets: [
          { name: 'Key', iamUser: 'a' },
          { name: 'Key', iamUser: 'b' },
        ],
      }).error?.issues,
    ).toMatchObject([{ path: ['secrets', 1, 'name'], message: 'duplicate name "Key"' }]);
    expect(parse({ secrets: [] }).error?.issues[0]?.message).toBe('expected at least one secret');
    expect(
      parse({
        secrets: [
          { name: 'A', iamUser: 'a' },
          { name: 'B', iamUser: 'b' },
        ],
      }).success,
    ).toBe(true);
  });

  it('accepts IAM user names of IAM characters only', () => {
    expect(parse({ secrets: [{ name: 'K', iamUser: 'ci+deploy=x,y.z@example-1_2' }] }).success).toBe(true);
    for (const user of ['', 'x'.repeat(65), 'ci user', 'a/b', 'a*']) {
      const result = parse({ secrets: [{ name: 'K', iamUser: user }] });
      expect(result.success).toBe(false);
    }
    expect(parse({ secrets: [{ name: 'K', iamUser: 'x'.repeat(64) }] }).success).toBe(true);
    expect(parse({ secrets: [{ name: 'K', iamUser: 'a b' }] }).error?.issues[0]?.message).toBe(
      'expected an IAM user name',
    );
  });
});
