import type { Readable } from 'node:stream';

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  /** As the listing gives it (S3: `STANDARD`, `GLACIER`, `DEEP_ARCHIVE`, ...); absent when unknown. */
  readonly storageClass?: string;
  readonly lastModified?: Date;
}

/** Read access to the evidence bucket: what export needs and nothing more (the auditor role's rights). */
export interface EvidenceReader {
  /** The next level of "folders" under `prefix` (S3 common prefixes with delimiter `/`). */
  listFolders(prefix: string): Promise<string[]>;
  /** Every object under `prefix`, in key order, starting after `startAfter`. */
  listObjects(prefix: string, startAfter?: string): AsyncIterable<StoredObject>;
  getBytes(key: string): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
}

export class EvidenceReadError extends Error {
  override name = 'EvidenceReadError';
}

/** The object is archived and has no readable restored copy (S3 `InvalidObjectState`). */
export class ArchivedObjectReadError extends EvidenceReadError {
  override name = 'ArchivedObjectReadError';
  constructor(
    readonly key: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
