import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ChainHeadStore } from '../../evidence/chain-head-store.ts';
import { EvidenceConflictError, type EvidenceObjectStore } from '../../evidence/evidence-object-store.ts';
import type { EvidenceRecorder } from '../../evidence/evidence-recorder.ts';
import type { PopulationObjectStore } from '../../evidence/population-writer.ts';
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
export function makeS3ObjectStore(
  s3: S3Client,
  bucket: string,
  options: { readonly partBytes?: number } = {},
): EvidenceObjectStore & PopulationObjectStore {
  const partBytes = Math.max(MIN_PART_BYTES, options.partBytes ?? DEFAULT_PART_BYTES);
  const store: EvidenceObjectStore & PopulationObjectStore = {
    async putStreamOnce(key, chunks, contentType, beforeCommit) {
      const whole = createHash('sha256');
      let size = 0;
      let buffered: Buffer[] = [];
      let bufferedBytes = 0;
      let uploadId: string | undefined;
      const parts: { PartNumber: number; ETag: string }[] = [];
      const flush = async () => {
        const body = Buffer.concat(buffered, bufferedBytes);
        buffered = [];
        bufferedBytes = 0;
        if (uploadId === undefined) {
          const created = await s3.send(
            new CreateMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              ContentType: contentType,
            }),
          );
          if (!created.UploadId) throw new Error(`s3://${bucket}/${key}: no upload id`);
          uploadId = created.UploadId;
        }
        const partNumber = parts.length + 1;
        // Parts carry the SDK's default checksum; the whole object's SHA-256 is computed here and
        // sealed in the manifest, so verify catches any byte that differs, in transit or later.
        const uploaded = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
          }),
        );
        parts.push({ PartNumber: partNumber, ETag: uploaded.ETag ?? '' });
      };
      try {
        for await (const chunk of chunks) {
          whole.update(chunk);
          size += chunk.length;
          buffered.push(Buffer.from(chunk));
          bufferedBytes += chunk.length;
          // One part in memory at a time: the upload holds at most partBytes plus one chunk.
          if (bufferedBytes >= partBytes) await flush();
        }
        if (uploadId === undefined) {
          // Small enough for one PUT: the same write-once path as every other artifact.
          beforeCommit();
          const body = Buffer.concat(buffered, bufferedBytes);
          return { sha256: await store.putOnce(key, body, contentType), size: body.length };
        }
        if (bufferedBytes > 0) await flush();
        beforeCommit();
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: '*',
          }),
        );
        return { sha256: whole.digest('hex'), size };
      } catch (error) {
        if (uploadId !== undefined) {
          await s3
            .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
            .catch(() => {});
        }
        if (!isAlreadyThere(error)) throw error;
        const stored = await storedSha256(s3, bucket, key);
        const sha256 = whole.digest('hex');
        if (stored.sha256 === sha256) return { sha256, size };
        throw new EvidenceConflictError(
          `s3://${bucket}/${key} already holds different bytes (SHA-256 ${stored.sha256.slice(0, 16)}…, not ${sha256.slice(0, 16)}…)`,
          { cause: error },
        );
      }
    },
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
  return store;
}

/** S3's smallest part (all but the last); a population part is 8 MiB unless a test asks smaller. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

/** The SHA-256 of a stored object, streamed (a population may be hundreds of MB). */
async function storedSha256(s3: S3Client, bucket: string, key: string): Promise<{ sha256: string }> {
  const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of (stored.Body ?? []) as AsyncIterable<Uint8Array>) hash.update(chunk);
  return { sha256: hash.digest('hex') };
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
  const store = makeS3ObjectStore(options.s3, options.bucket);
  return makeEvidenceRecorder({
    store,
    populationStore: store,
    signer: options.signer,
    chain: options.chain,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  });
}
