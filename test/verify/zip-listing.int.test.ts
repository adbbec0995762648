import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashPool } from '../../lib/verify/hash-pool.ts';
import { readZip, type ZipListingPath } from '../../lib/verify/read-zip.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { exportYear, seedYear } from '../export/export-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import {
  exporterZip,
  mutateZip,
  rawEntry,
  rawZip,
  writtenEntries,
  zipMutation,
} from './properties/zip-harness.ts';

/**
 * readZip with the central-directory parser against readZip with yauzl's listing forced (the path
 * before the parser): on generated and mutated zips, both give the same files in the same order
 * (paths, sizes, hashes, kept bytes, line counts), the same duplicates and totals, or fail with the
 * same error; and an archive the real exporter made takes the parser's path, so a parser that
 * silently declined everything could not hide behind the fallback.
 *   SOC2_PBT_RUNS=2000 npx vitest run test/verify/zip-listing.int.test.ts
 */
const NUM_RUNS = Math.ceil(Number(process.env.SOC2_PBT_RUNS ?? 200) / 4);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261202);

let work: string;
let pool: HashPool;
let written = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'soc2-zip-listing-'));
  pool = new HashPool({ size: 2 });
});
afterAll(async () => {
  await pool?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function onDisk(zip: Buffer): Promise<string> {
  written += 1;
  const path = join(work, `archive-${written}.zip`);
  await writeFile(path, zip);
  return path;
}

type Outcome =
  | { readonly via: ZipListingPath | undefined; readonly order: string[]; readonly contents: unknown }
  | { readonly via: ZipListingPath | undefined; readonly error: string };

async function read(path: string, listing: ZipListingPath): Promise<Outcome> {
  let via: ZipListingPath | undefined;
  const order: string[] = [];
  try {
    const contents = await readZip(
      path,
      { pool, onFile: (file) => order.push(file.path) },
      { listing, onListed: (used) => (via = used) },
    );
    const files = [...contents.files.values()].map((file) => ({
      ...file,
      ...(file.content ? { content: file.content.toString('hex') } : {}),
    }));
    return { via, order, contents: { ...contents, files } };
  } catch (error) {
    return { via, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Both listings give the same result; returns which path the default took. */
async function expectSameBothWays(zip: Buffer): Promise<ZipListingPath | undefined> {
  const path = await onDisk(zip);
  const fast = await read(path, 'central-directory');
  const forced = await read(path, 'yauzl');
  expect(forced.via).toBe('yauzl');
  const { via, ...fastRest } = fast;
  const { via: _forcedVia, ...forcedRest } = forced;
  expect(fastRest).toStrictEqual(forcedRest);
  await rm(path);
  return via;
}

describe('readZip, central-directory parser against yauzl forced', { timeout: 300_000 }, () => {
  it('reads generated exporter zips, mutated or not, identically both ways', async () => {
    const seen = { 'central-directory': 0, yauzl: 0, failed: 0 };
    await fc.assert(
      fc.asyncProperty(
        writtenEntries,
        fc.oneof(fc.constant([]), fc.array(zipMutation, { minLength: 1, maxLength: 2 })),
        async (entries, mutations) => {
          const zip = mutations.reduce(mutateZip, await exporterZip(entries));
          const via = await expectSameBothWays(zip);
          if (via) seen[via] += 1;
          if (mutations.length === 0) expect(via).toBe('central-directory');
        },
      ),
      { numRuns: NUM_RUNS, seed: SEED },
    );
    expect(seen['central-directory']).toBeGreaterThan(NUM_RUNS / 5);
    expect(seen.yauzl).toBeGreaterThan(NUM_RUNS / 5);
  });

  it('reads hand-built zips with free field values identically both ways', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rawEntry, { maxLength: 6 }),
        fc.oneof(fc.constant([]), fc.array(zipMutation, { minLength: 1, maxLength: 2 })),
        async (entries, mutations) => {
          await expectSameBothWays(mutations.reduce(mutateZip, rawZip(entries)));
        },
      ),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });

  // An entry over 32 MB inflated streams on the main thread (yauzl's low-level stream either way).
  const big = Buffer.alloc(33 * 1024 * 1024, 'row\n');
  const bigZip = () =>
    exporterZip([
      { name: 'evidence/a/result.json', bytes: Buffer.from('{}'), as: 'prepared' },
      { name: 'evidence/a/big.jsonl', bytes: big, as: 'stream' },
      { name: 'export.json', bytes: Buffer.from('{"kind":"x"}'), as: 'buffer' },
    ]);
  /** The central directory record of the entry named `name`. */
  const recordOf = (zip: Buffer, name: string) => {
    for (let at = zip.readUInt32LE(zip.length - 6); zip.readUInt32LE(at) === 0x02014b50; ) {
      const length = zip.readUInt16LE(at + 28);
      if (zip.toString('utf8', at + 46, at + 46 + length) === name) return at;
      at += 46 + length + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    }
    throw new Error(`no record for ${name}`);
  };
  const cases: [string, (zip: Buffer) => Buffer, RegExp | undefined][] = [
    ['as written', (zip) => zip, undefined],
    [
      'declared smaller than it inflates (a zip bomb)',
      (zip) => {
        zip.writeUInt32LE(33 * 1024 * 1024 + 1 - 4096, recordOf(zip, 'evidence/a/big.jsonl') + 24);
        return zip;
      },
      /too many bytes|not enough bytes/,
    ],
    [
      'declared larger than it inflates',
      (zip) => {
        zip.writeUInt32LE(40 * 1024 * 1024, recordOf(zip, 'evidence/a/big.jsonl') + 24);
        return zip;
      },
      /not enough bytes/,
    ],
    [
      'data past the end of the file (local name length inflated)',
      (zip) => {
        const local = zip.readUInt32LE(recordOf(zip, 'evidence/a/big.jsonl') + 42);
        zip.writeUInt16LE(0xffff, local + 26);
        return zip;
      },
      /cannot read evidence\/a\/big.jsonl|unexpected end|invalid|corrupt/,
    ],
    [
      'a local header that is not one',
      (zip) => {
        const local = zip.readUInt32LE(recordOf(zip, 'evidence/a/big.jsonl') + 42);
        zip.writeUInt32LE(0, local);
        return zip;
      },
      /invalid local file header/,
    ],
  ];
  it.each(cases)('streams a large entry identically both ways: %s', async (_, change, error) => {
    const zip = change(await bigZip());
    const path = await onDisk(zip);
    const fast = await read(path, 'central-directory');
    const forced = await read(path, 'yauzl');
    expect(fast.via).toBe('central-directory');
    expect({ ...fast, via: 'yauzl' }).toStrictEqual(forced);
    if (error) expect('error' in fast ? fast.error : 'no error').toMatch(error);
    else expect('error' in fast ? fast.error : undefined).toBeUndefined();
    await rm(path);
  });
});

describe('an archive the exporter made', { timeout: 300_000 }, () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    await seedYear(env);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('is listed by the central-directory parser, with the same contents as through yauzl, and verifies as before', async () => {
    const out = join(work, 'exported.zip');
    await exportYear(env, out);
    const fast = await read(out, 'central-directory');
    expect(fast.via).toBe('central-directory');
    const forced = await read(out, 'yauzl');
    expect({ ...fast, via: 'yauzl' }).toStrictEqual(forced);
    expect('order' in fast ? fast.order.length : 0).toBeGreaterThan(30);
    // verifyPath takes the same default path; its verdict on this fixture is the export test's.
    const report = await verifyPath(out);
    expect(report.problems.map((problem) => problem.code)).toEqual(['chain-truncated', 'chain-truncated']);
    expect(report.signaturesValid).toBe(14);
  });
});
