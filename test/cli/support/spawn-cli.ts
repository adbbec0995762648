import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the CLI runs from here, as `npx soc2-evidence` does in a checkout. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'soc2-evidence.mjs');

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function spawnCli(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      {
        cwd: ROOT,
        // Only what the CLI needs: no AWS_* from the developer's shell may leak into a case.
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
          ...env,
        },
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** `node bin/soc2-evidence.mjs ...args` as a real process. */
export const cli = (args: readonly string[], env?: Record<string, string | undefined>) =>
  spawnCli(process.execPath, [BIN, ...args], env);
