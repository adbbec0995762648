import { createReadStream } from 'node:fs';
import { link, mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { EvidenceConflictError, type EvidenceObjectStore } from '../../evidence/evidence-object-store.ts';
import { EvidenceReadError, type EvidenceReader, type StoredObject } from '../../export/evidence-reader.ts';
import { sha256Hex } from '../../shared/canonical-json.ts';

/** A bucket key that cannot name a file inside the folder (absolute, `..`, empty segments). */
export class InvalidObjectKeyError extends Error {
  override name = 'InvalidObjectKeyError';
}

/**
 * A folder holding objects under their bucket keys, one file per key (`evidence/a/b.json` is
 * `<root>/evidence/a/b.json`): exactly what `aws s3 sync s3://<bucket>/ <root>` leaves, so `verify`
 * reads it as it reads a synced bucket, and a later `aws s3 sync <root> s3://<bucket>/` uploads it.
 */
export interface FolderBucket {
  readonly root: string;
  readonly store: EvidenceObjectStore;
  readonly reader: EvidenceReader;
  /** One object whole; undefined when there is no such key (what the checkpoint writer needs). */
  readObject(key: string): Promise<Buffer | undefined>;
}

function pathOf(root: string, key: string): string {
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new InvalidObjectKeyError(`"${key}" is not an object key this folder can hold`);
  }
  return join(root, ...parts);
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Every file below `dir` as a `/`-separated path relative to it; none when `dir` does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) =>
        join(entry.parentPath, entry.name)
          .slice(dir.length + 1)
          .split(sep)
          .join('/'),
      );
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/**
 * Objects in `root`. Writes are write-once by content, like the S3 store's `If-None-Match: *`: the
 * bytes go to a temporary file in `scratch` (same file system, outside the bucket, so a crash
 * never leaves a stray file that `verify` would call unexpected) and are hard-linked into place,
 * which fails if the key exists; existing equal bytes are success, other bytes a conflict.
 */
export function makeFolderBucket(root: string, scratch: string): FolderBucket {
  let scratchReady: Promise<unknown> | undefined;
  const readObject = async (key: string) => {
    try {
      return await readFile(pathOf(root, key));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw new EvidenceReadError(`cannot read ${key} in ${root}`, { cause: error });
    }
  };
  const sizeOf = async (key: string) => {
    try {
      return (await stat(pathOf(root, key))).size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw new EvidenceReadError(`cannot read ${key} in ${root}`, { cause: error });
    }
  };
  const store: EvidenceObjectStore = {
    async putOnce(key, body) {
      const target = pathOf(root, key);
      const sha256 = sha256Hex(body);
      scratchReady ??= mkdir(scratch, { recursive: true });
      await scratchReady;
      await mkdir(dirname(target), { recursive: true });
      const temporary = join(scratch, `${process.pid}-${Math.random().toString(36).slice(2)}`);
      await writeFile(temporary, body, { mode: 0o444 });
      try {
        await link(temporary, target);
        return sha256;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const there = await readFile(target);
        if (sha256Hex(there) === sha256) return sha256;
        throw new EvidenceConflictError(
          `${target} already holds different bytes (SHA-256 ${sha256Hex(there).slice(0, 16)}…, not ${sha256.slice(0, 16)}…)`,
          { cause: error },
        );
      } finally {
        await unlink(temporary).catch(() => {});
      }
    },
  };
  const reader: EvidenceReader = {
    async listFolders(prefix) {
      const cut = prefix.lastIndexOf('/') + 1;
      const folder = prefix.slice(0, cut);
      const start = prefix.slice(cut);
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(folder === '' ? root : pathOf(root, folder.slice(0, -1)), {
          withFileTypes: true,
        });
      } catch (error) {
        if (isMissing(error)) return [];
        throw new EvidenceReadError(`cannot list ${prefix} in ${root}`, { cause: error });
      }
      return entries
        .filter((entry) => entry.isDirectory() && entry.name.startsWith(start))
        .map((entry) => `${folder}${entry.name}/`)
        .sort();
    },
    async *listObjects(prefix, startAfter) {
      const cut = prefix.lastIndexOf('/') + 1;
      const folder = prefix.slice(0, cut);
      const base = folder === '' ? root : pathOf(root, folder.slice(0, -1));
      const keys = (await filesUnder(base))
        .map((path) => `${folder}${path}`)
        .filter((key) => key.startsWith(prefix) && (startAfter === undefined || key > startAfter))
        .sort();
      for (const key of keys) {
        const size = await sizeOf(key);
        if (size !== undefined) yield { key, size } satisfies StoredObject;
      }
    },
    async getBytes(key) {
      const bytes = await readObject(key);
      if (!bytes) throw new EvidenceReadError(`${key} does not exist in ${root}`);
      return bytes;
    },
    async getStream(key) {
      if ((await sizeOf(key)) === undefined) throw new EvidenceReadError(`${key} does not exist in ${root}`);
      return createReadStream(pathOf(root, key));
    },
  };
  return { root, store, reader, readObject };
}
