import { createWriteStream } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { makeS3EvidenceReader } from '../../lib/adapters/s3/s3-evidence-reader.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { type Manifest, parseManifest, serializeManifest } from '../../lib/evidence/manifest.ts';
import { exportArchive } from '../../lib/export/export-archive.ts';
import { sha256Hex } from '../../lib/shared/canonical-json.ts';
import type { Finding, VerificationReport } from '../../lib/verify/verify-archive.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { zipEntries } from '../export/export-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { evidenceFixture, MONTHS_2026, runResult, syncEvidence } from './evidence-fixture.ts';

const AS_OF = new Date('2027-01-05T00:00:00Z');
const CONTROL = 'audit-log';
const CHECKPOINT_AT = new Date('2027-01-04T12:00:00Z');
const CONTROLS = [
  { id: CONTROL, cadence: 'monthly' as const, addedOn: '2026-01-01' },
  { id: 'access-review', cadence: 'quarterly' as const, addedOn: '2026-01-01' },
];
let rerunFolder = '';

let env: TestEnvironment;
let work: string;
let baseFolder: string;
let baseZip: string;
/** Run folder (relative to the synced evidence prefix) of each audit-log period's last run. */
const runFolder = new Map<string, string>();

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-tamper-'));
  const evidence = evidenceFixture(env);
  for (const month of MONTHS_2026) {
    const verdict = month === '2026-06' ? 'fail' : month === '2026-09' ? 'error' : 'pass';
    const run = runResult({ controlId: CONTROL, cadence: 'monthly', periodKey: month, verdict });
    await evidence.record(run);
    runFolder.set(month, `${CONTROL}/monthly/${month}/${run.runId}`);
    if (month === '2026-06') {
      // A mid-year checkpoint, so the checkpoints form a chain the tests can break.
      await evidence.checkpoint(CONTROLS, new Date('2026-07-02T00:00:00Z'));
    }
    if (month === '2026-03') {
      // A re-run of the same month: one more link in the chain, same period.
      const again = runResult({
        controlId: CONTROL,
        cadence: 'monthly',
        periodKey: month,
        finishedAt: new Date('2026-04-02T08:00:00Z'),
      });
      await evidence.record(again);
      runFolder.set(month, `${CONTROL}/monthly/${month}/${again.runId}`);
    }
  }
  for (const quarter of ['2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4']) {
    await evidence.record(
      runResult({ controlId: 'access-review', cadence: 'quarterly', periodKey: quarter }),
    );
  }
  // The newest run of its chain: a failing re-run of Q4. Dropping it would show Q4's older pass.
  const failingRerun = runResult({
    controlId: 'access-review',
    cadence: 'quarterly',
    periodKey: '2026-Q4',
    verdict: 'fail',
    finishedAt: new Date('2027-01-03T09:00:00Z'),
  });
  await evidence.record(failingRerun);
  rerunFolder = `access-review/quarterly/2026-Q4/${failingRerun.runId}`;
  // The system's daily checkpoint after the year closed: it pins every chain and manifest above.
  await evidence.checkpoint(CONTROLS, CHECKPOINT_AT);
  baseFolder = join(work, 'base');
  await syncEvidence(env.clients.s3, env.resources.evidenceBucket, baseFolder);
  baseZip = join(work, 'base.zip');
  await exportArchive({
    reader: makeS3EvidenceReader(env.clients.s3, env.resources.evidenceBucket),
    bucket: env.resources.evidenceBucket,
    range: { from: '2026-01-01', to: '2026-12-31' },
    output: createWriteStream(baseZip),
    clock: () => AS_OF,
  });
});

afterAll(async () => {
  await env?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let copies = 0;
async function tamperedCopy(tamper: (dir: string) => Promise<void>): Promise<VerificationReport> {
  copies += 1;
  const dir = join(work, `copy-${copies}`);
  await cp(baseFolder, dir, { recursive: true });
  await tamper(dir);
  return verifyPath(dir, { asOf: AS_OF });
}

function codes(report: VerificationReport): string[] {
  return report.problems.map((problem) => problem.code).sort();
}

function only(report: VerificationReport, code: Finding['code']): Finding[] {
  return report.problems.filter((problem) => problem.code === code);
}

async function writeZip(path: string, entries: Map<string, Buffer>): Promise<void> {
  const zip = new ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(bytes, name);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

async function resignedManifest(
  path: string,
  change: (manifest: Manifest) => Manifest,
  signer = makeLocalSigner(),
) {
  const manifest = change(parseManifest(await readFile(path)));
  const { fingerprint } = await signer.publicKey();
  const resigned = {
    ...manifest,
    signing: {
      ...manifest.signing,
      keyFingerprint: fingerprint,
      publicKeyKey: `evidence/_public-keys/${fingerprint}.pem`,
    },
  };
  const bytes = serializeManifest(resigned);
  return { bytes, signature: Buffer.from(await signer.sign(bytes)).toString('base64'), signer };
}

describe('verify on untouched evidence', () => {
  it('accepts the synced folder: every hash, signature, chain link and period holds', async () => {
    const report = await verifyPath(baseFolder, { asOf: AS_OF });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const audit = report.controls.find((control) => control.controlId === CONTROL);
    expect(audit).toMatchObject({
      firstSequence: 1,
      lastSequence: 13,
      expectedPeriods: 12,
      coveredPeriods: 12,
    });
    expect(audit?.verdicts).toEqual({ pass: 10, fail: 1, error: 1 });
    expect(report.controls.find((control) => control.controlId === 'access-review')).toMatchObject({
      coveredPeriods: 4,
      ok: true,
    });
    expect(report.artifactsChecked).toBe(18);
    expect(report.signaturesValid).toBe(18);
  });

  it('accepts the exported zip, using the range and time recorded in it', async () => {
    const report = await verifyPath(baseZip);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      kind: 'zip',
      rangeFrom: 'export.json',
      asOf: AS_OF.toISOString(),
    });
    expect(report.range).toEqual({ from: '2026-01-01', to: '2026-12-31' });
  });
});

describe('verify detects tampering', () => {
  it('names the artifact, control and period when one byte of an artifact is flipped', async () => {
    const report = await tamperedCopy(async (dir) => {
      const path = join(dir, runFolder.get('2026-04') ?? '', 'result.json');
      const bytes = await readFile(path);
      bytes[40] = (bytes[40] ?? 0) ^ 0x01;
      await writeFile(path, bytes);
    });
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['artifact-altered']);
    expect(report.problems[0]).toMatchObject({
      file: `evidence/${runFolder.get('2026-04')}/result.json`,
      controlId: CONTROL,
      periodKey: '2026-04',
    });
    expect(report.problems[0]?.message).toMatch(
      /differs from .* sealed in evidence\/audit-log\/monthly\/2026-04\/.*manifest\.json: altered after it was recorded/,
    );
  });

  it('reports a deleted artifact as missing from its run', async () => {
    const report = await tamperedCopy(async (dir) =>
      rm(join(dir, runFolder.get('2026-02') ?? '', 'result.json')),
    );
    expect(codes(report)).toEqual(['artifact-missing']);
    expect(report.problems[0]).toMatchObject({ controlId: CONTROL, periodKey: '2026-02' });
    expect(report.problems[0]?.message).toMatch(
      /result\.json is listed by .*2026-02.*manifest\.json \(audit-log, period 2026-02\) but is not in the archive: deleted/,
    );
  });

  it('finds a whole run deleted from the middle of the chain: a missing link and a period without a manifest', async () => {
    const report = await tamperedCopy(async (dir) =>
      rm(join(dir, runFolder.get('2026-05') ?? ''), { recursive: true }),
    );
    expect(codes(report)).toEqual(['manifest-missing', 'period-missing']);
    const [missing] = only(report, 'manifest-missing');
    expect(missing).toMatchObject({
      file: `evidence/${runFolder.get('2026-05')}/manifest.json`,
      controlId: CONTROL,
      periodKey: '2026-05',
    });
    expect(missing?.message).toMatch(
      /\(period 2026-05, sequence 6\) is missing: .*2026-06.* \(sequence 7\) names it as its predecessor; it was deleted/,
    );
    expect(only(report, 'period-missing')[0]?.message).toMatch(
      /audit-log, monthly period 2026-05: no manifest/,
    );
  });

  it('catches two periods whose manifests were swapped', async () => {
    const report = await tamperedCopy(async (dir) => {
      for (const file of ['manifest.json', 'manifest.sig']) {
        const a = join(dir, runFolder.get('2026-07') ?? '', file);
        const b = join(dir, runFolder.get('2026-08') ?? '', file);
        const [bytesA, bytesB] = [await readFile(a), await readFile(b)];
        await writeFile(a, bytesB);
        await writeFile(b, bytesA);
      }
    });
    // The checkpoints pinned both manifests by hash, so each path now holds the wrong one.
    expect(codes(report)).toEqual([
      'manifest-misplaced',
      'manifest-misplaced',
      'manifest-replaced',
      'manifest-replaced',
    ]);
    const messages = report.problems.map((problem) => problem.message).join('\n');
    expect(messages).toMatch(
      /2026-07\/.*manifest\.json is the manifest of audit-log period 2026-08 .* stored under period 2026-07 .*: moved or swapped/,
    );
    expect(messages).toMatch(
      /2026-08\/.*manifest\.json is the manifest of audit-log period 2026-07 .* stored under period 2026-08/,
    );
  });

  it('catches a manifest replaced and re-signed with another key, even with that key published', async () => {
    const report = await tamperedCopy(async (dir) => {
      const path = join(dir, runFolder.get('2026-06') ?? '', 'manifest.json');
      const forged = await resignedManifest(path, (manifest) => ({
        ...manifest,
        verdict: 'pass',
        reasons: [],
      }));
      await writeFile(path, forged.bytes);
      await writeFile(path.replace('manifest.json', 'manifest.sig'), forged.signature);
      const { fingerprint, pem } = await forged.signer.publicKey();
      await writeFile(join(dir, '_public-keys', `${fingerprint}.pem`), pem);
    });
    expect(codes(report)).toEqual(['key-changed', 'manifest-replaced']);
    expect(only(report, 'manifest-replaced')[0]).toMatchObject({ controlId: CONTROL, periodKey: '2026-06' });
    expect(only(report, 'manifest-replaced')[0]?.message).toMatch(
      /2026-06\/.*manifest\.json \(period 2026-06, sequence 7\): SHA-256 .* is not the .* its successor .*2026-07.* recorded: the manifest was replaced or altered/,
    );
    expect(only(report, 'key-changed')[0]?.message).toMatch(
      /2026-06\/.*manifest\.json is signed by key .* but its predecessor .*2026-05.* by .*: re-signed with another key/,
    );
  });

  it('reports a manifest whose content changed under the original signature', async () => {
    const report = await tamperedCopy(async (dir) => {
      const path = join(dir, runFolder.get('2026-09') ?? '', 'manifest.json');
      const text = (await readFile(path, 'utf8')).replace('"verdict":"error"', '"verdict":"pass"');
      await writeFile(path, text);
    });
    expect(codes(report)).toEqual(['manifest-replaced', 'signature-invalid']);
    expect(only(report, 'signature-invalid')[0]?.message).toMatch(
      /signature does not match the manifest .*: the manifest or its signature was altered/,
    );
  });

  it('notices the end of the chain cut off: the periods that were due have no manifest', async () => {
    const report = await tamperedCopy(async (dir) => {
      await rm(join(dir, runFolder.get('2026-11') ?? ''), { recursive: true });
      await rm(join(dir, runFolder.get('2026-12') ?? ''), { recursive: true });
    });
    // Coverage sees the periods without evidence; the checkpoint names both deleted manifests.
    expect(codes(report)).toEqual(['chain-truncated', 'manifest-missing', 'manifest-missing']);
    expect(only(report, 'manifest-missing').map((p) => [p.controlId, p.periodKey])).toEqual([
      [CONTROL, '2026-11'],
      [CONTROL, '2026-12'],
    ]);
    expect(only(report, 'chain-truncated')[0]).toMatchObject({ controlId: CONTROL, periodKey: '2026-11' });
    expect(only(report, 'chain-truncated')[0]?.message).toMatch(
      /audit-log: the chain ends at sequence 11 \(period 2026-10, expired 2026-12-01T00:00:00.000Z\) but monthly period\(s\) 2026-11, 2026-12 were due by 2027-01-05T00:00:00.000Z: the chain's end was removed/,
    );
  });

  it('reports a file no manifest lists as unexpected instead of accepting it', async () => {
    const report = await tamperedCopy(async (dir) => {
      await writeFile(join(dir, runFolder.get('2026-02') ?? '', 'extra-evidence.json'), '{"looks":"legit"}');
    });
    expect(codes(report)).toEqual(['unexpected-file']);
    expect(report.problems[0]).toMatchObject({
      file: `evidence/${runFolder.get('2026-02')}/extra-evidence.json`,
      controlId: CONTROL,
      periodKey: '2026-02',
    });
    expect(report.problems[0]?.message).toMatch(
      /unexpected file, not listed by .*2026-02.*manifest\.json: added after the run was sealed/,
    );
  });

  it('reports a symlink planted in the folder instead of following it', async () => {
    const report = await tamperedCopy(async (dir) => {
      await symlink('/etc/hostname', join(dir, runFolder.get('2026-03') ?? '', 'linked.json'));
    });
    expect(codes(report)).toEqual(['unexpected-file']);
    expect(report.problems[0]?.message).toMatch(/linked\.json: unexpected entry, not a regular file/);
  });

  it('detects tampering inside the zip too: a flipped byte and an added file', async () => {
    const entries = await zipEntries(baseZip);
    const key = `evidence/${runFolder.get('2026-10')}/result.json`;
    const bytes = Buffer.from(entries.get(key) ?? Buffer.alloc(0));
    bytes[10] = (bytes[10] ?? 0) ^ 0x20;
    entries.set(key, bytes);
    entries.set('notes.txt', Buffer.from('added by someone'));
    const path = join(work, 'tampered.zip');
    await writeZip(path, entries);

    const report = await verifyPath(path);
    expect(codes(report)).toEqual(['artifact-altered', 'unexpected-file']);
    expect(only(report, 'artifact-altered')[0]?.file).toBe(key);
    expect(only(report, 'unexpected-file')[0]?.message).toBe(
      'notes.txt: unexpected file, not part of the export',
    );
  });

  it('notices an edited overview page in the zip', async () => {
    const entries = await zipEntries(baseZip);
    entries.set(
      'index.html',
      Buffer.from((entries.get('index.html') ?? Buffer.alloc(0)).toString().replace('failed', 'passed')),
    );
    const path = join(work, 'edited-index.zip');
    await writeZip(path, entries);
    const report = await verifyPath(path);
    expect(codes(report)).toEqual(['report-altered']);
    expect(sha256Hex(entries.get('index.html') ?? '')).not.toBe('');
  });

  it('notices an edited overview even when its hash in the unsigned export.json is updated too', async () => {
    const entries = await zipEntries(baseZip);
    const edited = Buffer.from(
      (entries.get('index.html') ?? Buffer.alloc(0)).toString().replace('failed', 'passed'),
    );
    entries.set('index.html', edited);
    const info = JSON.parse(entries.get('export.json')?.toString() ?? '{}') as {
      reports: { path: string; size: number; sha256: string }[];
    };
    for (const report of info.reports) {
      if (report.path === 'index.html')
        Object.assign(report, { size: edited.length, sha256: sha256Hex(edited) });
    }
    entries.set('export.json', Buffer.from(`${JSON.stringify(info, null, 2)}\n`));
    const path = join(work, 'edited-index-and-info.zip');
    await writeZip(path, entries);
    const report = await verifyPath(path);
    expect(codes(report)).toEqual(['report-altered']);
    expect(report.problems[0]?.message).toMatch(
      /index\.html: not the report this archive's evidence produces/,
    );
  });

  it('fails when every file of one control is removed, naming the control, its periods and files', async () => {
    const report = await tamperedCopy(async (dir) => {
      await rm(join(dir, 'access-review'), { recursive: true });
    });
    expect(report.ok).toBe(false);
    const truncated = only(report, 'chain-truncated');
    expect(truncated).toHaveLength(1);
    expect(truncated[0]).toMatchObject({ controlId: 'access-review', periodKey: '2026-Q1' });
    expect(truncated[0]?.message).toMatch(/configured .* none of its manifests/);
    const missing = only(report, 'manifest-missing');
    expect(missing.map((p) => p.periodKey)).toEqual(['2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4', '2026-Q4']);
    expect(
      missing.every((p) => p.controlId === 'access-review' && p.file?.startsWith('evidence/access-review/')),
    ).toBe(true);
  });

  it('fails when the newest run of a chain (a failing re-run) is removed, instead of showing the older pass', async () => {
    const report = await tamperedCopy(async (dir) => {
      await rm(join(dir, rerunFolder), { recursive: true });
    });
    expect(codes(report)).toEqual(['manifest-missing']);
    expect(report.problems[0]).toMatchObject({
      file: `evidence/${rerunFolder}/manifest.json`,
      controlId: 'access-review',
      periodKey: '2026-Q4',
    });
  });

  it('fails when a checkpoint is removed from the middle of the checkpoint chain', async () => {
    const report = await tamperedCopy(async (dir) => {
      const [first] = (await readdir(join(dir, '_checkpoints'))).sort();
      await rm(join(dir, '_checkpoints', first ?? ''));
    });
    expect(codes(report)).toEqual(['checkpoint-missing']);
    expect(report.problems[0]?.file).toBe('checkpoints/20260702T000000Z.json');
  });

  it('fails when the newest checkpoint is removed: nothing covers the range end any more', async () => {
    const report = await tamperedCopy(async (dir) => {
      const names = (await readdir(join(dir, '_checkpoints'))).sort();
      await rm(join(dir, '_checkpoints', names[names.length - 1] ?? ''));
    });
    expect(codes(report)).toEqual(['checkpoint-stale']);
    const ranged = await verifyPath(join(work, `copy-${copies}`), {
      asOf: AS_OF,
      range: { from: '2026-01-01', to: '2026-12-31' },
    });
    expect(codes(ranged)).toEqual(['checkpoint-missing', 'checkpoint-stale']);
    expect(only(ranged, 'checkpoint-missing')[0]?.message).toMatch(
      /no checkpoint covers the end of the range/,
    );
  });

  it('fails without any checkpoint (evidence synced without checkpoints/)', async () => {
    const report = await tamperedCopy(async (dir) => {
      await rm(join(dir, '_checkpoints'), { recursive: true });
    });
    expect(codes(report)).toEqual(['checkpoint-missing']);
  });

  it('keeps the base copy intact between tampering tests', async () => {
    const files = await readdir(join(baseFolder, CONTROL, 'monthly'));
    expect(files).toEqual(MONTHS_2026);
  });
});
