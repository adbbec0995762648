import { readdirSync } from 'node:fs';
import { sep } from 'node:path';
import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';
import {
  type ArchiveContents,
  type ArchiveFile,
  ArchiveReadError,
  countsLines,
  keepsContent,
  MAX_KEPT_BYTES,
} from './archive-file.ts';
import { HashPool, HashWorkerError } from './hash-pool.ts';
import { normalisePath, normalisePaths, type ReadProgress } from './normalise-paths.ts';

/** Files per batch handed to a hashing worker: enough to amortise the message, small for balance. */
const BATCH_FILES = 64;

export interface ReaderOptions {
  readonly onProgress?: (progress: ReadProgress) => void;
  readonly onFile?: (file: ArchiveFile) => void;
  /** Workers to read and hash with (left open); without one the reader starts and closes its own. */
  readonly pool?: HashPool;
}

/**
 * Reads a folder pulled with `aws s3 sync s3://<bucket>/evidence/ <dir>` (or an unzipped archive):
 * every file read and hashed by worker threads, a batch of files at a time, so all cores hash
 * (sha256sum uses one) while memory stays at a few batches. Batches leave while the folder is still
 * being listed, so the workers start at once.
 */
export async function readFolder(root: string, options: ReaderOptions = {}): Promise<ArchiveContents> {
  // Paths below the root by concatenation (path.join normalised each of thousands of paths).
  const base = root.endsWith(sep) ? root : `${root}${sep}`;
  const found = new Map<string, ArchiveFile>();
  const irregular: string[] = [];
  const listed: string[] = [];
  let bytes = 0;
  const pool = options.pool ?? new HashPool();
  const inFlight: Promise<void>[] = [];
  try {
    let pending: string[] = [];
    const dispatch = async () => {
      const paths = pending;
      pending = [];
      if (paths.length === 0) return;
      const names = paths.map((path) => normalisePath(path, rooted));
      const batch = pool
        .run({
          kind: 'files',
          paths: paths.map((path) => `${base}${path}`),
          keep: names.map(keepsContent),
          countLines: names.map(countsLines),
        })
        .then((results) => {
          results.forEach((result, index) => {
            const path = names[index] as string;
            const file: ArchiveFile = {
              path,
              size: result.size,
              sha256: result.sha256,
              ...(result.content && result.size <= MAX_KEPT_BYTES ? { content: result.content } : {}),
              ...(result.lines !== undefined ? { lines: result.lines } : {}),
            };
            found.set(path, file);
            bytes += result.size;
            options.onFile?.(file);
          });
          options.onProgress?.({ files: found.size, bytes });
        });
      batch.catch(() => {});
      inFlight.push(batch);
      if (inFlight.length >= pool.size * 2) await inFlight.shift();
    };
    // Synchronous, so listing a file costs no promise; the caller awaits only a full batch.
    const add = (path: string): boolean => {
      listed.push(path);
      pending.push(path);
      return pending.length >= BATCH_FILES;
    };
    // A file's name depends on whether the folder is rooted (any file under evidence/): walk that
    // subtree first, so every name is settled when its file is sent, and files at the top wait.
    const top = readdirSync(root, { withFileTypes: true });
    const folders = top.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    let rooted = false;
    const walk = async (start: string) => {
      const stack = [start];
      // Depth first, relative paths built as it goes (path.relative per file cost more than listing).
      for (let folder = stack.pop(); folder !== undefined; folder = stack.pop()) {
        for (const entry of readdirSync(`${base}${folder}`, { withFileTypes: true })) {
          const path = `${folder}/${entry.name}`;
          if (entry.isDirectory()) stack.push(path);
          else if (entry.isFile()) {
            if (path.startsWith(EVIDENCE_PREFIX)) rooted = true;
            if (add(path)) await dispatch();
          } else irregular.push(path);
        }
      }
    };
    const evidenceFolder = EVIDENCE_PREFIX.slice(0, -1);
    if (folders.includes(evidenceFolder)) await walk(evidenceFolder);
    for (const folder of folders) if (folder !== evidenceFolder) await walk(folder);
    for (const entry of top) {
      if (entry.isFile() && add(entry.name)) await dispatch();
      else if (!entry.isDirectory()) irregular.push(entry.name);
    }
    await dispatch();
    await Promise.all(inFlight);
  } catch (error) {
    await Promise.allSettled(inFlight);
    // A dead worker is not an unreadable folder: nothing was wrong with the files.
    if (error instanceof HashWorkerError) throw error;
    throw new ArchiveReadError(`cannot read every file under ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    if (!options.pool) await pool.close();
  }
  listed.sort();
  const files = new Map<string, ArchiveFile>();
  for (const path of normalisePaths(listed)) {
    const file = found.get(path);
    if (file) files.set(path, file);
  }
  options.onProgress?.({ files: files.size, totalFiles: listed.length, bytes });
  return { kind: 'folder', source: root, files, bytes, irregular: irregular.sort() };
}
