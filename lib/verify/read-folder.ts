import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type ArchiveContents, type ArchiveFile, keepsContent, MAX_KEPT_BYTES } from './archive-file.ts';
import { normalisePaths, type ReadProgress } from './normalise-paths.ts';

const CHUNK = 1024 * 1024;

/**
 * Reads a folder pulled with `aws s3 sync s3://<bucket>/evidence/ <dir>` (or an unzipped archive):
 * every file hashed through one reused 1 MB buffer. Reads are synchronous on purpose: with the
 * page cache warm, a thread-pool round trip per open/stat/read/close costs more than the I/O, and
 * one buffer means no garbage per file. The event loop gets a turn every 50 ms.
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
  const files = new Map<string, ArchiveFile>();
  const buffer = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  let lastTurn = Date.now();
  for (let index = 0; index < paths.length; index += 1) {
    const path = normalised[index] as string;
    const keep = keepsContent(path);
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let size = 0;
    const fd = openSync(join(root, paths[index] as string), 'r');
    try {
      for (;;) {
        const read = readSync(fd, buffer, 0, CHUNK, null);
        if (read === 0) break;
        const chunk = buffer.subarray(0, read);
        hash.update(chunk);
        if (keep && size + read <= MAX_KEPT_BYTES) kept.push(Buffer.from(chunk));
        size += read;
      }
    } finally {
      closeSync(fd);
    }
    bytes += size;
    const content = keep && size <= MAX_KEPT_BYTES ? Buffer.concat(kept) : undefined;
    const file: ArchiveFile = { path, size, sha256: hash.digest('hex'), ...(content ? { content } : {}) };
    files.set(path, file);
    options.onFile?.(file);
    if (Date.now() - lastTurn >= 50) {
      options.onProgress?.({ files: index + 1, totalFiles: paths.length, bytes });
      await yieldToEventLoop();
      lastTurn = Date.now();
    }
  }
  options.onProgress?.({ files: paths.length, totalFiles: paths.length, bytes });
  return { kind: 'folder', source: root, files, bytes, irregular };
}
