import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import type { AuditVerdict, AuditWindow } from '../audit/audit-verdicts.ts';
import { type CriteriaCoverage, type CriterionState, criteriaCoverage } from '../audit/criteria-coverage.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { ENV } from '../shared/runtime-env.ts';
import { withResultsStore } from '../wiring/make-results-store.ts';
import { type CliIo, EXIT, UsageError } from './io.ts';
import { parseRiskAsOf } from './risks-command.ts';

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

/** Parses --as-of and --from into the audit window (shared by coverage and readiness). */
export function parseWindow(
  values: { readonly 'as-of'?: string; readonly from?: string },
  timeZone: string,
  now?: () => Date,
): AuditWindow {
  const asOf = parseRiskAsOf(values['as-of'], timeZone, now);
  const asOfDay = DateTime.fromJSDate(asOf, { zone: timeZone });
  let from: string;
  if (values.from === undefined) {
    from = asOfDay.minus({ years: 1 }).toISODate() ?? '';
  } else {
    const day = DateTime.fromISO(values.from, { zone: timeZone });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(values.from) || !day.isValid)
      throw new UsageError(`--from: expected a date (YYYY-MM-DD), got "${values.from}"`);
    if (day.toMillis() > asOf.getTime())
      throw new UsageError(`--from ${values.from} is after --as-of ${asOf.toISOString()}`);
    from = values.from;
  }
  return { asOf, from, timeZone };
}

/** Every stored verdict of the config's controls (one Query per control), or undefined without a table. */
export async function readVerdicts(config: Config, env: CliIo['env']): Promise<AuditVerdict[] | undefined> {
  const table = env[ENV.resultsTable];
  if (!table) return undefined;
  return withResultsStore(env, table, async (store) =>
    (await Promise.all(config.controls.map((control) => store.verdictsOf(control.id)))).flat(),
  );
}

const STATE_LABEL: Record<CriterionState, string> = {
  passing: 'PASSING',
  failing: 'FAILING',
  'not-checked': 'NOT CHECKED',
  'by-design': 'BY DESIGN',
  'risk-register-only': 'RISK REGISTER ONLY',
  'not-evidenced': 'NOT EVIDENCED',
};

export function windowLine(model: { asOf: string; from: string; timeZone: string; mode: string }): string {
  return `as of ${model.asOf} (${model.timeZone}), periods ending ${model.from} onwards: ${
    model.mode === 'verdicts'
      ? `verdicts from ${ENV.resultsTable}`
      : `by design only (verdicts not read: set ${ENV.resultsTable} to read them)`
  }`;
}

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
export async function coverageCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        'as-of': { type: 'string' },
        from: { type: 'string' },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(COVERAGE_HELP);
      return EXIT.ok;
    }
    const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
    const window = parseWindow(values, config.timeZone);
    const verdicts = await readVerdicts(config, io.env);
    const model = criteriaCoverage({ config, window, ...(verdicts ? { verdicts } : {}) });
    io.stdout(values.json ? JSON.stringify(model, null, 2) : renderCoverage(model));
    return model.blocking.length > 0 ? EXIT.controlFailed : EXIT.ok;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      io.stderr(error.message);
      return EXIT.usage;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${error.message}\n\n${COVERAGE_HELP}`);
      return EXIT.usage;
    }
    throw error;
  }
}
