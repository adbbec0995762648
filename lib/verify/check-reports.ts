import { periodInRange } from '../evidence/coverage.ts';
import { MANIFEST_FILE, parseEvidenceKey } from '../evidence/evidence-layout.ts';
import { parseManifest } from '../evidence/manifest.ts';
import type { ReportExtras } from '../export/audit-views.ts';
import type { ExportInfo } from '../export/export-info.ts';
import { type ExportedRun, reportSource, summarizeRun } from '../export/export-model.ts';
import { generatedReports, reportDigest } from '../export/generated-reports.ts';
import { parseReportInputs, REPORT_INPUTS_FILE, type ReportInputs } from '../export/report-inputs.ts';
import {
  isSignOffRun,
  SIGN_OFFS_FILE,
  type SignOffEvidence,
  signOffArtifact,
  signOffDocumentsFrom,
} from '../export/sign-offs.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import type { ArchiveContents } from './archive-file.ts';
import type { ParsedManifest } from './check-manifests.ts';
import type { Finding } from './findings.ts';

/**
 * Phase 8 (async, after the pure phases): the generated reports are unsigned convenience views, so
 * they are regenerated from the archive's own files (the same renderers, the range, export time
 * and bucket of `export.json`) and must match byte for byte. Their inputs are the signed manifests,
 * the sign-off documents (carried in `sign-offs.json`, each accepted only when its SHA-256 is the one
 * its signed manifest lists) and `report-inputs.json`, the configuration part the views were computed
 * from (bound by its hash in `export.json` only: the exporter cannot sign it). Editing `index.html`,
 * `readiness.json`, `coverage.json`, the heat map, the OSCAL files or `VERIFY.md` (and updating its
 * hash in the unsigned `export.json`) is therefore caught, and so is dropping one of them. Other
 * listed files are checked only against `export.json`.
 */
export async function checkReports(
  contents: ArchiveContents,
  exportInfo: ExportInfo,
  /** Manifests the manifest phase already parsed, by path: not parsed a second time. */
  parsed: ReadonlyMap<string, ParsedManifest> = new Map(),
): Promise<Finding[]> {
  const runs: ExportedRun[] = [];
  const paths = [...contents.files.keys()].sort();
  for (const path of paths) {
    const location = parseEvidenceKey(path);
    const file = contents.files.get(path);
    if (location?.kind !== 'run-file' || location.file !== MANIFEST_FILE || !file?.content) continue;
    try {
      const known = parsed.get(path);
      const manifest =
        known && known.file.content === file.content ? known.manifest : parseManifest(file.content);
      if (periodInRange(manifest.period, exportInfo.range))
        runs.push(summarizeRun(path, file.sha256, manifest));
    } catch {
      // Reported by the manifest phase.
    }
  }
  const problems: Finding[] = [];
  let inputs: ReportInputs | undefined;
  const inputsFile = contents.files.get(REPORT_INPUTS_FILE);
  if (inputsFile?.content) {
    try {
      inputs = parseReportInputs(inputsFile.content);
    } catch (error) {
      problems.push({
        code: 'report-altered',
        file: REPORT_INPUTS_FILE,
        message: `${(error as Error).message}: not the configuration an export writes, so the audit views cannot be recomputed`,
      });
    }
  }
  const signOffs = sealedSignOffs(runs, signOffDocumentsFrom(contents.files.get(SIGN_OFFS_FILE)?.content));
  for (const signOff of signOffs) {
    if (signOff.document === '') {
      problems.push({
        code: 'report-altered',
        file: SIGN_OFFS_FILE,
        controlId: signOff.chainId,
        periodKey: signOff.periodKey,
        message: `${SIGN_OFFS_FILE}: the sign-off sealed by ${signOff.manifestKey} is missing, or its document is not the one the signed manifest lists (SHA-256 ${signOff.evidenceSha256.slice(0, 16)}…)`,
      });
    }
  }
  const source = await reportSource(() => runs, {
    range: exportInfo.range,
    exportedAt: new Date(exportInfo.exportedAt),
    bucket: exportInfo.bucket,
  });
  const extras: ReportExtras = { ...(inputs ? { inputs } : {}), signOffs };
  for (const [path, chunks] of await generatedReports(source, exportInfo, extras)) {
    const file = contents.files.get(path);
    if (!file) {
      problems.push({
        code: 'report-missing',
        file: path,
        message: `${path}: missing; the archive's evidence${inputs ? ` and ${REPORT_INPUTS_FILE}` : ''} produce it, so it was removed after export`,
      });
      continue;
    }
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

/** Every sign-off run among the manifests, with its document only when the document's hash is the signed one. */
function sealedSignOffs(
  runs: readonly ExportedRun[],
  documents: ReadonlyMap<string, string>,
): SignOffEvidence[] {
  return runs
    .filter((run) => isSignOffRun(run.manifest))
    .flatMap((run): SignOffEvidence[] => {
      const artifact = signOffArtifact(run.manifest);
      if (!artifact) return [];
      const document = documents.get(run.manifestKey) ?? '';
      return [
        {
          chainId: run.manifest.control.id,
          periodKey: run.manifest.period.key,
          runId: run.manifest.runId,
          manifestKey: run.manifestKey,
          manifestSha256: run.manifestSha256,
          evidenceKey: artifact.key,
          evidenceSha256: artifact.sha256,
          document: document !== '' && sha256Hex(document) === artifact.sha256 ? document : '',
        },
      ];
    })
    .sort((a, b) => (a.manifestKey < b.manifestKey ? -1 : a.manifestKey > b.manifestKey ? 1 : 0));
}
