import * as z from 'zod';

export const EXPORT_INFO_FILE = 'export.json';
export const EXPORT_INFO_KIND = 'soc2-evidence/export';

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
