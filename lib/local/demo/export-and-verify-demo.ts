import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { makeS3EvidenceReader } from '../../adapters/s3/s3-evidence-reader.ts';
import { type ExportResult, exportArchive } from '../../export/export-archive.ts';
import type { ReportConfig } from '../../export/report-inputs.ts';
import type { RuntimeResources } from '../../shared/runtime-env.ts';
import { formatReport } from '../../verify/format-report.ts';
import type { VerificationReport } from '../../verify/verify-archive.ts';
import { verifyPath } from '../../verify/verify-path.ts';
import type { AwsClients } from '../../wiring/aws-clients.ts';

export interface DemoExportInput {
  readonly clients: Pick<AwsClients, 's3'>;
  readonly resources: Pick<RuntimeResources, 'evidenceBucket'>;
  /** First and last day of the range, YYYY-MM-DD. */
  readonly from: string;
  readonly to: string;
  readonly outFile: string;
  /** The demo's "now": what periods must have been due by. @default now */
  readonly asOf?: Date;
  /** Extra generated files for the archive. */
  readonly extraFiles?: Readonly<Record<string, unknown>>;
  /** The config the audit views and the POA&M are computed from. */
  readonly config?: ReportConfig;
}

export interface DemoExportResult {
  readonly ok: boolean;
  readonly outFile: string;
  readonly archiveBytes: number;
  readonly export: ExportResult;
  readonly report: VerificationReport;
  /** A few lines for the end of `npm start`. */
  readonly summary: string;
  /** The verifier's full report, as `soc2-evidence verify` prints it. */
  readonly details: string;
}

/** The end of `npm start`: export the demo range from the local bucket, then verify the archive offline. */
export async function exportAndVerifyDemo(input: DemoExportInput): Promise<DemoExportResult> {
  const asOf = input.asOf ?? new Date();
  const range = { from: input.from, to: input.to };
  const exported = await exportArchive({
    reader: makeS3EvidenceReader(input.clients.s3, input.resources.evidenceBucket),
    bucket: input.resources.evidenceBucket,
    range,
    output: createWriteStream(input.outFile),
    clock: () => asOf,
    ...(input.extraFiles ? { extraFiles: input.extraFiles } : {}),
    ...(input.config ? { config: input.config } : {}),
  });
  const archiveBytes = (await stat(input.outFile)).size;
  const report = await verifyPath(input.outFile);
  const { counts } = exported;
  const summary = [
    `Exported ${input.from}..${input.to} to ${input.outFile} (${(archiveBytes / 1024).toFixed(0)} KB): ${exported.manifests} signed run(s) of ${exported.controls} control(s); ${counts.pass} passed, ${counts.fail} failed, ${counts.error} errored, ${counts.missing} without evidence.`,
    report.ok
      ? `Verified offline: ${report.artifactsChecked} artifact(s) match, ${report.signaturesValid} signature(s) valid, ${report.controls.length} chain(s) intact. Open index.html inside the zip for the overview.`
      : `Verification FAILED with ${report.problems.length} problem(s); first: ${report.problems[0]?.message ?? ''}`,
  ].join('\n');
  return {
    ok: report.ok,
    outFile: input.outFile,
    archiveBytes,
    export: exported,
    report,
    summary,
    details: formatReport(report),
  };
}
