import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadAndPresign } from '../../../lib/adapters/s3/presign-upload.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';

describe('presigned export upload', () => {
  let env: TestEnvironment;
  let dir: string;
  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    dir = await mkdtemp(join(tmpdir(), 'soc2-presign-'));
  });
  afterAll(async () => {
    await env?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('locks the uploaded copy only until its link expires, not for the evidence retention', async () => {
    const file = join(dir, 'audit-2026.zip');
    await writeFile(file, 'PK-archive-bytes');
    const sent: Record<string, unknown>[] = [];
    env.clients.s3.middlewareStack.add(
      (next) => async (args) => {
        sent.push(args.input as Record<string, unknown>);
        return next(args);
      },
      { step: 'initialize', name: 'capturePutObject' },
    );
    const now = new Date('2026-12-01T10:00:00Z');
    const result = await uploadAndPresign({
      s3: env.clients.s3,
      bucket: env.resources.evidenceBucket,
      file,
      expiresInSeconds: 3600,
      now,
    });
    env.clients.s3.middlewareStack.remove('capturePutObject');
    expect(result.key).toBe('exports/audit-2026.zip');
    const put = sent.find((input) => input.Key === 'exports/audit-2026.zip' && 'ContentType' in input);
    expect(put).toMatchObject({
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: new Date('2026-12-01T11:00:00Z'),
    });
    expect(await (await fetch(result.url)).text()).toBe('PK-archive-bytes');
  });
});
