import { createHash } from 'node:crypto';
import type { DateRange } from '../evidence/coverage.ts';
import type { ReportSource } from './export-model.ts';
import { renderIndexHtmlChunks } from './index-html.ts';
import { assessmentResultsChunks } from './oscal-assessment-results.ts';
import { renderVerifyGuide } from './verify-guide.ts';

export type ReportChunks = () => AsyncIterable<string> | Iterable<string>;

/**
 * The reports an export generates from the manifests it holds: convenience views, not evidence.
 * They are not signed (the exporter cannot sign); `verify` regenerates them from the archive's own
 * manifests with these same functions and requires the bytes to match, so an edited overview fails.
 */
export function generatedReports(
  source: ReportSource,
  options: {
    readonly range: DateRange;
    readonly exportedAt: string;
    readonly bucket: string;
    /** The exporter's version (export.json `tool`): VERIFY.md names it, whichever version verifies. */
    readonly tool: { readonly version: string };
  },
): [string, ReportChunks][] {
  return [
    ['index.html', () => renderIndexHtmlChunks(source)],
    ['oscal/assessment-results.json', () => assessmentResultsChunks(source)],
    [
      'VERIFY.md',
      () => [
        renderVerifyGuide({
          range: options.range,
          exportedAt: options.exportedAt,
          bucket: options.bucket,
          toolVersion: options.tool.version,
          keyFingerprints: source.keyFingerprints,
        }),
      ],
    ],
  ];
}

/** The SHA-256 and size a report's chunks encode to, as the export hashes them. */
export async function reportDigest(chunks: ReportChunks): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of chunks()) {
    const bytes = Buffer.from(chunk, 'utf8');
    hash.update(bytes);
    size += bytes.length;
  }
  return { size, sha256: hash.digest('hex') };
}
