import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import {
  type ArchiveContents,
  type ArchiveFile,
  ArchiveReadError,
  keepsContent,
  MAX_KEPT_BYTES,
} from './archive-file.ts';
import { normalisePaths, type ReadProgress } from './normalise-paths.ts';

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: true },
      (error, zip) => {
        if (error || !zip)
          reject(new ArchiveReadError(`${path} is not a readable zip archive`, { cause: error }));
        else resolve(zip);
      },
    );
  });
}

function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream)
        reject(new ArchiveReadError(`cannot read ${entry.fileName} from the archive`, { cause: error }));
      else resolve(stream);
    });
  });
}

/** Reads an exported archive entry by entry, hashing each as it inflates; memory stays flat. */
export async function readZip(
  path: string,
  options: { onProgress?: (progress: ReadProgress) => void } = {},
): Promise<ArchiveContents> {
  const totalBytes = (await stat(path)).size;
  const zip = await openZip(path);
  const raw: { name: string; size: number; sha256: string; content?: Buffer }[] = [];
  let bytes = 0;
  let compressedBytes = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown) => {
      zip.close();
      reject(
        error instanceof ArchiveReadError
          ? error
          : new ArchiveReadError(`${path}: ${String(error)}`, { cause: error }),
      );
    };
    zip.on('error', fail);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) {
        zip.readEntry();
        return;
      }
      entryStream(zip, entry)
        .then(async (stream) => {
          const hash = createHash('sha256');
          const keep = keepsContent(entry.fileName) && entry.uncompressedSize <= MAX_KEPT_BYTES;
          const chunks: Buffer[] = [];
          for await (const chunk of stream) {
            hash.update(chunk as Buffer);
            if (keep) chunks.push(chunk as Buffer);
          }
          const record = { name: entry.fileName, size: entry.uncompressedSize, sha256: hash.digest('hex') };
          raw.push(keep ? { ...record, content: Buffer.concat(chunks) } : record);
          bytes += entry.uncompressedSize;
          compressedBytes += entry.compressedSize;
          options.onProgress?.({
            files: raw.length,
            totalFiles: zip.entryCount,
            bytes: compressedBytes,
            totalBytes,
          });
          zip.readEntry();
        })
        .catch(fail);
    });
    zip.readEntry();
  });
  const names = normalisePaths(raw.map((file) => file.name));
  const files = new Map<string, ArchiveFile>();
  const duplicates: string[] = [];
  raw.forEach((file, index) => {
    const name = names[index] as string;
    if (files.has(name)) duplicates.push(name);
    files.set(name, {
      path: name,
      size: file.size,
      sha256: file.sha256,
      ...(file.content ? { content: file.content } : {}),
    });
  });
  return { kind: 'zip', source: path, files, bytes, duplicates };
}
