import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { makeIamAccessKeys } from '../../../lib/adapters/iam/iam-access-keys.ts';
import { makeSecretsManagerInventory } from '../../../lib/adapters/secrets-manager/secrets-manager-inventory.ts';
import type { PostgresPort } from '../../../lib/controls/ports.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { secretRotationMatrix } from './cells/secret-rotation.ts';
import { cellRole, portFor } from './postgres-fixture.ts';

const AS_OF = new Date('2026-12-01T00:10:00Z');
const DAY = 86_400_000;
const ago = (ms: number) => new Date(AS_OF.getTime() - ms);
const sqlAgo = (ms: number) => `'${ago(ms).toISOString()}'`;
const AUDIT_LOG = `("timestamp" timestamptz, user_id text, action text, resource_id text, success boolean)`;

let env: TestEnvironment;
let url: string;
let port: PostgresPort;
const secretsManager = new SecretsManagerClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});
const iam = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const sm = mockClient(secretsManager);
const iamMock = mockClient(iam);

/** A schema with an audit log of `rows` (timestamp, user_id, action, resource_id, success). */
async function auditLog(schema: string, rows: string, table = AUDIT_LOG): Promise<void> {
  await env.sql(
    url,
    `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.audit_log ${table};
     ${rows ? `INSERT INTO ${schema}.audit_log VALUES ${rows};` : ''}`,
  );
}
const rotation = (ms: number | string, resource = "'db_password'", success = 'true') =>
  `(${typeof ms === 'number' ? sqlAgo(ms) : ms}, 'rotator', 'secrets_rotation', ${resource}, ${success})`;

function check(
  secrets: Record<string, unknown>[],
  options: { schema?: string; postgres?: PostgresPort } = {},
) {
  return runTest({
    test: {
      type: 'secret-rotation',
      ...(options.schema ? { target: 'app', auditLog: { schema: options.schema } } : {}),
      secrets,
    },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf: AS_OF,
    ports: {
      postgres: options.postgres ?? port,
      secrets: makeSecretsManagerInventory(secretsManager),
      accessKeys: makeIamAccessKeys(iam),
    },
  });
}
const dbPassword = (schema: string, postgres?: PostgresPort) =>
  check([{ name: 'DB password', resourceId: 'db_password' }], { schema, ...(postgres ? { postgres } : {}) });
const token = () => check([{ name: 'Token', secretId: 'prod/token' }]);
const ciKey = () => check([{ name: 'CI key', iamUser: 'ci-deployer' }]);

function describesSecret(dates: { LastRotatedDate?: Date; CreatedDate?: Date; DeletedDate?: Date }) {
  sm.on(DescribeSecretCommand, { SecretId: 'prod/token' }).resolves({
    Name: 'prod/token',
    ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/token-AbCdEf',
    RotationEnabled: true,
    ...dates,
  });
}
function listsKeys(keys: { id: string; created: Date; status?: 'Active' | 'Inactive' }[]) {
  iamMock.on(ListAccessKeysCommand, { UserName: 'ci-deployer' }).resolves({
    AccessKeyMetadata: keys.map((key) => ({
      AccessKeyId: key.id,
      Status: key.status ?? 'Active',
      CreateDate: key.created,
      UserName: 'ci-deployer',
    })),
    IsTruncated: false,
  });
}

beforeAll(async () => {
  env = await startTestEnvironment();
  url = await env.createDatabase('hostile_secret_rotation');
  port = portFor({ app: url });
});
afterAll(async () => env?.stop());
beforeEach(() => {
  sm.reset();
  iamMock.reset();
});

describeMatrix('secret-rotation', secretRotationMatrix, {
  'control-every-source-fresh': async () => {
    await auditLog('control_cell', rotation(10 * DAY));
    describesSecret({ LastRotatedDate: ago(30 * DAY), CreatedDate: ago(400 * DAY) });
    listsKeys([
      { id: 'AKIANEW', created: ago(20 * DAY) },
      { id: 'AKIAOLD', created: ago(300 * DAY), status: 'Inactive' },
    ]);
    return check(
      [{ name: 'DB password', resourceId: 'db_password', secretId: 'prod/token', iamUser: 'ci-deployer' }],
      { schema: 'control_cell' },
    );
  },
  'empty-audit-log': async () => {
    await auditLog('empty_log', '');
    return dbPassword('empty_log');
  },
  'iam-user-without-keys': () => {
    listsKeys([]);
    return ciKey();
  },
  'secret-without-dates': () => {
    describesSecret({});
    return token();
  },
  'null-timestamp': async () => {
    await auditLog('null_timestamp', rotation('NULL'));
    return dbPassword('null_timestamp');
  },
  'null-success': async () => {
    await auditLog('null_success', `${rotation(200 * DAY)}, ${rotation(DAY, "'db_password'", 'NULL')}`);
    return dbPassword('null_success');
  },
  'null-resource-id': async () => {
    await auditLog('null_resource', rotation(DAY, 'NULL'));
    return dbPassword('null_resource');
  },
  'type-timestamp-text': async () => {
    await auditLog(
      'type_timestamp',
      rotation(DAY),
      '("timestamp" text, user_id text, action text, resource_id text, success boolean)',
    );
    return dbPassword('type_timestamp');
  },
  'type-success-text': async () => {
    await auditLog(
      'type_success',
      rotation(DAY, "'db_password'", "'true'"),
      '("timestamp" timestamptz, user_id text, action text, resource_id text, success text)',
    );
    return dbPassword('type_success');
  },
  'on-max-age': async () => {
    await auditLog('on_limit', rotation(90 * DAY));
    return dbPassword('on_limit');
  },
  'just-over-max-age': async () => {
    await auditLog('over_limit', rotation(90 * DAY + 1));
    return dbPassword('over_limit');
  },
  'future-rotation-row': async () => {
    await auditLog('future_row', rotation(-DAY));
    return dbPassword('future_row');
  },
  'future-last-rotated-date': () => {
    describesSecret({
      LastRotatedDate: new Date(AS_OF.getTime() + 1),
      CreatedDate: new Date(AS_OF.getTime() + 1),
    });
    return token();
  },
  'future-access-key': () => {
    listsKeys([{ id: 'AKIAFUTURE', created: new Date(AS_OF.getTime() + DAY) }]);
    return ciKey();
  },
  'outlier-fresh-row-hides-old-key': async () => {
    await auditLog('outlier', rotation(DAY));
    listsKeys([{ id: 'AKIAANCIENT', created: ago(400 * DAY) }]);
    return check([{ name: 'DB password', resourceId: 'db_password', iamUser: 'ci-deployer' }], {
      schema: 'outlier',
    });
  },
  'duplicate-active-keys': () => {
    listsKeys([
      { id: 'AKIANEW', created: ago(5 * DAY) },
      { id: 'AKIAANCIENT', created: ago(400 * DAY) },
    ]);
    return ciKey();
  },
  'control-character-resource-id': async () => {
    await auditLog('control_chars', rotation(DAY, "E'db_password\\n'"));
    return dbPassword('control_chars');
  },
  'huge-resource-id': async () => {
    await auditLog(
      'huge_resource',
      `${rotation(200 * DAY)}, ${rotation(DAY, "repeat('db_password', 10000)")}`,
    );
    return dbPassword('huge_resource');
  },
  'no-select-on-audit-log': async () => {
    await auditLog('no_select', rotation(DAY));
    const roleUrl = await cellRole(env, url, 'hm_sr_blind', 'GRANT USAGE ON SCHEMA no_select TO hm_sr_blind');
    return dbPassword('no_select', portFor({ app: roleUrl }));
  },
  'row-level-security': async () => {
    await auditLog('rls', `${rotation(DAY)}, ${rotation(200 * DAY)}`);
    const roleUrl = await cellRole(
      env,
      url,
      'hm_sr_rls',
      `GRANT USAGE ON SCHEMA rls TO hm_sr_rls; GRANT SELECT ON rls.audit_log TO hm_sr_rls;
       ALTER TABLE rls.audit_log ENABLE ROW LEVEL SECURITY;
       CREATE POLICY recent ON rls.audit_log FOR SELECT TO hm_sr_rls USING ("timestamp" > now() - interval '100 days')`,
    );
    // Without row_security = off the role would see only yesterday's row, and pass.
    return dbPassword('rls', portFor({ app: roleUrl }));
  },
  'secrets-manager-denied': () => {
    sm.on(DescribeSecretCommand).rejects(
      Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
    );
    return token();
  },
  'stale-only-old-rotations': async () => {
    await auditLog('stale', `${rotation(200 * DAY)}, ${rotation(250 * DAY)}`);
    return dbPassword('stale');
  },
  'stale-secret-scheduled-for-deletion': () => {
    describesSecret({ LastRotatedDate: ago(DAY), DeletedDate: ago(0) });
    return token();
  },
});
