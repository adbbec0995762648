import { createHash } from 'node:crypto';
import { renderCriteriaCoverageHtml } from '../audit/criteria-coverage-html.ts';
import { renderReadinessHtml } from '../audit/readiness-html.ts';
import type { DateRange } from '../evidence/coverage.ts';
import { renderHeatMapHtml } from '../risks/heat-map-html.ts';
import { type ComputedViews, computeViews, type ReportExtras } from './audit-views.ts';
import type { ReportSource } from './export-model.ts';
import { type IndexSection, renderIndexHtmlChunks } from './index-html.ts';
import { assessmentResultsChunks } from './oscal-assessment-results.ts';
import { renderSignOffsHtml, SIGN_OFFS_FILE, signOffsDocument } from './sign-offs.ts';
import { renderVerifyGuide } from './verify-guide.ts';

export type ReportChunks = () => AsyncIterable<string> | Iterable<string>;

export const COVERAGE_FILE = 'coverage.json';
export const READINESS_FILE = 'readiness.json';
export const HEAT_MAP_FILE = 'risk-heat-map.json';
export const POAM_FILE = 'oscal/poam.json';

const json =
  (value: unknown): ReportChunks =>
  () => [`${JSON.stringify(value, null, 2)}\n`];

/** The index.html sections beyond the control matrix, in page order. */
function indexSections(views: ComputedViews): IndexSection[] {
  const audit = views.audit;
  const missing = (title: string, id: string): IndexSection => ({
    id,
    title,
    html: `<section id="${id}"><h2>${title}</h2><p class="meta">Not computed: the export was taken without a configuration (pass <code>export --config</code>).</p></section>\n`,
  });
  return [
    audit
      ? {
          id: 'criteria-coverage',
          title: 'Criteria coverage',
          html: renderCriteriaCoverageHtml(audit.coverage),
        }
      : missing('Criteria coverage', 'criteria-coverage'),
    audit
      ? { id: 'readiness', title: 'Pre-audit readiness', html: renderReadinessHtml(audit.readiness) }
      : missing('Pre-audit readiness', 'readiness'),
    ...(audit?.heatMaps
      ? [{ id: 'risk-heat-map', title: 'Risk heat map', html: renderHeatMapHtml(audit.heatMaps) }]
      : []),
    { id: 'sign-offs', title: 'Reviews and sign-offs', html: renderSignOffsHtml(views.signOffs) },
  ];
}

/**
 * The reports an export generates from the manifests it holds, the sealed sign-off documents and the
 * configuration part it carries (`report-inputs.json`): convenience views, not evidence. They are not
 * signed (the exporter cannot sign); `verify` regenerates them from the archive's own files with
 * these same functions and requires the bytes to match, so an edited overview, readiness.json or
 * POA&M fails.
 */
export async function generatedReports(
  source: ReportSource,
  options: {
    readonly range: DateRange;
    readonly exportedAt: string;
    readonly bucket: string;
    /** The exporter's version (export.json `tool`): VERIFY.md names it, whichever version verifies. */
    readonly tool: { readonly version: string };
  },
  extras: ReportExtras = { signOffs: [] },
): Promise<[string, ReportChunks][]> {
  const views = await computeViews(source, extras);
  const audit = views.audit;
  return [
    ['index.html', () => renderIndexHtmlChunks(source, indexSections(views))],
    ['oscal/assessment-results.json', () => assessmentResultsChunks(source, audit?.coverage)],
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
    [SIGN_OFFS_FILE, json(signOffsDocument(extras.signOffs, views.signOffs))],
    ...(audit
      ? ([
          [COVERAGE_FILE, json(audit.coverage)],
          [READINESS_FILE, json(audit.readiness)],
        ] as [string, ReportChunks][])
      : []),
    ...(audit?.heatMaps ? ([[HEAT_MAP_FILE, json(audit.heatMaps)]] as [string, ReportChunks][]) : []),
    ...(audit?.poam ? ([[POAM_FILE, json(audit.poam)]] as [string, ReportChunks][]) : []),
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
