import * as z from 'zod';

export const EXPORT_INFO_FILE = 'export.json';
export const EXPORT_INFO_KIND = 'soc2-evidence/export';
/** The configuration part the audit views are computed from (see report-inputs.ts). */
export const REPORT_INPUTS_FILE = 'report-inputs.json';
/** Every sign-off of the range with its sealed document (see sign-offs.ts). */
export const SIGN_OFFS_FILE = 'sign-offs.json';
/** Top-level files `verify` reads (not only hashes) to regenerate the reports. */
export const REPORT_INPUT_FILES: readonly string[] = [REPORT_INPUTS_FILE, SIGN_OFFS_FILE];

/**
 * `export.json`, written last into every archive: what was asked for and which generated reports
 * (index.html, OSCAL, VERIFY.md, extra files) it holds with their hashes. It is not signed: the
 * evidence's own manifests and signatures are what `verify` trusts; this only tells it which range
 * to expect and lets it notice an edited report.
 */
export const exportInfoSchema = z.strictObject({
  kind: z.literal(EXPORT_INFO_KIND),
  schemaVersion: z.literal(1),
  tool: z.strictObject({ name: z.string(), version: z.string() }),
  exportedAt: z.iso.datetime({ offset: true }),
  range: z.strictObject({ from: z.string().optional(), to: z.string().optional() }),
  controlId: z.string().optional(),
  bucket: z.string(),
  counts: z.strictObject({
    controls: z.number().int(),
    manifests: z.number().int(),
    evidenceObjects: z.number().int(),
    evidenceBytes: z.number().int(),
  }),
  reports: z.array(z.strictObject({ path: z.string(), size: z.number().int(), sha256: z.string() })),
});

export type ExportInfo = z.output<typeof exportInfoSchema>;
