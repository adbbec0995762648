import { HeadObjectCommand, RestoreObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArchiveAccess, RestoreStatus } from '../../export/archived-evidence.ts';
import { EvidenceReadError } from '../../export/evidence-reader.ts';

const errorName = (error: unknown) => (error as { name?: unknown } | undefined)?.name;

/** GetObject's answer for an archived object without a readable restored copy (HTTP 403). */
export function isInvalidObjectState(error: unknown): boolean {
  return errorName(error) === 'InvalidObjectState';
}

/**
 * HeadObject's `Restore` header (`x-amz-restore`): absent when no restore was asked for,
 * `ongoing-request="true"` while S3 restores, `ongoing-request="false", expiry-date="..."` once the
 * temporary copy is readable.
 */
export function restoreStatusOf(restore: string | undefined): RestoreStatus {
  if (!restore) return 'not-requested';
  if (/ongoing-request\s*=\s*"true"/i.test(restore)) return 'in-progress';
  if (/ongoing-request\s*=\s*"false"/i.test(restore)) return 'restored';
  return 'not-requested';
}

/** Archived evidence through S3: HeadObject for where a restore stands, RestoreObject to ask for one. */
export function makeS3ArchiveAccess(s3: S3Client, bucket: string): ArchiveAccess {
  return {
    async restoreStatus(key) {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return restoreStatusOf(head.Restore);
      } catch (error) {
        throw new EvidenceReadError(`cannot check the storage class of s3://${bucket}/${key}`, {
          cause: error,
        });
      }
    },
    async requestRestore(key, tier, days) {
      try {
        await s3.send(
          new RestoreObjectCommand({
            Bucket: bucket,
            Key: key,
            RestoreRequest: { Days: days, GlacierJobParameters: { Tier: tier } },
          }),
        );
        return 'requested';
      } catch (error) {
        // 409: someone (an earlier run, a colleague) asked already; the copy is on its way.
        if (errorName(error) === 'RestoreAlreadyInProgress') return 'in-progress';
        throw new EvidenceReadError(`cannot request a restore of s3://${bucket}/${key}`, { cause: error });
      }
    },
  };
}
