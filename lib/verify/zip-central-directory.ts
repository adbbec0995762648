import yauzl from 'yauzl';

/**
 * One file of a zip's central directory, with the fields the reader uses, named as yauzl's `Entry`
 * names them (a yauzl entry is one, so both listings feed the same reader).
 */
export interface ZipEntryRecord {
  readonly fileName: string;
  readonly relativeOffsetOfLocalHeader: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly compressionMethod: number;
  readonly generalPurposeBitFlag: number;
  readonly crc32: number;
  /** Lengths in the central directory record (the local header has its own). */
  readonly fileNameLength: number;
  readonly extraFieldLength: number;
}

/** Positioned reads of the archive; fewer bytes than asked means the file ended. */
export interface ZipSource {
  readonly size: number;
  read(position: number, length: number): Buffer;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const EOCD_SIZE = 22;
const LOCATOR_SIZE = 20;
const RECORD_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
/** A central directory larger than this (about 200,000 typical records) goes to yauzl. */
const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;
/** Flags the fast path knows: deflate options (bits 1-2), data descriptor (3), UTF-8 names (11). */
const KNOWN_FLAGS = 0x0002 | 0x0004 | 0x0008 | 0x0800;
const FLAG_UTF8 = 0x0800;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
const ZIP64_EXTRA = 0x0001;
const UNICODE_PATH_EXTRA = 0x7075;

/**
 * The file entries of a plain zip (directories left out, central directory order), read from one
 * buffer holding the central directory, or `undefined` when the archive is anything but the plain
 * case this parser knows exactly: the caller then lists it with yauzl, which decides and words
 * the error. So this never accepts what yauzl rejects and never lists differently: where yauzl
 * would list, or fail, in a way this code does not reproduce byte for byte, it declines.
 *
 * Declined: an end record not exactly at the end (a comment, trailing bytes), a ZIP64 locator,
 * multi-disk fields, ZIP64 markers (0xFFFF / 0xFFFFFFFF) anywhere, a central directory whose size,
 * offset or record count disagree with the end record or that does not end where the end record
 * starts, unknown flags (encryption, strong encryption, patched data...), methods other than
 * stored and deflate, a stored entry whose sizes differ, malformed, ZIP64 or Unicode-path extra
 * fields, names that are not UTF-8 (bit 11) or printable ASCII, names yauzl's `validateFileName`
 * rejects, and entries (directories too) whose minimal extent overlaps another's or the central
 * directory. Reads: 42 bytes at the end, then the central directory once (bounded by the file
 * size and `MAX_CENTRAL_DIRECTORY`).
 */
export function listZipEntries(source: ZipSource): ZipEntryRecord[] | undefined {
  const { size } = source;
  if (size < EOCD_SIZE) return undefined;
  const tailLength = Math.min(size, EOCD_SIZE + LOCATOR_SIZE);
  const tail = source.read(size - tailLength, tailLength);
  if (tail.length !== tailLength) return undefined;
  const eocdOffset = size - EOCD_SIZE;
  const eocd = tail.subarray(tailLength - EOCD_SIZE);
  // yauzl searches backwards from here and takes the first signature: with no comment, this one.
  if (eocd.readUInt32LE(0) !== EOCD_SIGNATURE || eocd.readUInt16LE(20) !== 0) return undefined;
  if (tailLength === EOCD_SIZE + LOCATOR_SIZE && tail.readUInt32LE(0) === ZIP64_LOCATOR_SIGNATURE)
    return undefined;
  const diskNumber = eocd.readUInt16LE(4);
  const centralDisk = eocd.readUInt16LE(6);
  const entriesOnDisk = eocd.readUInt16LE(8);
  const entryCount = eocd.readUInt16LE(10);
  const centralSize = eocd.readUInt32LE(12);
  const centralOffset = eocd.readUInt32LE(16);
  if (diskNumber !== 0 || centralDisk !== 0 || entriesOnDisk !== entryCount) return undefined;
  if (entryCount === MAX16 || centralSize === MAX32 || centralOffset === MAX32) return undefined;
  if (centralOffset + centralSize !== eocdOffset || centralSize > MAX_CENTRAL_DIRECTORY) return undefined;
  if (centralSize < entryCount * RECORD_SIZE) return undefined;
  const central = source.read(centralOffset, centralSize);
  if (central.length !== centralSize) return undefined;

  const files: ZipEntryRecord[] = [];
  // Every record's minimal extent (local header, name as the central directory gives it, data),
  // directories included, for the overlap check.
  const starts = new Float64Array(entryCount);
  const ends = new Float64Array(entryCount);
  let ordered = true;
  let at = 0;
  for (let index = 0; index < entryCount; index += 1) {
    if (at + RECORD_SIZE > centralSize || central.readUInt32LE(at) !== CENTRAL_SIGNATURE) return undefined;
    const flags = central.readUInt16LE(at + 8);
    const method = central.readUInt16LE(at + 10);
    const crc32 = central.readUInt32LE(at + 16);
    const compressedSize = central.readUInt32LE(at + 20);
    const uncompressedSize = central.readUInt32LE(at + 24);
    const nameLength = central.readUInt16LE(at + 28);
    const extraLength = central.readUInt16LE(at + 30);
    const commentLength = central.readUInt16LE(at + 32);
    const startDisk = central.readUInt16LE(at + 34);
    const offset = central.readUInt32LE(at + 42);
    if ((flags & ~KNOWN_FLAGS) !== 0 || (method !== 0 && method !== 8) || startDisk !== 0) return undefined;
    if (compressedSize === MAX32 || uncompressedSize === MAX32 || offset === MAX32) return undefined;
    if (method === 0 && compressedSize !== uncompressedSize) return undefined;
    const nameStart = at + RECORD_SIZE;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > centralSize) return undefined;
    if (extraLength > 0 && !plainExtraFields(central, extraStart, extraStart + extraLength)) return undefined;
    const fileName = decodeName(central, nameStart, extraStart, (flags & FLAG_UTF8) !== 0);
    if (fileName === undefined) return undefined;
    starts[index] = offset;
    ends[index] = offset + LOCAL_HEADER_SIZE + nameLength + compressedSize;
    if (index > 0 && offset <= (starts[index - 1] as number)) ordered = false;
    if (!fileName.endsWith('/'))
      files.push({
        fileName,
        relativeOffsetOfLocalHeader: offset,
        compressedSize,
        uncompressedSize,
        compressionMethod: method,
        generalPurposeBitFlag: flags,
        crc32,
        fileNameLength: nameLength,
        extraFieldLength: extraLength,
      });
    at = next;
  }
  if (at !== centralSize) return undefined;
  return disjoint(starts, ends, ordered, centralOffset) ? files : undefined;
}

/** Extra fields split as yauzl splits them; false if malformed, ZIP64 or a Unicode path (yauzl reads those). */
function plainExtraFields(buffer: Buffer, start: number, end: number): boolean {
  let at = start;
  while (at < end - 3) {
    const id = buffer.readUInt16LE(at);
    const dataEnd = at + 4 + buffer.readUInt16LE(at + 2);
    if (dataEnd > end || id === ZIP64_EXTRA || id === UNICODE_PATH_EXTRA) return false;
    at = dataEnd;
  }
  return true;
}

/**
 * The name as yauzl decodes it (UTF-8 with bit 11, else CP437, which is ASCII on 0x20-0x7E; other
 * bytes decline), or undefined when yauzl would reject it (`validateFileName` itself decides; the
 * characters tested first are the ones any rejected name must contain).
 */
function decodeName(buffer: Buffer, start: number, end: number, utf8: boolean): string | undefined {
  if (start === end) return undefined;
  let name: string;
  if (utf8) name = buffer.toString('utf8', start, end);
  else {
    for (let at = start; at < end; at += 1) {
      const byte = buffer[at] as number;
      if (byte < 0x20 || byte > 0x7e) return undefined;
    }
    name = buffer.toString('latin1', start, end);
  }
  if (
    (name.charCodeAt(0) === 0x2f || name.includes('\\') || name.includes(':') || name.includes('..')) &&
    yauzl.validateFileName(name) !== null
  )
    return undefined;
  return name;
}

/** No two extents overlap and none reaches into the central directory. */
function disjoint(starts: Float64Array, ends: Float64Array, ordered: boolean, limit: number): boolean {
  const count = starts.length;
  let order: Uint32Array | undefined;
  if (!ordered) {
    order = new Uint32Array(count);
    for (let index = 0; index < count; index += 1) order[index] = index;
    order.sort((a, b) => (starts[a] as number) - (starts[b] as number));
  }
  let reached = 0;
  for (let rank = 0; rank < count; rank += 1) {
    const index = order ? (order[rank] as number) : rank;
    if ((starts[index] as number) < reached) return false;
    reached = ends[index] as number;
  }
  return reached <= limit;
}
