import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const deflateRaw = promisify(zlib.deflateRaw);

/** A small entry's bytes, already checksummed and compressed (off the writer's path, in parallel). */
export interface PreparedData {
  readonly method: 0 | 8;
  readonly data: Buffer;
  readonly crc: number;
  readonly size: number;
}

/** One file of the archive; its bytes are opened only when the writer reaches it. */
export interface ZipEntry {
  readonly name: string;
  readonly mtime: Date;
  /** Bytes, a stream of them, or prepared data; called once, in order, when this entry is written. */
  open(): Promise<Readable | Buffer | PreparedData> | Readable | Buffer | PreparedData;
  /** Checked once written, when known in advance (e.g. an S3 object's listed size). */
  readonly size?: number;
}

export interface ZipOptions {
  /** Deflate level 1-9; 0 stores entries. @default 6 */
  readonly level?: number;
  /** Write ZIP64 end records even when not needed (tests the large-archive path). */
  readonly forceZip64?: boolean;
  /** Called after each entry is fully written, with its uncompressed size. */
  readonly onEntry?: (entry: ZipEntry, size: number) => void;
}

export class ZipWriteError extends Error {
  override name = 'ZipWriteError';
}

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
/** Regular file, rw-r--r--, in the Unix half of the external attributes. */
const UNIX_FILE_MODE = (0o100644 << 16) >>> 0;

const crc32: (data: Buffer, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (zlib as unknown as { crc32: (data: Buffer, value?: number) => number }).crc32
    : (() => {
        const table = Array.from({ length: 256 }, (_, n) => {
          let c = n;
          for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
          return c >>> 0;
        });
        return (data: Buffer, value = 0) => {
          let crc = ~value >>> 0;
          for (const byte of data) crc = ((table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)) >>> 0;
          return ~crc >>> 0;
        };
      })();

/**
 * Checksums and deflates a small entry ahead of time (zlib runs on the thread pool), so several
 * entries compress in parallel while the writer streams earlier ones. Stored when deflate does not help.
 */
export async function prepareData(bytes: Buffer, level: number): Promise<PreparedData> {
  const crc = crc32(bytes) >>> 0;
  if (level <= 0) return { method: 0, data: bytes, crc, size: bytes.length };
  const compressed = await deflateRaw(bytes, { level: Math.min(9, level) });
  return compressed.length < bytes.length
    ? { method: 8, data: compressed, crc, size: bytes.length }
    : { method: 0, data: bytes, crc, size: bytes.length };
}

function isPrepared(source: Readable | Buffer | PreparedData): source is PreparedData {
  return !Buffer.isBuffer(source) && !(source instanceof Readable) && 'method' in source;
}

function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getUTCFullYear());
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

function checkName(name: string): Buffer {
  if (
    !name ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.split('/').some((part) => part === '..' || part === '')
  ) {
    throw new ZipWriteError(`invalid entry name "${name}"`);
  }
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > MAX16) throw new ZipWriteError(`entry name too long: ${name.slice(0, 40)}…`);
  return bytes;
}

async function* chunksOf(source: Readable | Buffer): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    yield source;
    return;
  }
  for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
}

/**
 * A streaming ZIP writer: entries are written one after another with a data descriptor (CRC and
 * sizes follow the data), so nothing is buffered but the ~100-byte central directory record of each
 * entry. ZIP64 end records are added when the archive passes 65,535 entries or 4 GB; single
 * entries must stay under 4 GB. Names are UTF-8.
 */
export function zipStream(
  entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>,
  options: ZipOptions = {},
): Readable {
  const level = Math.min(9, Math.max(0, options.level ?? 6));
  async function* generate(): AsyncGenerator<Buffer> {
    // Central directory records, packed into 1 MB blocks: no per-entry allocation outlives its entry.
    const central: Buffer[] = [];
    let block = Buffer.allocUnsafe(1024 * 1024);
    let used = 0;
    const keep = (record: Buffer) => {
      if (used + record.length > block.length) {
        central.push(block.subarray(0, used));
        block = Buffer.allocUnsafe(Math.max(1024 * 1024, record.length));
        used = 0;
      }
      record.copy(block, used);
      used += record.length;
    };
    let offset = 0;
    let count = 0;
    for await (const entry of entries) {
      const name = checkName(entry.name);
      const { time, date } = dosDateTime(entry.mtime);
      const source = await entry.open();
      const prepared = isPrepared(source) ? source : undefined;
      const method = prepared ? prepared.method : level === 0 ? 0 : 8;
      // Prepared entries know CRC and sizes up front; streamed ones give them in a data descriptor.
      const flags = prepared ? FLAG_UTF8 : FLAG_DATA_DESCRIPTOR | FLAG_UTF8;
      const local = Buffer.alloc(30 + name.length);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(flags, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      if (prepared) {
        local.writeUInt32LE(prepared.crc, 14);
        local.writeUInt32LE(prepared.data.length, 18);
        local.writeUInt32LE(prepared.size, 22);
      }
      local.writeUInt16LE(name.length, 26);
      name.copy(local, 30);
      const headerOffset = offset;
      yield local;
      offset += local.length;

      let crc = 0;
      let size = 0;
      let compressedSize = 0;
      if (prepared) {
        crc = prepared.crc;
        size = prepared.size;
        compressedSize = prepared.data.length;
        yield prepared.data;
      } else if (method === 0) {
        for await (const chunk of chunksOf(source as Readable | Buffer)) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          compressedSize += chunk.length;
          yield chunk;
        }
      } else {
        const deflate = zlib.createDeflateRaw({ level });
        const input = Readable.from(
          (async function* () {
            for await (const chunk of chunksOf(source as Readable | Buffer)) {
              crc = crc32(chunk, crc);
              size += chunk.length;
              yield chunk;
            }
          })(),
        );
        input.on('error', (error) => deflate.destroy(error));
        input.pipe(deflate);
        for await (const chunk of deflate) {
          compressedSize += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      }
      if (size > MAX32 || compressedSize > MAX32)
        throw new ZipWriteError(`${entry.name} is 4 GB or more; entries must be smaller`);
      if (entry.size !== undefined && entry.size !== size) {
        throw new ZipWriteError(`${entry.name}: expected ${entry.size} bytes, read ${size}`);
      }
      offset += compressedSize;
      if (!prepared) {
        const descriptor = Buffer.alloc(16);
        descriptor.writeUInt32LE(0x08074b50, 0);
        descriptor.writeUInt32LE(crc >>> 0, 4);
        descriptor.writeUInt32LE(compressedSize, 8);
        descriptor.writeUInt32LE(size, 12);
        yield descriptor;
        offset += descriptor.length;
      }

      const zip64Offset = headerOffset >= MAX32 || options.forceZip64 === true;
      const extra = zip64Offset ? Buffer.alloc(12) : Buffer.alloc(0);
      if (zip64Offset) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(8, 2);
        extra.writeBigUInt64LE(BigInt(headerOffset), 4);
      }
      const record = Buffer.alloc(46 + name.length + extra.length);
      record.writeUInt32LE(0x02014b50, 0);
      record.writeUInt16LE((3 << 8) | 45, 4);
      record.writeUInt16LE(zip64Offset ? 45 : 20, 6);
      record.writeUInt16LE(flags, 8);
      record.writeUInt16LE(method, 10);
      record.writeUInt16LE(time, 12);
      record.writeUInt16LE(date, 14);
      record.writeUInt32LE(crc >>> 0, 16);
      record.writeUInt32LE(compressedSize, 20);
      record.writeUInt32LE(size, 24);
      record.writeUInt16LE(name.length, 28);
      record.writeUInt16LE(extra.length, 30);
      record.writeUInt32LE(UNIX_FILE_MODE, 38);
      record.writeUInt32LE(zip64Offset ? MAX32 : headerOffset, 42);
      name.copy(record, 46);
      extra.copy(record, 46 + name.length);
      keep(record);
      count += 1;
      options.onEntry?.(entry, size);
    }

    central.push(block.subarray(0, used));
    const centralOffset = offset;
    let centralSize = 0;
    for (const record of central) {
      yield record;
      centralSize += record.length;
    }
    offset += centralSize;
    const zip64 =
      options.forceZip64 === true || count >= MAX16 || centralOffset >= MAX32 || centralSize >= MAX32;
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(0x06064b50, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE((3 << 8) | 45, 12);
      record.writeUInt16LE(45, 14);
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(centralSize), 40);
      record.writeBigUInt64LE(BigInt(centralOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(offset), 8);
      locator.writeUInt32LE(1, 16);
      yield record;
      yield locator;
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(zip64 ? MAX16 : count, 8);
    end.writeUInt16LE(zip64 ? MAX16 : count, 10);
    end.writeUInt32LE(zip64 ? MAX32 : centralSize, 12);
    end.writeUInt32LE(zip64 ? MAX32 : centralOffset, 16);
    yield end;
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 256 * 1024 });
}
