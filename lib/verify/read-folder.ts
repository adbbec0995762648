import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type ArchiveContents, type ArchiveFile, keepsContent, MAX_KEPT_BYTES } from './archive-file.ts';
import { normalisePaths, type ReadProgress } from './normalise-paths.ts';

const SMALL_FILE = 1024 * 1024;

async function hashFile(
  path: string,
  size: number,
  keep: boolean,
): Promise<{ sha256: string; content?: Buffer }> {
  if (size <= SMALL_FILE) {
    const bytes = await readFile(path);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return keep ? { sha256, content: bytes } : { sha256 };
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex') };
}

/**
 * Reads a folder pulled with `aws s3 sync s3://<bucket>/evidence/ <dir>` (or an unzipped archive):
 * every file hashed, a few hashing at once, memory bounded by that concurrency.
 */
export async function readFolder(
  root: string,
  options: { concurrency?: number; onProgress?: (progress: ReadProgress) => void } = {},
): Promise<ArchiveContents> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const paths = entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
  const sizes = await Promise.all(paths.map(async (path) => (await stat(join(root, path))).size));
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  const normalised = normalisePaths(paths);
  const files = new Map<string, ArchiveFile>();
  let next = 0;
  let doneBytes = 0;
  const worker = async () => {
    while (next < paths.length) {
      const index = next;
      next += 1;
      const path = paths[index] as string;
      const size = sizes[index] as number;
      const normal = normalised[index] as string;
      const keep = keepsContent(normal) && size <= MAX_KEPT_BYTES;
      const hashed = await hashFile(join(root, path), size, keep);
      files.set(normal, { path: normal, size, ...hashed });
      doneBytes += size;
      options.onProgress?.({ files: files.size, totalFiles: paths.length, bytes: doneBytes, totalBytes });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return {
    kind: 'folder',
    source: root,
    files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1))),
    bytes: totalBytes,
  };
}
