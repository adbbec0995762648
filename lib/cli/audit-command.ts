import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import type { AuditVerdict, AuditWindow } from '../audit/audit-verdicts.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { controlReviewChainId, documentReviewChainId } from '../controls/review-schedule.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import { ENV } from '../shared/runtime-env.ts';
import { withResultsStore } from '../wiring/make-results-store.ts';
import { type CliIo, cliCommand, EXIT, UsageError } from './io.ts';
import { parseRiskAsOf } from './risks-command.ts';

/** What `coverage` and `readiness` evaluate: the config, the window, and the verdicts if a table is set. */
export interface AuditInput {
  readonly config: Config;
  readonly window: AuditWindow;
  readonly verdicts?: readonly AuditVerdict[];
  /** Documents' present SHA-256 (read when the command asks for reviews). */
  readonly documentSha256?: ReadonlyMap<string, string>;
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
  /** Also read the review sign-offs' verdicts and hash the configured documents (readiness). */
  readonly reviews?: boolean;
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
      const configPath = values.config ?? DEFAULT_CONFIG_PATH;
      const config = await loadConfig(configPath);
      const window = parseWindow(values, config.timeZone);
      const verdicts = await readVerdicts(config, io.env, { reviews: spec.reviews === true });
      const documentSha256 = spec.reviews ? await documentHashes(config, configPath) : undefined;
      const model = spec.evaluate({
        config,
        window,
        ...(verdicts ? { verdicts } : {}),
        ...(documentSha256 ? { documentSha256 } : {}),
      });
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

/**
 * Every stored verdict of the config's controls (one Query per control), with `reviews` also those of
 * the review sign-off chains of `review: required` controls and of documents; undefined without a table.
 */
export async function readVerdicts(
  config: Config,
  env: CliIo['env'],
  options: { readonly reviews?: boolean } = {},
): Promise<AuditVerdict[] | undefined> {
  const table = env[ENV.resultsTable];
  if (!table) return undefined;
  const ids = config.controls.map((control) => control.id);
  if (options.reviews)
    ids.push(
      ...config.controls.filter((c) => c.review === 'required').map((c) => controlReviewChainId(c.id)),
      ...(config.documents ?? []).map((d) => documentReviewChainId(d.id)),
    );
  return withResultsStore(env, table, async (store) =>
    (await Promise.all(ids.map((id) => store.verdictsOf(id)))).flat(),
  );
}

/** The SHA-256 of each document with a readable `path` (relative to the config file). */
export async function documentHashes(config: Config, configPath: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const document of config.documents ?? []) {
    if (!document.path) continue;
    try {
      hashes.set(document.id, sha256Hex(await readFile(resolve(dirname(configPath), document.path))));
    } catch {
      // An unreadable file is not compared; its review status still says when it was approved.
    }
  }
  return hashes;
}

export function windowLine(model: { asOf: string; from: string; timeZone: string; mode: string }): string {
  return `as of ${model.asOf} (${model.timeZone}), periods ending ${model.from} onwards: ${
    model.mode === 'verdicts'
      ? `verdicts from ${ENV.resultsTable}`
      : `by design only (verdicts not read: set ${ENV.resultsTable} to read them)`
  }`;
}
