import { Readable } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';
import { fc } from '@fast-check/vitest';
import yauzl from 'yauzl';
import { ZipFile } from 'yazl';
import { prepareData, type ZipEntry, zipStream } from '../../../lib/export/zip-writer.ts';
import type { ZipEntryRecord } from '../../../lib/verify/zip-central-directory.ts';

/**
 * Shared by the zip listing tests: zips written the way the exporter writes them (and by yazl, and
 * byte by byte with any field value), hostile byte-level mutations of them, and yauzl's listing
 * with the options readZip gives it, which stays the reference for the central-directory parser.
 */

const mtime = new Date('2026-12-01T00:00:00Z');

/** Path segments: ordinary, unicode, and the ones yauzl or the writer reject. */
const SEGMENTS = ['evidence', 'a', 'run-1', 'result.json', 'manifest.json', 'é', '名前', 'x y', '.', '..'];
const BAD_NAMES = ['/abs', 'C:x', 'c:/x', 'a\\b', '../x', 'a/../b', 'a/..', '..', 'a//b', 'dir/', ''];

/** A name the exporter's writer accepts (no '..', '', leading '/', or backslash). */
export const writerName = fc
  .array(fc.constantFrom(...SEGMENTS.filter((segment) => segment !== '..')), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join('/'));

const content = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.nat({ max: 5000 }).map((length) => Buffer.alloc(length, 'evidence row\n')),
);

export interface WrittenEntry {
  readonly name: string;
  readonly bytes: Buffer;
  /** How the exporter hands it to the writer: bytes, a stream, or pre-compressed. */
  readonly as: 'buffer' | 'stream' | 'prepared';
}

export const writtenEntries = fc.array(
  fc.record({
    name: fc.oneof(writerName, fc.constantFrom('export.json', 'evidence/c/manifest.json')),
    bytes: content,
    as: fc.constantFrom('buffer' as const, 'stream' as const, 'prepared' as const),
  }),
  { maxLength: 12 },
);

export async function exporterZip(
  entries: readonly WrittenEntry[],
  options: { level?: number; forceZip64?: boolean } = {},
): Promise<Buffer> {
  const level = options.level ?? 6;
  const list: ZipEntry[] = entries.map(({ name, bytes, as }) => ({
    name,
    mtime,
    open: () =>
      as === 'prepared' ? prepareData(bytes, level) : as === 'stream' ? Readable.from([bytes]) : bytes,
  }));
  const chunks: Buffer[] = [];
  for await (const chunk of zipStream(list, { level, ...(options.forceZip64 ? { forceZip64: true } : {}) }))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function yazlZip(entries: readonly WrittenEntry[], compress: boolean): Promise<Buffer> {
  const zip = new ZipFile();
  for (const { name, bytes } of entries) zip.addBuffer(bytes, name, { mtime, compress });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One record of a hand-built zip: every field the parser reads, free. */
export interface RawEntry {
  readonly name: Buffer;
  readonly flags: number;
  readonly method: number;
  readonly content: Buffer;
  /** The uncompressed size the central directory declares (normally content's length). */
  readonly sizeDelta: number;
  readonly extra: Buffer;
  readonly comment: Buffer;
  /** An Info-ZIP Unicode Path extra field (0x7075) with this name, its CRC matching: yauzl renames. */
  readonly unicodePath?: string;
}

const extraField = (id: number, data: Buffer) => {
  const field = Buffer.alloc(4 + data.length);
  field.writeUInt16LE(id, 0);
  field.writeUInt16LE(data.length, 2);
  data.copy(field, 4);
  return field;
};

const rawName = fc.oneof(
  { weight: 6, arbitrary: writerName.map((name) => Buffer.from(name, 'utf8')) },
  { weight: 2, arbitrary: fc.constantFrom(...BAD_NAMES).map((name) => Buffer.from(name, 'utf8')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => Buffer.from(bytes)) },
);

const rawExtra = fc.oneof(
  { weight: 8, arbitrary: fc.constant(Buffer.alloc(0)) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(0x5455, 0x000a, 0x7875, 0x0001, 0x7075, 0xcafe),
        fc.uint8Array({ maxLength: 28 }),
      )
      .map(([id, data]) => extraField(id, Buffer.from(data))),
  },
  // Malformed: a declared length past the end, or 1-3 stray bytes (yauzl ignores those).
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0x55, 0x54, 0x09, 0x00, 1]), Buffer.from([1, 2, 3])) },
);

const freeEntry: fc.Arbitrary<RawEntry> = fc.record(
  {
    name: rawName,
    flags: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(0x0800, 0x0808, 0x0000, 0x0008) },
      { weight: 1, arbitrary: fc.constantFrom(0x0001, 0x0040, 0x0002, 0x0006, 0x2000, 0x0801) },
    ),
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(0, 8) },
      { weight: 1, arbitrary: fc.constantFrom(1, 12, 99) },
    ),
    content,
    sizeDelta: fc.oneof(
      { weight: 8, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 1, 100) },
    ),
    extra: rawExtra,
    comment: fc.oneof(
      { weight: 6, arbitrary: fc.constant(Buffer.alloc(0)) },
      { weight: 1, arbitrary: fc.constant(Buffer.from('a comment')) },
    ),
    unicodePath: fc.option(fc.constantFrom('renamed', '../evil', 'evidence/a/result.json'), {
      nil: undefined,
      freq: 8,
    }),
  },
  { requiredKeys: ['name', 'flags', 'method', 'content', 'sizeDelta', 'extra', 'comment'] },
);

/** Mostly entries as a well-behaved writer makes them (so whole archives list), some with free fields. */
export const rawEntry: fc.Arbitrary<RawEntry> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      name: writerName.map((name) => Buffer.from(name, 'utf8')),
      flags: fc.constantFrom(0x0800, 0x0808),
      method: fc.constantFrom(0, 8),
      content,
      sizeDelta: fc.constant(0),
      extra: fc.constant(Buffer.alloc(0)),
      comment: fc.constant(Buffer.alloc(0)),
    }),
  },
  { weight: 1, arbitrary: freeEntry },
);

const nameCrc = (name: Buffer) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(crc32(name) >>> 0, 0);
  return bytes;
};

/** A zip built byte by byte: local headers, central directory and end record from the records as given. */
export function rawZip(entries: readonly RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const records: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = entry.method === 8 ? deflateRawSync(entry.content) : entry.content;
    const crc = crc32(entry.content) >>> 0;
    const size = Math.max(0, entry.content.length + entry.sizeDelta);
    const extra =
      entry.unicodePath === undefined
        ? entry.extra
        : Buffer.concat([
            entry.extra,
            extraField(
              0x7075,
              Buffer.concat([Buffer.from([1]), nameCrc(entry.name), Buffer.from(entry.unicodePath, 'utf8')]),
            ),
          ]);
    const local = Buffer.alloc(30 + entry.name.length);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.flags, 6);
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(entry.name.length, 26);
    entry.name.copy(local, 30);
    const record = Buffer.alloc(46 + entry.name.length + extra.length + entry.comment.length);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE((3 << 8) | 20, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt16LE(entry.flags, 8);
    record.writeUInt16LE(entry.method, 10);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(data.length, 20);
    record.writeUInt32LE(size, 24);
    record.writeUInt16LE(entry.name.length, 28);
    record.writeUInt16LE(extra.length, 30);
    record.writeUInt16LE(entry.comment.length, 32);
    record.writeUInt32LE(offset, 42);
    entry.name.copy(record, 46);
    extra.copy(record, 46 + entry.name.length);
    entry.comment.copy(record, 46 + entry.name.length + extra.length);
    locals.push(local, data);
    records.push(record);
    offset += local.length + data.length;
  }
  const central = Buffer.concat(records);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, central, end]);
}

/** Where the end record says the central directory is (of the unmutated zip: no comment). */
function layout(zip: Buffer): { eocd: number; central: number; records: number[] } {
  const eocd = zip.length - 22;
  const central = zip.readUInt32LE(eocd + 16);
  const records: number[] = [];
  for (let at = central; at + 46 <= eocd && zip.readUInt32LE(at) === 0x02014b50; ) {
    records.push(at);
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return { eocd, central, records };
}

export type ZipMutation =
  | { readonly op: 'truncate'; readonly at: number }
  | {
      readonly op: 'byte';
      readonly region: 'any' | 'central' | 'end';
      readonly at: number;
      readonly value: number;
    }
  | {
      readonly op: 'record32';
      readonly record: number;
      readonly field: 16 | 20 | 24 | 42;
      readonly value: number;
    }
  | {
      readonly op: 'record16';
      readonly record: number;
      readonly field: 8 | 10 | 28 | 30 | 32 | 34;
      readonly value: number;
    }
  | { readonly op: 'end16'; readonly field: 4 | 6 | 8 | 10 | 20; readonly value: number }
  | { readonly op: 'end32'; readonly field: 12 | 16; readonly delta: number }
  | { readonly op: 'offsetOf'; readonly record: number; readonly other: number }
  | { readonly op: 'append'; readonly bytes: Buffer }
  | { readonly op: 'comment'; readonly bytes: Buffer }
  | { readonly op: 'locator' };

const MARKERS32 = [0xffffffff, 0xfffffffe, 0, 1, 30, 0x7fffffff];
const MARKERS16 = [0xffff, 0, 1, 2, 0x0800, 0x0801, 0x0808, 0x0840, 12];

export const zipMutation: fc.Arbitrary<ZipMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('byte' as const),
    region: fc.constantFrom('any' as const, 'central' as const, 'end' as const),
    at: fc.nat(),
    value: fc.nat({ max: 255 }),
  }),
  fc.record({
    op: fc.constant('record32' as const),
    record: fc.nat(),
    field: fc.constantFrom(16 as const, 20 as const, 24 as const, 42 as const),
    value: fc.oneof(fc.constantFrom(...MARKERS32), fc.nat()),
  }),
  fc.record({
    op: fc.constant('record16' as const),
    record: fc.nat(),
    field: fc.constantFrom(8 as const, 10 as const, 28 as const, 30 as const, 32 as const, 34 as const),
    value: fc.oneof(fc.constantFrom(...MARKERS16), fc.nat({ max: 0xffff })),
  }),
  fc.record({
    op: fc.constant('end16' as const),
    field: fc.constantFrom(4 as const, 6 as const, 8 as const, 10 as const, 20 as const),
    value: fc.oneof(fc.constantFrom(...MARKERS16), fc.nat({ max: 0xffff })),
  }),
  fc.record({
    op: fc.constant('end32' as const),
    field: fc.constantFrom(12 as const, 16 as const),
    delta: fc.constantFrom(-47, -46, -1, 1, 46, 0xffffffff),
  }),
  fc.record({ op: fc.constant('offsetOf' as const), record: fc.nat(), other: fc.nat() }),
  fc.record({
    op: fc.constant('append' as const),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 30 }).map((bytes) => Buffer.from(bytes)),
      fc.constant(Buffer.from([0x50, 0x4b, 0x05, 0x06])),
    ),
  }),
  fc.record({
    op: fc.constant('comment' as const),
    bytes: fc.oneof(
      fc.uint8Array({ maxLength: 30 }).map((bytes) => Buffer.from(bytes)),
      // An end record inside the comment: the ambiguity yauzl's backwards search resolves.
      fc.constant(Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)])),
    ),
  }),
  fc.record({ op: fc.constant('locator' as const) }),
);

/** A copy of `zip` with one mutation (positions found in the unmutated layout). */
export function mutateZip(zip: Buffer, mutation: ZipMutation): Buffer {
  const out = Buffer.from(zip);
  if (zip.length < 22) return out;
  const { eocd, central, records } = layout(zip);
  const recordAt = (index: number) => (records.length > 0 ? records[index % records.length] : undefined);
  switch (mutation.op) {
    case 'truncate':
      return out.subarray(0, mutation.at % zip.length);
    case 'byte': {
      const [from, to] =
        mutation.region === 'end'
          ? [eocd, zip.length]
          : mutation.region === 'central'
            ? [central, eocd]
            : [0, zip.length];
      if (to > from) out[from + (mutation.at % (to - from))] = mutation.value;
      return out;
    }
    case 'record32': {
      const at = recordAt(mutation.record);
      if (at !== undefined) out.writeUInt32LE(mutation.value >>> 0, at + mutation.field);
      return out;
    }
    case 'record16': {
      const at = recordAt(mutation.record);
      if (at !== undefined) out.writeUInt16LE(mutation.value & 0xffff, at + mutation.field);
      return out;
    }
    case 'end16':
      out.writeUInt16LE(mutation.value & 0xffff, eocd + mutation.field);
      return out;
    case 'end32':
      out.writeUInt32LE(
        (out.readUInt32LE(eocd + mutation.field) + mutation.delta) >>> 0,
        eocd + mutation.field,
      );
      return out;
    case 'offsetOf': {
      const at = recordAt(mutation.record);
      const other = recordAt(mutation.other);
      if (at !== undefined && other !== undefined) out.writeUInt32LE(zip.readUInt32LE(other + 42), at + 42);
      return out;
    }
    case 'append':
      return Buffer.concat([out, mutation.bytes]);
    case 'comment':
      out.writeUInt16LE(mutation.bytes.length, eocd + 20);
      return Buffer.concat([out, mutation.bytes]);
    case 'locator':
      if (eocd >= 20) out.writeUInt32LE(0x07064b50, eocd - 20);
      return out;
  }
}

/** The fields the parser lists, from a yauzl entry. */
export function recordOf(entry: yauzl.Entry): ZipEntryRecord {
  return {
    fileName: entry.fileName,
    relativeOffsetOfLocalHeader: entry.relativeOffsetOfLocalHeader,
    compressedSize: entry.compressedSize,
    uncompressedSize: entry.uncompressedSize,
    compressionMethod: entry.compressionMethod,
    generalPurposeBitFlag: entry.generalPurposeBitFlag,
    crc32: entry.crc32,
    fileNameLength: entry.fileNameLength,
    extraFieldLength: entry.extraFieldLength,
  };
}

/** yauzl's listing with readZip's options, directories left out as readZip leaves them out. */
export function yauzlListing(zip: Buffer): Promise<{ entries: ZipEntryRecord[] } | { error: string }> {
  return new Promise((resolve) => {
    yauzl.fromBuffer(
      zip,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true },
      (error, file) => {
        if (error || !file) return resolve({ error: String(error?.message) });
        const entries: ZipEntryRecord[] = [];
        file.on('error', (failure: Error) => resolve({ error: failure.message }));
        file.on('end', () => resolve({ entries }));
        file.on('entry', (entry: yauzl.Entry) => {
          if (!entry.fileName.endsWith('/')) entries.push(recordOf(entry));
          file.readEntry();
        });
        file.readEntry();
      },
    );
  });
}

export const bufferSource = (zip: Buffer) => ({
  size: zip.length,
  read: (position: number, length: number) => zip.subarray(position, position + length),
});
