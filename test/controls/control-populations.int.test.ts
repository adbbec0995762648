import { createHash } from 'node:crypto';
import {
  BackupClient,
  ListRestoreJobsCommand,
  RestoreJobStatus,
  type RestoreJobsListMember,
  RestoreValidationStatus,
} from '@aws-sdk/client-backup';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeBackupRestoreTests } from '../../lib/adapters/backup/backup-restore-port.ts';
import { makeIamAccessKeys } from '../../lib/adapters/iam/iam-access-keys.ts';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import { makeS3ObjectStore } from '../../lib/adapters/s3/s3-object-store.ts';
import { makeSecretsManagerInventory } from '../../lib/adapters/secrets-manager/secrets-manager-inventory.ts';
import type { ControlPorts } from '../../lib/controls/ports.ts';
import { periodContaining } from '../../lib/shared/period.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { attackSealedPopulation, expectSealedAndSampled, runRecorded } from './population-run.ts';

/**
 * The populations of secret-rotation, vulnerability-scan and restore-test-history, driven end to
 * end: the control test runs on real data (PostgreSQL for the audit log, the S3 emulator for scan
 * reports; Secrets Manager, IAM and AWS Backup mocked, as no emulator exists), writes its
 * populations through the run's sink, the run is signed, and then: the items are the source's
 * rows (ids, count checked against an independent query or the source list), the provenance is
 * the query or request that produced them, the manifest lists them and `verify` passes, a sample is
 * confirmed by `sample --check`, and a sealed population with an item left out, repeated, or added
 * from outside the period is named by both.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const ATTACKED = {
  omitted: { verify: ['population-altered'], check: ['population-altered'] },
  duplicated: { verify: ['population-altered'], check: ['population-altered'] },
  outsider: { verify: ['population-altered'], check: ['population-altered'] },
};

let env: TestEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment();
});
afterAll(async () => env?.stop());

describe('secret-rotation populations', () => {
  const AS_OF = new Date('2026-12-01T00:10:00Z');
  const secretsManager = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const iam = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const sm = mockClient(secretsManager);
  const iamMock = mockClient(iam);
  let url: string;
  let ports: Partial<ControlPorts>;
  const test = {
    type: 'secret-rotation',
    target: 'app',
    secrets: [
      { name: 'Database password', resourceId: 'db_password', secretId: 'prod/db' },
      { name: 'JWT signing key', resourceId: 'jwt_signing_key' },
      { name: 'CI deploy key', iamUser: 'ci-deployer' },
    ],
  };

  beforeAll(async () => {
    url = await env.createDatabase('rotation_populations');
    await env.sql(
      url,
      `CREATE TABLE audit_log ("timestamp" timestamptz NOT NULL, user_id text, action text, resource_id text, success boolean);
       INSERT INTO audit_log VALUES
         -- In November (the period): two rotations of the password, two identical ones of the JWT key.
         ('2026-11-03 04:00:00.123456+00', 'rotator', 'secrets_rotation', 'db_password', true),
         ('2026-11-20 04:00:00+00', 'rotator', 'secrets_rotation', 'db_password', true),
         ('2026-11-10 09:30:00+00', 'rotator', 'secrets_rotation', 'jwt_signing_key', true),
         ('2026-11-10 09:30:00+00', 'rotator', 'secrets_rotation', 'jwt_signing_key', true),
         -- Not rotations of the period: failed, unknown outcome, before, at the end bound, another
         -- action, an unconfigured credential.
         ('2026-11-15 00:00:00+00', 'rotator', 'secrets_rotation', 'db_password', false),
         ('2026-11-16 00:00:00+00', 'rotator', 'secrets_rotation', 'db_password', NULL),
         ('2026-10-31 23:59:59.999999+00', 'rotator', 'secrets_rotation', 'db_password', true),
         ('2026-12-01 00:00:00+00', 'rotator', 'secrets_rotation', 'db_password', true),
         ('2026-11-05 00:00:00+00', 'alice', 'login', 'db_password', true),
         ('2026-11-06 00:00:00+00', 'rotator', 'secrets_rotation', 'api_token', true);`,
    );
    ports = {
      postgres: makePostgresPort(
        [{ name: 'app', connection: { env: 'APP_URL' }, statementTimeoutMs: 10_000 }],
        envConnectionResolver({ APP_URL: url }),
      ),
      secrets: makeSecretsManagerInventory(secretsManager),
      accessKeys: makeIamAccessKeys(iam),
    };
  });
  beforeEach(() => {
    sm.reset();
    iamMock.reset();
    sm.on(DescribeSecretCommand, { SecretId: 'prod/db' }).resolves({
      Name: 'prod/db',
      RotationEnabled: true,
      LastRotatedDate: new Date('2026-11-20T04:00:05Z'),
      CreatedDate: new Date('2025-01-01T00:00:00Z'),
    });
    iamMock.on(ListAccessKeysCommand, { UserName: 'ci-deployer' }).resolves({
      AccessKeyMetadata: [
        { AccessKeyId: 'AKIAEXAMPLE', Status: 'Active', CreateDate: new Date('2026-10-01T00:00:00Z') },
      ],
      IsTruncated: false,
    });
  });

  const run = () => runRecorded({ test, cadence: 'monthly', periodKey: '2026-11', asOf: AS_OF, ports });

  it('rotation-events: every successful rotation of a configured credential in the period, counted as the audit log counts them', async () => {
    const startedAt = Date.now();
    const recorded = await run();
    const items = recorded.items('rotation-events');
    expect(items.map((item) => item.id)).toEqual([
      'Database password|2026-11-03T04:00:00.123456Z|1',
      'Database password|2026-11-20T04:00:00.000000Z|1',
      // Two identical events are two rotations: the rank keeps their ids apart.
      'JWT signing key|2026-11-10T09:30:00.000000Z|1',
      'JWT signing key|2026-11-10T09:30:00.000000Z|2',
    ]);
    expect(items[0]).toEqual({
      id: 'Database password|2026-11-03T04:00:00.123456Z|1',
      resourceId: 'db_password',
      credential: 'Database password',
      at: '2026-11-03T04:00:00.123456Z',
    });
    // The source's own count, by an independent query over the same rows and bounds.
    const counted = await env.sql(
      url,
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'secrets_rotation' AND success IS TRUE
         AND resource_id IN ('db_password', 'jwt_signing_key')
         AND "timestamp" >= '2026-11-01T00:00:00Z' AND "timestamp" < '2026-12-01T00:00:00Z'`,
    );
    expect(recorded.population('rotation-events').rows).toBe(counted.rows[0]?.n);
    const provenance = recorded.population('rotation-events').provenance;
    if (provenance.source !== 'sql') throw new Error('expected SQL provenance');
    expect(provenance.query).toMatch(/FROM "public"\."audit_log" AS e/);
    expect(provenance.querySha256).toBe(sha256(provenance.query));
    expect(provenance.params).toEqual([
      'secrets_rotation',
      ['db_password', 'jwt_signing_key'],
      ['Database password', 'JWT signing key'],
      '2026-11-01T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ]);
    // The query's own clock, not the period's: when it ran, during this test.
    expect(Date.parse(provenance.executedAt)).toBeGreaterThanOrEqual(startedAt);
    expect(Date.parse(provenance.executedAt)).toBeLessThanOrEqual(Date.now());
    expect(provenance.database).toMatchObject({ databaseName: 'rotation_populations' });
    expect(provenance.database.systemIdentifier).toMatch(/^\d+$/);
  });

  it('rotation-events: sealed, verified and sampled; a rotation left out, repeated or added from October is named', async () => {
    const recorded = await run();
    const said = await attackSealedPopulation(recorded, 'rotation-events', {
      at: '2026-10-31T23:59:59.999999Z',
      credential: 'Database password',
      id: 'Database password|2026-10-31T23:59:59.999999Z|1',
      resourceId: 'db_password',
    });
    expect(said).toEqual(ATTACKED);
  });

  it('credentials: one item per configured credential with its last rotation, the source that dated it and its status', async () => {
    const recorded = await run();
    expect(recorded.outcome.verdict).toBe('pass');
    const items = recorded.items('credentials');
    expect(items.map((item) => [item.id, item.lastRotation, item.source, item.status])).toEqual([
      ['CI deploy key', '2026-10-01T00:00:00.000Z', 'iam-access-keys', 'ok'],
      // The audit log's last rotation as of the run is 2026-12-01 00:00; Secrets Manager's is older and decides.
      ['Database password', '2026-11-20T04:00:05.000Z', 'secrets-manager', 'ok'],
      ['JWT signing key', '2026-11-10T09:30:00.000Z', 'audit-log', 'ok'],
    ]);
    expect(recorded.population('credentials').rows).toBe(test.secrets.length);
    expect(recorded.outcome.figures).toMatchObject({ secrets: test.secrets.length });
    const provenance = recorded.population('credentials').provenance;
    if (provenance.source !== 'api') throw new Error('expected API provenance');
    expect(provenance.request).toEqual(
      test.secrets.map(({ name, resourceId, secretId, iamUser }) => ({
        name,
        resourceId,
        secretId,
        iamUser,
      })),
    );
    expect(provenance.executedAt).toBe(AS_OF.toISOString());
    const said = await attackSealedPopulation(recorded, 'credentials', {
      id: 'Retired key',
      credential: 'Retired key',
      status: 'ok',
      lastRotation: '2026-11-01T00:00:00.000Z',
      source: 'audit-log',
      ageDays: 30,
      maxAge: 'P90D',
    });
    expect(said).toEqual(ATTACKED);
  });
});

describe('vulnerability-scan findings-seen', () => {
  // Report objects get LastModified = upload time, so the period under test is this week.
  const asOf = new Date(Date.now() + 60_000);
  const period = periodContaining('weekly', asOf, 'UTC');
  const inside = new Date((period.start.getTime() + asOf.getTime()) / 2);
  const before = new Date(period.start.getTime() - 2 * 86_400_000);
  const report = (createdAt: Date, vulns: { id: string; pkg: string; severity?: string }[]) =>
    JSON.stringify({
      SchemaVersion: 2,
      CreatedAt: createdAt.toISOString(),
      ArtifactName: 'registry.example/app:2.0',
      ArtifactType: 'container_image',
      Results: [
        {
          Target: 'registry.example/app:2.0 (debian 12.5)',
          Class: 'os-pkgs',
          Type: 'debian',
          Vulnerabilities: vulns.map((v) => ({
            VulnerabilityID: v.id,
            PkgName: v.pkg,
            InstalledVersion: '1.0',
            FixedVersion: '1.1',
            Severity: v.severity ?? 'CRITICAL',
          })),
        },
      ],
    });

  it('lists each finding of the configured severities seen in a report of the period, once, with when it was first seen; attacks are named', async () => {
    const upload = (key: string, body: string) =>
      env.clients.s3.send(
        new PutObjectCommand({ Bucket: env.resources.evidenceBucket, Key: key, Body: body }),
      );
    await upload(
      'populations/trivy/r1.json',
      report(before, [
        { id: 'CVE-2026-100', pkg: 'zlib' },
        { id: 'CVE-2026-200', pkg: 'openssl', severity: 'HIGH' },
      ]),
    );
    await upload(
      'populations/trivy/r2.json',
      report(inside, [
        // Carried over from the report before the period; listed twice in this report.
        { id: 'CVE-2026-200', pkg: 'openssl', severity: 'HIGH' },
        { id: 'CVE-2026-200', pkg: 'openssl', severity: 'HIGH' },
        { id: 'CVE-2026-300', pkg: 'glibc' },
        { id: 'CVE-2026-400', pkg: 'curl', severity: 'MEDIUM' },
      ]),
    );
    const recorded = await runRecorded({
      test: {
        type: 'vulnerability-scan',
        prefix: 'populations/trivy/',
        severities: ['CRITICAL', 'HIGH'],
        patchSla: 'P30D',
      },
      cadence: 'weekly',
      periodKey: period.key,
      asOf,
      ports: { objects: makeS3ObjectStore(env.clients.s3, env.resources.evidenceBucket) },
    });
    const items = recorded.items('findings-seen');
    // CVE-2026-100 closed before the period (absent from r2): not seen in it. The MEDIUM one is not held.
    expect(
      items
        .map((item) => [item.vulnerabilityId, item.firstSeen, item.firstSeenAtLeast, item.closedAt])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['CVE-2026-200', before.toISOString(), true, null],
      ['CVE-2026-300', inside.toISOString(), false, null],
    ]);
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
    // The source's count: the distinct held findings of the period's report r2.
    expect(recorded.population('findings-seen').rows).toBe(2);
    expect(recorded.outcome.figures).toMatchObject({ reports: 2, openFindings: 2 });
    const provenance = recorded.population('findings-seen').provenance;
    if (provenance.source !== 'api') throw new Error('expected API provenance');
    expect(provenance.request).toMatchObject({
      prefix: 'populations/trivy/',
      severities: ['CRITICAL', 'HIGH'],
      reportsRead: ['populations/trivy/r1.json', 'populations/trivy/r2.json'],
      window: { from: period.start.toISOString(), to: asOf.toISOString() },
    });
    expect(provenance.executedAt).toBe(asOf.toISOString());
    const said = await attackSealedPopulation(recorded, 'findings-seen', {
      ...items[0],
      id: `registry.example/app:2.0|CVE-2026-100|zlib|${before.toISOString()}`,
      vulnerabilityId: 'CVE-2026-100',
      pkgName: 'zlib',
    });
    expect(said).toEqual(ATTACKED);
  });
});

describe('restore-test-history restore-runs', () => {
  const PLAN = 'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:monthly_rds-867cbaf4';
  const OTHER = 'arn:aws:backup:us-east-1:111122223333:restore-testing-plan:weekly_s3-11112222';
  const client = new BackupClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const backup = mockClient(client);
  const job = (
    id: string,
    created: string,
    overrides: Partial<RestoreJobsListMember> = {},
  ): RestoreJobsListMember => ({
    RestoreJobId: id,
    Status: RestoreJobStatus.COMPLETED,
    ResourceType: 'RDS',
    CreatedBy: { RestoreTestingPlanArn: PLAN },
    CreationDate: new Date(created),
    CompletionDate: new Date(new Date(created).getTime() + 40 * 60_000),
    ValidationStatus: RestoreValidationStatus.SUCCESSFUL,
    ...overrides,
  });

  it('lists each restore job of the plans created in the period once, as the listing returned them; attacks are named', async () => {
    backup.reset();
    // Two pages; one job listed on both, one from October (the API's bounds are inclusive), one of another plan.
    backup
      .on(ListRestoreJobsCommand)
      .resolvesOnce({
        RestoreJobs: [
          job('job-a', '2026-11-03T03:00:00Z'),
          job('job-b', '2026-11-17T03:00:00Z', { ValidationStatus: RestoreValidationStatus.FAILED }),
          job('job-october', '2026-10-31T23:59:59Z'),
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        RestoreJobs: [
          job('job-b', '2026-11-17T03:00:00Z', { ValidationStatus: RestoreValidationStatus.FAILED }),
          job('job-c', '2026-11-24T03:00:00Z', { Status: RestoreJobStatus.ABORTED }),
          job('job-other-plan', '2026-11-10T03:00:00Z', { CreatedBy: { RestoreTestingPlanArn: OTHER } }),
        ],
      });
    const recorded = await runRecorded({
      test: { type: 'restore-test-history', sourceTarget: 'app', restoreTestingPlans: ['monthly_rds'] },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: new Date('2026-12-01T00:10:00Z'),
      ports: { restoreTests: makeBackupRestoreTests(client) },
    });
    const items = recorded.items('restore-runs');
    expect(items.map((item) => [item.id, item.judgement])).toEqual([
      ['job-a', 'counts'],
      ['job-b', 'validation-failed'],
      ['job-c', 'not-completed'],
    ]);
    // The source's count: the restore tests the verdict was judged on.
    expect(recorded.population('restore-runs').rows).toBe(recorded.outcome.figures.restoreTests);
    expect(recorded.outcome.figures).toMatchObject({ restoreTests: 3, successful: 1 });
    const provenance = recorded.population('restore-runs').provenance;
    if (provenance.source !== 'api') throw new Error('expected API provenance');
    expect(provenance).toMatchObject({
      service: 'backup',
      operation: 'ListRestoreJobs',
      request: {
        ByCreatedAfter: '2026-11-01T00:00:00.000Z',
        ByCreatedBefore: '2026-12-01T00:00:00.000Z',
        restoreTestingPlans: ['monthly_rds'],
      },
      executedAt: '2026-12-01T00:10:00.000Z',
    });
    await expectSealedAndSampled(recorded, 'restore-runs');
    const said = await attackSealedPopulation(recorded, 'restore-runs', {
      ...items[0],
      id: 'job-october',
      restoreJobId: 'job-october',
      createdAt: '2026-10-31T23:59:59.000Z',
    });
    expect(said).toEqual(ATTACKED);
  });
});
