import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidObjectKeyError, makeFolderBucket } from '../../../lib/adapters/filesystem/folder-bucket.ts';
import { EvidenceConflictError } from '../../../lib/evidence/evidence-object-store.ts';
import { sha256Hex } from '../../../lib/shared/canonical-json.ts';

describe('the evidence bucket as a folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'soc2-folder-bucket-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const bucket = () => makeFolderBucket(join(dir, 'bucket'), join(dir, 'tmp'));

  it('writes once: the same bytes again succeed, other bytes are refused and the first stay', async () => {
    const { store } = bucket();
    const key = 'evidence/c/monthly/2026-01/r1/result.json';
    const first = Buffer.from('{"verdict":"fail"}');
    expect(await store.putOnce(key, first, 'application/json')).toBe(sha256Hex(first));
    expect(await store.putOnce(key, first, 'application/json')).toBe(sha256Hex(first));
    await expect(store.putOnce(key, Buffer.from('{"verdict":"pass"}'), 'application/json')).rejects.toThrow(
      EvidenceConflictError,
    );
    expect(await readFile(join(dir, 'bucket', key), 'utf8')).toBe('{"verdict":"fail"}');
    // Nothing stray in the bucket (temporary files live outside it and are removed).
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses keys that would leave the folder', async () => {
    const { store, readObject } = bucket();
    for (const key of ['../outside', 'evidence/../../x', '/etc/passwd', 'evidence//x']) {
      await expect(store.putOnce(key, Buffer.from('x'), 'text/plain')).rejects.toThrow(InvalidObjectKeyError);
    }
    await expect(readObject('../outside')).rejects.toMatchObject({
      cause: expect.any(InvalidObjectKeyError),
    });
  });

  it('lists like S3: folders under a prefix, objects in key order after startAfter', async () => {
    const { store, reader, readObject } = bucket();
    for (const key of ['evidence/b/x.json', 'evidence/a/2.json', 'evidence/a/1.json', 'checkpoints/1.json']) {
      await store.putOnce(key, Buffer.from(key), 'application/json');
    }
    expect(await reader.listFolders('evidence/')).toEqual(['evidence/a/', 'evidence/b/']);
    expect(await reader.listFolders('')).toEqual(['checkpoints/', 'evidence/']);
    expect(await reader.listFolders('nothing/')).toEqual([]);
    const keys: string[] = [];
    for await (const object of reader.listObjects('evidence/', 'evidence/a/1.json')) keys.push(object.key);
    expect(keys).toEqual(['evidence/a/2.json', 'evidence/b/x.json']);
    expect((await reader.getBytes('evidence/a/1.json')).toString()).toBe('evidence/a/1.json');
    expect(await readObject('evidence/missing.json')).toBeUndefined();
    await expect(reader.getBytes('evidence/missing.json')).rejects.toThrow(/does not exist/);
  });
});
