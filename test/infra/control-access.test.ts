import { describe, expect, it } from 'vitest';
import { controlAccess } from '../../infra/control-access.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import type { ConfigInput } from '../../lib/config/schema.ts';
import { securityOwner } from '../support/config-fixture.ts';

const base = {
  owners: [securityOwner],
  targets: [
    { name: 'app', connection: { env: 'DATABASE_URL', secretId: 'prod/app-db' } },
    { name: 'local', connection: { env: 'LOCAL_URL' } },
  ],
};
const control = (id: string, test: ConfigInput['controls'][number]['test']) => ({
  id,
  title: id,
  criteria: ['CC7.2'],
  cadence: 'monthly' as const,
  owner: 'security',
  test,
});
const access = (controls: ConfigInput['controls']) =>
  controlAccess(parseConfig({ ...base, controls }, 'test'));

describe('controlAccess', () => {
  it('reads only the targets that have a Secrets Manager secret', () => {
    const result = access([control('log', { type: 'log-completeness', target: 'app' })]);
    expect(result).toEqual({
      connectionSecrets: ['prod/app-db'],
      describedSecrets: [],
      iamUsers: [],
      s3Reads: [],
      awsApis: [],
    });
  });

  it('collects the secrets and IAM users a rotation test inspects, without duplicates', () => {
    const rotation = (id: string) =>
      control(id, {
        type: 'secret-rotation',
        secrets: [
          { name: 'db', secretId: 'prod/db-password' },
          { name: 'deploy', iamUser: 'ci-deployer' },
        ],
      });
    const result = access([rotation('rotation-a'), rotation('rotation-b')]);
    expect(result.describedSecrets).toEqual(['prod/db-password']);
    expect(result.iamUsers).toEqual(['ci-deployer']);
  });

  it('reads scanner reports from their bucket and attestations up to the period placeholder', () => {
    const result = access([
      control('scan', { type: 'vulnerability-scan', bucket: 'acme-reports', prefix: 'scans/trivy/' }),
      control('tabletop', { type: 'manual-attestation', prefix: 'attestations/{period}/tabletop/' }),
    ]);
    expect(result.s3Reads).toEqual([
      { bucket: 'acme-reports', prefix: 'scans/trivy/' },
      { prefix: 'attestations/' },
    ]);
  });

  it('lists AWS Backup restore jobs only for the restore-test-history control', () => {
    expect(
      access([control('restores', { type: 'restore-test-history', sourceTarget: 'app' })]).awsApis,
    ).toEqual(['backup:ListRestoreJobs']);
    expect(
      access([
        control('staging-restore', {
          type: 'restore-verification',
          sourceTarget: 'app',
          restoredTarget: 'local',
          recoveryPoint: '2026-01-01T00:00:00Z',
        }),
      ]).awsApis,
    ).toEqual([]);
  });
});
