import { periodInRange } from '../evidence/coverage.ts';
import { MANIFEST_FILE, parseEvidenceKey } from '../evidence/evidence-layout.ts';
import { parseManifest } from '../evidence/manifest.ts';
import type { ExportInfo } from '../export/export-info.ts';
import { type ExportedRun, reportSource, summarizeRun } from '../export/export-model.ts';
import { generatedReports, reportDigest } from '../export/generated-reports.ts';
import type { ArchiveContents } from './archive-file.ts';
import type { Finding } from './findings.ts';

/**
 * Phase 8 (async, after the pure phases): the generated reports are unsigned convenience views, so
 * they are regenerated from the archive's own manifests (the same renderers, the range, export time
 * and bucket of `export.json`) and must match byte for byte. Editing `index.html`, the OSCAL
 * results or `VERIFY.md` (and updating its hash in the unsigned `export.json`) is therefore caught.
 * Other listed files (such as `oscal/poam.json`, a copy of the config's risk register) cannot be
 * regenerated from evidence and are checked only against `export.json`.
 */
export async function checkReports(contents: ArchiveContents, exportInfo: ExportInfo): Promise<Finding[]> {
  const runs: ExportedRun[] = [];
  const paths = [...contents.files.keys()].sort();
  for (const path of paths) {
    const location = parseEvidenceKey(path);
    const file = contents.files.get(path);
    if (location?.kind !== 'run-file' || location.file !== MANIFEST_FILE || !file?.content) continue;
    try {
      const manifest = parseManifest(file.content);
      if (periodInRange(manifest.period, exportInfo.range))
        runs.push(summarizeRun(path, file.sha256, manifest));
    } catch {
      // Reported by the manifest phase.
    }
  }
  const source = await reportSource(() => runs, {
    range: exportInfo.range,
    exportedAt: new Date(exportInfo.exportedAt),
    bucket: exportInfo.bucket,
  });
  const problems: Finding[] = [];
  for (const [path, chunks] of generatedReports(source, exportInfo)) {
    const file = contents.files.get(path);
    if (!file) continue; // report-missing, if export.json lists it
    const expected = await reportDigest(chunks);
    if (expected.sha256 !== file.sha256) {
      problems.push({
        code: 'report-altered',
        file: path,
        message: `${path}: not the report this archive's evidence produces (SHA-256 ${file.sha256.slice(0, 16)}…, regenerated ${expected.sha256.slice(0, 16)}…): edited after export`,
      });
    }
  }
  return problems;
}
