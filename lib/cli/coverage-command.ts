import { type CriteriaCoverage, type CriterionState, criteriaCoverage } from '../audit/criteria-coverage.ts';
import { DEFAULT_CONFIG_PATH } from '../config/load-config.ts';
import { ENV } from '../shared/runtime-env.ts';
import { auditCommand, windowLine } from './audit-command.ts';
import { EXIT } from './io.ts';

export const COVERAGE_HELP = `Usage: soc2-evidence coverage [options]

Prints, per SOC 2 criterion of the catalogue (the reference mapping's CC1.1-CC9.2, A1, C1, PI1 and
the planned P1.x, changed or extended by \`criteria\` in the config), the controls that evidence it
and how (automated test, manual attestation), their latest verdicts in the window, the risks of the
register assessed under it and its open gaps; then the criteria with nothing at all.

Verdicts are read from the results table in ${ENV.resultsTable} (AWS credentials or
AWS_ENDPOINT_URL*). Without it, coverage is by design only (which controls map to which criteria)
and the output says so.

Options:
  --as-of DATE    evaluate as of this date (YYYY-MM-DD, start of that day in the config's time zone)
                  or ISO instant (default: now). Periods that had not ended by then do not count.
  --from DATE     first day of the window: periods whose last day is on or after it count
                  (default: one year before --as-of)
  --json          print the coverage model as JSON
  --config PATH   configuration file (default: ${DEFAULT_CONFIG_PATH})
  -h, --help      show this help

Exit codes:
  0  every in-scope criterion has a control and every such control's latest verdict in the window
     is pass (by design only, without ${ENV.resultsTable}: every in-scope criterion has a control)
  1  some in-scope criterion has no control, or a latest verdict that is fail or error, or no verdict
     in the window
  2  bad usage or configuration`;

const STATE_LABEL: Record<CriterionState, string> = {
  passing: 'PASSING',
  failing: 'FAILING',
  'not-checked': 'NOT CHECKED',
  'by-design': 'BY DESIGN',
  'risk-register-only': 'RISK REGISTER ONLY',
  'not-evidenced': 'NOT EVIDENCED',
};

export function renderCoverage(model: CriteriaCoverage): string {
  const s = model.summary;
  const lines = [
    `Criteria coverage ${windowLine(model)}`,
    `${model.criteria.length} criteria: ${s.inScope} in scope, ${s.planned} planned, ${s.outOfScope} out of scope. In scope: ` +
      `${s.passing} passing, ${s.failing} failing, ${s['not-checked']} not checked, ${s['by-design']} by design, ` +
      `${s['risk-register-only']} risk register only, ${s['not-evidenced']} not evidenced.`,
  ];
  let group = '';
  for (const criterion of model.criteria) {
    if (criterion.group !== group) {
      group = criterion.group;
      lines.push('', `${group} ${criterion.groupTitle}`);
    }
    const scope = criterion.scope === 'in-scope' ? '' : ` (${criterion.scope})`;
    lines.push(
      `  ${criterion.id.padEnd(6)} ${criterion.title.padEnd(34)} ${STATE_LABEL[criterion.state]}${scope}`,
    );
    for (const control of criterion.controls) {
      const latest = control.latest
        ? `${control.latest.verdict} ${control.latest.periodKey}${control.latest.reasons[0] ? `: ${control.latest.reasons[0]}` : ''}`
        : model.mode === 'verdicts'
          ? 'no verdict in the window'
          : 'verdicts not read';
      const tally =
        model.mode === 'verdicts'
          ? ` [${control.periods.pass} pass, ${control.periods.fail} fail, ${control.periods.error} error, ${control.periods.missing} missing]`
          : '';
      lines.push(
        `         ${control.method.padEnd(18)} ${control.controlId} (${control.cadence}, ${control.owner}): ${latest}${tally}`,
      );
    }
    for (const risk of criterion.risks)
      lines.push(
        `         ${'risk-register'.padEnd(18)} ${risk.riskId} ${risk.title} (${risk.status}, score ${risk.score})`,
      );
    for (const gap of criterion.openGaps)
      lines.push(
        `         ${'open-gap'.padEnd(18)} ${gap.id} ${gap.gap} (${gap.status}, target ${gap.targetDate}, ${gap.owner})`,
      );
  }
  lines.push(
    '',
    `Not evidenced (in scope, no control, risk or gap): ${model.notEvidenced.join(', ') || '(none)'}`,
    `Blocking (in scope, not passing): ${model.blocking.join(', ') || '(none)'}`,
  );
  if (model.ignoredVerdicts.length > 0) {
    lines.push('', 'Ignored verdicts:');
    for (const v of model.ignoredVerdicts)
      lines.push(`  ${v.controlId} ${v.cadence} ${v.periodKey}: ${v.reason}`);
  }
  return lines.join('\n');
}

/** `soc2-evidence coverage`: see COVERAGE_HELP. */
export const coverageCommand = auditCommand({
  help: COVERAGE_HELP,
  evaluate: criteriaCoverage,
  render: renderCoverage,
  exitCode: (model) => (model.blocking.length > 0 ? EXIT.controlFailed : EXIT.ok),
});
