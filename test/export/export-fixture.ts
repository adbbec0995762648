import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import yauzl from 'yauzl';
import { ZipFile } from 'yazl';
import { makeS3EvidenceReader } from '../../lib/adapters/s3/s3-evidence-reader.ts';
import type { Config } from '../../lib/config/schema.ts';
import { type ExportRequest, type ExportResult, exportArchive } from '../../lib/export/export-archive.ts';
import { buildSignOff, type SignOffRecord, signOffRun } from '../../lib/risks/sign-off.ts';
import { sha256Hex } from '../../lib/shared/canonical-json.ts';
import type { TestEnvironment } from '../support/test-environment.ts';
import { evidenceFixture, runResult } from '../verify/evidence-fixture.ts';

/** The export is taken "on" this day: December 2026 and Q4 2026 are due but never ran (missing). */
export const EXPORTED_AT = new Date('2027-01-05T00:00:00Z');
export const YEAR = { from: '2026-01-01', to: '2026-12-31' } as const;

/**
 * A year of evidence as the recorder writes it: `audit-log` monthly from December 2025 (outside
 * the range) to November 2026, June failed, September errored; `access-review` quarterly Q1..Q3,
 * Q2 failed; plus a run folder that never got its manifest.
 */
export async function seedYear(env: TestEnvironment): Promise<void> {
  const evidence = evidenceFixture(env);
  for (const month of [
    '2025-12',
    ...Array.from({ length: 11 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`),
  ]) {
    const verdict = month === '2026-06' ? 'fail' : month === '2026-09' ? 'error' : 'pass';
    await evidence.record(
      runResult({ controlId: 'audit-log', cadence: 'monthly', periodKey: month, verdict }),
    );
  }
  for (const quarter of ['2026-Q1', '2026-Q2', '2026-Q3']) {
    const verdict = quarter === '2026-Q2' ? 'fail' : 'pass';
    await evidence.record(
      runResult({ controlId: 'access-review', cadence: 'quarterly', periodKey: quarter, verdict }),
    );
  }
  // The system's checkpoint half a day before the export: it covers the range's end.
  await evidence.checkpoint(
    [
      { id: 'audit-log', cadence: 'monthly', addedOn: '2025-12-01' },
      { id: 'access-review', cadence: 'quarterly', addedOn: '2026-01-01' },
    ],
    new Date(EXPORTED_AT.getTime() - 12 * 3_600_000),
  );
  await env.clients.s3.send(
    new PutObjectCommand({
      Bucket: env.resources.evidenceBucket,
      Key: 'evidence/access-review/quarterly/2026-Q3/20261001T020000Z-dead00/result.json',
      Body: '{"unsealed":true}',
    }),
  );
}

export async function exportYear(
  env: TestEnvironment,
  out: string,
  overrides: Partial<Omit<ExportRequest, 'reader' | 'output'>> = {},
): Promise<ExportResult> {
  return exportArchive({
    reader: makeS3EvidenceReader(env.clients.s3, env.resources.evidenceBucket),
    bucket: env.resources.evidenceBucket,
    range: YEAR,
    output: createWriteStream(out),
    clock: () => EXPORTED_AT,
    ...overrides,
  });
}

/** Every entry of a zip, name -> bytes (test archives are small). */
export async function zipEntries(path: string): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true }, (error, file) =>
      error || !file ? reject(error) : resolve(file),
    ),
  );
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, async (error, stream) => {
        if (error || !stream) return reject(error);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        entries.set(entry.fileName, Buffer.concat(chunks));
        zip.readEntry();
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return entries;
}

/** Writes `entries` as a zip (the shape of an archive someone edited and zipped again). */
export async function writeZip(path: string, entries: ReadonlyMap<string, Buffer>): Promise<void> {
  const zip = new ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(bytes, name);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** Replaces a report and, like a careful forger, its size and hash in the unsigned export.json. */
export function replaceReport(entries: Map<string, Buffer>, path: string, bytes: Buffer | undefined): void {
  const info = JSON.parse(entries.get('export.json')?.toString() ?? '{}') as {
    reports: { path: string; size: number; sha256: string }[];
  };
  if (bytes) {
    entries.set(path, bytes);
    for (const report of info.reports)
      if (report.path === path) Object.assign(report, { size: bytes.length, sha256: sha256Hex(bytes) });
  } else {
    entries.delete(path);
    info.reports = info.reports.filter((report) => report.path !== path);
  }
  entries.set('export.json', Buffer.from(`${JSON.stringify(info, null, 2)}\n`));
}

/** The example register as the reviewer froze it on 2026-08-14 (R2 then scored 3 x 4), and as it is on 2026-11-20. */
export const SIGN_OFF_DATES = ['2026-08-14T10:00:00Z', '2026-11-20T15:30:00Z'] as const;

/**
 * Two signed sign-offs of the config's register in its own chain, as `risks sign-off` records them:
 * the first over an earlier version (R2 likelihood 3), the second over the register as configured,
 * so the second records "R2 likelihood 3 -> 4".
 */
export async function seedSignOffs(env: TestEnvironment, config: Config): Promise<SignOffRecord[]> {
  const register = config.riskRegister;
  if (!register) throw new Error('the config has no risk register');
  const evidence = evidenceFixture(env);
  const earlier = {
    ...register,
    risks: register.risks.map((risk) => (risk.id === 'R2' ? { ...risk, likelihood: 3 } : risk)),
  };
  const records: SignOffRecord[] = [];
  for (const [index, at] of SIGN_OFF_DATES.entries()) {
    const previous = records.at(-1);
    const record = buildSignOff({
      register: index === 0 ? earlier : register,
      timeZone: config.timeZone,
      by: index === 0 ? 'Dana Lee' : 'Sam Ortiz',
      role: 'Security Officer',
      ...(index === 1 ? { note: 'Quarterly full re-score' } : {}),
      at: new Date(at),
      ...(previous ? { previous } : {}),
    });
    await evidence.record(
      signOffRun(record, { timeZone: config.timeZone, owner: 'security', runId: `sign-off-${index + 1}` }),
    );
    records.push(record);
  }
  return records;
}
