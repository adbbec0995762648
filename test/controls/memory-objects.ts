import type { ObjectStorePort, StoredObject } from '../../lib/controls/ports.ts';

export interface MemoryObject {
  readonly key: string;
  readonly body: string;
  readonly lastModified: string;
  /** @default the body's length */
  readonly size?: number;
}

/**
 * An object store in memory for unit tests of a control's decisions: lists by prefix, reads bodies,
 * and records which keys were read and fingerprinted. The S3 adapter itself runs against fauxqs in
 * the integration suites.
 */
export function memoryObjects(objects: readonly MemoryObject[], bucket = 'evidence-bucket') {
  const read: string[] = [];
  const fingerprinted: string[] = [];
  const listed: { bucket: string; prefix: string }[] = [];
  const stored = (object: MemoryObject): StoredObject => ({
    bucket,
    key: object.key,
    size: object.size ?? object.body.length,
    lastModified: new Date(object.lastModified),
  });
  const port: ObjectStorePort = {
    defaultBucket: bucket,
    async list(inBucket, prefix) {
      listed.push({ bucket: inBucket, prefix });
      return objects.filter((object) => object.key.startsWith(prefix)).map(stored);
    },
    async readText(object) {
      read.push(object.key);
      return objects.find((candidate) => candidate.key === object.key)?.body ?? '';
    },
    async fingerprint(object) {
      fingerprinted.push(object.key);
      return { sha256: `sha256-of-${object.key}`, size: object.size };
    },
  };
  return { port, read, fingerprinted, listed };
}
