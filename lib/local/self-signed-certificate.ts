import { execFileSync } from 'node:child_process';
import { chmod, chown } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A throwaway self-signed P-256 certificate for localhost (via `openssl`), readable by the OS user
 * that runs the PostgreSQL server: `owner` is the data directory's owner, which is the `postgres`
 * user when we run as root. PostgreSQL refuses a key that others can read, hence 0600.
 */
export async function writeSelfSignedCertificate(
  dir: string,
  owner: { uid: number; gid: number },
): Promise<{ cert: string; key: string }> {
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
    ]),
    { stdio: 'ignore' },
  );
  await chmod(key, 0o600);
  if (process.getuid?.() === 0) {
    await chown(key, owner.uid, owner.gid);
    await chown(cert, owner.uid, owner.gid);
  }
  return { cert, key };
}
