import { escapeHtml } from '../shared/html.ts';
import type { Readiness, ReadinessStatus } from './readiness.ts';
import { READINESS_SECTIONS, type ReadinessSection } from './readiness-schema.ts';

const WORD: Record<ReadinessStatus, string> = {
  ready: 'ready',
  'not-ready': 'not ready',
  unknown: 'unknown',
};
const SECTION_TITLE: Record<ReadinessSection, string> = {
  documentation: 'Documentation',
  'technical-controls': 'Technical Controls',
  'evidence-collection': 'Evidence Collection',
};

const STYLE = `
#readiness ul.items{list-style:none;padding:0}#readiness li.item{border-top:1px solid #d0d7de;padding:6px 0}
#readiness .status{display:inline-block;min-width:84px;text-align:center;padding:0 8px;border-radius:10px;color:#fff;font-size:12px}
#readiness .ready .status{background:var(--pass,#1a7f37)}#readiness .not-ready .status{background:var(--fail,#cf222e)}#readiness .unknown .status{background:var(--missing,#6e7781)}
#readiness .reasons{margin:2px 0 0 92px;padding-left:16px}#readiness .meta,#readiness small{color:#656d76}#readiness code{font-size:12px}
`;

/**
 * The pre-audit checklist for the export's index.html: one self-contained `<section id="readiness">`
 * (scoped style, no scripts) with each item's status, reasons, owner and the verdicts behind it.
 */
export function renderReadinessHtml(model: Readiness): string {
  const s = model.summary;
  const sections = READINESS_SECTIONS.map((section) => {
    const items = model.items.filter((item) => item.section === section);
    if (items.length === 0) return '';
    const lines = items.map((item) => {
      const owners = item.owners.length > 0 ? item.owners.join(', ') : 'unassigned';
      const upload = item.upload
        ? ` · upload ${escapeHtml(item.upload.expects)} to <code>${escapeHtml(item.upload.prefix)}</code>`
        : '';
      const evidence = item.evidence.length
        ? `<li>evidence: ${item.evidence.map((e) => `<code data-verdict="${e.verdict}">${escapeHtml(e.key)}</code> (${escapeHtml(e.verdict)})`).join(', ')}</li>`
        : '';
      return `<li class="item ${item.status}" id="readiness-${escapeHtml(item.id)}" data-item="${escapeHtml(item.id)}" data-status="${item.status}"><span class="status">${WORD[item.status]}</span> <strong>${escapeHtml(item.title)}</strong> <small>owner ${escapeHtml(owners)}${upload}</small><ul class="reasons">${item.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}${evidence}</ul></li>`;
    });
    return `<h3>${SECTION_TITLE[section]}</h3><ul class="items">${lines.join('\n')}</ul>`;
  });
  const mode = model.mode === 'verdicts' ? '' : ' Verdicts were not read: derived items are unknown.';
  return `<section class="readiness" id="readiness"><style>${STYLE}</style>
<h2>Pre-audit readiness</h2>
<p class="headline" id="readiness-headline">${escapeHtml(`${model.items.length} items: ${s.ready} ready, ${s['not-ready']} not ready, ${s.unknown} unknown.`)}</p>
<p class="meta">As of ${escapeHtml(model.asOf)} (${escapeHtml(model.timeZone)}), periods ending ${escapeHtml(model.from)} onwards. An item is unknown whenever its evidence is missing.${escapeHtml(mode)}</p>
${sections.join('\n')}
</section>
`;
}
