import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ControlPorts } from '../controls/ports.ts';
import type { Env } from './clients/client-config.ts';

/** The ports of the AWS account APIs only some control tests call (Secrets Manager, IAM, Backup). */
export type AwsApiPorts = Required<Pick<ControlPorts, 'secrets' | 'accessKeys' | 'restoreTests'>>;

/** Loads once; a failed load is tried again by the next call rather than remembered. */
function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

/**
 * The same ports as `makeControlPorts` builds, for the worker Lambda: each adapter (and, for IAM
 * and Backup, its SDK client) is imported by the port's first call. Only `secret-rotation` reads
 * IAM and Secrets Manager metadata and only `restore-test-history` lists restore jobs, so a cold
 * start neither reads nor compiles those clients (IAM alone is 26 KB of the bundle, with the Query
 * protocol's XML code); in the bundle they are chunks. A port's first call pays their load once.
 */
export function lazyAwsApiPorts(env: Env, secretsManager: SecretsManagerClient): AwsApiPorts {
  const secrets = loadOnce(async () => {
    const { makeSecretsManagerInventory } = await import(
      '../adapters/secrets-manager/secrets-manager-inventory.ts'
    );
    return makeSecretsManagerInventory(secretsManager);
  });
  const accessKeys = loadOnce(async () => {
    const [{ makeIamAccessKeys }, { makeIamClient }] = await Promise.all([
      import('../adapters/iam/iam-access-keys.ts'),
      import('./clients/iam-client.ts'),
    ]);
    return makeIamAccessKeys(makeIamClient(env));
  });
  const restoreTests = loadOnce(async () => {
    const [{ makeBackupRestoreTests }, { makeBackupClient }] = await Promise.all([
      import('../adapters/backup/backup-restore-port.ts'),
      import('./clients/backup-client.ts'),
    ]);
    return makeBackupRestoreTests(makeBackupClient(env));
  });
  return {
    secrets: {
      describeSecret: async (secretId, evidence) => (await secrets()).describeSecret(secretId, evidence),
    },
    accessKeys: {
      listAccessKeys: async (userName, evidence) => (await accessKeys()).listAccessKeys(userName, evidence),
    },
    restoreTests: {
      listRestoreJobs: async (range, evidence) => (await restoreTests()).listRestoreJobs(range, evidence),
    },
  };
}
