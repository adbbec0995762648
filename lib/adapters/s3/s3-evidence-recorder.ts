import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChainHeadStore } from '../../evidence/chain-head-store.ts';
import { EvidenceConflictError, type EvidenceObjectStore } from '../../evidence/evidence-object-store.ts';
import type { EvidenceRecorder } from '../../evidence/evidence-recorder.ts';
import { makeEvidenceRecorder } from '../../evidence/record-evidence.ts';
import type { ManifestSigner } from '../../evidence/signer.ts';
import { sha256Hex } from '../../shared/canonical-json.ts';

export { evidenceDocument } from '../../evidence/record-evidence.ts';

function isAlreadyThere(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409
  );
}

/**
 * Write-once evidence objects in S3: `If-None-Match: *` refuses to overwrite, with the SHA-256
 * checksum so S3 rejects a body damaged in transit. A 412 (or 409, a concurrent write) is then
 * resolved by reading what is stored: the same bytes are success (our own earlier write, e.g. an
 * SDK retry of a request that did land, or a retry after a crash), other bytes a conflict. The
 * stored object is read and hashed rather than trusting its checksum header, which not every
 * S3-compatible store returns.
 */
export function makeS3ObjectStore(s3: S3Client, bucket: string): EvidenceObjectStore {
  return {
    async putOnce(key, body, contentType) {
      const sha256 = sha256Hex(body);
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
            IfNoneMatch: '*',
          }),
        );
        return sha256;
      } catch (error) {
        if (!isAlreadyThere(error)) throw error;
        const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = (await stored.Body?.transformToByteArray()) ?? new Uint8Array();
        if (sha256Hex(bytes) === sha256) return sha256;
        throw new EvidenceConflictError(
          `s3://${bucket}/${key} already holds different bytes (SHA-256 ${sha256Hex(bytes).slice(0, 16)}…, not ${sha256.slice(0, 16)}…)`,
          { cause: error },
        );
      }
    },
  };
}

export interface S3EvidenceRecorderOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** KMS in AWS, a local key in `npm start` and tests. */
  readonly signer: ManifestSigner;
  /** Chain heads (DynamoDB `CONTROL#<id>` / `CHAIN`). */
  readonly chain: ChainHeadStore;
  /** The config's time zone, in which periods are cut. @default 'UTC' */
  readonly timeZone?: string;
}

/** The crash-safe recorder ({@link makeEvidenceRecorder}) writing to the evidence bucket. */
export function makeS3EvidenceRecorder(options: S3EvidenceRecorderOptions): EvidenceRecorder {
  return makeEvidenceRecorder({
    store: makeS3ObjectStore(options.s3, options.bucket),
    signer: options.signer,
    chain: options.chain,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  });
}
