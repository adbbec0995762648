import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import {
  type ArchiveContents,
  type ArchiveFile,
  ArchiveReadError,
  countNewlines,
  countsLines,
  keepsContent,
  MAX_KEPT_BYTES,
} from './archive-file.ts';
import { type Hashed, HashPool, HashWorkerError } from './hash-pool.ts';
import { normalisePaths } from './normalise-paths.ts';
import type { ReaderOptions } from './read-folder.ts';
import { listZipEntries, type ZipEntryRecord } from './zip-central-directory.ts';

const BLOCK = 1024 * 1024;
const MAX_BLOCKS = 8;
/** Entries up to this size (compressed, and declared uncompressed) are read and inflated in one go. */
const WINDOW = 8 * 1024 * 1024;
const MAX_INLINE_UNCOMPRESSED = 32 * 1024 * 1024;
/** Compressed bytes and entries per batch handed to a hashing worker. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_ENTRIES = 256;

/**
 * yauzl's file reader makes two thread-pool reads per central-directory record; this one serves
 * them from a few cached 1 MB blocks, so listing 10,000 entries takes milliseconds, not a second.
 */
class CachedFileReader extends yauzl.RandomAccessReader {
  readonly #blocks = new Map<number, Buffer>();
  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
  }

  #block(index: number): Buffer {
    let block = this.#blocks.get(index);
    if (block) {
      this.#blocks.delete(index);
    } else {
      const length = Math.min(BLOCK, this.size - index * BLOCK);
      block = Buffer.allocUnsafe(Math.max(0, length));
      readSync(this.fd, block, 0, block.length, index * BLOCK);
      if (this.#blocks.size >= MAX_BLOCKS) this.#blocks.delete(this.#blocks.keys().next().value as number);
    }
    this.#blocks.set(index, block);
    return block;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    try {
      let copied = 0;
      while (copied < length) {
        const at = position + copied;
        const block = this.#block(Math.floor(at / BLOCK));
        const from = at % BLOCK;
        const n = block.copy(buffer, offset + copied, from, Math.min(block.length, from + length - copied));
        if (n === 0) throw new ArchiveReadError('unexpected end of archive');
        copied += n;
      }
      queueMicrotask(() => callback(null));
    } catch (error) {
      queueMicrotask(() => callback(error as Error));
    }
  }

  /**
   * A range of the file, read with positioned reads. Not `fs.createReadStream({ fd })`: destroying
   * that stream (yauzl does, after an entry) closes the fd whatever `autoClose` says, and every
   * later read, and the final close, failed with EBADF (an entry over 32 MB broke verify).
   */
  override _readStreamForRange(start: number, end: number): Readable {
    const fd = this.fd;
    let position = start;
    return new Readable({
      highWaterMark: BLOCK,
      read() {
        const length = Math.min(BLOCK, end - position);
        if (length <= 0) {
          this.push(null);
          return;
        }
        const buffer = Buffer.allocUnsafe(length);
        read(fd, buffer, 0, length, position, (error, bytesRead) => {
          if (error) return this.destroy(error);
          if (bytesRead === 0) return this.destroy(new ArchiveReadError('unexpected end of archive'));
          position += bytesRead;
          this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
        });
      },
    });
  }

  override close(callback: (err: Error | null) => void): void {
    callback(null);
  }
}

function openZip(reader: CachedFileReader, size: number, path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      reader,
      size,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true },
      (error, zip) => {
        if (error || !zip)
          reject(new ArchiveReadError(`${path} is not a readable zip archive`, { cause: error }));
        else resolve(zip);
      },
    );
  });
}

async function listEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  const entries: yauzl.Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!entry.fileName.endsWith('/')) entries.push(entry);
      zip.readEntry();
    });
    zip.readEntry();
  });
  return entries;
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

/** Which listing read the central directory: the direct parser, or yauzl (it declined, or was forced). */
export type ZipListingPath = 'central-directory' | 'yauzl';

/** For tests: force yauzl's listing, and learn which listing was used. */
export interface ZipListingOptions {
  /** @default 'central-directory' (yauzl when the parser declines) */
  readonly listing?: ZipListingPath;
  readonly onListed?: (path: ZipListingPath) => void;
}

/** The file entries, and how to stream one too large for a worker's buffer. */
interface ZipListing<E extends ZipEntryRecord> {
  readonly entries: E[];
  /** Called after the entry's local header was read and checked; `dataStart` follows it. */
  stream(entry: E, dataStart: number): Promise<Readable>;
  close(): void;
}

async function yauzlListing(
  reader: CachedFileReader,
  fileSize: number,
  path: string,
): Promise<ZipListing<yauzl.Entry>> {
  const zip = await openZip(reader, fileSize, path);
  try {
    return {
      entries: await listEntries(zip),
      stream: (entry) => entryStream(zip, entry),
      close: () => zip.close(),
    };
  } catch (error) {
    zip.close();
    throw error;
  }
}

/**
 * The parser's listing. A large entry streams through yauzl's own low-level reader (opened on the
 * first one: the end record only), with the checks `openReadStream` makes before it, in its words.
 */
function centralDirectoryListing(
  entries: ZipEntryRecord[],
  reader: CachedFileReader,
  fileSize: number,
  path: string,
): ZipListing<ZipEntryRecord> {
  let opened: Promise<yauzl.ZipFile> | undefined;
  return {
    entries,
    async stream(entry, dataStart) {
      if (dataStart + entry.compressedSize > fileSize)
        throw new ArchiveReadError(`cannot read ${entry.fileName} from the archive`, {
          cause: new Error(
            `file data overflows file bounds: ${dataStart} + ${entry.compressedSize} > ${fileSize}`,
          ),
        });
      opened ??= openZip(reader, fileSize, path);
      const zip = await opened;
      return new Promise((resolve, reject) => {
        zip.openReadStreamLowLevel(
          dataStart,
          entry.compressedSize,
          0,
          entry.compressedSize,
          entry.compressionMethod === 8,
          entry.uncompressedSize,
          (error, stream) => {
            if (error || !stream)
              reject(
                new ArchiveReadError(`cannot read ${entry.fileName} from the archive`, { cause: error }),
              );
            else resolve(stream);
          },
        );
      });
    },
    close() {
      opened?.then((zip) => zip.close()).catch(() => {});
    },
  };
}

/**
 * Reads an exported archive: its central directory is parsed once (by `listZipEntries`, or by yauzl
 * for anything that parser declines: ZIP64, comments, odd flags or names); the entries are then
 * handed, in file order, in batches of ~1 MB compressed to the hash workers, which read each local
 * header and its bytes from the file themselves, inflate each entry in one call (bounded by its
 * declared size, so a zip bomb fails instead of filling memory) and hash it on every core. Entries
 * too large for one buffer stream through yauzl on this thread.
 */
export async function readZip(
  path: string,
  options: ReaderOptions = {},
  listingOptions: ZipListingOptions = {},
): Promise<ArchiveContents> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new ArchiveReadError(`cannot open ${path}`, { cause: error });
  }
  const pool = options.pool ?? new HashPool();
  // Batches still reading through fd (after a failure): the descriptor may not close under them.
  const reading: Promise<unknown>[] = [];
  try {
    const fileSize = fstatSync(fd).size;
    const reader = new CachedFileReader(fd, fileSize);
    const listed =
      listingOptions.listing === 'yauzl'
        ? undefined
        : listZipEntries({
            size: fileSize,
            read: (position, length) => {
              const buffer = Buffer.allocUnsafe(length);
              return buffer.subarray(0, length === 0 ? 0 : readSync(fd, buffer, 0, length, position));
            },
          });
    listingOptions.onListed?.(listed ? 'central-directory' : 'yauzl');
    const listing = listed
      ? centralDirectoryListing(listed, reader, fileSize, path)
      : await yauzlListing(reader, fileSize, path);
    try {
      return await hashEntries(listing, { fd, fileSize, path, pool, reading, options });
    } finally {
      listing.close();
    }
  } catch (error) {
    if (error instanceof ArchiveReadError || error instanceof HashWorkerError) throw error;
    throw new ArchiveReadError(`${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    // The workers read through fd: let them finish (or stop them) before it closes.
    if (options.pool) await Promise.allSettled(reading);
    else await pool.close();
    closeSync(fd);
  }
}

interface HashContext {
  readonly fd: number;
  readonly fileSize: number;
  readonly path: string;
  readonly pool: HashPool;
  /** Batches in flight are added here (readZip waits for them before closing `fd`). */
  readonly reading: Promise<unknown>[];
  readonly options: ReaderOptions;
}

async function hashEntries<E extends ZipEntryRecord>(
  listing: ZipListing<E>,
  { fd, fileSize, path, pool, reading, options }: HashContext,
): Promise<ArchiveContents> {
  const entries = [...listing.entries].sort(
    (a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader,
  );
  const names = normalisePaths(entries.map((entry) => entry.fileName));
  const files = new Map<string, ArchiveFile>();
  const duplicates: string[] = [];
  let bytes = 0;
  let done = 0;
  let lastReport = Date.now();
  const record = (entry: E, name: string, sha256: string, content?: Buffer, lines?: number) => {
    if (files.has(name)) duplicates.push(name);
    const file: ArchiveFile = {
      path: name,
      size: entry.uncompressedSize,
      sha256,
      ...(content ? { content } : {}),
      ...(lines !== undefined ? { lines } : {}),
    };
    files.set(name, file);
    options.onFile?.(file);
    bytes += entry.uncompressedSize;
    done += 1;
    if (Date.now() - lastReport >= 50) {
      options.onProgress?.({ files: done, totalFiles: entries.length, bytes });
      lastReport = Date.now();
    }
  };
  // Small entries go to the hash workers in batches (read, inflate and hash off the main thread,
  // on every core); results are taken in archive order, so duplicates and errors read as before.
  type Pending = { entry: E; name: string; keep: boolean; counting: boolean };
  let batch: { items: Pending[]; bytes: number } = { items: [], bytes: 0 };
  const sent: { items: Pending[]; results: Promise<Hashed[]> }[] = [];
  const send = () => {
    const { items } = batch;
    const first = items[0]?.entry;
    const last = items[items.length - 1]?.entry;
    if (!first || !last) return;
    const end =
      last.relativeOffsetOfLocalHeader +
      30 +
      last.fileNameLength +
      last.extraFieldLength +
      last.compressedSize;
    const results = pool.run({
      kind: 'zip',
      fd,
      span: Math.min(end, fileSize) - first.relativeOffsetOfLocalHeader,
      entries: items.map(({ entry, keep, counting }) => ({
        offset: entry.relativeOffsetOfLocalHeader,
        compressedSize: entry.compressedSize,
        method: entry.compressionMethod,
        size: entry.uncompressedSize,
        keep,
        countLines: counting,
      })),
    });
    results.catch(() => {});
    reading.push(results);
    sent.push({ items, results });
    batch = { items: [], bytes: 0 };
  };
  const receive = async (keepInFlight: number) => {
    while (sent.length > keepInFlight) {
      const next = sent.shift();
      if (!next) break;
      const results = await next.results;
      next.items.forEach(({ entry, name }, index) => {
        const result = results[index];
        if (!result) throw new ArchiveReadError(`${entry.fileName}: the hashing worker returned nothing`);
        if (result.truncated) throw new ArchiveReadError(`${path}: unexpected end of archive`);
        if (result.invalid !== undefined) throw new ArchiveReadError(`${entry.fileName}: ${result.invalid}`);
        record(entry, name, result.sha256, result.content, result.lines);
      });
    }
  };
  for (let index = 0; index < entries.length; index += 1) {
    const entry = entries[index] as E;
    const name = names[index] as string;
    if (
      (entry.generalPurposeBitFlag & 1) !== 0 ||
      (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    ) {
      throw new ArchiveReadError(`${entry.fileName}: unsupported compression or encryption`);
    }
    const keep = keepsContent(name) && entry.uncompressedSize <= MAX_KEPT_BYTES;
    const counting = countsLines(name);
    if (entry.compressedSize <= WINDOW && entry.uncompressedSize <= MAX_INLINE_UNCOMPRESSED) {
      batch.items.push({ entry, name, keep, counting });
      batch.bytes += entry.compressedSize;
      if (batch.bytes >= BATCH_BYTES || batch.items.length >= BATCH_ENTRIES) {
        send();
        await receive(pool.size * 2);
      }
      continue;
    }
    // Too large for one buffer: streamed through yauzl here, after everything before it.
    send();
    await receive(0);
    const header = Buffer.alloc(30);
    if (readSync(fd, header, 0, 30, entry.relativeOffsetOfLocalHeader) < 30)
      throw new ArchiveReadError(`${path}: unexpected end of archive`);
    if (header.readUInt32LE(0) !== 0x04034b50)
      throw new ArchiveReadError(`${entry.fileName}: invalid local file header`);
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let lines = 0;
    const dataStart =
      entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    for await (const chunk of await listing.stream(entry, dataStart)) {
      hash.update(chunk as Buffer);
      if (counting) lines += countNewlines(chunk as Buffer);
      if (keep) chunks.push(chunk as Buffer);
    }
    record(
      entry,
      name,
      hash.digest('hex'),
      keep ? Buffer.concat(chunks) : undefined,
      counting ? lines : undefined,
    );
  }
  send();
  await receive(0);
  options.onProgress?.({ files: entries.length, totalFiles: entries.length, bytes });
  return { kind: 'zip', source: path, files, bytes, duplicates };
}
