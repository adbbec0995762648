import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareData, type ZipEntry, zipStream } from '../../lib/export/zip-writer.ts';
import { readZip } from '../../lib/verify/read-zip.ts';
import { zipEntries } from './export-fixture.ts';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'soc2-zip-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const mtime = new Date('2026-12-31T23:59:58Z');
const big = Buffer.alloc(3 * 1024 * 1024, 'evidence row\n');

function entries(): ZipEntry[] {
  return [
    { name: 'evidence/a/result.json', mtime, open: () => Buffer.from('{"verdict":"pass"}\n') },
    {
      name: 'evidence/a/large.json',
      mtime,
      size: big.length,
      open: () => Readable.from([big.subarray(0, 1000), big.subarray(1000)]),
    },
    { name: 'evidence/a/prepared.json', mtime, open: () => prepareData(Buffer.from('x'.repeat(5000)), 6) },
    { name: 'oscal/ü-名前.json', mtime, open: () => Buffer.from('[]') },
    { name: 'empty.txt', mtime, open: () => Buffer.alloc(0) },
  ];
}

async function write(
  name: string,
  list: ZipEntry[],
  options: Parameters<typeof zipStream>[1] = {},
): Promise<string> {
  const path = join(work, name);
  await pipeline(zipStream(list, options), createWriteStream(path));
  return path;
}

describe('streaming zip writer', () => {
  it('writes buffered, streamed and pre-compressed entries that yauzl reads back byte for byte', async () => {
    const written: string[] = [];
    const path = await write('mixed.zip', entries(), { onEntry: (entry) => written.push(entry.name) });
    const read = await zipEntries(path);
    expect([...read.keys()]).toEqual(entries().map((entry) => entry.name));
    expect(read.get('evidence/a/result.json')?.toString()).toBe('{"verdict":"pass"}\n');
    expect(read.get('evidence/a/large.json')?.equals(big)).toBe(true);
    expect(read.get('evidence/a/prepared.json')?.toString()).toBe('x'.repeat(5000));
    expect(read.get('oscal/ü-名前.json')?.toString()).toBe('[]');
    expect(read.get('empty.txt')?.length).toBe(0);
    expect(written).toHaveLength(5);
  });

  it('stores entries uncompressed at level 0 and still round-trips through the verifier reader', async () => {
    const path = await write('stored.zip', entries(), { level: 0 });
    const contents = await readZip(path);
    expect(contents.files.get('evidence/a/large.json')?.size).toBe(big.length);
    expect(contents.bytes).toBe(19 + big.length + 5000 + 2);
  });

  it('writes ZIP64 end records that readers accept', async () => {
    const path = await write('zip64.zip', entries(), { forceZip64: true });
    expect((await zipEntries(path)).get('evidence/a/result.json')?.toString()).toBe('{"verdict":"pass"}\n');
    expect((await readZip(path)).files.size).toBe(5);
  });

  it('refuses entry names that would escape the extraction folder', async () => {
    const evil: ZipEntry[] = [{ name: '../etc/passwd', mtime, open: () => Buffer.from('x') }];
    await expect(write('evil.zip', evil)).rejects.toThrow(/invalid entry name "..\/etc\/passwd"/);
  });

  it('fails when a stream delivers a different size than announced', async () => {
    const short: ZipEntry[] = [{ name: 'a.json', mtime, size: 10, open: () => Buffer.from('12345') }];
    await expect(write('short.zip', short)).rejects.toThrow(/a.json: expected 10 bytes, read 5/);
  });
});
