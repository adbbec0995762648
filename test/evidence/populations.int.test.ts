import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import { makeS3EvidenceRecorder, makeS3ObjectStore } from '../../lib/adapters/s3/s3-evidence-recorder.ts';
import type { ControlConfig } from '../../lib/config/schema.ts';
import { EvidenceLog } from '../../lib/controls/outcome.ts';
import type { WrittenPopulation } from '../../lib/controls/population.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { controlTestParamsSchema, populationsOf, runControlTest } from '../../lib/controls/registry.ts';
import { makeMemoryChainHeads } from '../../lib/evidence/chain-head-store.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { parseManifest } from '../../lib/evidence/manifest.ts';
import { makeMemoryPopulationStore, openPopulationSession } from '../../lib/evidence/population-writer.ts';
import { type Cadence, periodFromKey } from '../../lib/shared/period.ts';
import type { ArchiveFile } from '../../lib/verify/archive-file.ts';
import { verifyArchive } from '../../lib/verify/verify-archive.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { runResult } from '../verify/evidence-fixture.ts';
import { fileOf } from '../verify/memory-archive.ts';

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

let env: TestEnvironment;
let url: string;
let postgres: PostgresPort;
let systemIdentifier: string;

beforeAll(async () => {
  env = await startTestEnvironment();
  url = await env.createDatabase('populations');
  postgres = makePostgresPort(
    [{ name: 'app', connection: { env: 'APP_URL' }, statementTimeoutMs: 20_000 }],
    envConnectionResolver({ APP_URL: url }),
  );
  await env.sql(
    url,
    `CREATE TABLE users (username text PRIMARY KEY, enabled boolean NOT NULL, last_login_at timestamptz, created_at timestamptz NOT NULL, removed_at timestamptz);
     CREATE TABLE audit_log ("timestamp" timestamptz NOT NULL, user_id text, action text, resource_id text, success boolean);
     INSERT INTO users VALUES
       ('alice', true, '2026-09-20', '2024-01-01', NULL),
       ('bob', true, '2026-05-01', '2024-01-01', NULL),
       ('carol', false, '2025-01-01', '2024-01-01', '2026-08-02'),
       ('dave', true, '2026-08-01', '2024-01-01', '2026-07-15');
     -- 5,000 admin exports in Q3 (more than one cursor batch), two identical, and noise outside it.
     INSERT INTO audit_log SELECT '2026-07-01'::timestamptz + n * interval '25 minutes', 'u' || (n % 7), 'admin_export', 'r' || n, true
       FROM generate_series(0, 4999) AS n;
     INSERT INTO audit_log VALUES ('2026-08-01 10:00', 'twin', 'admin_export', 'x', true), ('2026-08-01 10:00', 'twin', 'admin_export', 'x', true),
       ('2026-06-30 23:59', 'u1', 'admin_export', 'before', true), ('2026-08-01', 'u1', 'login', NULL, true);`,
  );
  const rows = await env.sql(url, 'SELECT system_identifier::text AS id FROM pg_control_system()');
  systemIdentifier = String(rows.rows[0]?.id);
});
afterAll(async () => env?.stop());

async function runWithPopulations(
  test: Record<string, unknown>,
  options: { cadence?: Cadence; periodKey?: string; cap?: number } = {},
) {
  const params = controlTestParamsSchema.parse(test);
  const cadence = options.cadence ?? 'quarterly';
  const control: ControlConfig = {
    id: 'control-under-test',
    title: 'Control under test',
    criteria: ['CC6.2'],
    cadence,
    owner: 'security',
    test: params,
  };
  const store = makeMemoryPopulationStore();
  const session = openPopulationSession({
    store,
    runPrefix: 'evidence/control-under-test/quarterly/2026-Q3/run-1/',
    declarations: populationsOf(params.type),
    ...(options.cap ? { cap: options.cap } : {}),
  });
  const evidence = new EvidenceLog();
  const outcome = await runControlTest(params, {
    control,
    period: periodFromKey(cadence, options.periodKey ?? '2026-Q3', 'UTC'),
    asOf: new Date('2026-10-01T00:00:00Z'),
    now: new Date('2026-10-01T00:30:00Z'),
    ports: { postgres },
    evidence,
    populations: session.sink,
  });
  const written = session.close();
  const lines = (population: WrittenPopulation | undefined) =>
    (store.objects.get(population?.key ?? '')?.toString('utf8') ?? '')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    outcome,
    written,
    store,
    evidence,
    lines,
    byName: (name: string) => written.find((p) => p.name === name),
  };
}

describe('populations from PostgreSQL', () => {
  it('writes the access review populations with the database identity, query hash and bound parameters', async () => {
    const run = await runWithPopulations({
      type: 'access-review',
      target: 'app',
      columns: { createdAt: 'created_at', removedAt: 'removed_at' },
    });
    expect(run.written.map((p) => p.name)).toEqual([
      'accounts-at-period-end',
      'accounts-flagged',
      'accounts-removed',
    ]);
    expect(run.lines(run.byName('accounts-at-period-end')).map((item) => item.id)).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
    ]);
    // Removed in Q3: carol (2026-08-02) and dave (2026-07-15); flagged: bob (dormant), dave (active after removal).
    expect(run.lines(run.byName('accounts-removed')).map((item) => item.id)).toEqual(['carol', 'dave']);
    expect(run.lines(run.byName('accounts-flagged')).map((item) => item.id)).toEqual(['bob', 'dave']);
    const population = run.byName('accounts-at-period-end');
    const provenance = population?.provenance;
    if (provenance?.source !== 'sql') throw new Error('expected SQL provenance');
    expect(provenance.database).toEqual({
      systemIdentifier,
      serverVersion: expect.stringMatching(/^\d+/),
      databaseName: 'populations',
    });
    expect(provenance.querySha256).toBe(sha256(provenance.query));
    expect(provenance.params).toEqual(['2026-10-01T00:00:00.000Z', expect.any(String)]);
    expect(JSON.stringify(provenance)).not.toMatch(/127\.0\.0\.1|localhost|password|postgres:\/\//);
    expect(population?.rows).toBe(4);
    expect(population?.sha256).toBe(sha256(run.store.objects.get(population?.key ?? '') ?? Buffer.alloc(0)));
    expect(population?.cap).toEqual({ limit: 1_000_000, reached: false });
  });

  it('streams the required-action events through a cursor, with stable ids for identical events', async () => {
    const run = await runWithPopulations({
      type: 'log-completeness',
      target: 'app',
      requiredActions: ['admin_export'],
      maxSilence: 'PT2H',
      retention: 'P1D',
    });
    const population = run.byName('required-action-events');
    expect(population?.rows).toBe(5002);
    const items = run.lines(population);
    expect(new Set(items.map((item) => item.id)).size).toBe(5002);
    expect(items.filter((item) => item.userId === 'twin').map((item) => item.id)).toEqual([
      'admin_export|2026-08-01T10:00:00.000000Z|twin|x|1',
      'admin_export|2026-08-01T10:00:00.000000Z|twin|x|2',
    ]);
    expect(items.some((item) => item.resourceId === 'before')).toBe(false);
    const streamed = run.evidence.entries.find(
      (entry) => entry.kind === 'sql' && entry.label === 'population required-action-events',
    );
    expect(streamed).toMatchObject({ rowsStreamed: 5002, rows: [] });
    // The same data gives the same bytes on another run.
    const again = await runWithPopulations({
      type: 'log-completeness',
      target: 'app',
      requiredActions: ['admin_export'],
      maxSilence: 'PT2H',
      retention: 'P1D',
    });
    expect(again.byName('required-action-events')?.sha256).toBe(population?.sha256);
  });

  it('gives distinct ids to events whose fields join to the same text (NULL and empty, "|" inside a value)', async () => {
    // Each pair differs as events but joins to one "action|at|user|resource" text. Numbering
    // the events within each field tuple gave both members of a pair "...|1", and `sample`
    // refuses a population whose sample holds a repeated id.
    await env.sql(
      url,
      `CREATE TABLE audit_collisions ("timestamp" timestamptz NOT NULL, user_id text, action text, resource_id text, success boolean);
       INSERT INTO audit_collisions SELECT '2026-07-01'::timestamptz + n * interval '30 minutes', 'u' || (n % 3), 'login', 'r', true
         FROM generate_series(0, 4415) AS n;
       INSERT INTO audit_collisions VALUES
         ('2026-08-01 10:00:00.25', NULL, 'login', 'r', true), ('2026-08-01 10:00:00.25', '', 'login', 'r', false),
         ('2026-08-02 10:00:00.25', 'u', 'login', NULL, NULL), ('2026-08-02 10:00:00.25', 'u', 'login', '', true),
         ('2026-08-03 10:00:00.25', 'a|b', 'login', 'c', true), ('2026-08-03 10:00:00.25', 'a', 'login', 'b|c', true),
         ('2026-08-04 10:00:00.25', 'twin', 'login', 'x', true), ('2026-08-04 10:00:00.25', 'twin', 'login', 'x', true),
         ('2026-08-05 10:00:00.25', '', 'login', 'r', true), ('2026-08-05 10:00:00.25', NULL, 'login', 'r', true);
       CREATE INDEX ON audit_collisions ("timestamp");`,
    );
    const test = {
      type: 'log-completeness',
      target: 'app',
      table: 'audit_collisions',
      requiredActions: ['login'],
      maxSilence: 'PT2H',
      retention: 'P1D',
    };
    const run = await runWithPopulations(test);
    const population = run.byName('required-action-events');
    const items = run.lines(population);
    expect(population?.rows).toBe(4416 + 10);
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    const pairs = items.filter((item) => String(item.at).endsWith(':00.250000Z'));
    expect(pairs.map((item) => item.id)).toEqual([
      'login|2026-08-01T10:00:00.250000Z||r|1',
      'login|2026-08-01T10:00:00.250000Z||r|2',
      'login|2026-08-02T10:00:00.250000Z|u||1',
      'login|2026-08-02T10:00:00.250000Z|u||2',
      'login|2026-08-03T10:00:00.250000Z|a|b|c|1',
      'login|2026-08-03T10:00:00.250000Z|a|b|c|2',
      'login|2026-08-04T10:00:00.250000Z|twin|x|1',
      'login|2026-08-04T10:00:00.250000Z|twin|x|2',
      'login|2026-08-05T10:00:00.250000Z||r|1',
      'login|2026-08-05T10:00:00.250000Z||r|2',
    ]);
    // Which event of a pair is "|1" is fixed by the data (outcome, then user, then resource,
    // NULL first), so the same rows give the same file on every run and in any physical order.
    expect(pairs.map((item) => [item.userId, item.resourceId, item.success])).toEqual([
      ['', 'r', false],
      [null, 'r', true],
      ['u', null, null],
      ['u', '', true],
      ['a', 'b|c', true],
      ['a|b', 'c', true],
      ['twin', 'x', true],
      ['twin', 'x', true],
      [null, 'r', true],
      ['', 'r', true],
    ]);
    await env.sql(url, 'CLUSTER audit_collisions USING audit_collisions_timestamp_idx');
    const again = await runWithPopulations(test);
    expect(again.byName('required-action-events')?.sha256).toBe(population?.sha256);
  });

  it('gives distinct ids when a required action itself holds a "|" and two events of different actions join to one text', async () => {
    // "p" at T1 by user "<T2>" on "u|r" and "p|<T1>" at T2 by "u" on "r" both join to "p|<T1>|<T2>|u|r".
    await env.sql(
      url,
      `CREATE TABLE audit_action_pipes ("timestamp" timestamptz NOT NULL, user_id text, action text, resource_id text, success boolean);
       INSERT INTO audit_action_pipes VALUES
         ('2026-08-05 10:00:00+00', '2026-08-06T10:00:00.000000Z', 'p', 'u|r', true),
         ('2026-08-06 10:00:00+00', 'u', 'p|2026-08-05T10:00:00.000000Z', 'r', true);
       CREATE INDEX ON audit_action_pipes ("timestamp");`,
    );
    const run = await runWithPopulations({
      type: 'log-completeness',
      target: 'app',
      table: 'audit_action_pipes',
      requiredActions: ['p', 'p|2026-08-05T10:00:00.000000Z'],
      maxSilence: 'P30D',
      retention: 'P1D',
    });
    const items = run.lines(run.byName('required-action-events'));
    expect(items.map((item) => [item.id, item.action])).toEqual([
      ['p|2026-08-05T10:00:00.000000Z|2026-08-06T10:00:00.000000Z|u|r|1', 'p'],
      ['p|2026-08-05T10:00:00.000000Z|2026-08-06T10:00:00.000000Z|u|r|2', 'p|2026-08-05T10:00:00.000000Z'],
    ]);
  });

  it('cuts a population at the configured cap and records that the cap was reached', async () => {
    const run = await runWithPopulations(
      {
        type: 'log-completeness',
        target: 'app',
        requiredActions: ['admin_export'],
        maxSilence: 'PT2H',
        retention: 'P1D',
      },
      { cap: 100 },
    );
    const population = run.byName('required-action-events');
    expect(population?.rows).toBe(100);
    expect(population?.cap).toEqual({ limit: 100, reached: true });
    expect(run.lines(population)).toHaveLength(100);
  });

  it('refuses a population the test did not declare, or one written twice', async () => {
    const session = openPopulationSession({
      store: makeMemoryPopulationStore(),
      runPrefix: 'evidence/c/monthly/2026-01/r/',
      declarations: [{ name: 'declared', description: 'd' }],
    });
    const provenance = {
      source: 'api',
      service: 's',
      operation: 'o',
      request: null,
      executedAt: '2026-01-01T00:00:00Z',
    } as const;
    await expect(session.sink.write({ name: 'other', description: 'x' }, provenance, [])).rejects.toThrow(
      /not declared/,
    );
    await session.sink.write({ name: 'declared', description: 'd' }, provenance, [{ id: 'a' }]);
    await expect(session.sink.write({ name: 'declared', description: 'd' }, provenance, [])).rejects.toThrow(
      /twice/,
    );
    await expect(
      session.sink.write({ name: 'declared', description: 'd' }, provenance, [{ id: '' }]),
    ).rejects.toThrow();
    session.close();
  });
});

describe('populations in S3 and the signed manifest', () => {
  it('uploads a large population in parts, write-once, and hashes what it streamed', async () => {
    const store = makeS3ObjectStore(env.clients.s3, env.resources.evidenceBucket, {
      partBytes: 5 * 1024 * 1024,
    });
    const line = `${'x'.repeat(1023)}\n`;
    async function* chunks() {
      for (let i = 0; i < 12; i += 1) yield Buffer.from(line.repeat(1024));
    }
    const key = 'evidence/big/monthly/2026-01/run/population-big.jsonl';
    const stored = await store.putStreamOnce(key, chunks(), 'application/x-ndjson', () => {});
    expect(stored.size).toBe(12 * 1024 * 1024);
    const body = await env.clients.s3.send(
      new GetObjectCommand({ Bucket: env.resources.evidenceBucket, Key: key }),
    );
    const bytes = Buffer.from((await body.Body?.transformToByteArray()) ?? []);
    expect(sha256(bytes)).toBe(stored.sha256);
    expect(sha256(bytes)).toBe(sha256(line.repeat(12 * 1024)));
    // beforeCommit can abandon the upload: nothing lands.
    const abandoned = 'evidence/big/monthly/2026-01/run/population-abandoned.jsonl';
    await expect(
      store.putStreamOnce(abandoned, chunks(), 'application/x-ndjson', () => {
        throw new Error('the run was recorded');
      }),
    ).rejects.toThrow('the run was recorded');
    const listed = await env.clients.s3.send(
      new ListObjectsV2Command({ Bucket: env.resources.evidenceBucket, Prefix: abandoned }),
    );
    expect(listed.Contents ?? []).toHaveLength(0);
    // Small populations go through the same write-once PUT as every artifact.
    const small = 'evidence/big/monthly/2026-01/run/population-small.jsonl';
    async function* one(text: string) {
      yield Buffer.from(text);
    }
    // (fauxqs ignores If-None-Match; the 412 path is covered by test/adapters/s3/crash-safe-recording.test.ts.)
    expect(
      (await store.putStreamOnce(small, one('{"id":"a"}\n'), 'application/x-ndjson', () => {})).size,
    ).toBe(11);
  });

  it('lists populations in the manifest and verify checks them: intact passes, a changed line or count is named', async () => {
    const bucket = env.resources.evidenceBucket;
    const recorder = makeS3EvidenceRecorder({
      s3: env.clients.s3,
      bucket,
      signer: makeLocalSigner(),
      chain: makeMemoryChainHeads(),
    });
    const run = runResult({ controlId: 'with-populations', cadence: 'monthly', periodKey: '2026-01' });
    const session = recorder.openPopulations?.(run, [{ name: 'accounts-flagged', description: 'flagged' }]);
    if (!session) throw new Error('no population sink');
    await session.sink.write(
      { name: 'accounts-flagged', description: 'flagged' },
      { source: 'api', service: 'test', operation: 'fixture', request: null, executedAt: run.finishedAt },
      [{ id: 'alice' }, { id: 'bob', note: 'dormant' }],
    );
    const stored = await recorder.record({ ...run, populations: session.close() });
    const files = new Map<string, ArchiveFile>();
    const listed = await env.clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'evidence/' }),
    );
    for (const object of listed.Contents ?? []) {
      const key = object.Key ?? '';
      if (!key.startsWith('evidence/with-populations/') && !key.startsWith('evidence/_public-keys/'))
        continue;
      const body = await env.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      files.set(key, fileOf(key, Buffer.from((await body.Body?.transformToByteArray()) ?? [])));
    }
    const manifest = parseManifest(files.get(stored.manifestKey)?.content ?? Buffer.alloc(0));
    expect(manifest.populations).toEqual([
      expect.objectContaining({
        name: 'accounts-flagged',
        rows: 2,
        cap: { limit: 1_000_000, reached: false },
      }),
    ]);
    const key = manifest.populations?.[0]?.key ?? '';
    expect(manifest.artifacts.map((artifact) => artifact.key)).toContain(key);
    const verify = (archive: Map<string, ArchiveFile>) =>
      verifyArchive(
        { kind: 'folder', source: 'bucket', files: archive, bytes: 0 },
        { range: { from: '2026-01-01', to: '2026-01-31' }, asOf: new Date('2026-02-02T00:00:00Z') },
      );
    const intact = verify(files);
    // No checkpoint is written here; that one finding is not about populations.
    expect(intact.problems.map((p) => p.code)).toEqual(['checkpoint-missing']);
    expect(intact.populationsChecked).toBe(1);

    const changed = new Map(files);
    changed.set(key, fileOf(key, '{"id":"alice"}\n{"id":"mallory","note":"dormant"}\n'));
    expect(verify(changed).problems.filter((p) => p.code !== 'checkpoint-missing')).toEqual([
      expect.objectContaining({
        code: 'population-altered',
        file: key,
        message: expect.stringContaining('accounts-flagged'),
      }),
    ]);
    const dropped = new Map(files);
    dropped.set(key, fileOf(key, '{"id":"alice"}\n'));
    expect(
      verify(dropped)
        .problems.map((p) => p.code)
        .sort(),
    ).toEqual(['checkpoint-missing', 'population-altered']);
    // An intact file whose line count the manifest misstates (a lying manifest) is named too.
    const miscounted = new Map(files);
    miscounted.set(key, { ...(files.get(key) as ArchiveFile), lines: 3 });
    expect(
      verify(miscounted)
        .problems.map((p) => p.code)
        .sort(),
    ).toEqual(['checkpoint-missing', 'population-count-mismatch']);
  });
});
