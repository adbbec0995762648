import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load-config.ts';
import type { ConfigInput } from '../../lib/config/schema.ts';
import { formatFieldPath } from '../../lib/controls/control-needs.ts';
import {
  CONTROL_TEST_TYPES,
  type ControlTestType,
  controlNeeds,
  controlTestParamsSchema,
} from '../../lib/controls/registry.ts';

/** The needs a test declares for params validated by the one schema (defaults applied). */
const needsOf = (test: Record<string, unknown>) => controlNeeds(controlTestParamsSchema.parse(test));

const EMPTY = { targets: [], describedSecrets: [], iamUsers: [], s3Reads: [], awsApis: [] };

/**
 * The types that existed when `needs` was introduced: params and exactly what each must declare.
 * A type added later asserts its needs in its own test file (see the coverage test below), so
 * adding a type touches only its module, its test, the registry and the generated schema.
 */
const CASES: Partial<Record<ControlTestType, { test: Record<string, unknown>; needs: unknown }>> = {
  'log-completeness': {
    test: { type: 'log-completeness', target: 'app' },
    needs: { ...EMPTY, targets: [{ name: 'app', field: ['test', 'target'] }] },
  },
  'access-review': {
    test: { type: 'access-review', target: 'hr' },
    needs: { ...EMPTY, targets: [{ name: 'hr', field: ['test', 'target'] }] },
  },
  'encryption-config': {
    test: { type: 'encryption-config', target: 'app' },
    needs: { ...EMPTY, targets: [{ name: 'app', field: ['test', 'target'] }] },
  },
  'secret-rotation': {
    test: {
      type: 'secret-rotation',
      target: 'app',
      secrets: [
        { name: 'db', resourceId: 'db_password' },
        { name: 'smtp', secretId: 'prod/smtp' },
        { name: 'deploy', iamUser: 'ci-deployer' },
        {
          name: 'both',
          secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf',
          iamUser: 'ops',
        },
      ],
    },
    needs: {
      ...EMPTY,
      targets: [{ name: 'app', field: ['test', 'target'] }],
      describedSecrets: [
        { secretId: 'prod/smtp', field: ['test', 'secrets', 1, 'secretId'] },
        {
          secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf',
          field: ['test', 'secrets', 3, 'secretId'],
        },
      ],
      iamUsers: [
        { userName: 'ci-deployer', field: ['test', 'secrets', 2, 'iamUser'] },
        { userName: 'ops', field: ['test', 'secrets', 3, 'iamUser'] },
      ],
    },
  },
  'vulnerability-scan': {
    test: { type: 'vulnerability-scan', bucket: 'acme-reports', prefix: 'scans/trivy/' },
    needs: {
      ...EMPTY,
      s3Reads: [{ bucket: 'acme-reports', prefix: 'scans/trivy/', field: ['test', 'prefix'] }],
    },
  },
  'manual-attestation': {
    test: { type: 'manual-attestation', prefix: 'attestations/{period}/tabletop/' },
    // No bucket: the evidence bucket. The grant stops where the run-time placeholder starts.
    needs: { ...EMPTY, s3Reads: [{ prefix: 'attestations/', field: ['test', 'prefix'] }] },
  },
  'schedule-health': {
    test: { type: 'schedule-health', controls: ['audit-log'] },
    needs: EMPTY,
  },
  'restore-verification': {
    test: {
      type: 'restore-verification',
      sourceTarget: 'prod',
      restoredTarget: 'staging',
      recoveryPoint: '2026-01-01T00:00:00Z',
    },
    needs: {
      ...EMPTY,
      targets: [
        { name: 'prod', field: ['test', 'sourceTarget'] },
        { name: 'staging', field: ['test', 'restoredTarget'] },
      ],
    },
  },
  'restore-test-history': {
    test: { type: 'restore-test-history', sourceTarget: 'prod' },
    needs: {
      ...EMPTY,
      targets: [{ name: 'prod', field: ['test', 'sourceTarget'] }],
      awsApis: ['backup:ListRestoreJobs'],
    },
  },
};

describe('what each control test type declares it needs', () => {
  it('has a needs test for every registered type, here or in test/controls/<type>.test.ts', () => {
    const untested = CONTROL_TEST_TYPES.filter((type) => {
      if (CASES[type]) return false;
      const own = join(import.meta.dirname, `${type}.test.ts`);
      return !(existsSync(own) && readFileSync(own, 'utf8').includes('controlNeeds('));
    });
    expect(untested).toEqual([]);
  });

  it.each(Object.entries(CASES).flatMap(([type, c]) => (c ? [[type, c] as const] : [])))(
    '%s declares exactly its targets, secrets, users, S3 reads and APIs',
    (_, c) => {
      expect(needsOf(c.test)).toEqual(c.needs);
    },
  );

  it('declares no secret or IAM user for a rotation secret tracked only in the audit log', () => {
    const declared = needsOf({
      type: 'secret-rotation',
      target: 'app',
      secrets: [{ name: 'db', resourceId: 'db_password' }],
    });
    expect(declared.describedSecrets).toEqual([]);
    expect(declared.iamUsers).toEqual([]);
  });

  it('grants a manual attestation prefix whose placeholder comes first only from the bucket root', () => {
    expect(needsOf({ type: 'manual-attestation', prefix: '{period}/tabletop/' }).s3Reads).toEqual([
      { prefix: '', field: ['test', 'prefix'] },
    ]);
  });

  it('points every declared field at a value that is really in the params', () => {
    for (const c of Object.values(CASES).filter((c) => c !== undefined)) {
      const params = controlTestParamsSchema.parse(c.test) as unknown as Record<string, unknown>;
      const declared = needsOf(c.test);
      const fields = [
        ...declared.targets.map((t) => [t.field, t.name] as const),
        ...declared.describedSecrets.map((s) => [s.field, s.secretId] as const),
        ...declared.iamUsers.map((u) => [u.field, u.userName] as const),
      ];
      for (const [field, value] of fields) {
        const found = field
          .slice(1)
          .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], params);
        expect(found, formatFieldPath(field)).toBe(value);
      }
    }
  });
});

describe('config validation reads the declared targets', () => {
  const base = (test: ConfigInput['controls'][number]['test']): ConfigInput => ({
    owners: [{ id: 'security', name: 'Security', email: 'security@example.com' }],
    targets: [{ name: 'app', connection: { env: 'DATABASE_URL' } }],
    controls: [{ id: 'c', title: 'c', criteria: ['CC7.2'], cadence: 'monthly', owner: 'security', test }],
  });

  it.each([
    [{ type: 'log-completeness', target: 'nope' }, 'controls[0].test.target'],
    [
      {
        type: 'restore-verification',
        sourceTarget: 'app',
        restoredTarget: 'nope',
        recoveryPoint: '2026-01-01T00:00:00Z',
      },
      'controls[0].test.restoredTarget',
    ],
    [{ type: 'restore-test-history', sourceTarget: 'nope' }, 'controls[0].test.sourceTarget'],
    [
      { type: 'secret-rotation', target: 'nope', secrets: [{ name: 'db', resourceId: 'db_password' }] },
      'controls[0].test.target',
    ],
  ] as const)('rejects an unknown target naming the field (%j)', (test, path) => {
    expect(() => parseConfig(base(test as ConfigInput['controls'][number]['test']), 'test.yaml')).toThrow(
      new RegExp(`${path.replace(/[[\].]/g, '\\$&')}: unknown target "nope"`),
    );
  });

  it('accepts the same controls when the targets exist', () => {
    expect(() =>
      parseConfig(base({ type: 'restore-test-history', sourceTarget: 'app' }), 'test.yaml'),
    ).not.toThrow();
  });
});

describe('formatFieldPath', () => {
  it('writes indexes in brackets', () => {
    expect(formatFieldPath(['test', 'secrets', 0, 'secretId'])).toBe('test.secrets[0].secretId');
  });
});
