import { stat } from 'node:fs/promises';
import type { ExportInfo } from '../export/export-info.ts';
import type { ArchiveContents } from './archive-file.ts';
import type { ParsedManifest } from './check-manifests.ts';
import { checkReports } from './check-reports.ts';
import { HashPool, type HashPoolOptions } from './hash-pool.ts';
import type { ReadProgress } from './normalise-paths.ts';
import { type ReaderOptions, readFolder } from './read-folder.ts';
import { readZip } from './read-zip.ts';
import { SignaturePrecheck } from './signature-precheck.ts';
import { type VerificationReport, type VerifyOptions, verifyArchiveParsed } from './verify-archive.ts';

/** Reads `path`: an exported zip, or a folder from `aws s3 sync`. */
export async function readEvidence(path: string, options: ReaderOptions = {}): Promise<ArchiveContents> {
  const info = await stat(path);
  return info.isDirectory() ? readFolder(path, options) : readZip(path, options);
}

/**
 * Reads and verifies `path`. One pool of worker threads reads and hashes the files and checks the
 * manifests' signatures (in batches, while the files are still being read); a worker that dies
 * fails the verification (it rejects) rather than leave checks undone.
 */
export async function verifyPath(
  path: string,
  options: VerifyOptions & { onProgress?: (progress: ReadProgress) => void; workers?: HashPoolOptions } = {},
): Promise<VerificationReport> {
  const { onProgress, workers, ...verifyOptions } = options;
  const pool = new HashPool(workers);
  let contents: ArchiveContents;
  let signatureResults: ReadonlyMap<string, boolean>;
  try {
    const precheck = new SignaturePrecheck(pool);
    contents = await readEvidence(path, {
      pool,
      ...(onProgress ? { onProgress } : {}),
      onFile: (file) => precheck.onFile(file),
    });
    signatureResults = await precheck.results();
  } finally {
    await pool.close();
  }
  const { report, manifests } = verifyArchiveParsed(contents, { ...verifyOptions, signatureResults });
  return report.exportInfo ? withRegeneratedReports(report, contents, report.exportInfo, manifests) : report;
}

/** Adds the report check (regenerate and compare) to a report; problems already named are not repeated. */
async function withRegeneratedReports(
  report: VerificationReport,
  contents: ArchiveContents,
  exportInfo: ExportInfo,
  manifests: ReadonlyMap<string, ParsedManifest>,
): Promise<VerificationReport> {
  const named = new Set(report.problems.map((problem) => `${problem.code}:${problem.file}`));
  const found = (await checkReports(contents, exportInfo, manifests)).filter(
    (problem) => !named.has(`${problem.code}:${problem.file}`),
  );
  if (found.length === 0) return report;
  return { ...report, ok: false, problems: [...report.problems, ...found] };
}
