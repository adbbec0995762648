import { makePostgresPort } from '../adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../controls/ports.ts';

/**
 * The read-only session `init` inspects a database through: the control tests' own port (one
 * READ ONLY transaction, statement timeout, rolled back), on a single target named `app`.
 */
export function makeDatabaseInspector(connectionString: string): PostgresPort {
  return makePostgresPort(
    [{ name: 'app', connection: { env: 'SOC2_INIT_DATABASE_URL' }, statementTimeoutMs: 30_000 }],
    async () => connectionString,
  );
}
