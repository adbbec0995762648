import { byId } from './evaluate-register.ts';
import { type RiskRegister, residualOf } from './register-schema.ts';

/** Likelihood and impact both run 1-5. */
export const SCALE = [1, 2, 3, 4, 5] as const;

/** A cell's colour: at or above the register's threshold (a written mitigation required) or below. */
export type HeatBand = 'at-or-above-threshold' | 'below-threshold';

export interface HeatMapCell {
  readonly likelihood: number;
  readonly impact: number;
  readonly score: number;
  readonly band: HeatBand;
  /** Risks scored in this cell, natural id order (R2 before R10). */
  readonly riskIds: readonly string[];
  readonly count: number;
}

export interface HeatMap {
  readonly kind: 'inherent' | 'residual';
  readonly threshold: number;
  /** 25 cells, likelihood 5 down to 1, impact 1 up to 5 (the order a matrix is read in). */
  readonly cells: readonly HeatMapCell[];
  /** Risks placed (every risk of the register, once). */
  readonly total: number;
}

export interface HeatMaps {
  readonly threshold: number;
  readonly inherent: HeatMap;
  /** Residual scores; a risk without a stated residual stays where its inherent score puts it. */
  readonly residual: HeatMap;
  /** Risks whose residual is the inherent score because none is recorded. */
  readonly residualNotStated: readonly string[];
}

function heatMap(
  kind: HeatMap['kind'],
  threshold: number,
  placed: readonly { id: string; likelihood: number; impact: number }[],
): HeatMap {
  const cells: HeatMapCell[] = [];
  for (const likelihood of [...SCALE].reverse()) {
    for (const impact of SCALE) {
      const riskIds = placed
        .filter((p) => p.likelihood === likelihood && p.impact === impact)
        .map((p) => p.id)
        .sort(byId);
      const score = likelihood * impact;
      cells.push({
        likelihood,
        impact,
        score,
        band: score >= threshold ? 'at-or-above-threshold' : 'below-threshold',
        riskIds,
        count: riskIds.length,
      });
    }
  }
  return { kind, threshold, cells, total: placed.length };
}

/** The 5x5 likelihood x impact matrices of the register, inherent and residual. Pure. */
export function buildHeatMaps(register: Pick<RiskRegister, 'risks' | 'settings'>): HeatMaps {
  const threshold = register.settings.scoreThreshold;
  const inherent = register.risks.map((r) => ({ id: r.id, likelihood: r.likelihood, impact: r.impact }));
  const residual = register.risks.map((r) => ({ id: r.id, ...residualOf(r) }));
  return {
    threshold,
    inherent: heatMap('inherent', threshold, inherent),
    residual: heatMap('residual', threshold, residual),
    residualNotStated: register.risks
      .filter((r) => r.residual === undefined)
      .map((r) => r.id)
      .sort(byId),
  };
}

/** The cell at (likelihood, impact). */
export function cellAt(map: HeatMap, likelihood: number, impact: number): HeatMapCell | undefined {
  return map.cells.find((c) => c.likelihood === likelihood && c.impact === impact);
}

/**
 * A text grid: likelihood rows (5 at the top), impact columns; each cell lists its risk ids, `.`
 * when empty; cells at or above the threshold are bracketed, so the grid reads without colour.
 */
export function renderHeatMapText(map: HeatMap): string {
  const label = (cell: HeatMapCell) => {
    const body = cell.count === 0 ? '.' : cell.riskIds.join(',');
    return cell.band === 'at-or-above-threshold' ? `[${body}]` : ` ${body} `;
  };
  const width = Math.max(10, ...map.cells.map((c) => label(c).length));
  const rowLabel = 'likelihood 5';
  const lines = [
    `${map.kind === 'inherent' ? 'Inherent' : 'Residual'} risk: ${map.total} risk${map.total === 1 ? '' : 's'}, likelihood x impact; [bracketed] cells score at or above the threshold of ${map.threshold}`,
    `${' '.repeat(rowLabel.length)}  ${SCALE.map((i) => `impact ${i}`.padEnd(width)).join(' ')}`.trimEnd(),
  ];
  for (const likelihood of [...SCALE].reverse()) {
    const row = map.cells.filter((c) => c.likelihood === likelihood);
    lines.push(`likelihood ${likelihood}  ${row.map((c) => label(c).padEnd(width)).join(' ')}`.trimEnd());
  }
  return lines.join('\n');
}
