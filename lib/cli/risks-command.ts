import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { wrap } from '../risks/digest-message.ts';
import {
  type AssetState,
  evaluateRegister,
  evaluationForOwner,
  type LatestVerdict,
  type RegisterEvaluation,
  type RiskFinding,
} from '../risks/evaluate-register.ts';
import { buildHeatMaps, renderHeatMapText } from '../risks/heat-map.ts';
import { latestVerdictsFrom } from '../risks/latest-verdicts.ts';
import { STRIDE_CATEGORIES } from '../risks/register-schema.ts';
import { linkedControlIds } from '../risks/run-risk-evaluation.ts';
import { ENV } from '../shared/runtime-env.ts';
import { withResultsStore } from '../wiring/make-results-store.ts';
import { type CliIo, cliCommand, EXIT, UsageError } from './io.ts';
import { renderTable } from './table.ts';

export const RISKS_HELP = `Usage: soc2-evidence risks [options]
       soc2-evidence risks check [--base REF] [--register FILE]   (the pull-request gate; see --help)
       soc2-evidence risks sign-off --by NAME --role ROLE [--note TEXT]   (a signed review; see --help)

Evaluates the risk register (riskRegister in the config) and prints it, highest score first, with
each risk's status and every finding: a score at or above the threshold with no written mitigation,
a review past its cadence, a planned mitigation or remediation past its date, a linked control whose
latest verdict failed. Works offline from the config alone.

Options:
  --as-of DATE      evaluate as of this date (YYYY-MM-DD, in the config's time zone) or ISO instant
                    (default: now). A date due on the --as-of day is not yet overdue.
  --owner ID        only the risks and remediation items of this owner
  --json            print the evaluation as JSON
  --matrix          print the 5x5 likelihood x impact heat maps (inherent and residual) instead,
                    each cell listing its risk ids, [bracketed] at or above the threshold
  --with-verdicts   also flag risks whose linked controls failed, reading the latest verdicts from
                    the results table in ${ENV.resultsTable} (AWS credentials or AWS_ENDPOINT_URL*)
  --with-sign-offs  also report "review claimed, not evidenced" for each risk whose lastReviewed no
                    recorded sign-off backs, reading the sign-off chain from ${ENV.evidenceBucket}
                    (chain heads in ${ENV.resultsTable})
  --local           with --with-verdicts: read the verdicts of \`run --local\` from its state folder
  --state DIR       that state folder (default: .soc2-evidence)
  --config PATH     configuration file (default: ${DEFAULT_CONFIG_PATH})
  -h, --help        show this help

Exit codes: 0 the register was evaluated (findings or not), 2 bad usage or configuration.`;

/** A date is the start of that day in the config's zone (so the evaluation's "today" is that date). */
export function parseRiskAsOf(
  value: string | undefined,
  timeZone: string,
  now: () => Date = () => new Date(),
): Date {
  if (value === undefined) return now();
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = DateTime.fromISO(value, { zone: timeZone });
    if (!day.isValid) throw new UsageError(`--as-of: "${value}" is not a valid date`);
    return day.startOf('day').toJSDate();
  }
  const instant = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(instant.getTime())) {
    throw new UsageError(`--as-of: expected a date (YYYY-MM-DD) or ISO-8601 instant, got "${value}"`);
  }
  return instant;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const CATEGORY_MARK: Record<RiskFinding['category'], string> = {
  violation: 'VIOLATION',
  overdue: 'OVERDUE',
  flagged: 'FLAGGED',
};

function findingLines(findings: readonly RiskFinding[]): string[] {
  return findings.flatMap((finding) => {
    const [first = '', ...rest] = wrap(finding.message, '', 96);
    return [
      `    ${CATEGORY_MARK[finding.category].padEnd(9)} ${first}`,
      ...rest.map((line) => `              ${line}`),
    ];
  });
}

/** Table rows, each followed by its findings' sentences. */
function tableWithFindings(
  headers: string[],
  rows: { cells: string[]; findings: readonly RiskFinding[] }[],
): string {
  const [header = '', rule = '', ...lines] = renderTable(
    headers,
    rows.map((row) => row.cells),
    70,
  ).split('\n');
  return [
    header,
    rule,
    ...lines.flatMap((line, index) => [line, ...findingLines(rows[index]?.findings ?? [])]),
  ].join('\n');
}

const STRIDE_LETTER: Record<(typeof STRIDE_CATEGORIES)[number], string> = {
  spoofing: 'S',
  tampering: 'T',
  repudiation: 'R',
  'information-disclosure': 'I',
  'denial-of-service': 'D',
  'elevation-of-privilege': 'E',
};

function encryptionCell(state: AssetState['asset']['encryption']['atRest']): string {
  if (state.encrypted === 'unknown') return 'unknown';
  if (state.encrypted === false) return `NO${state.detail ? ` (${state.detail})` : ''}`;
  return state.detail ?? 'yes';
}

/** The inventory with one column per STRIDE category: the risks assessing it, `n/a`, or `GAP`. */
export function renderAssets(assets: readonly AssetState[]): string {
  const total = assets.length * STRIDE_CATEGORIES.length;
  const gaps = assets.reduce((sum, state) => sum + state.missing.length, 0);
  const lines = [
    `Asset inventory and STRIDE walk-through: ${plural(assets.length, 'asset')}, ${total - gaps} of ${total} ` +
      `categories assessed, ${plural(gaps, 'gap')} (S T R I D E: a risk id, n/a with a written reason, or GAP)`,
  ];
  if (assets.length === 0) {
    lines.push('  (no asset inventory: STRIDE coverage cannot be shown; add `assets` to the register)');
    return lines.join('\n');
  }
  lines.push(
    tableWithFindings(
      ['ID', 'CLASS', 'AT REST', 'IN TRANSIT', ...STRIDE_CATEGORIES.map((c) => STRIDE_LETTER[c]), 'OWNER'],
      assets.map((state) => ({
        cells: [
          state.asset.id,
          state.asset.classification,
          encryptionCell(state.asset.encryption.atRest),
          encryptionCell(state.asset.encryption.inTransit),
          ...state.coverage.map((c) =>
            c.kind === 'risks' ? c.riskIds.join(',') : c.kind === 'not-applicable' ? 'n/a' : 'GAP',
          ),
          state.asset.owner,
        ],
        findings: state.findings,
      })),
    ),
  );
  return lines.join('\n');
}

export function renderRegister(evaluation: RegisterEvaluation, config: Config): string {
  const counts = { violation: 0, overdue: 0, flagged: 0 };
  for (const finding of evaluation.findings) counts[finding.category] += 1;
  const names = new Map(config.owners.map((o) => [o.id, o.id]));
  const lines = [
    `Risk register as of ${evaluation.date} (${evaluation.timeZone}): ${plural(evaluation.risks.length, 'risk')}, ` +
      `${plural(evaluation.remediations.length, 'remediation item')}, written mitigation required at score >= ${evaluation.settings.scoreThreshold}.`,
    `${plural(evaluation.findings.length, 'finding')}: ${plural(counts.violation, 'violation')}, ${counts.overdue} overdue, ${counts.flagged} flagged.`,
    '',
    'Risks (highest inherent score first; inherent is before mitigation, residual after, "-" when no',
    'residual is recorded and the inherent score stands; the threshold applies to inherent, acceptance to residual)',
  ];
  if (evaluation.risks.length === 0) lines.push('  (none)');
  else
    lines.push(
      tableWithFindings(
        ['ID', 'INHERENT', 'L x I', 'RESIDUAL', 'L x I', 'STATUS', 'OWNER', 'REVIEW DUE', 'TITLE'],
        evaluation.risks.map((state) => ({
          cells: [
            state.risk.id,
            String(state.score),
            `${state.risk.likelihood} x ${state.risk.impact}`,
            state.risk.residual ? String(state.residualScore) : '-',
            state.risk.residual ? `${state.risk.residual.likelihood} x ${state.risk.residual.impact}` : '-',
            state.risk.status,
            names.get(state.risk.owner) ?? state.risk.owner,
            state.nextReviewDue,
            state.risk.title,
          ],
          findings: state.findings,
        })),
      ),
    );
  lines.push('', renderAssets(evaluation.assets));
  if (evaluation.remediations.length > 0) {
    lines.push(
      '',
      'Remediation items (earliest target first)',
      tableWithFindings(
        ['ID', 'TARGET', 'STATUS', 'OWNER', 'GAP', 'REMEDIATION'],
        evaluation.remediations.map((state) => ({
          cells: [
            state.item.id,
            state.item.targetDate,
            state.item.status,
            state.item.owner,
            state.item.gap,
            state.item.remediation,
          ],
          findings: state.findings,
        })),
      ),
    );
  }
  return lines.join('\n');
}

/** The JSON shape of `risks --json` (stable field names; findings carry their sentence). */
export function registerJson(evaluation: RegisterEvaluation) {
  return {
    asOf: evaluation.asOf,
    date: evaluation.date,
    timeZone: evaluation.timeZone,
    settings: evaluation.settings,
    risks: evaluation.risks.map((state) => ({
      ...state.risk,
      score: state.score,
      inherentScore: state.score,
      residualScore: state.residualScore,
      residualStated: state.residualStated,
      atOrAboveThreshold: state.atOrAboveThreshold,
      nextReviewDue: state.nextReviewDue,
      findings: state.findings,
    })),
    remediations: evaluation.remediations.map((state) => ({ ...state.item, findings: state.findings })),
    assets: evaluation.assets.map((state) => ({
      ...state.asset,
      stride: state.coverage,
      missing: state.missing,
      findings: state.findings,
    })),
    findings: evaluation.findings,
  };
}

async function readLatestVerdicts(
  config: Config,
  env: CliIo['env'],
  local: { readonly stateDir?: string } | undefined,
): Promise<LatestVerdict[]> {
  if (local) {
    // Loaded only here: the table's emulator and the state folder are for --local alone.
    const { withLocalResultsStore, LocalStateBusyError, LocalStateMissingError } = await import(
      '../local/local-state.ts'
    );
    try {
      return await withLocalResultsStore(local.stateDir, (store) =>
        latestVerdictsFrom(store)(linkedControlIds(config)),
      );
    } catch (error) {
      if (error instanceof LocalStateBusyError || error instanceof LocalStateMissingError)
        throw new UsageError(error.message, { cause: error });
      throw error;
    }
  }
  const table = env[ENV.resultsTable];
  if (!table) throw new UsageError(`--with-verdicts: set ${ENV.resultsTable} to the results table name`);
  return withResultsStore(env, table, (store) => latestVerdictsFrom(store)(linkedControlIds(config)));
}

async function readSignOffs(env: CliIo['env']) {
  const bucket = env[ENV.evidenceBucket];
  const table = env[ENV.resultsTable];
  if (!bucket || !table)
    throw new UsageError(`--with-sign-offs: set ${ENV.evidenceBucket} and ${ENV.resultsTable}`);
  const { makeAwsClients } = await import('../wiring/aws-clients.ts');
  const { makeSignOffHistory } = await import('../wiring/make-sign-off-deps.ts');
  const clients = makeAwsClients(env);
  try {
    return await makeSignOffHistory({ clients, bucket, table }).list();
  } finally {
    clients.dynamodb.destroy();
    clients.s3.destroy();
  }
}

/** `soc2-evidence risks`: see RISKS_HELP. */
export const risksCommand = cliCommand({
  help: RISKS_HELP,
  usageErrors: [ConfigError],
  async run(argv, io: CliIo) {
    // Subcommands live in their own files and load only when asked for.
    if (argv[0] === 'check')
      return (await import('./risks-check-command.ts')).risksCheckCommand(argv.slice(1), io);
    if (argv[0] === 'sign-off')
      return (await import('./risks-sign-off-command.ts')).risksSignOffCommand(argv.slice(1), io);
    const { values } = parseArgs({
      args: [...argv],
      options: {
        'as-of': { type: 'string' },
        owner: { type: 'string' },
        json: { type: 'boolean', default: false },
        matrix: { type: 'boolean', default: false },
        'with-verdicts': { type: 'boolean', default: false },
        'with-sign-offs': { type: 'boolean', default: false },
        local: { type: 'boolean', default: false },
        state: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(RISKS_HELP);
      return EXIT.ok;
    }
    const configPath = values.config ?? DEFAULT_CONFIG_PATH;
    const config = await loadConfig(configPath);
    if (!config.riskRegister) {
      throw new UsageError(`${configPath} has no riskRegister (add \`riskRegister: risk-register.yaml\`)`);
    }
    if (values.owner !== undefined && !config.owners.some((owner) => owner.id === values.owner)) {
      throw new UsageError(
        `--owner: unknown owner "${values.owner}"; expected one of ${config.owners.map((o) => o.id).join(', ')}`,
      );
    }
    if (values.matrix) {
      const maps = buildHeatMaps(config.riskRegister);
      io.stdout(
        values.json
          ? JSON.stringify(maps, null, 2)
          : [
              renderHeatMapText(maps.inherent),
              '',
              renderHeatMapText(maps.residual),
              ...(maps.residualNotStated.length > 0
                ? [
                    '',
                    `No residual score recorded (shown at the inherent score): ${maps.residualNotStated.join(', ')}`,
                  ]
                : []),
            ].join('\n'),
      );
      return EXIT.ok;
    }
    const asOf = parseRiskAsOf(values['as-of'], config.timeZone);
    if (values.local && !values['with-verdicts']) throw new UsageError('--local needs --with-verdicts');
    if (!values.local && values.state !== undefined) throw new UsageError('--state needs --local');
    const latestVerdicts = values['with-verdicts']
      ? await readLatestVerdicts(
          config,
          io.env,
          values.local ? (values.state ? { stateDir: values.state } : {}) : undefined,
        )
      : [];
    const signOffs = values['with-sign-offs'] ? await readSignOffs(io.env) : undefined;
    let evaluation = evaluateRegister(config.riskRegister, {
      asOf,
      timeZone: config.timeZone,
      latestVerdicts,
      ...(signOffs ? { signOffs } : {}),
    });
    if (values.owner !== undefined) evaluation = evaluationForOwner(evaluation, values.owner);
    io.stdout(
      values.json ? JSON.stringify(registerJson(evaluation), null, 2) : renderRegister(evaluation, config),
    );
    return EXIT.ok;
  },
});
