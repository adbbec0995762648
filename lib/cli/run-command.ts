import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { dueJobs, UnknownControlError } from '../runs/dispatch-due-controls.ts';
import { processJobBatch } from '../runs/process-job-batch.ts';
import type { ControlRunReport, RunControlDeps } from '../runs/run-control.ts';
import { jsonLogger, silentLogger } from '../shared/logger.ts';
import { CADENCES, type Cadence } from '../shared/period.ts';
import { loadRuntimeResources, RuntimeEnvError } from '../shared/runtime-env.ts';
import { makeAwsClients } from '../wiring/aws-clients.ts';
import { makeRunDeps } from '../wiring/make-run-deps.ts';
import { renderRunReports } from './format-reports.ts';
import { type CliIo, cliCommand, EXIT, parseAsOf, UsageError } from './io.ts';

export const RUN_HELP = `Usage: soc2-evidence run [options]

Runs the due control tests, as the scheduled Lambdas do, against whatever the standard AWS
environment and AWS_ENDPOINT_URL* point at. Stores evidence (S3), verdicts (DynamoDB) and
notifies owners (SNS) of failures.

Options:
  --cadence C     ${CADENCES.join('|')} (repeatable; default: every cadence in the config)
  --as-of DATE    evaluate the last complete period as of this date/instant (default: now)
  --control ID    only this control (repeatable)
  --config PATH   configuration file (default: ${DEFAULT_CONFIG_PATH})
  --json          print the results as JSON
  -h, --help      show this help

Environment: SOC2_RESULTS_TABLE, SOC2_EVIDENCE_BUCKET, SOC2_NOTIFICATIONS_TOPIC_ARN (the stack's
outputs), AWS_REGION and credentials; each target's connection env var (e.g. DATABASE_URL).

Exit codes: 0 every control passed, 1 a control failed or errored, 2 bad usage or configuration.`;

export function parseCadences(values: readonly string[] | undefined, config: Config): Cadence[] {
  if (!values || values.length === 0)
    return CADENCES.filter((c) => config.controls.some((control) => control.cadence === c));
  return values.map((value) => {
    if (!(CADENCES as readonly string[]).includes(value)) {
      throw new UsageError(`--cadence: unknown cadence "${value}"; expected one of ${CADENCES.join(', ')}`);
    }
    return value as Cadence;
  });
}

/** Runs every due job of the given cadences through the worker code, in-process. */
export async function runCadences(
  deps: RunControlDeps,
  request: { cadences: readonly Cadence[]; asOf: Date; controlIds?: readonly string[] },
): Promise<{ reports: ControlRunReport[]; failedJobs: number }> {
  const reports: ControlRunReport[] = [];
  let failedJobs = 0;
  for (const cadence of request.cadences) {
    const jobs = dueJobs(deps.config, { cadence, asOf: request.asOf, controlIds: request.controlIds });
    const messages = jobs.map((job) => ({
      messageId: `${job.controlId}:${job.periodKey}`,
      body: JSON.stringify(job),
    }));
    const outcome = await processJobBatch(messages, deps);
    reports.push(...outcome.reports);
    failedJobs += outcome.batchItemFailures.length;
  }
  return { reports, failedJobs };
}

const parseRunArgs = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    options: {
      cadence: { type: 'string', multiple: true },
      'as-of': { type: 'string' },
      control: { type: 'string', multiple: true },
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });

/** `soc2-evidence run`: see RUN_HELP. */
export const runCommand = cliCommand({
  help: RUN_HELP,
  usageErrors: [ConfigError, UnknownControlError, RuntimeEnvError],
  async run(argv, io: CliIo) {
    const parsed = parseRunArgs(argv);
    if (parsed.values.help) {
      io.stdout(RUN_HELP);
      return EXIT.ok;
    }
    const config = await loadConfig(parsed.values.config ?? DEFAULT_CONFIG_PATH);
    const cadences = parseCadences(parsed.values.cadence, config);
    const asOf = parseAsOf(parsed.values['as-of']);
    const resources = loadRuntimeResources(io.env, [
      'resultsTable',
      'evidenceBucket',
      'notificationsTopicArn',
    ]);
    const clients = makeAwsClients(io.env);
    const deps = makeRunDeps({
      config,
      resources,
      clients,
      env: io.env,
      log: parsed.values.json ? silentLogger : jsonLogger(io.stderr),
    });
    const { reports, failedJobs } = await runCadences(deps, {
      cadences,
      asOf,
      controlIds: parsed.values.control,
    });
    if (parsed.values.json) {
      io.stdout(
        JSON.stringify({ asOf: asOf.toISOString(), failedJobs, results: reports.map(toJson) }, null, 2),
      );
    } else {
      io.stdout(
        reports.length > 0
          ? renderRunReports(reports.map((report) => ({ report })))
          : 'No controls were due.',
      );
      if (failedJobs > 0) io.stderr(`${failedJobs} job(s) could not be recorded; see the log above.`);
    }
    const allPassed = failedJobs === 0 && reports.every((report) => report.outcome.verdict === 'pass');
    return allPassed ? EXIT.ok : EXIT.controlFailed;
  },
});

export function toJson(report: ControlRunReport): Record<string, unknown> {
  return {
    controlId: report.job.controlId,
    cadence: report.job.cadence,
    periodKey: report.job.periodKey,
    verdict: report.outcome.verdict,
    reasons: report.outcome.reasons,
    warnings: report.outcome.warnings,
    figures: report.outcome.figures,
    attempts: report.verdict.attempts,
    evidenceKey: report.verdict.evidenceKey,
    evidenceSha256: report.verdict.evidenceSha256,
    notifications: report.notificationIds.length,
  };
}
