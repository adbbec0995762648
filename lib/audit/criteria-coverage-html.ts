import { escapeHtml } from '../shared/html.ts';
import type { CriteriaCoverage, CriterionState } from './criteria-coverage.ts';

const STATE_WORD: Record<CriterionState, string> = {
  passing: 'passing',
  failing: 'failing',
  'not-checked': 'not checked',
  'by-design': 'by design (verdicts not read)',
  'risk-register-only': 'risk register only',
  'not-evidenced': 'not evidenced',
};

// Scoped to the section so it can sit inside index.html (reusing its colour variables when present).
const STYLE = `
#criteria-coverage table{border-collapse:collapse;width:100%;margin:8px 0}#criteria-coverage th,#criteria-coverage td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
#criteria-coverage thead th{background:#f6f8fa;font-size:12px}#criteria-coverage .group th{background:#eaeef2}
#criteria-coverage .state{display:inline-block;padding:0 8px;border-radius:10px;color:#fff;font-size:12px;white-space:nowrap}
#criteria-coverage .passing .state{background:var(--pass,#1a7f37)}#criteria-coverage .failing .state{background:var(--fail,#cf222e)}
#criteria-coverage .not-checked .state{background:var(--error,#9a6700)}#criteria-coverage .by-design .state{background:#0969da}
#criteria-coverage .risk-register-only .state{background:#8250df}#criteria-coverage .not-evidenced .state{background:var(--missing,#6e7781)}
#criteria-coverage ul{margin:0;padding-left:16px}#criteria-coverage .scope{color:#656d76;font-size:12px}
`;

function controlItems(model: CriteriaCoverage, criterion: CriteriaCoverage['criteria'][number]): string {
  const items = [
    ...criterion.controls.map((control) => {
      const latest = control.latest
        ? `<span data-verdict="${control.latest.verdict}">${escapeHtml(control.latest.verdict)} ${escapeHtml(control.latest.periodKey)}</span> <code>${escapeHtml(control.latest.manifestKey)}</code>`
        : model.mode === 'verdicts'
          ? 'no verdict in the window'
          : 'verdicts not read';
      return `<li data-control="${escapeHtml(control.controlId)}">${escapeHtml(control.method)}: <strong>${escapeHtml(control.controlId)}</strong> (${escapeHtml(control.cadence)}, ${escapeHtml(control.owner)}): ${latest}</li>`;
    }),
    ...criterion.risks.map(
      (risk) =>
        `<li data-risk="${escapeHtml(risk.riskId)}">risk register: ${escapeHtml(risk.riskId)} ${escapeHtml(risk.title)} (${escapeHtml(risk.status)}, score ${risk.score})</li>`,
    ),
    ...criterion.openGaps.map(
      (gap) =>
        `<li data-gap="${escapeHtml(gap.id)}">open gap: ${escapeHtml(gap.id)} ${escapeHtml(gap.gap)} (${escapeHtml(gap.status)}, target ${escapeHtml(gap.targetDate)})</li>`,
    ),
  ];
  return items.length > 0 ? `<ul>${items.join('')}</ul>` : '—';
}

/**
 * The criteria view for the export's index.html: one self-contained `<section id="criteria-coverage">`
 * (its own scoped style, no scripts, no requests) listing every criterion, its state and evidence.
 */
export function renderCriteriaCoverageHtml(model: CriteriaCoverage): string {
  const s = model.summary;
  const headline = `${model.criteria.length} criteria, ${s.inScope} in scope: ${s.passing} passing, ${s.failing} failing, ${s['not-checked']} not checked, ${s['by-design']} by design, ${s['risk-register-only']} risk register only, ${s['not-evidenced']} not evidenced.`;
  const rows: string[] = [];
  let group = '';
  for (const criterion of model.criteria) {
    if (criterion.group !== group) {
      group = criterion.group;
      rows.push(
        `<tr class="group"><th colspan="4">${escapeHtml(group)} ${escapeHtml(criterion.groupTitle)}</th></tr>`,
      );
    }
    const scope =
      criterion.scope === 'in-scope' ? '' : ` <span class="scope">(${escapeHtml(criterion.scope)})</span>`;
    rows.push(
      `<tr class="criterion ${criterion.state}" id="criterion-${escapeHtml(criterion.id)}" data-criterion="${escapeHtml(criterion.id)}" data-state="${criterion.state}" data-scope="${criterion.scope}"><th scope="row">${escapeHtml(criterion.id)}</th><td>${escapeHtml(criterion.title)}${scope}</td><td><span class="state">${STATE_WORD[criterion.state]}</span></td><td>${controlItems(model, criterion)}</td></tr>`,
    );
  }
  const mode =
    model.mode === 'verdicts'
      ? 'Latest verdict of each control in the window.'
      : 'By design only: verdicts were not read, so no criterion is shown as passing.';
  return `<section class="criteria-coverage" id="criteria-coverage"><style>${STYLE}</style>
<h2>Criteria coverage</h2>
<p class="headline" id="criteria-headline">${escapeHtml(headline)}</p>
<p class="meta">As of ${escapeHtml(model.asOf)} (${escapeHtml(model.timeZone)}), periods ending ${escapeHtml(model.from)} onwards. ${escapeHtml(mode)}</p>
<table><thead><tr><th scope="col">Criterion</th><th scope="col">Title</th><th scope="col">State</th><th scope="col">Evidenced by</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<p id="criteria-not-evidenced">Not evidenced (in scope, nothing at all): ${escapeHtml(model.notEvidenced.join(', ') || '(none)')}</p>
</section>
`;
}
