import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { listZipEntries, type ZipEntryRecord } from '../../../lib/verify/zip-central-directory.ts';
import {
  bufferSource,
  exporterZip,
  mutateZip,
  type RawEntry,
  rawEntry,
  rawZip,
  writtenEntries,
  yauzlListing,
  yazlZip,
  zipMutation,
} from './zip-harness.ts';

/**
 * The central-directory parser against yauzl, which stays the reference: on zips the exporter's
 * writer (and yazl) makes, on zips built byte by byte with free field values, and on hostile
 * byte-level mutations of both (truncation, flipped bytes in the central directory and end record,
 * ZIP64 markers, comments, trailing bytes, a ZIP64 locator, bad and shared offsets), the parser
 * either declines or lists exactly what yauzl lists (names, sizes, offsets, CRC, method, flags,
 * lengths, order); where yauzl fails, it declines. It never throws.
 *   SOC2_PBT_RUNS=5000 npx vitest run test/verify/properties/zip-central-directory.test.ts
 */
const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 200);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261202);

/** The parser's answer, checked against yauzl's. */
async function expectSameAsYauzl(zip: Buffer): Promise<'listed' | 'declined'> {
  const fast = listZipEntries(bufferSource(zip));
  const reference = await yauzlListing(zip);
  if (fast === undefined) return 'declined';
  expect(reference, 'the parser listed a zip yauzl rejects').toHaveProperty('entries');
  if ('entries' in reference) expect(fast).toStrictEqual(reference.entries);
  return 'listed';
}

const rawEntries = fc.array(rawEntry, { maxLength: 6 });
const rawMutations = fc.oneof(fc.constant([]), fc.array(zipMutation, { minLength: 1, maxLength: 2 }));

describe('zip central-directory parser', { timeout: 120_000 }, () => {
  it('lists every zip the exporter writes exactly as yauzl does (stored and deflated, any entry form)', async () => {
    await fc.assert(
      fc.asyncProperty(writtenEntries, fc.constantFrom(0, 6), async (entries, level) => {
        expect(await expectSameAsYauzl(await exporterZip(entries, { level }))).toBe('listed');
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });

  it('lists yazl zips as yauzl does, and leaves ZIP64 archives to yauzl', async () => {
    await fc.assert(
      fc.asyncProperty(writtenEntries, fc.boolean(), async (entries, compress) => {
        expect(await expectSameAsYauzl(await yazlZip(entries, compress))).toBe('listed');
        const zip64 = await exporterZip(entries, { forceZip64: true });
        expect(await expectSameAsYauzl(zip64)).toBe('declined');
        expect(await yauzlListing(zip64)).toHaveProperty('entries');
      }),
      { numRuns: Math.ceil(NUM_RUNS / 4), seed: SEED },
    );
  });

  it('agrees with yauzl or declines on hand-built zips with free field values, mutated or not', async () => {
    const seen = { listed: 0, declined: 0, yauzlFailed: 0 };
    await fc.assert(
      fc.asyncProperty(rawEntries, rawMutations, async (entries, mutations) => {
        const zip = mutations.reduce(mutateZip, rawZip(entries));
        seen[await expectSameAsYauzl(zip)] += 1;
        if ('error' in (await yauzlListing(zip))) seen.yauzlFailed += 1;
      }),
      { numRuns: NUM_RUNS * 3, seed: SEED },
    );
    // Neither side of the comparison may be empty: the property must exercise both.
    expect(seen.listed).toBeGreaterThan(NUM_RUNS / 4);
    expect(seen.declined).toBeGreaterThan(NUM_RUNS / 4);
    expect(seen.yauzlFailed).toBeGreaterThan(NUM_RUNS / 10);
  });

  it('agrees with yauzl or declines on mutated exporter zips', async () => {
    const seen = { listed: 0, declined: 0 };
    await fc.assert(
      fc.asyncProperty(
        writtenEntries,
        fc.array(zipMutation, { minLength: 1, maxLength: 3 }),
        async (entries, mutations) => {
          seen[await expectSameAsYauzl(mutations.reduce(mutateZip, await exporterZip(entries)))] += 1;
        },
      ),
      { numRuns: NUM_RUNS * 3, seed: SEED },
    );
    expect(seen.listed).toBeGreaterThan(NUM_RUNS / 10);
    expect(seen.declined).toBeGreaterThan(NUM_RUNS / 4);
  });

  it('agrees with yauzl or declines on every single-byte change of the central directory and end record', async () => {
    const zip = await exporterZip([
      { name: 'evidence/a/result.json', bytes: Buffer.from('{"verdict":"pass"}\n'), as: 'prepared' },
      { name: 'evidence/a/manifest.json', bytes: Buffer.alloc(300, 'm'), as: 'stream' },
      { name: 'export.json', bytes: Buffer.from('{}'), as: 'buffer' },
    ]);
    const central = zip.readUInt32LE(zip.length - 22 + 16);
    let tried = 0;
    for (let at = central; at < zip.length; at += 1) {
      for (const value of [0x00, 0xff, (zip[at] as number) ^ 0x01, (zip[at] as number) ^ 0x80, 0x2f, 0x5c]) {
        const mutated = Buffer.from(zip);
        mutated[at] = value;
        await expectSameAsYauzl(mutated);
        tried += 1;
      }
    }
    expect(tried).toBeGreaterThan(1000);
  });
});

/** One entry, otherwise as the exporter writes it. */
const plain = (name: string, changes: Partial<RawEntry> = {}): RawEntry => ({
  name: Buffer.from(name, 'utf8'),
  flags: 0x0800,
  method: 0,
  content: Buffer.from('{}'),
  sizeDelta: 0,
  extra: Buffer.alloc(0),
  comment: Buffer.alloc(0),
  ...changes,
});
const field = (id: number, data: Buffer) =>
  Buffer.concat([Buffer.from([id & 0xff, id >> 8, data.length, 0]), data]);

describe('zip central-directory parser, named attacks', () => {
  // Each must decline (yauzl then decides). Where yauzl lists it anyway, the parser is only stricter.
  const declined: [string, () => Buffer][] = [
    ['an encrypted entry (bit 0)', () => rawZip([plain('a', { flags: 0x0801 })])],
    ['strong encryption (bit 6)', () => rawZip([plain('a', { flags: 0x0840 })])],
    ['compression method 12 (bzip2)', () => rawZip([plain('a', { method: 12 })])],
    ['a stored entry whose sizes differ', () => rawZip([plain('a', { sizeDelta: 1 })])],
    ['a backslash in a name', () => rawZip([plain('a\\b')])],
    ['an absolute name', () => rawZip([plain('/etc/passwd')])],
    ['a drive letter', () => rawZip([plain('C:/x')])],
    ['a .. segment', () => rawZip([plain('evidence/../x')])],
    ['a trailing .. segment', () => rawZip([plain('evidence/..')])],
    ['an empty name', () => rawZip([plain('')])],
    [
      'a non-UTF-8 name with a high byte',
      () => rawZip([{ ...plain('a'), name: Buffer.from([0x61, 0x82]), flags: 0 }]),
    ],
    [
      'a non-UTF-8 name with a control byte',
      () => rawZip([{ ...plain('a'), name: Buffer.from([0x61, 0x01]), flags: 0 }]),
    ],
    [
      'a Unicode path extra field (yauzl renames)',
      () => rawZip([plain('a', { extra: field(0x7075, Buffer.from([1, 0, 0, 0, 0, 0x2e, 0x2e])) })]),
    ],
    ['a ZIP64 extra field', () => rawZip([plain('a', { extra: field(0x0001, Buffer.alloc(8)) })])],
    ['a malformed extra field', () => rawZip([plain('a', { extra: Buffer.from([0x55, 0x54, 9, 0, 1]) })])],
    [
      'a comment after the end record',
      () => mutateZip(rawZip([plain('a')]), { op: 'comment', bytes: Buffer.from('hi') }),
    ],
    [
      'an end record inside the comment',
      () =>
        mutateZip(rawZip([plain('a')]), {
          op: 'comment',
          bytes: Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18)]),
        }),
    ],
    ['a trailing byte', () => mutateZip(rawZip([plain('a')]), { op: 'append', bytes: Buffer.from([0]) })],
    [
      'a ZIP64 locator before the end record',
      () => mutateZip(rawZip([plain('a'), plain('b')]), { op: 'locator' }),
    ],
    [
      'an entry count of 0xFFFF',
      () => mutateZip(rawZip([plain('a')]), { op: 'end16', field: 10, value: 0xffff }),
    ],
    [
      'a central directory size of 0xFFFFFFFF',
      () => {
        const zip = rawZip([plain('a')]);
        zip.writeUInt32LE(0xffffffff, zip.length - 22 + 12);
        return zip;
      },
    ],
    [
      'a central directory offset of 0xFFFFFFFF',
      () => {
        const zip = rawZip([plain('a')]);
        zip.writeUInt32LE(0xffffffff, zip.length - 22 + 16);
        return zip;
      },
    ],
    [
      'a compressed size of 0xFFFFFFFF',
      () => mutateZip(rawZip([plain('a')]), { op: 'record32', record: 0, field: 20, value: 0xffffffff }),
    ],
    [
      'an uncompressed size of 0xFFFFFFFF',
      () =>
        mutateZip(rawZip([plain('a', { method: 8 })]), {
          op: 'record32',
          record: 0,
          field: 24,
          value: 0xffffffff,
        }),
    ],
    [
      'a local header offset of 0xFFFFFFFF',
      () => mutateZip(rawZip([plain('a')]), { op: 'record32', record: 0, field: 42, value: 0xffffffff }),
    ],
    ['a second disk (this disk)', () => mutateZip(rawZip([plain('a')]), { op: 'end16', field: 4, value: 1 })],
    [
      'a second disk (central directory disk)',
      () => mutateZip(rawZip([plain('a')]), { op: 'end16', field: 6, value: 1 }),
    ],
    [
      'entries on this disk differ from the total',
      () => mutateZip(rawZip([plain('a'), plain('b')]), { op: 'end16', field: 8, value: 1 }),
    ],
    [
      'an entry starting on another disk',
      () => mutateZip(rawZip([plain('a')]), { op: 'record16', record: 0, field: 34, value: 1 }),
    ],
    [
      'a count one short (a record left over)',
      () => mutateZip(rawZip([plain('a'), plain('b')]), { op: 'end16', field: 10, value: 1 }),
    ],
    [
      'a count one too many',
      () => mutateZip(rawZip([plain('a'), plain('b')]), { op: 'end16', field: 10, value: 3 }),
    ],
    [
      'a central directory size one short',
      () => mutateZip(rawZip([plain('a')]), { op: 'end32', field: 12, delta: -1 }),
    ],
    [
      'a central directory offset one late',
      () => mutateZip(rawZip([plain('a')]), { op: 'end32', field: 16, delta: 1 }),
    ],
    [
      'two entries sharing one local header',
      () => mutateZip(rawZip([plain('a'), plain('b')]), { op: 'offsetOf', record: 1, other: 0 }),
    ],
    [
      'an entry overlapping the next',
      () => mutateZip(rawZip([plain('a'), plain('b')]), { op: 'record32', record: 0, field: 20, value: 40 }),
    ],
    [
      'an entry reaching into the central directory',
      () =>
        mutateZip(rawZip([plain('a', { method: 8 })]), { op: 'record32', record: 0, field: 20, value: 100 }),
    ],
    [
      'an entry starting in the central directory',
      () => {
        const zip = rawZip([plain('a')]);
        return mutateZip(zip, {
          op: 'record32',
          record: 0,
          field: 42,
          value: zip.readUInt32LE(zip.length - 6),
        });
      },
    ],
    [
      'a directory overlapping a file',
      () => mutateZip(rawZip([plain('d/'), plain('a')]), { op: 'offsetOf', record: 0, other: 1 }),
    ],
    ['a truncated end record', () => rawZip([plain('a')]).subarray(0, -1)],
    ['a file shorter than an end record', () => Buffer.from('PK\x05\x06')],
  ];
  it.each(declined)('declines %s', async (_, make) => {
    const zip = make();
    expect(listZipEntries(bufferSource(zip))).toBeUndefined();
  });

  it('lists duplicate names as yauzl does (readZip reports them), and leaves directories out', async () => {
    const zip = rawZip([
      plain('d/'),
      plain('evidence/x'),
      plain('evidence/x', { content: Buffer.from('[]') }),
    ]);
    const fast = listZipEntries(bufferSource(zip)) as ZipEntryRecord[];
    expect(fast.map((entry) => entry.fileName)).toEqual(['evidence/x', 'evidence/x']);
    expect(await yauzlListing(zip)).toStrictEqual({ entries: fast });
  });

  it('lists an empty archive, a comment-free printable ASCII name without bit 11, and harmless extra fields', async () => {
    for (const zip of [
      rawZip([]),
      rawZip([plain('evidence/a b~', { flags: 0 })]),
      rawZip([
        plain('a', {
          extra: Buffer.concat([field(0x5455, Buffer.from([1, 0, 0, 0, 0])), Buffer.from([1, 2])]),
        }),
      ]),
      rawZip([plain('a', { comment: Buffer.from('per-entry comment') })]),
      rawZip([plain('a', { flags: 0x0806, method: 8 })]),
      rawZip([plain('evidence/C:x/a..b/.x')]),
    ]) {
      const fast = listZipEntries(bufferSource(zip));
      expect(fast).toBeDefined();
      expect(await yauzlListing(zip)).toStrictEqual({ entries: fast });
    }
  });
});
