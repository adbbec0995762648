import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { s3Uri } from '../../controls/object-location.ts';
import { ControlCheckError, type EvidenceLog } from '../../controls/outcome.ts';
import type { ObjectStorePort, StoredObject } from '../../controls/ports.ts';
import { awsCallError, recordAwsCall } from '../aws-call-evidence.ts';
import { recordObjectFingerprint, recordObjectRead, streamedSha256 } from '../object-read-evidence.ts';

/** Objects listed verbatim in the evidence at most; the count is always exact. */
const LISTED_IN_EVIDENCE = 1000;
/** Scanner reports above this size are refused rather than buffered (Lambda memory). @default 64 MiB */
const DEFAULT_MAX_TEXT_BYTES = 64 * 1024 * 1024;

async function getBody(s3: S3Client, object: StoredObject): Promise<{ stream: Readable; size: number }> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }));
    if (!response.Body) throw new ControlCheckError(`${s3Uri(object.bucket, object.key)} has no body`);
    return { stream: response.Body as Readable, size: response.ContentLength ?? object.size };
  } catch (error) {
    if (error instanceof ControlCheckError) throw error;
    throw awsCallError(error, `reading ${s3Uri(object.bucket, object.key)}`, 's3:GetObject');
  }
}

/** S3 adapter for scanner reports and attestation uploads. */
export function makeS3ObjectStore(s3: S3Client, defaultBucket: string): ObjectStorePort {
  return {
    defaultBucket,

    list: (bucket, prefix, evidence: EvidenceLog) =>
      recordAwsCall(
        {
          evidence,
          label: `list ${s3Uri(bucket, prefix)}`,
          service: 's3',
          operation: 'ListObjectsV2',
          request: { Bucket: bucket, Prefix: prefix },
          doing: `listing ${s3Uri(bucket, prefix)}`,
          // ListObjectsV2 is authorized as s3:ListBucket.
          action: 's3:ListBucket',
        },
        async () => {
          const objects: StoredObject[] = [];
          let continuationToken: string | undefined;
          do {
            const page = await s3.send(
              new ListObjectsV2Command({
                Bucket: bucket,
                Prefix: prefix,
                ContinuationToken: continuationToken,
              }),
            );
            for (const item of page.Contents ?? []) {
              if (item.Key === undefined || item.LastModified === undefined) continue;
              objects.push({ bucket, key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified });
            }
            continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
          } while (continuationToken);
          return objects;
        },
        (objects) => ({
          count: objects.length,
          truncatedInEvidence: objects.length > LISTED_IN_EVIDENCE,
          objects: objects
            .slice(0, LISTED_IN_EVIDENCE)
            .map((o) => ({ key: o.key, size: o.size, lastModified: o.lastModified.toISOString() })),
        }),
      ),

    async readText(object, evidence, options = {}) {
      const maxBytes = options.maxBytes ?? DEFAULT_MAX_TEXT_BYTES;
      const uri = s3Uri(object.bucket, object.key);
      if (object.size > maxBytes)
        throw new ControlCheckError(`${uri} is ${object.size} bytes, over the ${maxBytes}-byte limit`);
      const { stream } = await getBody(s3, object);
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of stream) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        total += buffer.length;
        if (total > maxBytes) throw new ControlCheckError(`${uri} is over the ${maxBytes}-byte limit`);
        chunks.push(buffer);
      }
      const body = Buffer.concat(chunks);
      recordObjectRead(evidence, uri, body);
      return body.toString('utf8');
    },

    async fingerprint(object, evidence) {
      const uri = s3Uri(object.bucket, object.key);
      const { stream } = await getBody(s3, object);
      let digest: { sha256: string; size: number };
      try {
        digest = await streamedSha256(stream);
      } catch (error) {
        throw awsCallError(error, `reading ${uri}`, 's3:GetObject');
      }
      recordObjectFingerprint(evidence, uri, digest.sha256);
      return digest;
    },
  };
}
