import pg from 'pg';
import { type LocalServices, startLocalServices } from '../../lib/local/local-services.ts';
import { type LocalResources, provisionLocalResources } from '../../lib/local/provision.ts';
import { type AwsClients, makeAwsClients } from '../../lib/wiring/aws-clients.ts';

export interface TestEnvironment {
  readonly services: LocalServices;
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  /** Superuser URL of the real PostgreSQL server started for this file. */
  readonly postgresUrl: string;
  /** Creates an empty database on that server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL as superuser on a database URL (fixtures only; the product itself only reads). */
  sql(url: string, text: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

export interface TestEnvironmentOptions {
  /** Skip PostgreSQL for suites that only need the AWS emulators. @default true */
  readonly postgres?: boolean;
}

/**
 * Real PostgreSQL plus dynalite and fauxqs on random loopback ports, with the same resources the
 * stack deploys. One per test file (`beforeAll`), stopped in `afterAll`.
 */
export async function startTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const services = await startLocalServices({ postgres: options.postgres ?? true });
  const clients = makeAwsClients(services.awsEnv);
  const resources = await provisionLocalResources(clients);
  const postgresUrl = services.postgresUrl ?? '';
  const sql = async (url: string, text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await client.query(text, params);
    } finally {
      await client.end();
    }
  };
  return {
    services,
    clients,
    resources,
    postgresUrl,
    sql,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await sql(postgresUrl, `CREATE DATABASE ${name}`);
      const url = new URL(postgresUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      for (const client of Object.values(clients)) (client as { destroy?: () => void }).destroy?.();
      await services.stop();
    },
  };
}
