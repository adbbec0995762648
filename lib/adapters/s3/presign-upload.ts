import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { EXPORTS_PREFIX } from '../../evidence/evidence-layout.ts';
import { type PresignedExport, presignValidity } from '../../export/presigned-export.ts';

/** One PUT suffices up to 5 GB; a year of evidence is far below that. */
const MAX_SINGLE_PUT = 5 * 1024 * 1024 * 1024;

/**
 * Uploads an archive to `exports/<name>` in the evidence bucket and returns a time-limited GET URL,
 * valid for the requested time (SigV4: at most 7 days) or until the credentials that sign it expire,
 * whichever comes first: the SDK's resolved credentials say when (`expiration`, set for role
 * sessions, SSO and the like; absent for long-term access keys).
 */
export async function uploadAndPresign(options: {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly file: string;
  readonly expiresInSeconds?: number;
  readonly now?: Date;
}): Promise<PresignedExport> {
  const size = (await stat(options.file)).size;
  if (size > MAX_SINGLE_PUT)
    throw new Error(`${options.file} is larger than 5 GB; split the export by --control or range`);
  const key = `${EXPORTS_PREFIX}${basename(options.file)}`;
  const now = options.now ?? new Date();
  // The same provider signs the upload and the link; resolving it first tells how long they last.
  const credentials = await options.s3.config.credentials();
  const validity = presignValidity({
    now,
    requestedSeconds: options.expiresInSeconds ?? 24 * 3600,
    ...(credentials.expiration ? { credentialsExpireAt: credentials.expiration } : {}),
  });
  const expiresAt = new Date(validity.expiresAt);
  await options.s3.send(
    new PutObjectCommand({
      Bucket: options.bucket,
      Key: key,
      Body: createReadStream(options.file),
      ContentLength: size,
      ContentType: 'application/zip',
      // An export is a copy, not evidence: lock it only as long as its link lives, instead of the
      // bucket's default years, so the `exports/` lifecycle rule can expire it (needs
      // s3:PutObjectRetention; the originals under `evidence/` keep their full retention).
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: expiresAt,
    }),
  );
  // Signed for the real validity, so the URL's own X-Amz-Expires tells the truth.
  const url = await getSignedUrl(options.s3, new GetObjectCommand({ Bucket: options.bucket, Key: key }), {
    expiresIn: validity.validSeconds,
    signingDate: now,
  });
  return { key, url, ...validity };
}
