import pg from 'pg';

export interface DemoDatabases {
  readonly appUrl: string;
  readonly restoredUrl: string;
  /** The databases' names, to say what was created and removed. */
  readonly names: readonly string[];
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Two fresh databases on the given server: the customer's application database and a restore of
 * it (as a staging restore would be). Named per run so a shared DATABASE_URL server is never clobbered.
 */
export async function createDemoDatabases(serverUrl: string): Promise<DemoDatabases> {
  const suffix = `${Date.now().toString(36)}${process.pid}`;
  const names = { app: `soc2_demo_app_${suffix}`, restored: `soc2_demo_restored_${suffix}` };
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${names.app}`);
    await admin.query(`CREATE DATABASE ${names.restored}`);
  } finally {
    await admin.end();
  }
  return {
    appUrl: withDatabase(serverUrl, names.app),
    restoredUrl: withDatabase(serverUrl, names.restored),
    names: Object.values(names),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        for (const name of Object.values(names))
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
