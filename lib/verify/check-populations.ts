import { type ArchiveFile, countNewlines } from './archive-file.ts';
import type { ParsedManifest } from './check-manifests.ts';
import type { Finding } from './findings.ts';

/**
 * Phase 4b: each population a manifest lists is one of its artifacts with the same SHA-256, and
 * its file holds exactly the sealed number of lines. (A file whose bytes changed is already
 * `population-altered` from the artifact check; this catches a manifest whose population entry
 * disagrees with its own artifact list or row count.)
 */
export function checkPopulations(
  manifests: readonly ParsedManifest[],
  files: ReadonlyMap<string, ArchiveFile>,
): { readonly problems: readonly Finding[]; readonly populationsChecked: number } {
  const problems: Finding[] = [];
  let populationsChecked = 0;
  for (const { path, manifest } of manifests) {
    const who = { file: path, controlId: manifest.control.id, periodKey: manifest.period.key };
    for (const population of manifest.populations ?? []) {
      populationsChecked += 1;
      const artifact = manifest.artifacts.find((candidate) => candidate.key === population.key);
      if (!artifact || artifact.sha256 !== population.sha256) {
        problems.push({
          ...who,
          code: 'population-unlisted',
          file: population.key,
          message: `${path}: population ${population.name} (${population.key}) ${artifact ? `has SHA-256 ${population.sha256.slice(0, 16)}…, its artifact entry ${artifact.sha256.slice(0, 16)}…` : 'is not among its artifacts'}`,
        });
        continue;
      }
      const stored = files.get(population.key);
      // Missing or altered files are named by the artifact check; only an intact file is counted.
      if (!stored || stored.sha256 !== artifact.sha256) continue;
      const lines = stored.lines ?? (stored.content ? countNewlines(stored.content) : undefined);
      if (lines !== population.rows) {
        problems.push({
          ...who,
          code: 'population-count-mismatch',
          file: population.key,
          message:
            lines === undefined
              ? `population ${population.name} (${population.key}): its lines were not counted, so its ${population.rows} items cannot be confirmed`
              : `population ${population.name} (${population.key}) holds ${lines} lines, its manifest says ${population.rows} items`,
        });
      }
    }
  }
  return { problems, populationsChecked };
}
