import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { s3Uri } from '../../controls/object-location.ts';
import { ControlCheckError, type EvidenceLog } from '../../controls/outcome.ts';
import type { ObjectStorePort, StoredObject } from '../../controls/ports.ts';
import { recordObjectFingerprint, recordObjectRead, streamedSha256 } from '../object-read-evidence.ts';
import { filesUnder } from './folder-bucket.ts';

/** Scanner reports above this size are refused rather than buffered, as in the S3 adapter. */
const DEFAULT_MAX_TEXT_BYTES = 64 * 1024 * 1024;

/**
 * Customer inputs (scanner reports, attestation uploads) for local runs: bucket `B`, key `K` is the
 * file `<root>/B/K`, so what would be uploaded to S3 is dropped into a folder instead. Reads are
 * recorded in the evidence as the S3 adapter records them (the `s3://` name, the SHA-256).
 */
export function makeFolderObjectStore(root: string, defaultBucket: string): ObjectStorePort {
  const pathOf = (bucket: string, key: string) => {
    const parts = [bucket, ...key.split('/')];
    if (parts.some((part) => part === '.' || part === '..'))
      throw new ControlCheckError(`${s3Uri(bucket, key)} is not a key a local folder can hold`);
    return join(root, ...parts.filter((part) => part !== ''));
  };
  const read = async (object: StoredObject) => {
    try {
      return await readFile(pathOf(object.bucket, object.key));
    } catch (error) {
      throw new ControlCheckError(
        `cannot read ${s3Uri(object.bucket, object.key)} (${pathOf(object.bucket, object.key)}): ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
  return {
    defaultBucket,
    async list(bucket, prefix, evidence: EvidenceLog) {
      const bucketRoot = pathOf(bucket, '');
      let names: string[];
      try {
        names = await filesUnder(bucketRoot);
      } catch (error) {
        throw new ControlCheckError(`cannot list ${bucketRoot}`, { cause: error });
      }
      const objects: StoredObject[] = [];
      for (const key of names.filter((name) => name.startsWith(prefix)).sort()) {
        const info = await stat(pathOf(bucket, key));
        objects.push({ bucket, key, size: info.size, lastModified: info.mtime });
      }
      evidence.add({
        kind: 'api',
        label: `list ${s3Uri(bucket, prefix)}`,
        service: 'local-folder',
        operation: 'ListObjects',
        request: { Bucket: bucket, Prefix: prefix, folder: bucketRoot },
        response: {
          count: objects.length,
          objects: objects.map((o) => ({
            key: o.key,
            size: o.size,
            lastModified: o.lastModified.toISOString(),
          })),
        },
        at: new Date().toISOString(),
      });
      return objects;
    },
    async readText(object, evidence, options = {}) {
      const maxBytes = options.maxBytes ?? DEFAULT_MAX_TEXT_BYTES;
      const uri = s3Uri(object.bucket, object.key);
      if (object.size > maxBytes)
        throw new ControlCheckError(`${uri} is ${object.size} bytes, over the ${maxBytes}-byte limit`);
      const body = await read(object);
      if (body.length > maxBytes) throw new ControlCheckError(`${uri} is over the ${maxBytes}-byte limit`);
      recordObjectRead(evidence, uri, body);
      return body.toString('utf8');
    },
    async fingerprint(object, evidence) {
      const uri = s3Uri(object.bucket, object.key);
      let digest: { sha256: string; size: number };
      try {
        digest = await streamedSha256(createReadStream(pathOf(object.bucket, object.key)));
      } catch (error) {
        throw new ControlCheckError(`cannot read ${uri}: ${(error as Error).message}`, { cause: error });
      }
      recordObjectFingerprint(evidence, uri, digest.sha256);
      return digest;
    },
  };
}
