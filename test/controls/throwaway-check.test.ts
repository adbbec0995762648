import { describe, expect, it } from 'vitest';
import { controlAccess } from '../../infra/control-access.ts';
import { parseConfig } from '../../lib/config/load-config.ts';
import { controlNeeds, controlTestParamsSchema } from '../../lib/controls/registry.ts';

const test = { type: 'throwaway-check', ledgerDatabase: 'ledger', exportPrefix: 'exports/{period}/' };

describe('throwaway-check', () => {
  it('declares its database and its exports prefix', () => {
    expect(controlNeeds(controlTestParamsSchema.parse(test))).toMatchObject({
      targets: [{ name: 'ledger', field: ['test', 'ledgerDatabase'] }],
      s3Reads: [{ prefix: 'exports/', field: ['test', 'exportPrefix'] }],
    });
  });

  it('is rejected naming the new field when the database is not a target, and granted when it is', () => {
    const config = (targets: { name: string; connection: { secretId: string } }[]) => ({
      owners: [{ id: 's', name: 'S', email: 's@example.com' }],
      targets,
      controls: [{ id: 'c', title: 'c', criteria: ['CC7.2'], cadence: 'monthly', owner: 's', test }],
    });
    expect(() => parseConfig(config([]), 't')).toThrow(/controls\[0\]\.test\.ledgerDatabase: unknown target/);
    const access = controlAccess(
      parseConfig(config([{ name: 'ledger', connection: { secretId: 'ledger-db' } }]), 't'),
    );
    expect(access.connectionSecrets).toEqual(['ledger-db']);
    expect(access.s3Reads).toEqual([{ prefix: 'exports/' }]);
  });
});
