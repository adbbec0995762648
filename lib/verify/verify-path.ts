import { stat } from 'node:fs/promises';
import type { ExportInfo } from '../export/export-info.ts';
import type { ArchiveContents, ArchiveFile } from './archive-file.ts';
import { checkReports } from './check-reports.ts';
import type { ReadProgress } from './normalise-paths.ts';
import { readFolder } from './read-folder.ts';
import { readZip } from './read-zip.ts';
import { SignaturePrecheck } from './signature-precheck.ts';
import { type VerificationReport, type VerifyOptions, verifyArchive } from './verify-archive.ts';

export interface ReadOptions {
  readonly onProgress?: (progress: ReadProgress) => void;
  /** Called with each file as soon as it is read and hashed. */
  readonly onFile?: (file: ArchiveFile) => void;
}

/** Reads `path`: an exported zip, or a folder from `aws s3 sync`. */
export async function readEvidence(path: string, options: ReadOptions = {}): Promise<ArchiveContents> {
  const info = await stat(path);
  return info.isDirectory() ? readFolder(path, options) : readZip(path, options);
}

/** Reads and verifies `path`; signatures are checked on the thread pool while the files are read. */
export async function verifyPath(
  path: string,
  options: VerifyOptions & { onProgress?: (progress: ReadProgress) => void } = {},
): Promise<VerificationReport> {
  const { onProgress, ...verifyOptions } = options;
  const precheck = new SignaturePrecheck();
  const contents = await readEvidence(path, {
    ...(onProgress ? { onProgress } : {}),
    onFile: (file) => precheck.onFile(file),
  });
  const report = verifyArchive(contents, { ...verifyOptions, signatureResults: await precheck.results() });
  return report.exportInfo ? withRegeneratedReports(report, contents, report.exportInfo) : report;
}

/** Adds the report check (regenerate and compare) to a report; problems already named are not repeated. */
async function withRegeneratedReports(
  report: VerificationReport,
  contents: ArchiveContents,
  exportInfo: ExportInfo,
): Promise<VerificationReport> {
  const named = new Set(report.problems.map((problem) => `${problem.code}:${problem.file}`));
  const found = (await checkReports(contents, exportInfo)).filter(
    (problem) => !named.has(`${problem.code}:${problem.file}`),
  );
  if (found.length === 0) return report;
  return { ...report, ok: false, problems: [...report.problems, ...found] };
}
