import { makeFolderBucket } from '../adapters/filesystem/folder-bucket.ts';
import { uploadAndPresign } from '../adapters/s3/presign-upload.ts';
import { makeS3ArchiveAccess } from '../adapters/s3/s3-archive-access.ts';
import { makeS3EvidenceReader } from '../adapters/s3/s3-evidence-reader.ts';
import type { ArchiveAccess } from '../export/archived-evidence.ts';
import type { EvidenceReader } from '../export/evidence-reader.ts';
import type { PresignedExport } from '../export/presigned-export.ts';
import { type AwsClients, makeAwsClients } from './aws-clients.ts';

/** What `export` needs from the evidence bucket: a reader, archive restores, and an upload that returns a link. */
export interface ExportDeps {
  readonly reader: EvidenceReader;
  readonly archive: ArchiveAccess;
  publish(file: string, expiresInSeconds?: number): Promise<PresignedExport>;
}

export function makeExportDeps(
  bucket: string,
  env: Readonly<Record<string, string | undefined>>,
  clients: Pick<AwsClients, 's3'> = makeAwsClients(env),
): ExportDeps {
  const { s3 } = clients;
  return {
    reader: makeS3EvidenceReader(s3, bucket),
    archive: makeS3ArchiveAccess(s3, bucket),
    publish: (file, expiresInSeconds) =>
      uploadAndPresign({ s3, bucket, file, ...(expiresInSeconds ? { expiresInSeconds } : {}) }),
  };
}

/** The evidence folder of `run --local` (read-only here): nothing to upload a link to. */
export function makeLocalExportDeps(bucketDir: string): ExportDeps {
  return {
    reader: makeFolderBucket(bucketDir, bucketDir).reader,
    // Files on disk have no storage class: everything is readable, nothing can be archived.
    archive: {
      restoreStatus: async () => 'restored',
      requestRestore: async () => {
        throw new Error('a local evidence folder holds nothing archived: there is nothing to restore');
      },
    },
    publish: async () => {
      throw new Error('a local export cannot be presigned: there is no bucket to upload it to');
    },
  };
}
