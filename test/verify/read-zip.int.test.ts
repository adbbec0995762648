import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipStream } from '../../lib/export/zip-writer.ts';
import { ArchiveReadError } from '../../lib/verify/archive-file.ts';
import { readZip } from '../../lib/verify/read-zip.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'soc2-read-zip-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const mtime = new Date('2026-12-01T00:00:00Z');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function zipOf(entries: [string, Buffer][]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of zipStream(
    entries.map(([name, bytes]) => ({ name, mtime, open: () => bytes })),
    { level: 6 },
  ))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Rewrites the uncompressed size the central directory declares for `name`. */
function declareSize(zip: Buffer, name: string, size: number): Buffer {
  const patched = Buffer.from(zip);
  for (let at = patched.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; ) {
    const nameLength = patched.readUInt16LE(at + 28);
    if (patched.subarray(at + 46, at + 46 + nameLength).toString('utf8') === name) {
      patched.writeUInt32LE(size, at + 24);
      return patched;
    }
    at = patched.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4);
  }
  throw new Error(`no central directory record for ${name}`);
}

// Files, worker threads and 33 MB inflated: seconds on a loaded 2-core machine, so an integration test.
describe('reading an exported zip', { timeout: 120_000 }, () => {
  // Many entries, so several worker batches are in flight; one larger than the inline window.
  const entries: [string, Buffer][] = Array.from({ length: 300 }, (_, i) => [
    `evidence/c/daily/2026-01-01/run-${String(i).padStart(4, '0')}/result.json`,
    Buffer.from(`{"n":${i},"pad":"${'x'.repeat(i * 7)}"}`),
  ]);
  entries.push(['evidence/c/daily/2026-01-01/run-0000/manifest.json', Buffer.from('{"manifest":true}')]);
  entries.push(['export.json', Buffer.from('{"kind":"soc2-evidence-export"}')]);

  it('hashes every entry in archive order and keeps the bytes verify parses', async () => {
    const path = join(dir, 'good.zip');
    // One entry over the 32 MB inflated in one go: it streams, between worker batches.
    const all: [string, Buffer][] = [
      ...entries.slice(0, 300),
      ['evidence/c/daily/2026-01-01/run-9999/big.bin', Buffer.alloc(33 * 1024 * 1024)],
      ...entries.slice(300),
    ];
    await writeFile(path, await zipOf(all));
    const seen: string[] = [];
    const contents = await readZip(path, { onFile: (file) => seen.push(file.path) });
    expect(seen).toEqual(all.map(([name]) => name));
    for (const [name, bytes] of all) {
      expect(contents.files.get(name)?.sha256, name).toBe(sha256(bytes));
      expect(contents.files.get(name)?.size).toBe(bytes.length);
    }
    expect(contents.files.get('export.json')?.content?.toString()).toBe('{"kind":"soc2-evidence-export"}');
    expect(contents.files.get(entries[0]?.[0] ?? '')?.content).toBeUndefined();
    expect(contents.bytes).toBe(all.reduce((sum, [, bytes]) => sum + bytes.length, 0));
  });

  it('fails on an entry that inflates to more than it declares (a zip bomb) instead of filling memory', async () => {
    const path = join(dir, 'bomb.zip');
    const victim = entries[280]?.[0] ?? '';
    await writeFile(path, declareSize(await zipOf(entries), victim, 10));
    const error = await readZip(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveReadError);
    expect((error as Error).message).toMatch(new RegExp(`${victim}: corrupt or larger than declared`));
  });

  it('fails on an entry shorter than it declares, naming both sizes', async () => {
    const path = join(dir, 'short.zip');
    const [victim = '', bytes = Buffer.alloc(0)] = entries[5] ?? [];
    await writeFile(path, declareSize(await zipOf(entries), victim, bytes.length + 100));
    await expect(readZip(path)).rejects.toThrow(
      `${victim}: ${bytes.length} bytes, the archive declares ${bytes.length + 100}`,
    );
  });

  it('fails on corrupt deflate data', async () => {
    const path = join(dir, 'corrupt.zip');
    const zip = await zipOf(entries.slice(0, 3));
    // Garble the first entry's compressed bytes (after its 30-byte header and name).
    const nameLength = zip.readUInt16LE(26);
    const start = 30 + nameLength + zip.readUInt16LE(28);
    zip.fill(0xff, start, start + 8);
    await writeFile(path, zip);
    await expect(readZip(path)).rejects.toThrow(/corrupt or larger than declared/);
    expect((await readFile(path)).length).toBe(zip.length);
  });
});
