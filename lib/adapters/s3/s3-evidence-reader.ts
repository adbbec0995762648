import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  ArchivedObjectReadError,
  EvidenceReadError,
  type EvidenceReader,
  type StoredObject,
} from '../../export/evidence-reader.ts';
import { isInvalidObjectState } from './s3-archive-access.ts';

/** The evidence bucket through S3: ListObjectsV2 pages and streamed GetObject bodies. */
export function makeS3EvidenceReader(s3: S3Client, bucket: string): EvidenceReader {
  const get = async (key: string) => {
    try {
      const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!result.Body) throw new EvidenceReadError(`s3://${bucket}/${key} has no body`);
      return result.Body as Readable;
    } catch (error) {
      if (error instanceof EvidenceReadError) throw error;
      if (isInvalidObjectState(error)) {
        throw new ArchivedObjectReadError(
          key,
          `s3://${bucket}/${key} is archived and has no readable restored copy (InvalidObjectState)`,
          { cause: error },
        );
      }
      throw new EvidenceReadError(`cannot read s3://${bucket}/${key}`, { cause: error });
    }
  };
  return {
    async listFolders(prefix) {
      const folders: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
        for (const common of page.CommonPrefixes ?? []) if (common.Prefix) folders.push(common.Prefix);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return folders.sort();
    },
    async *listObjects(prefix, startAfter) {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            // Pages of 250 rather than 1,000: the SDK parses each page into a large object tree,
            // and smaller pages keep that garbage (and so the heap the exporter grows) small.
            MaxKeys: 250,
            ContinuationToken: token,
            ...(token || !startAfter ? {} : { StartAfter: startAfter }),
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key)
            yield {
              key: object.Key,
              size: object.Size ?? 0,
              ...(object.StorageClass ? { storageClass: object.StorageClass } : {}),
              ...(object.LastModified ? { lastModified: object.LastModified } : {}),
            } satisfies StoredObject;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async getBytes(key) {
      const body = await get(key);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    getStream: get,
  };
}

/** Reads one object whole; undefined when there is no such key (what the checkpoint writer needs). */
export function makeS3ObjectReader(
  s3: S3Client,
  bucket: string,
): (key: string) => Promise<Buffer | undefined> {
  return async (key) => {
    try {
      const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await result.Body?.transformToByteArray()) ?? new Uint8Array());
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw new EvidenceReadError(`cannot read s3://${bucket}/${key}`, { cause: error });
    }
  };
}
