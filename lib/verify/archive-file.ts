import { EXPORT_INFO_FILE, REPORT_INPUT_FILES } from '../export/export-info.ts';

/** One file of an archive or synced folder, hashed while read. */
export interface ArchiveFile {
  /** Normalised path: evidence under `evidence/...` (as in the bucket), reports at the top level. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** Kept for the small files verify must parse (manifests, signatures, public keys, export.json). */
  readonly content?: Buffer;
  /** Newline count, for population files (JSON Lines), counted while hashed. */
  readonly lines?: number;
}

/** What was read, whichever form it came in. */
export interface ArchiveContents {
  readonly kind: 'zip' | 'folder';
  readonly source: string;
  readonly files: ReadonlyMap<string, ArchiveFile>;
  readonly bytes: number;
  /** Names that occur more than once in a zip (only the last was kept): never produced by export. */
  readonly duplicates?: readonly string[];
  /** Folder entries that are not regular files (symlinks, devices): never produced by a sync. */
  readonly irregular?: readonly string[];
}

export class ArchiveReadError extends Error {
  override name = 'ArchiveReadError';
}

/** Files whose bytes verify needs; everything else is only hashed. */
export function keepsContent(path: string): boolean {
  return (
    path.endsWith('/manifest.json') ||
    path.endsWith('/manifest.sig') ||
    path.endsWith('.pem') ||
    path.startsWith('checkpoints/') ||
    path === EXPORT_INFO_FILE ||
    REPORT_INPUT_FILES.includes(path)
  );
}

/** Manifests, signatures and keys are small; anything bigger under those names is not read into memory. */
export const MAX_KEPT_BYTES = 4 * 1024 * 1024;

/** Population files (JSON Lines): their lines are counted while they are hashed. */
export function countsLines(path: string): boolean {
  return path.endsWith('.jsonl');
}

/** How many `\n` bytes `bytes` holds. */
export function countNewlines(bytes: Uint8Array): number {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  let at = buffer.indexOf(10);
  while (at !== -1) {
    count += 1;
    at = buffer.indexOf(10, at + 1);
  }
  return count;
}
