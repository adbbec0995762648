import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { type LocalServices, startLocalServices } from '../../lib/local/local-services.ts';
import { type LocalResources, provisionLocalResources } from '../../lib/local/provision.ts';
import { type AwsClients, makeAwsClients } from '../../lib/wiring/aws-clients.ts';
import './provided-context.ts';

export interface TestEnvironment {
  readonly services: LocalServices;
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  /**
   * Superuser URL of a fresh database created for this file on the run's shared PostgreSQL server
   * (or on a server of its own with `dedicatedPostgres`).
   */
  readonly postgresUrl: string;
  /**
   * Creates an empty database with exactly this name on that server and returns its URL. The server
   * is shared by every test file of the run, so names must be unique across files.
   */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL as superuser on a database URL (fixtures only; the product itself only reads). */
  sql(url: string, text: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

export interface TestEnvironmentOptions {
  /** Skip PostgreSQL for suites that only need the AWS emulators. @default true */
  readonly postgres?: boolean;
  /**
   * Start a PostgreSQL server for this file alone, for tests that change server-wide state
   * (`ALTER SYSTEM`, TLS, roles) or count every session on the server. @default false
   */
  readonly dedicatedPostgres?: boolean;
}

const DATABASE_NAME = /^[a-z_][a-z0-9_]*$/;

async function runSql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The run's shared server (integration project's global setup); undefined outside it. */
function sharedPostgresUrl(): string | undefined {
  try {
    return inject('sharedPostgresUrl') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * dynalite and fauxqs in-process on random loopback ports with the same resources the stack
 * deploys, plus a fresh database on the run's one real PostgreSQL server. One per test file
 * (`beforeAll`), stopped in `afterAll`.
 */
export async function startTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const wantsPostgres = options.postgres ?? true;
  const shared = wantsPostgres && !options.dedicatedPostgres ? sharedPostgresUrl() : undefined;
  const services = await startLocalServices({
    postgres: wantsPostgres && shared === undefined,
    ...(shared ? { databaseUrl: shared } : {}),
  });
  const serverUrl = services.postgresUrl ?? '';
  const created: string[] = [];
  const createDatabase = async (name: string) => {
    if (!DATABASE_NAME.test(name)) throw new Error(`bad database name ${name}`);
    await runSql(serverUrl, `CREATE DATABASE ${name}`).catch((error: Error) => {
      throw new Error(
        `could not create database ${name} (names are shared by every test file of the run): ${error.message}`,
        { cause: error },
      );
    });
    created.push(name);
    return databaseUrl(serverUrl, name);
  };
  let postgresUrl = serverUrl;
  try {
    // Each file gets a database of its own, so files sharing the server never see each other's tables.
    if (shared) postgresUrl = await createDatabase(`file_${randomBytes(6).toString('hex')}`);
  } catch (error) {
    await services.stop();
    throw error;
  }
  const clients = makeAwsClients(services.awsEnv);
  const resources = await provisionLocalResources(clients);
  return {
    services,
    clients,
    resources,
    postgresUrl,
    sql: runSql,
    createDatabase,
    async stop() {
      for (const client of Object.values(clients)) (client as { destroy?: () => void }).destroy?.();
      if (shared) {
        // Databases created with TEMPLATE inside the test are not tracked; the server goes at the end of the run.
        for (const name of created.reverse())
          await runSql(shared, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      }
      await services.stop();
    },
  };
}
