import { stat } from 'node:fs/promises';
import type { ArchiveContents } from './archive-file.ts';
import type { ReadProgress } from './normalise-paths.ts';
import { readFolder } from './read-folder.ts';
import { readZip } from './read-zip.ts';
import { type VerificationReport, type VerifyOptions, verifyArchive } from './verify-archive.ts';

/** Reads `path` (an exported zip, or a folder from `aws s3 sync`) and verifies it. */
export async function readEvidence(
  path: string,
  onProgress?: (progress: ReadProgress) => void,
): Promise<ArchiveContents> {
  const info = await stat(path);
  const options = onProgress ? { onProgress } : {};
  return info.isDirectory() ? readFolder(path, options) : readZip(path, options);
}

export async function verifyPath(
  path: string,
  options: VerifyOptions & { onProgress?: (progress: ReadProgress) => void } = {},
): Promise<VerificationReport> {
  const { onProgress, ...verifyOptions } = options;
  return verifyArchive(await readEvidence(path, onProgress), verifyOptions);
}
