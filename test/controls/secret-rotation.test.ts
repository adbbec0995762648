import { IAMClient, ListAccessKeysCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeIamAccessKeys } from '../../lib/adapters/iam/iam-access-keys.ts';
import { envConnectionResolver, makePostgresPort } from '../../lib/adapters/postgres/postgres-port.ts';
import { makeSecretsManagerInventory } from '../../lib/adapters/secrets-manager/secrets-manager-inventory.ts';
import type { ControlPorts } from '../../lib/controls/ports.ts';
import { judgeSecret } from '../../lib/controls/secret-rotation.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { runTest } from './control-harness.ts';

const AS_OF = new Date('2026-12-01T00:10:00Z');
const daysAgo = (days: number) => new Date(AS_OF.getTime() - days * 86_400_000);

describe('secret-rotation', () => {
  let env: TestEnvironment;
  let ports: Partial<ControlPorts>;
  const secretsManager = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const iam = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const sm = mockClient(secretsManager);
  const iamMock = mockClient(iam);
  const run = (test: Record<string, unknown>, override: Partial<ControlPorts> = {}) =>
    runTest({
      test: { type: 'secret-rotation', ...test },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: AS_OF,
      ports: { ...ports, ...override },
    });

  beforeAll(async () => {
    env = await startTestEnvironment();
    const url = await env.createDatabase('secret_rotation');
    await env.sql(
      url,
      `CREATE TABLE audit_log ("timestamp" timestamptz NOT NULL, user_id text, action text, resource_id text, success boolean);
       CREATE TABLE text_log ("timestamp" text, action text, resource_id text, success boolean);`,
    );
    await env.sql(
      url,
      `INSERT INTO audit_log VALUES
         ($1, 'rotator', 'secrets_rotation', 'db_password', true),
         ($2, 'rotator', 'secrets_rotation', 'db_password', true),
         ($3, 'rotator', 'secrets_rotation', 'jwt_signing_key', true),
         ($4, 'rotator', 'secrets_rotation', 'jwt_signing_key', false),
         ($5, 'rotator', 'secrets_rotation', 'db_password', true),
         ($1, 'alice', 'login', 'db_password', true),
         ($6, 'rotator', 'secrets_rotation', 'api_token', true),
         ($7, 'rotator', 'secrets_rotation', 'api_token', NULL);`,
      [
        daysAgo(40),
        daysAgo(10),
        daysAgo(120),
        daysAgo(5),
        new Date(AS_OF.getTime() + 86_400_000),
        daysAgo(100),
        daysAgo(3),
      ],
    );
    ports = {
      postgres: makePostgresPort(
        [{ name: 'app', connection: { env: 'APP_URL' }, statementTimeoutMs: 5000 }],
        envConnectionResolver({ APP_URL: url }),
      ),
      secrets: makeSecretsManagerInventory(secretsManager),
      accessKeys: makeIamAccessKeys(iam),
    };
  });
  afterAll(async () => env?.stop());
  beforeEach(() => {
    sm.reset();
    iamMock.reset();
    sm.on(DescribeSecretCommand, { SecretId: 'prod/db' }).resolves({
      Name: 'prod/db',
      ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf',
      RotationEnabled: true,
      LastRotatedDate: daysAgo(30),
      CreatedDate: daysAgo(400),
    });
    iamMock.on(ListAccessKeysCommand, { UserName: 'ci-deployer' }).resolves({
      AccessKeyMetadata: [
        {
          AccessKeyId: 'AKIAEXAMPLEOLD',
          Status: 'Inactive',
          CreateDate: daysAgo(200),
          UserName: 'ci-deployer',
        },
        { AccessKeyId: 'AKIAEXAMPLENEW', Status: 'Active', CreateDate: daysAgo(20), UserName: 'ci-deployer' },
      ],
      IsTruncated: false,
    });
  });

  it('passes when every source shows a rotation within 90 days, listing each secret with its age and source', async () => {
    const { outcome, evidence } = await run({
      target: 'app',
      secrets: [
        { name: 'Database password', resourceId: 'db_password', secretId: 'prod/db' },
        { name: 'CI deploy key', iamUser: 'ci-deployer' },
      ],
    });
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toMatchObject({ secrets: 2, overdue: 0, oldestDays: 30 });
    const secrets = (
      outcome.details as {
        secrets: { name: string; lastRotation: string; ageDays: number; source: string }[];
      }
    ).secrets;
    // Sources disagree: the oldest credential decides, Secrets Manager's 30 days over the audit log's 10.
    expect(secrets.map((s) => [s.name, s.ageDays, s.source])).toEqual([
      ['Database password', 30, 'secrets-manager'],
      ['CI deploy key', 20, 'iam-access-keys'],
    ]);
    expect(evidence.entries.map((e) => (e.kind === 'api' ? e.operation : e.kind))).toEqual([
      'sql',
      'sql',
      'DescribeSecret',
      'ListAccessKeys',
    ]);
  });

  it('fails a secret last rotated 120 days ago, ignoring failed rotation events', async () => {
    const { outcome } = await run({
      target: 'app',
      secrets: [{ name: 'JWT signing key', resourceId: 'jwt_signing_key' }],
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'JWT signing key was last rotated 120 days ago (2026-08-03T00:10:00.000Z, audit-log), over the P90D maximum',
    ]);
  });

  it('fails a secret whose fresh audit-log rotation hides a 400-day-old active IAM key', async () => {
    iamMock.on(ListAccessKeysCommand, { UserName: 'legacy-user' }).resolves({
      AccessKeyMetadata: [
        {
          AccessKeyId: 'AKIAEXAMPLEANCIENT',
          Status: 'Active',
          CreateDate: daysAgo(400),
          UserName: 'legacy-user',
        },
        {
          AccessKeyId: 'AKIAEXAMPLEFRESH',
          Status: 'Active',
          CreateDate: daysAgo(1),
          UserName: 'legacy-user',
        },
      ],
      IsTruncated: false,
    });
    const { outcome } = await run({
      target: 'app',
      secrets: [{ name: 'Database password', resourceId: 'db_password', iamUser: 'legacy-user' }],
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      `Database password was last rotated 400 days ago (${daysAgo(400).toISOString()}, iam-access-keys), over the P90D maximum`,
    ]);
  });

  it('counts a rotation row only when its outcome is true, not when it is unknown', async () => {
    const { outcome } = await run({
      target: 'app',
      secrets: [{ name: 'API token', resourceId: 'api_token' }],
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toMatch(/^API token was last rotated 100 days ago/);
  });

  it('fails a secret with no rotation on record', async () => {
    const { outcome } = await run({
      target: 'app',
      secrets: [{ name: 'Webhook secret', resourceId: 'webhook_secret' }],
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual(['Webhook secret: no rotation on record']);
  });

  it('warns inside the warning window and when automatic rotation is disabled', async () => {
    sm.on(DescribeSecretCommand, { SecretId: 'prod/api' }).resolves({
      Name: 'prod/api',
      ARN: 'arn',
      RotationEnabled: false,
      CreatedDate: daysAgo(80),
    });
    const { outcome } = await run({ secrets: [{ name: 'API key', secretId: 'prod/api' }] });
    expect(outcome.verdict).toBe('pass');
    expect(outcome.warnings).toEqual([
      'API key is 80 days old; rotate it before 2026-12-11T00:10:00.000Z',
      'API key: automatic rotation is disabled in Secrets Manager',
    ]);
  });

  it('errors when a configured Secrets Manager secret no longer exists', async () => {
    sm.on(DescribeSecretCommand, { SecretId: 'prod/gone' }).rejects(
      new ResourceNotFoundException({ message: 'not found', $metadata: {} }),
    );
    const { outcome } = await run({
      target: 'app',
      secrets: [
        { name: 'Old token', secretId: 'prod/gone' },
        { name: 'JWT', resourceId: 'jwt_signing_key' },
      ],
    });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('Old token: Secrets Manager secret prod/gone no longer exists');
    expect(outcome.reasons[1]).toContain('JWT was last rotated 120 days ago');
  });

  it('errors when the IAM user no longer exists', async () => {
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'ghost' })
      .rejects(new NoSuchEntityException({ message: 'no user', $metadata: {} }));
    const { outcome } = await run({ secrets: [{ name: 'Ghost key', iamUser: 'ghost' }] });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons).toEqual(['Ghost key: IAM user ghost no longer exists']);
  });

  it('errors naming the permission when Secrets Manager denies access', async () => {
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    sm.on(DescribeSecretCommand, { SecretId: 'prod/locked' }).rejects(denied);
    const { outcome } = await run({ secrets: [{ name: 'Locked', secretId: 'prod/locked' }] });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe(
      'describing Secrets Manager secret prod/locked: access denied (secretsmanager:DescribeSecret)',
    );
  });

  it('errors when the audit log timestamp column has the wrong type', async () => {
    const { outcome } = await run({
      target: 'app',
      auditLog: { table: 'text_log' },
      secrets: [{ name: 'DB', resourceId: 'db_password' }],
    });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toBe('column public.text_log.timestamp is text, expected a timestamp');
  });

  it('errors rather than passes when Secrets Manager is not wired in', async () => {
    const { outcome } = await run({ secrets: [{ name: 'DB', secretId: 'prod/db' }] }, { secrets: undefined });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toContain('no Secrets Manager reader');
  });

  it('rejects a secret with no source and a resourceId without a target', async () => {
    await expect(
      run({ secrets: [{ name: 'Nothing' }, { name: 'Log only', resourceId: 'x' }] }),
    ).rejects.toThrow(
      /expected at least one of resourceId, secretId, iamUser[\s\S]*resourceId needs the audit log's target/,
    );
  });
});

describe('judgeSecret', () => {
  const at = new Date('2026-12-01T00:00:00Z');
  it('takes the oldest rotation of any source and marks a missing source as missing', () => {
    const finding = judgeSecret(
      { name: 'S', maxAge: 'P90D' },
      [
        { source: 'audit-log', lastRotation: '2026-11-01T00:00:00.000Z' },
        { source: 'secrets-manager', lastRotation: null, missing: 'gone' },
      ],
      at,
      14 * 86_400_000,
    );
    expect(finding).toMatchObject({
      status: 'missing',
      ageDays: 30,
      source: 'audit-log',
      dueBy: '2027-01-30T00:00:00.000Z',
    });
  });
});
