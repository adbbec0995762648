import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/**
 * Setup file of the `unit` project: a unit test does no I/O beyond temp files, so opening a socket
 * or starting a process fails the test at once, naming the fix, instead of making `npm run
 * test:unit` slow or flaky.
 */
class UnitTestIoError extends Error {
  override name = 'UnitTestIoError';
}

const refuse = (what: string) => () => {
  throw new UnitTestIoError(
    `${what} in a unit test: this file does I/O, so it is an integration test; name it *.int.test.ts ` +
      'or add it to INTEGRATION_TESTS in vitest.config.ts',
  );
};

net.Socket.prototype.connect = refuse('a network connection') as typeof net.Socket.prototype.connect;
net.Server.prototype.listen = refuse('a listening server') as typeof net.Server.prototype.listen;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  (childProcess as unknown as Record<string, unknown>)[name] = refuse(`child_process.${name}`);
}
// Named imports (`import { spawn } from 'node:child_process'`) see the patched functions too.
syncBuiltinESMExports();
