import type { RDSClient } from '@aws-sdk/client-rds';
import { makeBackupRestorePort } from '../adapters/backup/backup-restore-port.ts';
import type { ConnectionResolver } from '../adapters/postgres/postgres-port.ts';
import { makeRdsRestoredDatabaseOpener } from '../adapters/rds/rds-restored-database.ts';
import type { RestoreValidationDeps } from '../restore/restore-validation.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { AwsClients } from './aws-clients.ts';
import { makeRdsClient } from './clients/rds-client.ts';

/**
 * Wires the restore validator: the run machinery's evidence, results and notifier (from
 * `makeRunDeps`), AWS Backup, and RDS to find the instance each restore test created.
 */
export function makeRestoreValidationDeps(input: {
  /** A run's deps; its control ports, if any, are not used (the validator opens its own database). */
  readonly runDeps: Omit<RunControlDeps, 'ports'> & Partial<Pick<RunControlDeps, 'ports'>>;
  readonly clients: Pick<AwsClients, 'backup'>;
  readonly resolveConnection: ConnectionResolver;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly rds?: RDSClient;
}): RestoreValidationDeps {
  const env = input.env ?? process.env;
  const { ports: _ports, ...runDeps } = input.runDeps;
  const rds = input.rds ?? makeRdsClient(env);
  return {
    ...runDeps,
    backup: makeBackupRestorePort(input.clients.backup),
    openRestoredDatabase: makeRdsRestoredDatabaseOpener({
      rds,
      targets: runDeps.config.targets,
      resolveConnection: input.resolveConnection,
    }),
  };
}
