import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedYear } from '../export/export-fixture.ts';
import { type ArchiveTierProxy, startArchiveTierProxy } from '../export/support/archive-tier-proxy.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { cli } from './support/spawn-cli.ts';

/**
 * `export` of archived evidence as users run it: the binary, against fauxqs behind the proxy that
 * plays S3's archive tiers. The exit codes 3 (archived, nothing written) and 75 (come back later)
 * must survive the process boundary like 0, 1 and 2 do.
 */
describe('soc2-evidence export of archived evidence, as a process', { timeout: 300_000 }, () => {
  let env: TestEnvironment;
  let proxy: ArchiveTierProxy;
  let dir: string;

  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    dir = await mkdtemp(join(tmpdir(), 'soc2-export-archived-e2e-'));
    await seedYear(env);
    // Restored on the first look after the request.
    proxy = await startArchiveTierProxy({
      target: env.services.awsEnv.AWS_ENDPOINT_URL_S3 ?? '',
      pollsUntilRestored: 0,
    });
    const page = await env.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: env.resources.evidenceBucket,
        Prefix: 'evidence/audit-log/monthly/2026-02/',
      }),
    );
    for (const object of page.Contents ?? []) proxy.archive(object.Key ?? '');
  });
  afterAll(async () => {
    await proxy?.stop();
    await env?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const exportArgs = (out: string, ...extra: string[]) => [
    'export',
    '--from',
    '2026-01-01',
    '--to',
    '2026-09-30',
    '--out',
    out,
    '--bucket',
    env.resources.evidenceBucket,
    ...extra,
  ];
  const processEnv = () => ({ ...env.services.awsEnv, AWS_ENDPOINT_URL_S3: proxy.url });

  it('exits 3 listing the archived objects, then 75 after requesting restores, then 0 with the archive', async () => {
    const out = join(dir, 'archived.zip');
    const stopped = await cli(exportArgs(out), processEnv());
    expect(stopped.stderr).toContain('export stopped before writing anything');
    expect(stopped.stderr).toMatch(/3 archived object\(s\), .* storage class DEEP_ARCHIVE/);
    expect(stopped.code).toBe(3);
    expect(existsSync(out)).toBe(false);

    const requested = await cli(exportArgs(out, '--restore-archived'), processEnv());
    expect(requested.stderr).toMatch(/3 restore\(s\) requested now/);
    expect(requested.code).toBe(75);
    expect(proxy.restoreRequests).toHaveLength(3);
    expect(existsSync(out)).toBe(false);

    const exported = await cli(exportArgs(out, '--restore-archived'), processEnv());
    expect(exported.stdout).toMatch(/Wrote .*archived\.zip/);
    expect(exported.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
