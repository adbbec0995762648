import { makeBackupRestoreTests } from '../adapters/backup/backup-restore-port.ts';
import { makeIamAccessKeys } from '../adapters/iam/iam-access-keys.ts';
import { makeSecretsManagerInventory } from '../adapters/secrets-manager/secrets-manager-inventory.ts';
import type { Config } from '../config/schema.ts';
import type { ControlPorts, PostgresPort } from '../controls/ports.ts';
import type { ResultsStore } from '../runs/results-store.ts';
import type { AwsClients } from './aws-clients.ts';
import { makeBaseControlPorts } from './make-base-control-ports.ts';

export interface ControlPortsOptions {
  /**
   * Wire the ports that call AWS APIs no local emulator serves (Secrets Manager DescribeSecret,
   * IAM ListAccessKeys, Backup ListRestoreJobs). Turn off for the local demo: a control that needs
   * one then reports `error` ("this deployment provides no ...") instead of calling real AWS with
   * emulator credentials. @default true
   */
  readonly awsApis?: boolean;
}

/**
 * Every port a control test may use, built from real clients. Called once at cold start by the
 * worker Lambda and once per CLI run. `bucket` is where scanner reports and attestation uploads
 * live unless a control names another bucket (the evidence bucket in the default deployment).
 */
export function makeControlPorts(
  config: Config,
  clients: Pick<AwsClients, 's3' | 'secretsManager' | 'iam' | 'backup'>,
  postgres: PostgresPort,
  results: ResultsStore,
  bucket: string,
  options: ControlPortsOptions = {},
): ControlPorts {
  const base = makeBaseControlPorts(config, clients, postgres, results, bucket);
  if (options.awsApis === false) return base;
  return {
    ...base,
    secrets: makeSecretsManagerInventory(clients.secretsManager),
    accessKeys: makeIamAccessKeys(clients.iam),
    restoreTests: makeBackupRestoreTests(clients.backup),
  };
}
