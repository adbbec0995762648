import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import type { AuditVerdict, AuditWindow } from '../audit/audit-verdicts.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { ENV } from '../shared/runtime-env.ts';
import { withResultsStore } from '../wiring/make-results-store.ts';
import { type CliIo, cliCommand, EXIT, UsageError } from './io.ts';
import { parseRiskAsOf } from './risks-command.ts';

/** What `coverage` and `readiness` evaluate: the config, the window, and the verdicts if a table is set. */
export interface AuditInput {
  readonly config: Config;
  readonly window: AuditWindow;
  readonly verdicts?: readonly AuditVerdict[];
}

/**
 * `coverage` and `readiness` share their options (`--as-of`, `--from`, `--json`, `--config`), their
 * inputs and their output: one model, printed as text or JSON, whose state decides the exit code.
 */
export function auditCommand<Model>(spec: {
  readonly help: string;
  readonly evaluate: (input: AuditInput) => Model;
  readonly render: (model: Model) => string;
  readonly exitCode: (model: Model) => number;
}) {
  return cliCommand({
    help: spec.help,
    usageErrors: [ConfigError],
    async run(argv: readonly string[], io: CliIo) {
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
        io.stdout(spec.help);
        return EXIT.ok;
      }
      const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
      const window = parseWindow(values, config.timeZone);
      const verdicts = await readVerdicts(config, io.env);
      const model = spec.evaluate({ config, window, ...(verdicts ? { verdicts } : {}) });
      io.stdout(values.json ? JSON.stringify(model, null, 2) : spec.render(model));
      return spec.exitCode(model);
    },
  });
}

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

export function windowLine(model: { asOf: string; from: string; timeZone: string; mode: string }): string {
  return `as of ${model.asOf} (${model.timeZone}), periods ending ${model.from} onwards: ${
    model.mode === 'verdicts'
      ? `verdicts from ${ENV.resultsTable}`
      : `by design only (verdicts not read: set ${ENV.resultsTable} to read them)`
  }`;
}
