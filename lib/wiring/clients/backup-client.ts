import { BackupClient } from '@aws-sdk/client-backup';
import { clientConfig, type Env } from './client-config.ts';

/** AWS Backup (restore jobs and their validation results). */
export function makeBackupClient(env: Env): BackupClient {
  return new BackupClient(clientConfig('BACKUP', env));
}
