import { createServer } from 'node:net';

/**
 * Binds `start` to a port without the pick-close-rebind race where the server lets us: servers that
 * accept port 0 (dynalite, fauxqs, node:http) should listen on 0 and read the bound port instead.
 * PostgreSQL does not accept port 0 (the port also names its Unix socket), so for it we pick a
 * port the kernel just handed out and, when another process took it before the server bound it,
 * pick again: the race is detected and retried instead of failing the run.
 */
export async function withFreePort<T>(
  start: (port: number) => Promise<T>,
  options: { attempts?: number; isPortTaken?: (error: unknown) => boolean } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const isPortTaken = options.isPortTaken ?? (() => true);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const port = await ephemeralPort();
    try {
      return await start(port);
    } catch (error) {
      lastError = error;
      if (!isPortTaken(error)) throw error;
    }
  }
  throw new PortUnavailableError(`no free port after ${attempts} attempts`, { cause: lastError });
}

export class PortUnavailableError extends Error {
  override name = 'PortUnavailableError';
}

/** A port the kernel considers free right now (it may be taken again before anyone binds it). */
export function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new PortUnavailableError('no port bound'))));
    });
  });
}
