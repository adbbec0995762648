import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  type ArchiveContents,
  type ArchiveFile,
  ArchiveReadError,
  countsLines,
  keepsContent,
  MAX_KEPT_BYTES,
} from './archive-file.ts';
import { HashPool } from './hash-pool.ts';
import { normalisePaths, type ReadProgress } from './normalise-paths.ts';

/** Files per batch handed to a hashing worker: enough to amortise the message, small for balance. */
const BATCH_FILES = 64;

/**
 * Reads a folder pulled with `aws s3 sync s3://<bucket>/evidence/ <dir>` (or an unzipped archive):
 * every file read and hashed by worker threads, a batch of files at a time, so all cores hash
 * (sha256sum uses one) while memory stays at a few batches.
 */
export async function readFolder(
  root: string,
  options: { onProgress?: (progress: ReadProgress) => void; onFile?: (file: ArchiveFile) => void } = {},
): Promise<ArchiveContents> {
  const entries = readdirSync(root, { recursive: true, withFileTypes: true });
  const relativePath = (entry: (typeof entries)[number]) =>
    relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
  const paths = entries
    .filter((entry) => entry.isFile())
    .map(relativePath)
    .sort();
  const normalised = normalisePaths(paths);
  const irregular = entries.filter((entry) => !entry.isFile() && !entry.isDirectory()).map(relativePath);
  const found = new Map<string, ArchiveFile>();
  let bytes = 0;
  const pool = new HashPool();
  try {
    const inFlight: Promise<void>[] = [];
    for (let start = 0; start < paths.length; start += BATCH_FILES) {
      const names = normalised.slice(start, start + BATCH_FILES);
      const batch = pool
        .run({
          kind: 'files',
          paths: paths.slice(start, start + BATCH_FILES).map((path) => join(root, path)),
          keep: names.map(keepsContent),
          countLines: names.map(countsLines),
        })
        .then((results) => {
          results.forEach((result, index) => {
            const path = names[index] as string;
            const content = result.content && result.size <= MAX_KEPT_BYTES ? result.content : undefined;
            const file: ArchiveFile = {
              path,
              size: result.size,
              sha256: result.sha256,
              ...(content ? { content } : {}),
              ...(result.lines !== undefined ? { lines: result.lines } : {}),
            };
            found.set(path, file);
            bytes += result.size;
            options.onFile?.(file);
          });
          options.onProgress?.({ files: found.size, totalFiles: paths.length, bytes });
        });
      batch.catch(() => {});
      inFlight.push(batch);
      if (inFlight.length >= pool.size * 2) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } catch (error) {
    throw new ArchiveReadError(`cannot read every file under ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await pool.close();
  }
  const files = new Map(
    normalised.flatMap((path) => (found.has(path) ? [[path, found.get(path) as ArchiveFile] as const] : [])),
  );
  return { kind: 'folder', source: root, files, bytes, irregular };
}
