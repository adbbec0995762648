import type { Figure } from '../controls/outcome.ts';
import { escapeHtml } from '../shared/html.ts';
import { CADENCES, type Cadence } from '../shared/period.ts';
import { TOOL_VERSION } from '../shared/version.ts';
import type { CellStatus, MatrixCell, MatrixRow, ReportSource, RowOverview } from './export-model.ts';

const SYMBOL: Record<CellStatus, string> = { pass: '✓', fail: '✗', error: '!', missing: '–' };
const WORD: Record<CellStatus, string> = {
  pass: 'passed',
  fail: 'failed',
  error: 'could not be checked',
  missing: 'no evidence',
};
const CADENCE_TITLE: Record<Cadence, string> = {
  daily: 'Daily controls',
  weekly: 'Weekly controls',
  monthly: 'Monthly controls',
  quarterly: 'Quarterly controls',
  annual: 'Annual controls',
};
/** Cadences with many periods get small cells; figures then live in the tooltip and the details. */
const COMPACT: ReadonlySet<Cadence> = new Set(['daily', 'weekly']);

const anchor = (controlId: string, periodKey?: string) =>
  periodKey ? `p-${controlId}-${periodKey}` : `control-${controlId}`;

function formatFigure(value: Figure): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? value.toLocaleString('en-US') : String(Number(value.toFixed(3)));
  if (value === null) return '—';
  return String(value);
}

function figureLines(cell: MatrixCell): string[] {
  return Object.entries(cell.latest?.manifest.figures ?? {}).map(
    ([name, value]) => `${name}: ${formatFigure(value)}`,
  );
}

function cellTitle(row: MatrixRow, cell: MatrixCell): string {
  const head = `${row.controlId} ${cell.periodKey}: ${WORD[cell.status]}`;
  const reasons = cell.latest?.manifest.reasons ?? [];
  return [head, ...reasons, ...figureLines(cell)].join('\n');
}

function renderCell(row: MatrixRow, cell: MatrixCell | undefined, compact: boolean): string {
  if (!cell) return '<td class="cell none" data-verdict="none"></td>';
  const figures = compact
    ? ''
    : figureLines(cell)
        .slice(0, 2)
        .map((line) => `<small>${escapeHtml(line)}</small>`)
        .join('');
  return `<td class="cell ${cell.status}" data-verdict="${cell.status}" data-control="${escapeHtml(row.controlId)}" data-period="${escapeHtml(cell.periodKey)}"><a href="#${escapeHtml(anchor(row.controlId, cell.periodKey))}" title="${escapeHtml(cellTitle(row, cell))}"><span class="sym" aria-label="${WORD[cell.status]}">${SYMBOL[cell.status]}</span>${figures}</a></td>`;
}

async function* renderMatrix(
  cadence: Cadence,
  overview: readonly RowOverview[],
  rows: AsyncIterable<MatrixRow>,
): AsyncGenerator<string> {
  const keys = [
    ...new Map(overview.flatMap((row) => row.columns.map((column) => [column.key, column.start] as const))),
  ].sort(([, a], [, b]) => (a < b ? -1 : 1));
  const compact = COMPACT.has(cadence);
  const head = keys
    .map(([key]) => `<th scope="col">${escapeHtml(compact && cadence === 'daily' ? key.slice(5) : key)}</th>`)
    .join('');
  yield `<section class="cadence" id="cadence-${cadence}"><h2>${CADENCE_TITLE[cadence]}</h2>
<div class="scroll"><table class="matrix${compact ? ' compact' : ''}"><thead><tr><th scope="col" class="control">Control</th>${head}</tr></thead>
<tbody>
`;
  for await (const row of rows) {
    if (row.cadence !== cadence) continue;
    const cells = new Map(row.cells.map((cell) => [cell.periodKey, cell]));
    const tally = (['fail', 'error', 'missing'] as const)
      .map((status) => [status, row.cells.filter((cell) => cell.status === status).length] as const)
      .filter(([, count]) => count > 0)
      .map(([status, count]) => `<span class="tag ${status}">${count} ${WORD[status]}</span>`)
      .join(' ');
    yield `<tr><th scope="row" class="control"><a href="#${escapeHtml(anchor(row.controlId))}">${escapeHtml(row.controlId)}</a><small>${escapeHtml(row.criteria.join(', '))} · ${escapeHtml(row.owner)}</small>${tally}</th>${keys
      .map(([key]) => renderCell(row, cells.get(key), compact))
      .join('')}</tr>\n`;
  }
  yield '</tbody></table></div></section>\n';
}

function* renderDetails(row: MatrixRow): Generator<string> {
  yield `<section class="control-details" id="${escapeHtml(anchor(row.controlId))}"><h3>${escapeHtml(row.controlId)} <small>${escapeHtml(row.cadence)} · ${escapeHtml(row.criteria.join(', '))} · owner ${escapeHtml(row.owner)}</small></h3>\n`;
  for (const cell of row.cells) {
    const runs = cell.runs
      .map((run) => {
        const m = run.manifest;
        const artifacts = m.artifacts
          .map(
            (artifact) =>
              `<a href="${escapeHtml(artifact.key)}">${escapeHtml(artifact.key.split('/').pop() ?? artifact.key)}</a> <code>sha256 ${artifact.sha256.slice(0, 16)}…</code>`,
          )
          .join(', ');
        return `<li>run <code>${escapeHtml(m.runId)}</code>, ${escapeHtml(m.verdict)}, collected ${escapeHtml(m.collectedAt)}, chain #${m.chain.sequence}: ${artifacts}, <a href="${escapeHtml(run.manifestKey)}">manifest.json</a>, <a href="${escapeHtml(run.manifestKey.replace(/manifest\.json$/, 'manifest.sig'))}">manifest.sig</a></li>`;
      })
      .join('');
    const latest = cell.latest?.manifest;
    const reasons = latest?.reasons.length
      ? `<ul class="reasons">${latest.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`
      : '';
    const warnings = latest?.warnings.length
      ? `<ul class="warnings">${latest.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
      : '';
    const figures =
      latest && Object.keys(latest.figures).length
        ? `<table class="figures">${Object.entries(latest.figures)
            .map(
              ([name, value]) =>
                `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(formatFigure(value))}</td></tr>`,
            )
            .join('')}</table>`
        : '';
    const body =
      cell.status === 'missing'
        ? '<p>No manifest was recorded for this period: its run never happened or its evidence is missing.</p>'
        : `${reasons}${warnings}${figures}<ul class="runs">${runs}</ul>`;
    yield `<article class="period ${cell.status}" id="${escapeHtml(anchor(row.controlId, cell.periodKey))}"><h4><span class="badge ${cell.status}">${SYMBOL[cell.status]} ${WORD[cell.status]}</span> ${escapeHtml(cell.periodKey)} <small>${escapeHtml(cell.start.slice(0, 10))} – ${escapeHtml(cell.lastDay)}</small></h4>${body}</article>\n`;
  }
  yield '</section>\n';
}

const STYLE = `
:root{--pass:#1a7f37;--fail:#cf222e;--error:#9a6700;--missing:#6e7781;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1400px;padding:24px}
h1{margin:0 0 4px;font-size:24px}h2{font-size:18px;margin:28px 0 8px}h3{margin:24px 0 8px}.meta,small{color:var(--muted)}
.summary{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.tile{border:1px solid var(--line);border-left:6px solid;border-radius:6px;padding:8px 14px;min-width:140px}
.tile .count{display:block;font-size:28px;font-weight:600}.tile.pass{border-left-color:var(--pass)}.tile.fail{border-left-color:var(--fail)}.tile.error{border-left-color:var(--error)}.tile.missing{border-left-color:var(--missing)}
.headline{font-size:16px}.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table.matrix{border-collapse:collapse}table.matrix th,table.matrix td{border:1px solid var(--line);padding:0;text-align:center}
table.matrix thead th{font-weight:600;font-size:12px;padding:4px 6px;white-space:nowrap;background:#f6f8fa}
th.control{text-align:left!important;padding:6px 10px!important;min-width:220px;background:#f6f8fa;position:sticky;left:0;z-index:1}th.control small{display:block;font-weight:400}
.cell a{display:block;min-width:64px;max-width:92px;padding:6px 4px;color:#fff;text-decoration:none}.cell small{display:block;color:inherit;opacity:.9;font-size:10px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.sym{font-size:16px;font-weight:700}
.cell.pass{background:var(--pass)}.cell.fail{background:var(--fail)}.cell.error{background:var(--error)}
.cell.missing{background:repeating-linear-gradient(45deg,#eaeef2,#eaeef2 4px,#fff 4px,#fff 8px)}.cell.missing a{color:var(--missing)}.cell.none{background:#fff}
table.compact thead th:not(.control){writing-mode:vertical-rl;transform:rotate(180deg);padding:4px 1px;font-size:10px}table.compact .cell a{min-width:14px;padding:2px 0}table.compact .sym{font-size:10px}
.tag{display:inline-block;margin:2px 4px 0 0;padding:0 6px;border-radius:10px;font-size:11px;color:#fff}.tag.fail{background:var(--fail)}.tag.error{background:var(--error)}.tag.missing{background:var(--missing)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.error{background:var(--error)}.badge.missing{background:var(--missing)}
article.period{border-top:1px solid var(--line);padding:6px 0}article.period h4{margin:4px 0}article.period:target{background:#fff8c5}
table.figures{border-collapse:collapse;margin:4px 0}table.figures th,table.figures td{border:1px solid var(--line);padding:2px 8px;text-align:left;font-weight:400}
.reasons li{color:var(--fail)}.warnings li{color:var(--error)}code{font-size:12px}footer{margin-top:32px;color:var(--muted)}
`;

/** A self-contained section placed after the control matrix (criteria coverage, readiness, heat map, sign-offs). */
export interface IndexSection {
  /** The section element's id, linked from the page's contents line. */
  readonly id: string;
  readonly title: string;
  readonly html: string;
}

/**
 * The archive's front page: one self-contained HTML file (no scripts, fonts or requests) with the
 * control x period matrix coloured by verdict, each cell linking to that period's details, figures
 * and evidence files inside the archive, then the given sections (criteria coverage next to the
 * matrix, readiness, the risk heat map, the sign-offs), then every period's details.
 */
export async function* renderIndexHtmlChunks(
  source: ReportSource,
  sections: readonly IndexSection[] = [],
): AsyncGenerator<string> {
  const { counts } = source;
  const periods = counts.pass + counts.fail + counts.error + counts.missing;
  const range = `${source.range.from ?? 'the start'} to ${source.range.to ?? source.exportedAt.slice(0, 10)}`;
  const tiles = (['pass', 'fail', 'error', 'missing'] as const)
    .map(
      (status) =>
        `<div class="tile ${status}" data-status="${status}"><span class="count">${counts[status]}</span>${WORD[status]}</div>`,
    )
    .join('');
  const healthy = counts.fail + counts.error + counts.missing === 0;
  const controls = new Set(source.overview.map((row) => row.controlId)).size;
  const headline = `${controls} control(s), ${periods} control-period(s): ${counts.pass} passed, ${counts.fail} failed, ${counts.error} could not be checked, ${counts.missing} without evidence.${healthy ? ' Every control passed in every period.' : ''}`;
  const cadences = CADENCES.filter((cadence) => source.overview.some((row) => row.cadence === cadence));
  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>SOC 2 evidence, ${escapeHtml(range)}</title><style>${STYLE}</style></head>
<body>
<header><h1>SOC 2 control evidence</h1>
<p class="meta">Periods ending ${escapeHtml(range)} · exported ${escapeHtml(source.exportedAt)} from <code>${escapeHtml(source.bucket)}</code> · soc2-evidence ${escapeHtml(TOOL_VERSION)}</p></header>
<section class="summary" aria-label="Summary">${tiles}</section>
<p class="headline" id="headline">${escapeHtml(headline)}</p>
${sections.length > 0 ? `<nav class="meta" id="contents">Contents: <a href="#matrix">control matrix</a>${sections.map((section) => ` · <a href="#${escapeHtml(section.id)}">${escapeHtml(section.title.toLowerCase())}</a>`).join('')} · <a href="#details">details</a></nav>\n` : ''}<p class="meta" id="matrix">Each cell is one control in one period: ✓ passed, ✗ failed, ! could not be checked, – no evidence. Click a cell for its figures and evidence files. Check the archive's integrity with <code>soc2-evidence verify</code> (see VERIFY.md) before relying on this page.</p>
`;
  // One pass over the rows per cadence table, then one for the details: only a row at a time is held.
  for (const cadence of cadences) {
    yield* renderMatrix(
      cadence,
      source.overview.filter((row) => row.cadence === cadence),
      source.rows(),
    );
  }
  for (const section of sections) yield section.html;
  yield '<h2 id="details">Details</h2>\n';
  for await (const row of source.rows()) yield* renderDetails(row);
  yield `<footer>Generated by soc2-evidence ${escapeHtml(TOOL_VERSION)}. This page is a convenience view; the signed manifests are the record.</footer>
</body></html>
`;
}

/** The whole page as one string (small exports, tests); the exporter streams the chunks instead. */
export async function renderIndexHtml(source: ReportSource): Promise<string> {
  const chunks: string[] = [];
  for await (const chunk of renderIndexHtmlChunks(source)) chunks.push(chunk);
  return chunks.join('');
}
