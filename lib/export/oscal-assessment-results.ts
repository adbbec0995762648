import { createHash } from 'node:crypto';
import type { CriteriaCoverage, CriterionCoverage } from '../audit/criteria-coverage.ts';
import { TOOL_VERSION } from '../shared/version.ts';
import type { ExportedRun, MatrixCell, MatrixRow, ReportSource } from './export-model.ts';

export const OSCAL_VERSION = '1.0.4';
/** Namespace of the `props` this tool adds (OSCAL requires a namespace for non-core property names). */
export const PROPS_NS = 'https://github.com/soc2-evidence/soc2-evidence/ns/oscal';

/** A stable UUID (version 5 layout) derived from a name, so the same export yields the same document. */
export function stableUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** OSCAL tokens must start with a letter or `_`; control slugs may start with a digit. */
export function oscalToken(id: string): string {
  return /^[A-Za-z_]/.test(id) ? id : `_${id}`;
}

function prop(name: string, value: string) {
  return { name, ns: PROPS_NS, value };
}

function observation(row: MatrixRow, run: ExportedRun) {
  const m = run.manifest;
  const figures = Object.entries(m.figures).map(([name, value]) => `${name}=${String(value)}`);
  return {
    uuid: stableUuid('observation', run.manifestKey, run.manifestSha256),
    title: `${row.controlId} ${m.period.key}: automated test ${m.verdict}`,
    description: [
      `Automated control test of ${row.controlId} for ${m.period.cadence} period ${m.period.key} (${m.period.start} to ${m.period.end}), run ${m.runId}: ${m.verdict}.`,
      ...m.reasons,
      ...(figures.length ? [`Figures: ${figures.join(', ')}.`] : []),
    ].join(' '),
    props: [
      prop('verdict', m.verdict),
      prop('period', m.period.key),
      prop('run-id', m.runId),
      prop('chain-sequence', String(m.chain.sequence)),
      prop('manifest-sha256', run.manifestSha256),
    ],
    methods: ['TEST'],
    types: ['control-objective'],
    'relevant-evidence': [
      ...m.artifacts.map((artifact) => ({
        href: artifact.key,
        description: `Evidence document (${artifact.size} bytes), SHA-256 ${artifact.sha256}, listed in the signed manifest.`,
        props: [prop('sha256', artifact.sha256)],
      })),
      {
        href: run.manifestKey,
        description: `Signed manifest (chain sequence ${m.chain.sequence}); signature in manifest.sig, key ${m.signing.keyFingerprint}.`,
        props: [prop('sha256', run.manifestSha256)],
      },
    ],
    collected: m.collectedAt,
    expires: m.expiresAt,
  };
}

function finding(row: MatrixRow, cell: MatrixCell, observationUuids: readonly string[]) {
  const latest = cell.latest?.manifest;
  const satisfied = cell.status === 'pass';
  const what =
    cell.status === 'missing'
      ? 'No evidence was recorded for this period: the control was not tested.'
      : `The latest test (run ${latest?.runId}) ${cell.status === 'pass' ? 'passed' : cell.status === 'fail' ? 'failed' : 'could not be completed'}.${latest?.reasons.length ? ` ${latest.reasons.join(' ')}` : ''}`;
  return {
    uuid: stableUuid('finding', row.controlId, cell.periodKey),
    title: `${row.controlId} ${cell.periodKey}: ${satisfied ? 'satisfied' : 'not satisfied'}`,
    description: what,
    props: [
      prop('period', cell.periodKey),
      prop('status', cell.status),
      prop('criteria', row.criteria.join(' ')),
    ],
    target: {
      type: 'objective-id',
      'target-id': oscalToken(row.controlId),
      title: `${row.controlId} (${row.criteria.join(', ')}), ${cell.periodKey}`,
      status: {
        state: satisfied ? 'satisfied' : 'not-satisfied',
        ...(satisfied ? {} : { reason: cell.status === 'missing' ? 'other' : 'fail' }),
      },
    },
    ...(observationUuids.length
      ? { 'related-observations': observationUuids.map((uuid) => ({ 'observation-uuid': uuid })) }
      : {}),
  };
}

/** A criterion's conclusion from the criteria coverage: satisfied only when every control evidencing it passed. */
function criterionFinding(criterion: CriterionCoverage) {
  const satisfied = criterion.state === 'passing';
  const controls = criterion.controls.map(
    (c) =>
      `${c.controlId} (${c.method}${c.latest ? `, latest ${c.latest.verdict} ${c.latest.periodKey}` : ', no verdict in the window'})`,
  );
  return {
    uuid: stableUuid('criterion-finding', criterion.id),
    title: `${criterion.id} ${criterion.title}: ${criterion.state}`,
    description:
      controls.length > 0
        ? `SOC 2 criterion ${criterion.id} is evidenced by ${controls.join(', ')}: ${criterion.state}.`
        : `SOC 2 criterion ${criterion.id}: no control evidences it (${criterion.state}).`,
    props: [
      prop('criterion-state', criterion.state),
      prop('criterion-scope', criterion.scope),
      ...criterion.controls.map((c) => prop('evidenced-by', c.controlId)),
      ...criterion.risks.map((r) => prop('risk', r.riskId)),
    ],
    target: {
      type: 'objective-id',
      'target-id': oscalToken(criterion.id),
      title: `${criterion.id} ${criterion.title}`,
      status: {
        state: satisfied ? 'satisfied' : 'not-satisfied',
        ...(satisfied ? {} : { reason: criterion.state === 'failing' ? 'fail' : 'other' }),
      },
    },
  };
}

const OBSERVATIONS = '@@soc2-evidence:observations@@';
const FINDINGS = '@@soc2-evidence:findings@@';

function observationUuid(run: ExportedRun): string {
  return stableUuid('observation', run.manifestKey, run.manifestSha256);
}

async function* observationsOf(source: ReportSource) {
  for await (const row of source.rows())
    for (const cell of row.cells) for (const run of cell.runs) yield observation(row, run);
}

async function* findingsOf(source: ReportSource, coverage?: CriteriaCoverage) {
  for await (const row of source.rows())
    for (const cell of row.cells) yield finding(row, cell, cell.runs.map(observationUuid));
  for (const criterion of reviewedCriteria(coverage)) yield criterionFinding(criterion);
}

/** The in-scope criteria of the coverage: each gets a conclusion, evidenced or not. */
function reviewedCriteria(coverage: CriteriaCoverage | undefined): readonly CriterionCoverage[] {
  return coverage?.criteria.filter((c) => c.scope === 'in-scope') ?? [];
}

/** Every criterion reviewed: the coverage's in-scope criteria, else those the manifests' controls name. */
function criteriaIds(model: ReportSource, coverage: CriteriaCoverage | undefined): string[] {
  if (coverage) return reviewedCriteria(coverage).map((c) => c.id);
  return [...new Set(model.overview.flatMap((row) => row.criteria))].sort();
}

/** The document with placeholders where the (possibly long) observation and finding lists go. */
function skeleton(model: ReportSource, coverage?: CriteriaCoverage): Record<string, unknown> {
  let start: string | undefined;
  let end: string | undefined;
  for (const row of model.overview) {
    if (row.start && (!start || row.start < start)) start = row.start;
    if (row.end && (!end || row.end > end)) end = row.end;
  }
  const { counts } = model;
  const anyRun = counts.pass + counts.fail + counts.error > 0;
  const anyCell = anyRun || counts.missing > 0;
  const controlIds = [...new Set(model.overview.map((row) => row.controlId))];
  const criteria = criteriaIds(model, coverage);
  const planUuid = stableUuid('assessment-plan', model.bucket);
  const rangeText = `${model.range.from ?? '(start)'} to ${model.range.to ?? '(export)'}`;
  const result: Record<string, unknown> = {
    uuid: stableUuid('result', model.bucket, rangeText, model.exportedAt),
    title: `Automated SOC 2 control tests, periods ending ${rangeText}`,
    description: `Scheduled control tests run by soc2-evidence; each observation is one run, sealed in a signed, hash-chained manifest. ${model.counts.pass} control-periods passed, ${model.counts.fail} failed, ${model.counts.error} could not be checked, ${model.counts.missing} have no evidence.`,
    start: start ?? model.exportedAt,
    ...(end ? { end } : {}),
    'reviewed-controls': {
      'control-selections': [
        ...(criteria.length > 0
          ? [
              {
                description: `SOC 2 Trust Services Criteria reviewed${coverage ? ' (the in-scope criteria of the criteria catalogue, each with a finding)' : ' (named by the exported controls)'}.`,
                props: [prop('selection', 'soc2-criteria')],
                'include-controls': criteria.map((id) => ({ 'control-id': oscalToken(id) })),
              },
            ]
          : []),
        controlIds.length > 0
          ? {
              description: 'The soc2-evidence controls whose runs are in this archive.',
              props: [prop('selection', 'soc2-evidence-controls')],
              'include-controls': controlIds.map((id) => ({ 'control-id': oscalToken(id) })),
            }
          : { 'include-all': {} },
      ],
    },
    ...(anyRun ? { observations: OBSERVATIONS } : {}),
    ...(anyCell || reviewedCriteria(coverage).length > 0 ? { findings: FINDINGS } : {}),
  };
  return {
    'assessment-results': {
      uuid: stableUuid('assessment-results', model.bucket, rangeText, model.exportedAt),
      metadata: {
        title: `SOC 2 automated control test results, ${rangeText}`,
        'last-modified': model.exportedAt,
        version: TOOL_VERSION,
        'oscal-version': OSCAL_VERSION,
        props: [prop('evidence-bucket', model.bucket)],
      },
      'import-ap': { href: `#${planUuid}` },
      results: [result],
      'back-matter': {
        resources: [
          {
            uuid: planUuid,
            title: 'Assessment plan: the soc2-evidence control testing schedule',
            description:
              'Controls are tested automatically on their cadence (daily, weekly, monthly, quarterly, annual); each run writes evidence, a manifest and a signature. See VERIFY.md in this archive.',
            rlinks: [{ href: 'VERIFY.md', 'media-type': 'text/markdown' }],
          },
        ],
      },
    },
  };
}

/**
 * OSCAL 1.0.4 Assessment Results for an export, as JSON text in chunks (one observation or finding
 * at a time, so a long range never sits in memory as one document): one result covering the range,
 * an observation per run (linked to its evidence files and manifest by relative path, with
 * SHA-256), a finding per control and period (satisfied only when the period's latest run passed)
 * and, given the criteria coverage, a finding per in-scope SOC 2 criterion. `reviewed-controls`
 * names every criterion reviewed as well as the controls.
 */
export async function* assessmentResultsChunks(
  source: ReportSource,
  coverage?: CriteriaCoverage,
): AsyncGenerator<string> {
  const text = JSON.stringify(skeleton(source, coverage), null, 2);
  const lists: [string, () => AsyncGenerator<unknown>][] = [
    [JSON.stringify(OBSERVATIONS), () => observationsOf(source)],
    [JSON.stringify(FINDINGS), () => findingsOf(source, coverage)],
  ];
  let rest = text;
  for (const [marker, items] of lists) {
    const at = rest.indexOf(marker);
    if (at < 0) continue;
    yield `${rest.slice(0, at)}[\n`;
    let first = true;
    for await (const item of items()) {
      yield `${first ? '' : ',\n'}${JSON.stringify(item)}`;
      first = false;
    }
    yield '\n]';
    rest = rest.slice(at + marker.length);
  }
  yield `${rest}\n`;
}

/** The same document as an object (tests, small exports). */
export async function buildAssessmentResults(
  source: ReportSource,
  coverage?: CriteriaCoverage,
): Promise<Record<string, unknown>> {
  const chunks: string[] = [];
  for await (const chunk of assessmentResultsChunks(source, coverage)) chunks.push(chunk);
  return JSON.parse(chunks.join('')) as Record<string, unknown>;
}
