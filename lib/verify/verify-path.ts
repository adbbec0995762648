import { stat } from 'node:fs/promises';
import type { ArchiveContents, ArchiveFile } from './archive-file.ts';
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
  return verifyArchive(contents, { ...verifyOptions, signatureResults: await precheck.results() });
}
