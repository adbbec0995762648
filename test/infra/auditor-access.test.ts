import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderVerifyGuide } from '../../lib/export/verify-guide.ts';
import { auditLogConfig } from '../support/config-fixture.ts';
import {
  type PolicyStatement,
  resourcesOf,
  type SynthesizedStack,
  stubProjectRoot,
  synthesizeStack,
} from './support/stack-fixture.ts';

/**
 * What the auditor is told to do, as IAM requests, evaluated against the synthesized policies: the
 * commands of VERIFY.md (lib/export/verify-guide.ts) and the S3 calls `export` makes with
 * `--restore-archived` and `--presign`. A request is allowed when an Allow statement of the role (or,
 * for the signing key, of its key policy naming the role) matches action, resource and s3:prefix,
 * and no Deny does. A small evaluator, enough for these policies: it resolves the template's
 * intrinsic functions into ARNs and matches `*` wildcards.
 */

type Statement = PolicyStatement;

const BUCKET = 'arn:aws:s3:::evidence-bucket';
const SIGNING_KEY = 'arn:aws:kms:us-east-1:111122223333:key/signing';
const DATA_KEY = 'arn:aws:kms:us-east-1:111122223333:key/data';

let projectRoot: string;
let synth: SynthesizedStack;
let idOf: (type: string, prefix: string) => string;

beforeAll(() => {
  projectRoot = stubProjectRoot();
  synth = synthesizeStack(auditLogConfig(), { projectRoot });
  idOf = (type, prefix) => {
    const ids = resourcesOf(synth, type)
      .map(([id]) => id)
      .filter((id) => id.startsWith(prefix));
    expect(ids, `${type} ${prefix}*`).toHaveLength(1);
    return ids[0] as string;
  };
});
afterAll(() => rmSync(projectRoot, { recursive: true, force: true }));

/** The template's values as plain strings: bucket and keys by ARN, pseudo parameters filled in. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => String(resolve(part))).join(separator);
  }
  if ('Fn::GetAtt' in object) {
    const [id] = object['Fn::GetAtt'] as [string, string];
    if (id === idOf('AWS::S3::Bucket', 'EvidenceBucket')) return BUCKET;
    if (id === idOf('AWS::KMS::Key', 'KeysSigningKey')) return SIGNING_KEY;
    if (id === idOf('AWS::KMS::Key', 'KeysDataKey')) return DATA_KEY;
    return `arn:of:${id}`;
  }
  if ('Ref' in object) {
    const ref = object.Ref as string;
    return (
      {
        'AWS::Region': 'us-east-1',
        'AWS::AccountId': '111122223333',
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
      }[ref] ?? `ref:${ref}`
    );
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v)]));
}

const list = (value: unknown): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
const matches = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);

interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

function conditionsHold(
  condition: Statement['Condition'],
  context: Readonly<Record<string, string>>,
): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const values = list(expected);
      if (operator === 'StringEquals' && !values.includes(actual)) return false;
      if (operator === 'StringLike' && !values.some((v) => matches(v, actual))) return false;
      if (operator === 'Bool' && !values.includes(actual)) return false;
    }
  }
  return true;
}

function allowed(statements: readonly Statement[], request: Request): boolean {
  const applies = (s: Statement) =>
    list(s.Action).some((a) => matches(a, request.action)) &&
    list(s.Resource ?? '*').some((r) => matches(r, request.resource)) &&
    conditionsHold(s.Condition, { 'kms:ViaService': 'none', ...request.context });
  return (
    statements.some((s) => s.Effect === 'Allow' && applies(s)) &&
    !statements.some((s) => s.Effect === 'Deny' && applies(s))
  );
}

function auditorStatements(): Statement[] {
  const role = synth.json.Resources[idOf('AWS::IAM::Role', 'AuditorRole')];
  const inline = (role?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return resolve(inline.flatMap((p) => p.PolicyDocument.Statement)) as Statement[];
}

/** The signing key's policy statements that name the auditor role (KMS needs no IAM grant then). */
function signingKeyStatementsForAuditor(): Statement[] {
  const key = synth.json.Resources[idOf('AWS::KMS::Key', 'KeysSigningKey')];
  const statements = (
    (key?.Properties?.KeyPolicy as { Statement?: Statement[] } | undefined)?.Statement ?? []
  ).map((s) => ({ ...s, Resource: SIGNING_KEY }));
  const auditor = `arn:of:${idOf('AWS::IAM::Role', 'AuditorRole')}`;
  return (resolve(statements) as Statement[]).filter((s) =>
    JSON.stringify(s.Principal ?? '').includes(auditor),
  );
}

const viaS3 = { 'kms:ViaService': 's3.us-east-1.amazonaws.com' };
const object = (key: string) => `${BUCKET}/${key}`;
const listing = (prefix: string): Request => ({
  action: 's3:ListBucket',
  resource: BUCKET,
  context: { 's3:prefix': prefix },
});

/** Each AWS command VERIFY.md gives auditors, with the requests it makes. */
const VERIFY_GUIDE_COMMANDS: Record<string, readonly Request[]> = {
  'aws kms get-public-key': [{ action: 'kms:GetPublicKey', resource: SIGNING_KEY }],
  'aws s3 sync s3://evidence-bucket/evidence/': [
    listing('evidence/'),
    { action: 's3:GetObject', resource: object('evidence/audit-log/monthly/2026-01/run/result.json') },
    { action: 's3:GetObject', resource: object('evidence/_public-keys/abc.pem') },
    { action: 'kms:Decrypt', resource: DATA_KEY, context: viaS3 },
  ],
  'aws s3 sync s3://evidence-bucket/checkpoints/': [
    listing('checkpoints/'),
    { action: 's3:GetObject', resource: object('checkpoints/20261201T000000Z.json') },
  ],
};

describe('the auditor role can do what it is told to do', () => {
  it('VERIFY.md names exactly the AWS commands checked here', () => {
    const guide = renderVerifyGuide({
      range: { from: '2026-01-01', to: '2026-12-31' },
      exportedAt: '2027-01-05T00:00:00Z',
      bucket: 'evidence-bucket',
      toolVersion: '0.1.0',
      keyFingerprints: ['a'.repeat(64)],
    });
    const commands = [...guide.matchAll(/\baws (kms [a-z-]+|s3 [a-z]+ s3:\/\/[^\s`)]+)/g)].map(
      (m) => `aws ${m[1]}`,
    );
    expect([...new Set(commands)].sort()).toEqual(Object.keys(VERIFY_GUIDE_COMMANDS).sort());
  });

  it.each(Object.entries(VERIFY_GUIDE_COMMANDS))('%s', (_command, requests) => {
    const statements = [...auditorStatements(), ...signingKeyStatementsForAuditor()];
    for (const request of requests) expect(allowed(statements, request), JSON.stringify(request)).toBe(true);
  });

  it('export: lists and reads (HeadObject is s3:GetObject) the evidence, keys and checkpoints it packs', () => {
    for (const request of [
      listing('evidence/'),
      listing('evidence/_public-keys/'),
      listing('evidence/audit-log/monthly/'),
      listing('checkpoints/'),
      { action: 's3:GetObject', resource: object('evidence/audit-log/monthly/2025-01/run/manifest.json') },
      { action: 's3:GetObject', resource: object('checkpoints/20270104T120000Z.json') },
    ]) {
      expect(allowed(auditorStatements(), request), JSON.stringify(request)).toBe(true);
    }
  });

  it('export --restore-archived: may restore archived evidence, nothing else', () => {
    const statements = auditorStatements();
    expect(
      allowed(statements, {
        action: 's3:RestoreObject',
        resource: object('evidence/audit-log/monthly/2025-01/run/result.json'),
      }),
    ).toBe(true);
    for (const key of ['checkpoints/20261201T000000Z.json', 'exports/audit.zip', 'other/object']) {
      expect(allowed(statements, { action: 's3:RestoreObject', resource: object(key) }), key).toBe(false);
    }
  });

  it('export --presign: puts the archive under exports/ with its short lock, and nowhere else', () => {
    const statements = auditorStatements();
    for (const action of ['s3:PutObject', 's3:PutObjectRetention']) {
      expect(allowed(statements, { action, resource: object('exports/audit-2026.zip') })).toBe(true);
      for (const key of [
        'evidence/audit-log/monthly/2026-01/run/result.json',
        'checkpoints/x.json',
        'evidence/_public-keys/k.pem',
      ]) {
        expect(allowed(statements, { action, resource: object(key) }), `${action} ${key}`).toBe(false);
      }
    }
    expect(allowed(statements, { action: 'kms:GenerateDataKey', resource: DATA_KEY, context: viaS3 })).toBe(
      true,
    );
    // Only through S3: the key itself is not the auditor's to use.
    expect(allowed(statements, { action: 'kms:Decrypt', resource: DATA_KEY })).toBe(false);
  });

  it('may not delete, re-lock or sign anything', () => {
    const statements = [...auditorStatements(), ...signingKeyStatementsForAuditor()];
    for (const request of [
      { action: 's3:DeleteObject', resource: object('evidence/audit-log/monthly/2026-01/run/result.json') },
      { action: 's3:DeleteObject', resource: object('exports/audit.zip') },
      { action: 's3:BypassGovernanceRetention', resource: object('evidence/x') },
      { action: 's3:PutObjectRetention', resource: object('evidence/x') },
      { action: 'kms:Sign', resource: SIGNING_KEY },
    ]) {
      expect(allowed(statements, request), JSON.stringify(request)).toBe(false);
    }
  });

  it('no other role of the stack may restore archived objects (restores cost money and only export needs them)', () => {
    const auditor = idOf('AWS::IAM::Role', 'AuditorRole');
    const grants: string[] = [];
    for (const [id, role] of resourcesOf(synth, 'AWS::IAM::Role')) {
      const inline = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
      for (const s of inline.flatMap((p) => p.PolicyDocument.Statement)) {
        if (list(s.Action).some((a) => matches(a, 's3:RestoreObject'))) grants.push(id);
      }
    }
    for (const [, policy] of resourcesOf(synth, 'AWS::IAM::Policy')) {
      const statements =
        (policy.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [];
      if (statements.some((s) => list(s.Action).some((a) => matches(a, 's3:RestoreObject')))) {
        grants.push(...((policy.Properties?.Roles ?? []) as { Ref: string }[]).map((r) => r.Ref));
      }
    }
    expect(grants).toEqual([auditor]);
  });
});
