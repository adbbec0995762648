import { describe, expect, it } from 'vitest';
import { ControlCheckError, EvidenceLog } from '../../lib/controls/outcome.ts';
import type {
  PopulationItem,
  PopulationProvenance,
  PopulationSink,
  WrittenPopulation,
} from '../../lib/controls/population.ts';
import type { PostgresPort, SecretDescription } from '../../lib/controls/ports.ts';
import { secretRotation, secretRotationParamsSchema } from '../../lib/controls/secret-rotation.ts';
import { periodFromKey } from '../../lib/shared/period.ts';
import { runTest } from './control-harness.ts';
import { scriptedPostgres } from './scripted-postgres.ts';

/**
 * What secret-rotation's mutation run showed no unit test observed (docs/mutation-mutate-rot.md):
 * which secrets reach the audit-log query, the source named on every reading, the joined reasons of
 * a secret missing from two sources, the populations it writes (the evidence an auditor samples),
 * and its declared needs. Decisions on the readings themselves are in secret-rotation.unit.test.ts.
 */
const AS_OF = '2026-12-01T00:00:00.000Z';
const daysBefore = (days: number) => new Date(Date.parse(AS_OF) - days * 86_400_000);
const auditColumns = [
  { column_name: 'timestamp', data_type: 'timestamp with time zone' },
  { column_name: 'action', data_type: 'text' },
  { column_name: 'resource_id', data_type: 'text' },
  { column_name: 'success', data_type: 'boolean' },
];
const described = (extra: Partial<SecretDescription> = {}): SecretDescription => ({
  name: 'prod/db',
  arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf',
  rotationEnabled: true,
  lastRotatedDate: daysBefore(10),
  createdDate: daysBefore(400),
  ...extra,
});

function check(
  test: Record<string, unknown>,
  sources: { rotations?: Record<string, unknown>[]; secrets?: Record<string, SecretDescription> } = {},
) {
  const postgres = scriptedPostgres({
    'audit log columns': auditColumns,
    'last rotation per secret': sources.rotations ?? [],
  });
  const run = runTest({
    test: { type: 'secret-rotation', ...test },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf: AS_OF,
    ports: {
      postgres: postgres.port,
      secrets: { describeSecret: async (id: string) => sources.secrets?.[id] },
      accessKeys: { listAccessKeys: async () => undefined },
    },
  });
  return { run, queries: postgres.queries };
}

describe('secret rotation: which secrets the audit log is asked about', () => {
  it('asks only about the secrets that have a resource id', async () => {
    const { run, queries } = check(
      {
        target: 'app',
        secrets: [
          { name: 'Key', secretId: 'prod/db' },
          { name: 'DB password', resourceId: 'db_password' },
        ],
      },
      {
        rotations: [{ resource_id: 'db_password', last_rotated: daysBefore(3), rotations: '1' }],
        secrets: { 'prod/db': described() },
      },
    );
    expect((await run).outcome.verdict).toBe('pass');
    expect(queries.map((query) => [query.label, query.params])).toEqual([
      ['audit log columns', ['public', 'audit_log']],
      ['last rotation per secret', ['secrets_rotation', ['db_password'], AS_OF]],
    ]);
  });

  it('reads no audit log when a target is set but no secret has a resource id', async () => {
    const { run, queries } = check(
      { target: 'app', secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: { 'prod/db': described() } },
    );
    expect((await run).outcome.verdict).toBe('pass');
    expect(queries).toEqual([]);
  });
});

describe('secret rotation: the source named on each reading', () => {
  it.each([
    [
      'deleted',
      undefined,
      { lastRotation: null, missing: 'Secrets Manager secret prod/db no longer exists' },
    ],
    [
      'scheduled for deletion',
      described({ deletedDate: new Date('2026-11-30T00:00:00Z') }),
      {
        lastRotation: null,
        missing: 'Secrets Manager secret prod/db is scheduled for deletion (2026-11-30T00:00:00.000Z)',
      },
    ],
    [
      'rotated after the as-of instant',
      described({ lastRotatedDate: new Date(Date.parse(AS_OF) + 1) }),
      { lastRotation: null, note: `rotated after ${AS_OF}; its state then is unknown` },
    ],
    [
      'with neither a rotation nor a creation date',
      described({ lastRotatedDate: undefined, createdDate: undefined }),
      { lastRotation: null, note: 'never rotated: CreatedDate' },
    ],
  ])('names Secrets Manager on a secret %s', async (_case, description, reading) => {
    const { outcome } = await check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: description ? { 'prod/db': description } : {} },
    ).run;
    expect(outcome.verdict).not.toBe('pass');
    expect(outcome.details).toMatchObject({
      secrets: [{ sources: [{ source: 'secrets-manager', ...reading }] }],
    });
    expect((outcome.details as { secrets: { sources: unknown[] }[] }).secrets[0]?.sources).toEqual([
      { source: 'secrets-manager', ...reading },
    ]);
  });

  it('fails, not errors, a secret with no date at all: no rotation on record', async () => {
    const { outcome } = await check(
      { secrets: [{ name: 'Key', secretId: 'prod/db' }] },
      { secrets: { 'prod/db': described({ lastRotatedDate: undefined, createdDate: undefined }) } },
    ).run;
    expect(outcome).toMatchObject({ verdict: 'fail', reasons: ['Key: no rotation on record'] });
  });

  it('names IAM on a deleted user, and joins the reasons of every missing source', async () => {
    const { outcome } = await check(
      {
        target: 'app',
        secrets: [{ name: 'Key', resourceId: 'key', secretId: 'prod/gone', iamUser: 'gone' }],
      },
      { rotations: [{ resource_id: 'key', last_rotated: daysBefore(3), rotations: '1' }] },
    ).run;
    expect(outcome).toMatchObject({
      verdict: 'error',
      reasons: ['Key: Secrets Manager secret prod/gone no longer exists; IAM user gone no longer exists'],
    });
    expect((outcome.details as { secrets: { sources: unknown[] }[] }).secrets[0]?.sources).toEqual([
      {
        source: 'audit-log',
        lastRotation: daysBefore(3).toISOString(),
        note: '1 successful rotation events',
      },
      {
        source: 'secrets-manager',
        lastRotation: null,
        missing: 'Secrets Manager secret prod/gone no longer exists',
      },
      { source: 'iam-access-keys', lastRotation: null, missing: 'IAM user gone no longer exists' },
    ]);
  });
});

describe('secret rotation parameters', () => {
  it('reports its own rules as custom issues', () => {
    const issues = (secrets: Record<string, unknown>[]) =>
      secretRotationParamsSchema.safeParse({ type: 'secret-rotation', secrets }).error?.issues;
    expect(issues([{ name: 'Key' }])).toMatchObject([{ code: 'custom' }]);
    expect(issues([{ name: 'Key', resourceId: 'db' }])).toMatchObject([{ code: 'custom' }]);
    expect(
      issues([
        { name: 'Key', iamUser: 'a' },
        { name: 'Key', iamUser: 'b' },
      ]),
    ).toMatchObject([{ code: 'custom' }]);
  });
});

describe('secret rotation needs', () => {
  const EMPTY = { targets: [], describedSecrets: [], iamUsers: [], s3Reads: [], awsApis: [] };
  const needsOf = (test: Record<string, unknown>) =>
    secretRotation.needs(secretRotationParamsSchema.parse({ type: 'secret-rotation', ...test }));

  it('declares the audit log target only when one is set, and each secret id and IAM user with its field', () => {
    expect(needsOf({ secrets: [{ name: 'K', iamUser: 'ci' }] })).toEqual({
      ...EMPTY,
      iamUsers: [{ userName: 'ci', field: ['test', 'secrets', 0, 'iamUser'] }],
    });
    expect(
      needsOf({
        target: 'app',
        secrets: [
          { name: 'A', resourceId: 'a' },
          { name: 'B', secretId: 'prod/b' },
        ],
      }),
    ).toEqual({
      ...EMPTY,
      targets: [{ name: 'app', field: ['test', 'target'] }],
      describedSecrets: [{ secretId: 'prod/b', field: ['test', 'secrets', 1, 'secretId'] }],
    });
  });
});

/** A sink that keeps what was written, as the evidence recorder would stream it. */
function memoryPopulations() {
  const written: { name: string; provenance: PopulationProvenance; items: PopulationItem[] }[] = [];
  const sink: PopulationSink = {
    async write(declaration, provenance, items) {
      const collected: PopulationItem[] = [];
      for await (const item of items) collected.push(item);
      const resolved = typeof provenance === 'function' ? provenance() : provenance;
      written.push({ name: declaration.name, provenance: resolved, items: collected });
      const population: WrittenPopulation = {
        name: declaration.name,
        description: declaration.description,
        key: `populations/${declaration.name}.jsonl`,
        contentType: 'application/x-ndjson',
        size: 0,
        rows: collected.length,
        sha256: '',
        cap: { limit: 1_000_000, reached: false },
        provenance: resolved,
      };
      return population;
    },
  };
  return { sink, written };
}

/** A session answering the two audit-log queries and streaming the rotation events. */
function auditLogWithEvents(events: Record<string, unknown>[]) {
  const streamed: { label: string; params: readonly unknown[] }[] = [];
  const port: PostgresPort = {
    async withReadOnlySession(_target, _evidence, work) {
      return work({
        async query<Row extends Record<string, unknown>>(label: string): Promise<Row[]> {
          if (label === 'audit log columns') return auditColumns as unknown as Row[];
          if (label === 'last rotation per secret')
            return [
              { resource_id: 'db_password', last_rotated: daysBefore(3), rotations: '2' },
            ] as unknown as Row[];
          throw new ControlCheckError(`unscripted query "${label}"`);
        },
        async *stream<Row extends Record<string, unknown>>(label: string, _text: string, params = []) {
          streamed.push({ label, params });
          for (const event of events) yield event as Row;
        },
        async identity() {
          return { systemIdentifier: '7', serverVersion: '18.4', databaseName: 'app' };
        },
      });
    },
  };
  return { port, streamed };
}

describe('secret rotation populations', () => {
  it('writes the rotation events of the period and every credential with its status', async () => {
    const period = periodFromKey('monthly', '2026-11', 'UTC');
    const { sink, written } = memoryPopulations();
    const audit = auditLogWithEvents([
      {
        id: 'DB password|2026-11-20T00:00:00.000000Z|1',
        resource_id: 'db_password',
        credential: 'DB password',
        at: '2026-11-20T00:00:00.000000Z',
      },
    ]);
    const params = secretRotationParamsSchema.parse({
      type: 'secret-rotation',
      target: 'app',
      secrets: [
        { name: 'Key', secretId: 'prod/db', maxAge: 'P30D' },
        { name: 'DB password', resourceId: 'db_password' },
      ],
    });
    const outcome = await secretRotation.run(params, {
      control: {
        id: 'rotation',
        title: 'Rotation',
        cadence: 'monthly',
        owner: 'security',
        criteria: ['CC6.1'],
      },
      period,
      asOf: new Date(AS_OF),
      now: new Date(AS_OF),
      ports: {
        postgres: audit.port,
        secrets: { describeSecret: async () => described({ lastRotatedDate: daysBefore(20) }) },
      },
      evidence: new EvidenceLog(),
      populations: sink,
    });
    expect(outcome.verdict).toBe('pass');
    expect(audit.streamed).toEqual([
      {
        label: 'population rotation-events',
        params: [
          'secrets_rotation',
          ['db_password'],
          ['DB password'],
          '2026-11-01T00:00:00.000Z',
          '2026-12-01T00:00:00.000Z',
        ],
      },
    ]);
    expect(written.map((population) => population.name)).toEqual(['rotation-events', 'credentials']);
    const [events, credentials] = written;
    expect(events?.provenance).toMatchObject({ source: 'sql', target: 'app' });
    expect(events?.items).toEqual([
      {
        id: 'DB password|2026-11-20T00:00:00.000000Z|1',
        resourceId: 'db_password',
        credential: 'DB password',
        at: '2026-11-20T00:00:00.000000Z',
      },
    ]);
    expect(credentials?.provenance).toEqual({
      source: 'api',
      service: 'soc2-evidence',
      operation: 'secret-rotation sources (audit log, Secrets Manager DescribeSecret, IAM ListAccessKeys)',
      request: [
        { name: 'Key', resourceId: undefined, secretId: 'prod/db', iamUser: undefined },
        { name: 'DB password', resourceId: 'db_password', secretId: undefined, iamUser: undefined },
      ],
      executedAt: AS_OF,
    });
    expect(credentials?.items).toEqual([
      {
        id: 'DB password',
        credential: 'DB password',
        status: 'ok',
        lastRotation: daysBefore(3).toISOString(),
        source: 'audit-log',
        ageDays: 3,
        maxAge: 'P90D',
      },
      {
        id: 'Key',
        credential: 'Key',
        status: 'warning',
        lastRotation: daysBefore(20).toISOString(),
        source: 'secrets-manager',
        ageDays: 20,
        maxAge: 'P30D',
      },
    ]);
  });
});
