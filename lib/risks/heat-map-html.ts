import { escapeHtml } from '../shared/html.ts';
import { type HeatMap, type HeatMaps, SCALE } from './heat-map.ts';

/** Styles scoped to the section, so the fragment can be dropped into any page. */
const STYLE = `
.risk-heat-map{font-family:system-ui,sans-serif;margin:1.5rem 0}
.risk-heat-map .maps{display:flex;flex-wrap:wrap;gap:2rem}
.risk-heat-map table{border-collapse:collapse}
.risk-heat-map caption{font-weight:600;text-align:left;margin-bottom:.4rem}
.risk-heat-map th{font-weight:500;font-size:.8rem;padding:.2rem .4rem;color:#333}
.risk-heat-map td.heat-cell{width:4.8rem;height:3rem;border:1px solid #fff;text-align:center;vertical-align:middle;font-size:.8rem}
.risk-heat-map td.heat-cell[data-band="at-or-above-threshold"]{background:#f4c7c3;color:#5c0b04}
.risk-heat-map td.heat-cell[data-band="below-threshold"]{background:#d9ead3;color:#173d0c}
.risk-heat-map td.heat-cell[data-count="0"]{opacity:.55}
.risk-heat-map .count{display:block;font-weight:700}
.risk-heat-map .ids{display:block}
.risk-heat-map .note{font-size:.8rem;color:#555}
`;

function table(map: HeatMap): string {
  const title = `${map.kind === 'inherent' ? 'Inherent' : 'Residual'} risk (likelihood x impact)`;
  const header = `<tr><th scope="col">likelihood \\ impact</th>${SCALE.map((i) => `<th scope="col">${i}</th>`).join('')}</tr>`;
  const rows = [...SCALE]
    .reverse()
    .map((likelihood) => {
      const cells = map.cells
        .filter((c) => c.likelihood === likelihood)
        .map((c) => {
          const ids = c.riskIds.join(' ');
          const title = `likelihood ${c.likelihood} x impact ${c.impact} = ${c.score}${c.count ? `: ${c.riskIds.join(', ')}` : ''}`;
          return (
            `<td class="heat-cell" data-map="${map.kind}" data-likelihood="${c.likelihood}" data-impact="${c.impact}" ` +
            `data-score="${c.score}" data-band="${c.band}" data-count="${c.count}" data-risk-ids="${escapeHtml(ids)}" ` +
            `title="${escapeHtml(title)}">` +
            (c.count
              ? `<span class="count">${c.count}</span><span class="ids">${escapeHtml(c.riskIds.join(', '))}</span>`
              : '') +
            '</td>'
          );
        })
        .join('');
      return `<tr><th scope="row">${likelihood}</th>${cells}</tr>`;
    })
    .join('');
  return `<table class="heat-map" data-map="${map.kind}" data-threshold="${map.threshold}"><caption>${escapeHtml(title)}</caption><thead>${header}</thead><tbody>${rows}</tbody></table>`;
}

/**
 * A self-contained HTML section (its own scoped styles, no scripts, no external resources) with
 * the inherent and residual 5x5 matrices. Every cell carries `data-likelihood`, `data-impact`,
 * `data-score`, `data-band` (coloured by the threshold), `data-count` and `data-risk-ids`.
 */
export function renderHeatMapHtml(model: HeatMaps): string {
  const note =
    model.residualNotStated.length > 0
      ? `<p class="note">No residual score recorded for ${escapeHtml(model.residualNotStated.join(', '))}: shown at the inherent score.</p>`
      : '';
  return (
    `<section class="risk-heat-map" id="risk-heat-map" data-threshold="${model.threshold}">` +
    `<style>${STYLE}</style>` +
    '<h2>Risk heat map</h2>' +
    `<p class="note">Red cells score at or above the register's threshold of ${model.threshold} (a written mitigation is required); green cells are below it.</p>` +
    `<div class="maps">${table(model.inherent)}${table(model.residual)}</div>${note}</section>`
  );
}
