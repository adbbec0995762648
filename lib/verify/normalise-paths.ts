import { CHECKPOINTS_PREFIX } from '../evidence/checkpoint.ts';
import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';

export interface ReadProgress {
  readonly files: number;
  readonly totalFiles?: number;
  readonly bytes: number;
  readonly totalBytes?: number;
}

/** Where checkpoints go in a folder synced from the evidence prefix (no control id starts with `_`). */
export const SYNCED_CHECKPOINTS_FOLDER = '_checkpoints/';

/**
 * Paths as the bucket names them. An archive or a synced bucket root already has `evidence/...` and
 * `checkpoints/...`; a folder synced from the evidence prefix itself (`<control>/...`,
 * `_public-keys/...`) gets it added, with checkpoints synced beside them into `_checkpoints/`.
 */
export function normalisePaths(paths: readonly string[]): string[] {
  const rooted = paths.some((path) => path.startsWith(EVIDENCE_PREFIX));
  return paths.map((path) => normalisePath(path, rooted));
}

/** One path's name as the bucket has it; `rooted`: some path of the set starts with `evidence/`. */
export function normalisePath(path: string, rooted: boolean): string {
  if (rooted) return path;
  return path.startsWith(SYNCED_CHECKPOINTS_FOLDER)
    ? `${CHECKPOINTS_PREFIX}${path.slice(SYNCED_CHECKPOINTS_FOLDER.length)}`
    : `${EVIDENCE_PREFIX}${path}`;
}
