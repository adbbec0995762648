import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeS3ArchiveAccess } from '../../lib/adapters/s3/s3-archive-access.ts';
import { makeS3EvidenceReader } from '../../lib/adapters/s3/s3-evidence-reader.ts';
import { EXPORT_EXIT, exportCommand } from '../../lib/cli/export-command.ts';
import { ArchivedObjectReadError, EvidenceReadError } from '../../lib/export/evidence-reader.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { makeS3Client } from '../../lib/wiring/clients/s3-client.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { EXPORTED_AT, seedYear } from './export-fixture.ts';
import { type ArchiveTierProxy, startArchiveTierProxy } from './support/archive-tier-proxy.ts';

let env: TestEnvironment;
let work: string;
let keys: string[];
const proxies: ArchiveTierProxy[] = [];

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-archived-export-'));
  await seedYear(env);
  keys = [];
  for (const prefix of ['evidence/', 'checkpoints/']) {
    const page = await env.clients.s3.send(
      new ListObjectsV2Command({ Bucket: env.resources.evidenceBucket, Prefix: prefix }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
  }
});
afterEach(async () => {
  while (proxies.length) await proxies.pop()?.stop();
});
afterAll(async () => {
  await env?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Jan-Sep 2026: every period of both controls ran, so the archive must verify without a problem. */
const RANGE = { from: '2026-01-01', to: '2026-09-30' } as const;
/** What the lifecycle archived by the export date: audit-log's first quarter (its run folders). */
const firstQuarter = () => keys.filter((key) => /^evidence\/audit-log\/monthly\/2026-0[1-3]\//.test(key));

async function archiveTiers(pollsUntilRestored = 1) {
  const proxy = await startArchiveTierProxy({
    target: env.services.awsEnv.AWS_ENDPOINT_URL_S3 ?? '',
    pollsUntilRestored,
  });
  proxies.push(proxy);
  const s3 = makeS3Client({ ...env.services.awsEnv, AWS_ENDPOINT_URL_S3: proxy.url });
  return { proxy, s3 };
}

async function runExport(s3: ReturnType<typeof makeS3Client>, out: string, ...extra: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await exportCommand(
    [
      '--from',
      RANGE.from,
      '--to',
      RANGE.to,
      '--out',
      out,
      '--bucket',
      env.resources.evidenceBucket,
      ...extra,
    ],
    { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {} },
    { clients: { s3 }, clock: () => EXPORTED_AT },
  );
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('export of archived evidence', () => {
  it('stops before writing anything, listing what is archived (count, bytes, oldest, newest), exit 3', async () => {
    const { proxy, s3 } = await archiveTiers();
    const archived = firstQuarter();
    expect(archived.length).toBe(9); // three runs: result.json, manifest.json, manifest.sig each
    for (const key of archived) proxy.archive(key);
    const out = join(work, 'stopped.zip');
    await writeFile(out, 'an earlier archive');
    const result = await runExport(s3, out);
    expect(result.code).toBe(EXPORT_EXIT.archived);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('export stopped before writing anything');
    expect(result.stderr).toMatch(/9 archived object\(s\), [\d.]+ MB, storage class DEEP_ARCHIVE/);
    expect(result.stderr).toMatch(
      /oldest: evidence\/audit-log\/monthly\/2026-01\/\S+ \(last modified \d{4}-\d{2}-\d{2}\)/,
    );
    expect(result.stderr).toMatch(/newest: evidence\/audit-log\/monthly\/2026-03\//);
    expect(result.stderr).toContain('--restore-archived [--restore-tier Bulk|Standard|Expedited]');
    expect(result.stderr).toMatch(/Expedited tier \(highest cost\): DEEP_ARCHIVE not available/);
    expect(result.stderr).not.toMatch(/InvalidObjectState|S3ServiceException/);
    // Found from the listing and HEADs: no archived object was even asked for, nothing restored.
    expect(proxy.refusedGets).toEqual([]);
    expect(proxy.restoreRequests).toEqual([]);
    expect(await readFile(out, 'utf8')).toBe('an earlier archive');
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('--restore-archived requests restores and exits 75; re-runs resume, then export an archive verify accepts', async () => {
    const { proxy, s3 } = await archiveTiers(1);
    const archived = firstQuarter();
    for (const key of archived) proxy.archive(key);
    const out = join(work, 'restored.zip');

    const first = await runExport(s3, out, '--restore-archived');
    expect(first.code).toBe(EXPORT_EXIT.restorePending);
    expect(first.code).toBe(75);
    expect(first.stderr).toMatch(
      /9 restore\(s\) requested now \(Standard tier \(mid cost, the S3 default\): DEEP_ARCHIVE up to 12 hours\), 0 in progress, 0 ready/,
    );
    expect(first.stderr).toContain('Run the same command again later');
    expect(proxy.restoreRequests.map((r) => r.key).sort()).toEqual([...archived].sort());
    expect(new Set(proxy.restoreRequests.map((r) => `${r.tier}/${r.days}`))).toEqual(new Set(['Standard/7']));
    expect(existsSync(out)).toBe(false);

    // Still restoring: nothing asked again, nothing written.
    const second = await runExport(s3, out, '--restore-archived');
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/0 restore\(s\) requested now .*, 9 in progress, 0 ready/);
    expect(proxy.restoreRequests).toHaveLength(9);
    expect(existsSync(out)).toBe(false);
    expect(proxy.refusedGets).toEqual([]);

    // Restored: the same command exports.
    const third = await runExport(s3, out, '--restore-archived');
    expect(third.stderr).toBe('');
    expect(third.code).toBe(0);
    expect(proxy.restoreRequests).toHaveLength(9);
    const report = await verifyPath(out);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.manifestsChecked).toBe(12); // audit-log Jan-Sep, access-review Q1-Q3
  });

  it('without --restore-archived, restores asked for earlier make it exit 75, not 3', async () => {
    const { proxy, s3 } = await archiveTiers(5);
    for (const key of firstQuarter()) proxy.archive(key);
    const out = join(work, 'pending.zip');
    expect((await runExport(s3, out, '--restore-archived', '--restore-tier', 'bulk')).code).toBe(75);
    expect(new Set(proxy.restoreRequests.map((r) => r.tier))).toEqual(new Set(['Bulk']));
    const later = await runExport(s3, out, '--json');
    expect(later.code).toBe(75);
    expect(JSON.parse(later.stdout)).toMatchObject({
      status: 'restore-pending',
      requested: 0,
      inProgress: 9,
      ready: 0,
      archived: { count: 9, storageClasses: ['DEEP_ARCHIVE'] },
    });
  });

  it('refuses Expedited for DEEP_ARCHIVE before asking S3 for anything (exit 2), and uses it for GLACIER', async () => {
    const { proxy, s3 } = await archiveTiers();
    const [glacier, ...deep] = firstQuarter();
    proxy.archive(glacier ?? '', 'GLACIER');
    for (const key of deep) proxy.archive(key, 'DEEP_ARCHIVE');
    const refused = await runExport(
      s3,
      join(work, 'expedited.zip'),
      '--restore-archived',
      '--restore-tier',
      'Expedited',
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /the Expedited tier is not available for DEEP_ARCHIVE \(8 object\(s\).*use Bulk or Standard/,
    );
    expect(proxy.restoreRequests).toEqual([]);

    const { proxy: glacierOnly, s3: glacierS3 } = await archiveTiers();
    glacierOnly.archive(glacier ?? '', 'GLACIER');
    const asked = await runExport(
      glacierS3,
      join(work, 'expedited.zip'),
      '--restore-archived',
      '--restore-tier',
      'Expedited',
    );
    expect(asked.code).toBe(75);
    expect(asked.stderr).toMatch(/Expedited tier \(highest cost\): GLACIER 1-5 minutes/);
    expect(glacierOnly.restoreRequests).toEqual([{ key: glacier, tier: 'Expedited', days: 7 }]);
  });

  it.each([
    ['a public key', (key: string) => key.startsWith('evidence/_public-keys/')],
    ['a checkpoint', (key: string) => key.startsWith('checkpoints/')],
  ])('fails clearly when only %s is archived (the lifecycle never does that)', async (_what, pick) => {
    const { proxy, s3 } = await archiveTiers();
    const victims = keys.filter(pick);
    expect(victims.length).toBeGreaterThan(0);
    for (const key of victims) proxy.archive(key);
    const out = join(work, 'fixed-files.zip');
    const result = await runExport(s3, out);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`${victims.length} archived object(s)`);
    expect(result.stderr).toContain(`oldest: ${victims[0]}`);
    expect(result.stderr).toMatch(/are public keys or checkpoints .*the lifecycle never archives these/);
    expect(existsSync(out)).toBe(false);
    expect(proxy.refusedGets).toEqual([]);
  });

  it('ignores archived evidence outside the range', async () => {
    const { proxy, s3 } = await archiveTiers();
    // December 2025 is listed (the listing has days of slack) but ends before the range.
    for (const key of keys.filter((k) => k.startsWith('evidence/audit-log/monthly/2025-12/')))
      proxy.archive(key);
    const result = await runExport(s3, join(work, 'outside.zip'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('an object that turns out unreadable mid-export (its copy expired, an Intelligent-Tiering tier) fails cleanly: exit 3, no zip', async () => {
    const { proxy, s3 } = await archiveTiers();
    const victim = firstQuarter().find((key) => key.endsWith('/result.json')) ?? '';
    proxy.archive(victim, 'DEEP_ARCHIVE', { listed: false });
    const out = join(work, 'midway.zip');
    await writeFile(out, 'an earlier archive');
    const result = await runExport(s3, out);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `export failed, nothing was kept: s3://${env.resources.evidenceBucket}/${victim} is archived and has no readable restored copy (InvalidObjectState)`,
    );
    expect(result.stderr).toContain('run again with --restore-archived');
    expect(proxy.refusedGets).toEqual([victim]);
    expect(await readFile(out, 'utf8')).toBe('an earlier archive');
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});

describe('S3 archive access', () => {
  it("sees S3's own InvalidObjectState (403) on GET and maps it, restore by restore", async () => {
    const { proxy, s3 } = await archiveTiers(1);
    const [key = ''] = firstQuarter();
    proxy.archive(key);
    const reader = makeS3EvidenceReader(s3, env.resources.evidenceBucket);
    const access = makeS3ArchiveAccess(s3, env.resources.evidenceBucket);
    const refused = await reader.getBytes(key).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ArchivedObjectReadError);
    const cause = (refused as Error).cause;
    expect(cause).toBeInstanceOf(S3ServiceException);
    expect(cause).toMatchObject({ name: 'InvalidObjectState', $metadata: { httpStatusCode: 403 } });

    expect(await access.restoreStatus(key)).toBe('not-requested');
    expect(await access.requestRestore(key, 'Standard', 7)).toBe('requested');
    // S3's 409 RestoreAlreadyInProgress is an answer, not a failure.
    expect(await access.requestRestore(key, 'Standard', 7)).toBe('in-progress');
    expect(await access.restoreStatus(key)).toBe('in-progress');
    expect(await access.restoreStatus(key)).toBe('restored');
    expect((await reader.getBytes(key)).length).toBeGreaterThan(0);
  });

  it('reports a restore S3 refuses (an object that is not archived) with its cause', async () => {
    const { s3 } = await archiveTiers();
    const access = makeS3ArchiveAccess(s3, env.resources.evidenceBucket);
    const [key = ''] = firstQuarter();
    const error = await access.requestRestore(key, 'Standard', 7).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvidenceReadError);
    expect((error as Error).message).toContain(
      `cannot request a restore of s3://${env.resources.evidenceBucket}/${key}`,
    );
    expect((error as Error).cause).toMatchObject({ name: 'InvalidObjectState' });
  });
});
