import { MANIFEST_FILE, parseEvidenceKey, publicKeyKey } from '../evidence/evidence-layout.ts';
import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';
import { EXPORT_INFO_FILE, type ExportInfo } from '../export/export-info.ts';
import type { ArchiveFile } from './archive-file.ts';
import { type Finding, type PhaseFindings, short } from './findings.ts';

export interface UnaccountedInput {
  readonly files: ReadonlyMap<string, ArchiveFile>;
  /** Files an earlier phase checked. */
  readonly accounted: ReadonlySet<string>;
  readonly manifestPaths: readonly string[];
  readonly exportInfo?: ExportInfo;
  /** Published keys and how many manifests each signs. */
  readonly keys: Iterable<string>;
  readonly keyUse: ReadonlyMap<string, number>;
}

/**
 * Phase 7: whatever no earlier phase accounted for: a file under `evidence/` no manifest lists, a
 * report `export.json` does not list or lists with another hash, a listed report that is missing,
 * and (as a note) a published key that signs nothing.
 */
export function checkUnaccounted(input: UnaccountedInput): PhaseFindings {
  const { files, accounted, exportInfo } = input;
  const problems: Finding[] = [];
  const notes: Finding[] = [];
  const sealedFolders = new Set(
    input.manifestPaths.map((path) => path.slice(0, path.length - MANIFEST_FILE.length)),
  );
  for (const file of files.values()) {
    if (accounted.has(file.path)) continue;
    if (file.path.startsWith(EVIDENCE_PREFIX)) {
      const location = parseEvidenceKey(file.path);
      const folder = location?.kind === 'run-file' ? location.runPrefix : undefined;
      if (folder && !sealedFolders.has(folder)) {
        // A run that stopped before its chain head advanced (or lost a race), then was retried
        // under a new run id: nothing on any chain or checkpoint points here, so it proves nothing.
        notes.push({
          file: file.path,
          ...(location?.kind === 'run-file'
            ? { controlId: location.controlId, periodKey: location.periodKey }
            : {}),
          code: 'unsealed-run',
          message: `${file.path}: in a run folder without a manifest: never sealed (a run that stopped before sealing, then retried); not evidence of anything`,
        });
        continue;
      }
      const why = folder
        ? `not listed by ${folder}${MANIFEST_FILE}: added after the run was sealed`
        : 'outside the evidence layout: added';
      problems.push({
        file: file.path,
        ...(location?.kind === 'run-file'
          ? { controlId: location.controlId, periodKey: location.periodKey }
          : {}),
        code: 'unexpected-file',
        message: `${file.path}: unexpected file, ${why}`,
      });
      continue;
    }
    const report = exportInfo?.reports.find((candidate) => candidate.path === file.path);
    if (!report) {
      problems.push({
        file: file.path,
        code: 'unexpected-file',
        message: `${file.path}: unexpected file, not part of the export`,
      });
    } else if (report.sha256 !== file.sha256) {
      problems.push({
        file: file.path,
        code: 'report-altered',
        message: `${file.path}: differs from the report the export wrote (SHA-256 ${file.sha256.slice(0, 16)}…, expected ${report.sha256.slice(0, 16)}…)`,
      });
    }
  }
  for (const report of exportInfo?.reports ?? []) {
    if (!files.has(report.path)) {
      problems.push({
        file: report.path,
        code: 'report-missing',
        message: `${report.path}: listed in ${EXPORT_INFO_FILE} but missing`,
      });
    }
  }
  for (const fingerprint of input.keys) {
    if (!input.keyUse.has(fingerprint)) {
      notes.push({
        code: 'unused-key',
        file: publicKeyKey(fingerprint),
        message: `public key ${short(fingerprint)} signs no manifest in the archive`,
      });
    }
  }
  return { problems, notes };
}
