import { createReadStream, readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { EvidenceReadError, type EvidenceReader, type StoredObject } from '../export/evidence-reader.ts';
import { normalisePaths } from '../verify/normalise-paths.ts';

/**
 * Where `sample` reads signed evidence: the {@link EvidenceReader} port, so the evidence bucket
 * (S3), an exported zip, a synced folder, or the local services (`--local`) all plug in. Keys are
 * bucket keys (`evidence/...`) whichever form the evidence is in.
 */
export type EvidenceSource = EvidenceReader;

function sortedFrom(keys: Iterable<[string, number]>, prefix: string, startAfter?: string): StoredObject[] {
  return [...keys]
    .filter(([key]) => key.startsWith(prefix) && (startAfter === undefined || key > startAfter))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, size]) => ({ key, size }));
}

function foldersOf(keys: Iterable<string>, prefix: string): string[] {
  const folders = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const slash = key.indexOf('/', prefix.length);
    if (slash !== -1) folders.add(key.slice(0, slash + 1));
  }
  return [...folders].sort();
}

/** A folder: `aws s3 sync s3://<bucket>/evidence/ DIR`, an unzipped export, or a sample's DIR. */
export async function folderEvidenceSource(root: string): Promise<EvidenceSource> {
  const entries = readdirSync(root, { recursive: true, withFileTypes: true }).filter((entry) =>
    entry.isFile(),
  );
  const paths = entries.map((entry) =>
    relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'),
  );
  const keys = normalisePaths(paths);
  const byKey = new Map<string, string>();
  const sizes = new Map<string, number>();
  await Promise.all(
    keys.map(async (key, index) => {
      const path = join(root, paths[index] as string);
      byKey.set(key, path);
      sizes.set(key, (await stat(path)).size);
    }),
  );
  const pathOf = (key: string) => {
    const path = byKey.get(key);
    if (!path) throw new EvidenceReadError(`${key} is not in ${root}`);
    return path;
  };
  return {
    async listFolders(prefix) {
      return foldersOf(byKey.keys(), prefix);
    },
    async *listObjects(prefix, startAfter) {
      yield* sortedFrom(sizes.entries(), prefix, startAfter);
    },
    getBytes: async (key) => readFile(pathOf(key)),
    // 1 MiB reads: a population is streamed once, line by line; fewer, larger chunks cost less.
    getStream: async (key) => createReadStream(pathOf(key), { highWaterMark: 1024 * 1024 }),
  };
}

/** An archive made by `soc2-evidence export`: entries read on demand, inflated while streamed. */
export async function zipEvidenceSource(path: string): Promise<EvidenceSource & { close(): void }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, opened) =>
      error || !opened
        ? reject(new EvidenceReadError(`cannot open ${path}`, { cause: error }))
        : resolve(opened),
    ),
  );
  const entries = await new Promise<yauzl.Entry[]>((resolve, reject) => {
    const found: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!entry.fileName.endsWith('/')) found.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(found));
    zip.on('error', reject);
    zip.readEntry();
  });
  const keys = normalisePaths(entries.map((entry) => entry.fileName));
  const byKey = new Map(keys.map((key, index) => [key, entries[index] as yauzl.Entry]));
  const entryOf = (key: string) => {
    const entry = byKey.get(key);
    if (!entry) throw new EvidenceReadError(`${key} is not in ${path}`);
    return entry;
  };
  const stream = (key: string) =>
    new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entryOf(key), (error, readable) =>
        error || !readable
          ? reject(new EvidenceReadError(`cannot read ${key} in ${path}`, { cause: error }))
          : resolve(readable),
      ),
    );
  return {
    async listFolders(prefix) {
      return foldersOf(byKey.keys(), prefix);
    },
    async *listObjects(prefix, startAfter) {
      yield* sortedFrom(
        [...byKey].map(([key, entry]) => [key, entry.uncompressedSize] as [string, number]),
        prefix,
        startAfter,
      );
    },
    async getBytes(key) {
      const chunks: Buffer[] = [];
      for await (const chunk of await stream(key)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    getStream: stream,
    close: () => zip.close(),
  };
}

/** A zip file or a folder, by what is at `path`. */
export async function pathEvidenceSource(path: string): Promise<EvidenceSource & { close(): void }> {
  const info = await stat(path);
  if (info.isDirectory()) return { ...(await folderEvidenceSource(path)), close: () => {} };
  return zipEvidenceSource(path);
}
