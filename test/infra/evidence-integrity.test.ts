import { rmSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchivedPrefixError,
  EVIDENCE_BUCKET_PREFIXES,
  EvidenceBucket,
  INSTANTLY_READABLE_PREFIXES,
} from '../../infra/constructs/evidence-bucket.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import type { ConfigInput } from '../../lib/config/schema.ts';
import { controlNeeds } from '../../lib/controls/registry.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import {
  type PolicyStatement,
  resourcesOf,
  type SynthesizedStack,
  stubProjectRoot,
  synthesizeStack,
} from './support/stack-fixture.ts';

type Statement = PolicyStatement;

const CONFIG: ConfigInput = {
  owners: [{ id: 'security', name: 'Security', email: 'security@example.com' }],
  targets: [
    { name: 'app', connection: { secretId: 'prod/app-db' } },
    { name: 'restored', connection: { secretId: 'prod/restored-db' } },
  ],
  controls: [
    {
      id: 'audit-log',
      title: 'Audit log',
      criteria: ['CC7.2'],
      cadence: 'monthly',
      owner: 'security',
      test: { type: 'log-completeness', target: 'app' },
    },
    {
      id: 'rotation',
      title: 'Rotation',
      criteria: ['CC6.7'],
      cadence: 'monthly',
      owner: 'security',
      test: {
        type: 'secret-rotation',
        secrets: [
          { name: 'db', secretId: 'prod/db-password' },
          { name: 'smtp', secretId: 'prod/smtp' },
          { name: 'deploy', iamUser: 'ci-deployer' },
        ],
      },
    },
    {
      id: 'scans',
      title: 'Scans',
      criteria: ['CC7.1'],
      cadence: 'weekly',
      owner: 'security',
      test: { type: 'vulnerability-scan', bucket: 'acme-reports', prefix: 'trivy/' },
    },
    {
      id: 'tabletop',
      title: 'Tabletop',
      criteria: ['CC9.1'],
      cadence: 'annual',
      owner: 'security',
      test: { type: 'manual-attestation', prefix: 'attestations/{period}/tabletop/' },
    },
    {
      id: 'restores',
      title: 'Restores',
      criteria: ['A1.3'],
      cadence: 'monthly',
      owner: 'security',
      test: { type: 'restore-test-history', sourceTarget: 'app' },
    },
    {
      id: 'staging-restore',
      title: 'Staging restore',
      criteria: ['A1.3'],
      cadence: 'monthly',
      owner: 'security',
      test: {
        type: 'restore-verification',
        sourceTarget: 'app',
        restoredTarget: 'restored',
        recoveryPoint: '2026-01-01T00:00:00Z',
      },
    },
  ],
  riskRegister: {},
};

let projectRoot: string;
let synth: SynthesizedStack;

beforeAll(() => {
  projectRoot = stubProjectRoot();
  synth = synthesizeStack(CONFIG, { projectRoot });
});
afterAll(() => rmSync(projectRoot, { recursive: true, force: true }));

function logicalId(type: string, prefix: string): string {
  const ids = resourcesOf(synth, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0] as string;
}

const roleArn = (rolePrefix: string) => ({ 'Fn::GetAtt': [logicalId('AWS::IAM::Role', rolePrefix), 'Arn'] });
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Identity-policy statements of every role, by role logical id. */
function statementsByRole(): Map<string, Statement[]> {
  const byRole = new Map<string, Statement[]>();
  for (const [id, role] of resourcesOf(synth, 'AWS::IAM::Role')) {
    const inline = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    byRole.set(
      id,
      inline.flatMap((p) => p.PolicyDocument.Statement),
    );
  }
  for (const [, policy] of resourcesOf(synth, 'AWS::IAM::Policy')) {
    const statements =
      (policy.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
    for (const role of (policy.Properties?.Roles ?? []) as { Ref: string }[]) {
      byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...statements]);
    }
  }
  return byRole;
}

function roleStatements(rolePrefix: string): Statement[] {
  return statementsByRole().get(logicalId('AWS::IAM::Role', rolePrefix)) ?? [];
}

function signingKeyPolicy(): Statement[] {
  const key = synth.json.Resources[logicalId('AWS::KMS::Key', 'KeysSigningKey')];
  return (key?.Properties?.KeyPolicy as { Statement: Statement[] } | undefined)?.Statement ?? [];
}

describe('only the runners can sign', () => {
  it('denies kms:Sign to every principal but the worker, restore validator, checkpoint writer and reviewer, root included', () => {
    const deny = signingKeyPolicy().find((s) => s.Effect === 'Deny' && actions(s).includes('kms:Sign'));
    expect(deny).toMatchObject({ Principal: { AWS: '*' }, Resource: '*' });
    const allowed = deny?.Condition?.ArnNotEquals?.['aws:PrincipalArn'] as unknown[];
    expect(allowed).toHaveLength(4);
    expect(allowed).toEqual(
      expect.arrayContaining([
        roleArn('WorkerRole'),
        roleArn('RestoreValidatorRole'),
        roleArn('CheckpointWriterRole'),
        roleArn('ReviewerRole'),
      ]),
    );
    // The root statement stays (KMS refuses a policy that locks its administrators out), but
    // the explicit deny above overrides its kms:* for Sign.
    expect(signingKeyPolicy()).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'kms:*' }));
  });

  it('lets nobody create a grant that hands out Sign', () => {
    expect(signingKeyPolicy()).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Condition: { 'ForAnyValue:StringEquals': { 'kms:GrantOperations': ['Sign'] } },
      }),
    );
  });

  it('gives kms:Sign in an identity policy only to roles the key policy exempts', () => {
    const signingKeyArn = { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'KeysSigningKey'), 'Arn'] };
    const signers = [...statementsByRole()]
      .filter(([, statements]) =>
        statements.some(
          (s) =>
            s.Effect === 'Allow' &&
            actions(s).some((a) => a === 'kms:Sign' || a === 'kms:*') &&
            JSON.stringify(s.Resource) === JSON.stringify(signingKeyArn),
        ),
      )
      .map(([id]) => id.replace(/Role.*$/, ''))
      .sort();
    expect(signers).toEqual(['CheckpointWriter', 'RestoreValidator', 'Reviewer', 'Worker']);
    // And nobody holds kms:Sign on `*`.
    for (const [, statements] of statementsByRole()) {
      for (const s of statements) {
        if (actions(s).some((a) => a === 'kms:Sign' || a === 'kms:*')) expect(s.Resource).not.toBe('*');
      }
    }
  });

  it('lets the auditor role fetch the public key to pin it, and nothing else on the key', () => {
    const auditor = signingKeyPolicy().filter((s) => JSON.stringify(s.Principal).includes('AuditorRole'));
    expect(auditor).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { AWS: roleArn('AuditorRole') },
        Action: ['kms:DescribeKey', 'kms:GetPublicKey'],
      }),
    ]);
  });
});

describe('the reviewer role (sign-offs from the CLI)', () => {
  const bucketObjects = (suffix: string) => ({
    'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId('AWS::S3::Bucket', 'EvidenceBucket'), 'Arn'] }, suffix]],
  });

  it('signs with the stack key only, and writes only under the sign-off chains and public keys', () => {
    const statements = roleStatements('ReviewerRole');
    const signingKeyArn = { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'KeysSigningKey'), 'Arn'] };
    expect(statements.find((s) => actions(s).includes('kms:Sign'))?.Resource).toEqual(signingKeyArn);
    const puts = statements.filter((s) => actions(s).includes('s3:PutObject'));
    expect(puts).toHaveLength(1);
    expect(puts[0]?.Resource).toHaveLength(3);
    expect(puts[0]?.Resource).toEqual(
      expect.arrayContaining([
        bucketObjects('/evidence/*.review/*'),
        bucketObjects('/evidence/risk-register-review/*'),
        bucketObjects('/evidence/_public-keys/*'),
      ]),
    );
    // Never the controls' own evidence, never a delete or a retention change.
    const all = statements.flatMap(actions);
    expect(all.filter((a) => /Delete|Retention|LegalHold|PutBucket|\*$/.test(a))).toEqual([]);
    expect(JSON.stringify(puts)).not.toContain('"/evidence/*"');
  });

  it("writes results-table items only in the sign-off chains' partitions", () => {
    const writes = roleStatements('ReviewerRole').filter((s) =>
      actions(s).some((a) => a === 'dynamodb:PutItem' || a === 'dynamodb:UpdateItem'),
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': ['CONTROL#*.review', 'CONTROL#risk-register-review'],
      },
    });
    expect(roleStatements('ReviewerRole').flatMap(actions)).not.toContain('dynamodb:DeleteItem');
  });

  it('is not created, and not exempted from the deny, when the config has nothing to sign off', () => {
    const { riskRegister: _register, ...bare } = CONFIG;
    const plain = synthesizeStack(bare, { projectRoot });
    expect(resourcesOf(plain, 'AWS::IAM::Role').map(([id]) => id)).not.toContainEqual(
      expect.stringMatching(/^ReviewerRole/),
    );
    const key =
      plain.json.Resources[
        resourcesOf(plain, 'AWS::KMS::Key')
          .map(([id]) => id)
          .find((id) => id.startsWith('KeysSigningKey')) ?? ''
      ];
    const deny = (
      (key?.Properties?.KeyPolicy as { Statement?: Statement[] } | undefined)?.Statement ?? []
    ).find((s) => s.Effect === 'Deny' && actions(s).includes('kms:Sign'));
    expect(deny?.Condition?.ArnNotEquals?.['aws:PrincipalArn']).toHaveLength(3);
  });
});

describe('nobody rewrites the chain heads', () => {
  const tableActions = (rolePrefix: string) =>
    roleStatements(rolePrefix)
      .filter((s) => s.Effect === 'Allow')
      .flatMap(actions)
      .filter((a) => a.startsWith('dynamodb:'))
      .sort();

  it.each(['WorkerRole', 'RestoreValidatorRole'])(
    '%s holds exactly the item operations its adapters call: no Scan, DeleteItem or BatchWriteItem',
    (role) => {
      expect(tableActions(role)).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
    },
  );

  it('lets the checkpoint writer read chain heads but write nothing to the table', () => {
    expect(tableActions('CheckpointWriterRole')).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('keeps every risk-evaluator write out of the CONTROL# partitions (verdicts and chain heads)', () => {
    const writes = roleStatements('RiskEvaluatorRole').filter((s) =>
      actions(s).some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)),
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]?.Condition).toEqual({
      'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['CONTROL#*'] },
    });
  });

  it('grants no role Scan, a dynamodb wildcard or table management', () => {
    for (const [role, statements] of statementsByRole()) {
      for (const action of statements.flatMap(actions)) {
        expect(action, role).not.toMatch(/^dynamodb:(Scan|\*|Delete(Table|Backup)|UpdateTable|CreateTable)/);
      }
    }
  });
});

describe('public keys and checkpoints stay instantly readable', () => {
  const rules = () => {
    const bucket = synth.json.Resources[logicalId('AWS::S3::Bucket', 'EvidenceBucket')];
    return (
      (
        bucket?.Properties?.LifecycleConfiguration as
          | {
              Rules: {
                Id: string;
                Prefix?: string;
                Transitions?: unknown[];
                NoncurrentVersionTransitions?: unknown[];
              }[];
            }
          | undefined
      )?.Rules ?? []
    );
  };

  it.each(['evidence/_public-keys/0123abcd.pem', 'checkpoints/2026/12/01T10.json'])(
    'has no transition rule that matches %s',
    (key) => {
      const archiving = rules().filter(
        (rule) =>
          (rule.Transitions || rule.NoncurrentVersionTransitions) && key.startsWith(rule.Prefix ?? ''),
      );
      expect(archiving).toEqual([]);
    },
  );

  it("archives every control's evidence, and only under evidence/<control>/", () => {
    const archived = rules()
      .filter((rule) => rule.Transitions)
      .map((rule) => rule.Prefix)
      .sort();
    expect(archived).toEqual(
      ['audit-log', 'restores', 'rotation', 'scans', 'staging-restore', 'tabletop'].map(
        (id) => `evidence/${id}/`,
      ),
    );
  });

  it('refuses an archived prefix that would cover the public keys or the checkpoints', () => {
    for (const prefix of ['evidence/', '', 'evidence/_public-keys/', 'checkpoints/', 'checkpoints/2026/']) {
      const stack = new Stack(new App(), 'T');
      expect(
        () =>
          new EvidenceBucket(stack, 'Evidence', {
            encryptionKey: new kms.Key(stack, 'Key'),
            archivedPrefixes: [prefix],
          }),
        prefix,
      ).toThrow(ArchivedPrefixError);
    }
    expect(INSTANTLY_READABLE_PREFIXES).toEqual([
      EVIDENCE_BUCKET_PREFIXES.publicKeys,
      EVIDENCE_BUCKET_PREFIXES.checkpoints,
    ]);
  });
});

describe('the checkpoint writer', () => {
  const bucketArn = () => ({ 'Fn::GetAtt': [logicalId('AWS::S3::Bucket', 'EvidenceBucket'), 'Arn'] });

  it('runs with the worker’s env var names for the table, the bucket and the signing key', () => {
    const fn = synth.json.Resources[logicalId('AWS::Lambda::Function', 'CheckpointWriterFunction')];
    const variables = (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    expect(variables).toEqual({
      [ENV.resultsTable]: { Ref: logicalId('AWS::DynamoDB::Table', 'ResultsTable') },
      [ENV.evidenceBucket]: { Ref: logicalId('AWS::S3::Bucket', 'EvidenceBucket') },
      [ENV.signingKeyId]: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'KeysSigningKey'), 'Arn'] },
    });
    expect(fn?.Properties?.ReservedConcurrentExecutions).toBe(1);
  });

  it('may write, read and list checkpoints/ only, and sign', () => {
    const statements = roleStatements('CheckpointWriterRole');
    const s3 = statements.filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['s3:GetObject', 's3:PutObject'],
          Resource: { 'Fn::Join': ['', [bucketArn(), '/checkpoints/*']] },
        }),
        expect.objectContaining({
          Action: 's3:ListBucket',
          Resource: bucketArn(),
          Condition: { StringLike: { 's3:prefix': ['checkpoints/', 'checkpoints/*'] } },
        }),
      ]),
    );
    expect(s3).toHaveLength(2);
    expect(statements.flatMap(actions)).toContain('kms:Sign');
    expect(statements.flatMap(actions)).not.toContain('sns:Publish');
  });

  it('is invoked every hour with the scheduled time as asOf, with retries and a dead-letter queue', () => {
    synth.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'CheckpointWriterFunction'), 'Arn'] },
        Input: '{"asOf":"<aws.scheduler.scheduled-time>"}',
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 21600 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'CheckpointFailures'), 'Arn'] },
        },
      },
    });
  });
});

describe('runner grants follow what the control tests declare', () => {
  const config = parseConfig(CONFIG, 'test');
  const declared = config.controls.map((control) => controlNeeds(control.test));

  it.each(['WorkerRole', 'RestoreValidatorRole'])(
    '%s reads every declared secret, user, S3 input and API',
    (role) => {
      const statements = roleStatements(role);
      const text = JSON.stringify(statements);
      const withAction = (action: string) => statements.filter((s) => actions(s).includes(action));
      for (const need of declared) {
        for (const secret of need.describedSecrets) {
          expect(JSON.stringify(withAction('secretsmanager:DescribeSecret'))).toContain(
            `:secret:${secret.secretId}-??????`,
          );
        }
        for (const user of need.iamUsers) {
          expect(JSON.stringify(withAction('iam:ListAccessKeys'))).toContain(`:user/${user.userName}`);
        }
        for (const read of need.s3Reads) {
          expect(JSON.stringify(withAction('s3:GetObject'))).toContain(`/${read.prefix}*`);
          const list = withAction('s3:ListBucket').find((s) =>
            JSON.stringify(s.Condition).includes(JSON.stringify(read.prefix)),
          );
          expect(list, read.prefix).toBeDefined();
          if (read.bucket) expect(JSON.stringify(list?.Resource)).toContain(read.bucket);
        }
        for (const api of need.awsApis)
          expect(withAction(api)).toEqual([expect.objectContaining({ Resource: '*' })]);
      }
      // Each declared target's connection secret, and no more.
      const connections = withAction('secretsmanager:GetSecretValue');
      expect(JSON.stringify(connections)).toContain(':secret:prod/app-db-??????');
      expect(JSON.stringify(connections)).toContain(':secret:prod/restored-db-??????');
      // The attestation grant stops where `{period}` starts.
      expect(text).not.toContain('{period}');
    },
  );

  it('grants nothing that no control declared', () => {
    const statements = roleStatements('WorkerRole');
    const describe = statements.filter((s) => actions(s).includes('secretsmanager:DescribeSecret'));
    expect(describe).toHaveLength(1);
    expect(describe[0]?.Resource).toHaveLength(2);
    const listKeys = statements.filter((s) => actions(s).includes('iam:ListAccessKeys'));
    expect(listKeys).toHaveLength(1);
    expect(Array.isArray(listKeys[0]?.Resource)).toBe(false);
    expect(statements.filter((s) => actions(s).includes('s3:GetObject'))).toHaveLength(2);
  });
});
