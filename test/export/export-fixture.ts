import { createWriteStream } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import yauzl from 'yauzl';
import { makeS3EvidenceReader } from '../../lib/adapters/s3/s3-evidence-reader.ts';
import { type ExportRequest, type ExportResult, exportArchive } from '../../lib/export/export-archive.ts';
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
