import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';

export interface ReadProgress {
  readonly files: number;
  readonly totalFiles?: number;
  readonly bytes: number;
  readonly totalBytes?: number;
}

/**
 * Paths as the bucket names them. An archive or a synced bucket root already has `evidence/...`; a
 * folder synced from the evidence prefix itself (`<control>/...`, `_public-keys/...`) gets it added.
 */
export function normalisePaths(paths: readonly string[]): string[] {
  const rooted = paths.some((path) => path.startsWith(EVIDENCE_PREFIX));
  return rooted ? [...paths] : paths.map((path) => `${EVIDENCE_PREFIX}${path}`);
}
