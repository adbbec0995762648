import { envConnectionResolver, makePostgresPort } from '../../../lib/adapters/postgres/postgres-port.ts';
import type { PostgresPort } from '../../../lib/controls/ports.ts';
import type { TestEnvironment } from '../../support/test-environment.ts';

/** A port whose targets (by name) connect to the given URLs, with short timeouts. */
export function portFor(urls: Readonly<Record<string, string>>, statementTimeoutMs = 10_000): PostgresPort {
  const names = Object.keys(urls);
  const variable = (name: string) => `URL_${name.toUpperCase().replaceAll('-', '_')}`;
  return makePostgresPort(
    names.map((name) => ({ name, connection: { env: variable(name) }, statementTimeoutMs })),
    envConnectionResolver(Object.fromEntries(names.map((name) => [variable(name), urls[name]]))),
    { connectTimeoutMs: 2_000 },
  );
}

/** The same server and database, logged in as another role (password auth is trust on the test server). */
export function asRole(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = 'pw';
  return parsed.toString();
}

/**
 * A login role of its own for a cell (roles are server-wide and the server is shared by every
 * file of the run, so the name carries the file's prefix), with USAGE on the given schemas.
 */
export async function cellRole(
  env: TestEnvironment,
  url: string,
  role: string,
  grants: string,
): Promise<string> {
  await env.sql(url, `CREATE ROLE ${role} LOGIN PASSWORD 'pw'; ${grants}`);
  return asRole(url, role);
}
