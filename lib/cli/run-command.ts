import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { DEFAULT_BACKFILL_CAP, InvalidBackfillError } from '../runs/backfill.ts';
import { dueJobs, UnknownControlError } from '../runs/dispatch-due-controls.ts';
import type { ControlRunReport, RunControlDeps } from '../runs/run-control.ts';
import { type JobFailure, type JobsOutcome, runJobs } from '../runs/run-jobs.ts';
import { jsonLogger, silentLogger } from '../shared/logger.ts';
import { CADENCES, type Cadence } from '../shared/period.ts';
import { makeProgressBar, silentProgress } from '../shared/progress-bar.ts';
import { loadRuntimeResources, RuntimeEnvError } from '../shared/runtime-env.ts';
import { makeAwsClients } from '../wiring/aws-clients.ts';
import { makeRunDeps } from '../wiring/make-run-deps.ts';
import { renderRunReports } from './format-reports.ts';
import { type CliIo, cliCommand, EXIT, parseAsOf, UsageError } from './io.ts';
import { renderBackfillSummary } from './run-summary.ts';
import { progressSink } from './verify-command.ts';

export const RUN_HELP = `Usage: soc2-evidence run [options]

Runs the due control tests, as the scheduled Lambdas do, against whatever the standard AWS
environment and AWS_ENDPOINT_URL* point at. Stores evidence (S3), verdicts (DynamoDB) and
notifies owners (SNS) of failures. With --local, the same code keeps everything in a folder
instead (no AWS account, no emulator to start): history, evidence, signing key, notifications.

Options:
  --cadence C     ${CADENCES.join('|')} (repeatable; default: every cadence in the config)
  --as-of DATE    evaluate the last complete period as of this date/instant (default: now)
  --control ID    only this control (repeatable)
  --config PATH   configuration file (default: ${DEFAULT_CONFIG_PATH})
  --local         keep results, evidence and notifications in the state folder (docs/local.md)
  --state DIR     the state folder of --local (default: .soc2-evidence)
  --backfill FROM with --local: run every period that ended since FROM (YYYY-MM-DD), each as of
                  its scheduled time, at most ${DEFAULT_BACKFILL_CAP} periods per control (the most recent)
  --json          print the results as JSON
  -h, --help      show this help

Environment: each target's connection env var (e.g. DATABASE_URL). Without --local also
SOC2_RESULTS_TABLE, SOC2_EVIDENCE_BUCKET, SOC2_NOTIFICATIONS_TOPIC_ARN (the stack's outputs),
AWS_REGION and credentials.

Exit codes: 0 every control passed, 1 a control failed or errored or a job could not be recorded,
2 bad usage or configuration.`;

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
): Promise<JobsOutcome> {
  const jobs = request.cadences.flatMap((cadence) =>
    dueJobs(deps.config, { cadence, asOf: request.asOf, controlIds: request.controlIds }),
  );
  return runJobs(deps, jobs);
}

const parseRunArgs = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    options: {
      cadence: { type: 'string', multiple: true },
      'as-of': { type: 'string' },
      control: { type: 'string', multiple: true },
      config: { type: 'string' },
      local: { type: 'boolean', default: false },
      state: { type: 'string' },
      backfill: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });

/** A failed job as `--json` prints it: which control and period, and why nothing was recorded. */
export function failureJson(failure: JobFailure) {
  return {
    control: failure.job.controlId,
    cadence: failure.job.cadence,
    period: failure.job.periodKey,
    asOf: failure.job.asOf,
    cause: failure.cause,
  };
}

/** Failures first: a run that recorded nothing for some jobs must never read as a quiet success. */
export function renderFailures(failures: readonly JobFailure[], limit = 20): string[] {
  if (failures.length === 0) return [];
  return [
    `${failures.length} job(s) FAILED and recorded nothing (no verdict, no evidence):`,
    ...failures
      .slice(0, limit)
      .map(({ job, cause }) => `  - ${job.controlId} ${job.cadence} ${job.periodKey}: ${cause}`),
    ...(failures.length > limit ? [`  … and ${failures.length - limit} more (--json lists every one)`] : []),
    '',
  ];
}

/** `soc2-evidence run`: see RUN_HELP. */
export const runCommand = cliCommand({
  help: RUN_HELP,
  usageErrors: [ConfigError, UnknownControlError, RuntimeEnvError, InvalidBackfillError],
  async run(argv, io: CliIo) {
    const started = Date.now();
    const parsed = parseRunArgs(argv);
    const { values } = parsed;
    if (values.help) {
      io.stdout(RUN_HELP);
      return EXIT.ok;
    }
    if (!values.local && (values.backfill !== undefined || values.state !== undefined)) {
      throw new UsageError('--backfill and --state need --local');
    }
    const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
    const cadences = parseCadences(values.cadence, config);
    const asOf = parseAsOf(values['as-of']);
    const backfillFrom =
      values.backfill === undefined ? undefined : parseBackfillFrom(values.backfill, config.timeZone);
    const log = values.json ? silentLogger : jsonLogger(io.stderr);

    let outcome: JobsOutcome;
    let local: Awaited<ReturnType<typeof import('../local/local-run.ts').runLocal>> | undefined;
    if (values.local) {
      // Loaded only here: the AWS path never loads the emulator or the local state code.
      const { runLocal } = await import('../local/local-run.ts');
      const { LocalStateBusyError } = await import('../local/local-state.ts');
      const sink = values.json ? undefined : progressSink(io);
      try {
        local = await runLocal({
          config,
          ...(values.state ? { stateDir: values.state } : {}),
          cadences,
          asOf,
          ...(values.control ? { controlIds: values.control } : {}),
          ...(backfillFrom ? { backfillFrom } : {}),
          env: io.env,
          log,
          progress:
            sink && backfillFrom
              ? makeProgressBar(sink, 'backfill', 'jobs', Date.now, false)
              : silentProgress,
        });
      } catch (error) {
        if (error instanceof LocalStateBusyError) throw new UsageError(error.message, { cause: error });
        throw error;
      }
      outcome = local;
    } else {
      const resources = loadRuntimeResources(io.env, [
        'resultsTable',
        'evidenceBucket',
        'notificationsTopicArn',
      ]);
      const deps = makeRunDeps({ config, resources, clients: makeAwsClients(io.env), env: io.env, log });
      outcome = await runCadences(deps, { cadences, asOf, controlIds: values.control });
    }
    const { reports, failures } = outcome;
    const seconds = (Date.now() - started) / 1000;
    if (values.json) {
      io.stdout(
        JSON.stringify(
          {
            asOf: asOf.toISOString(),
            failedJobs: failures.map(failureJson),
            results: reports.map(toJson),
            ...(local
              ? {
                  local: {
                    stateDir: local.stateDir,
                    evidenceFolder: local.bucketDir,
                    notificationsFile: local.notificationsFile,
                    jobs: local.jobs,
                    checkpoints: local.checkpoints,
                    capped: local.capped,
                    seconds,
                  },
                }
              : {}),
          },
          null,
          2,
        ),
      );
    } else {
      const lines = renderFailures(failures);
      if (backfillFrom) lines.push(renderBackfillSummary(reports));
      else if (reports.length > 0) lines.push(renderRunReports(reports.map((report) => ({ report }))));
      else if (failures.length === 0) lines.push('No controls were due.');
      if (local) {
        lines.push(
          '',
          ...local.capped.map(
            (cap) =>
              `${cap.controlId}: only the most recent ${DEFAULT_BACKFILL_CAP} periods were run (${cap.skippedPeriods} older ones skipped).`,
          ),
          `${local.jobs} job(s) in ${seconds.toFixed(1)} s; state in ${local.stateDir} (${local.checkpoints} checkpoint(s) written).`,
          `Check the evidence: soc2-evidence verify ${local.bucketDir}`,
          `Owners' notifications: ${local.notificationsFile}`,
        );
      }
      io.stdout(lines.join('\n'));
    }
    const allPassed = failures.length === 0 && reports.every((report) => report.outcome.verdict === 'pass');
    return allPassed ? EXIT.ok : EXIT.controlFailed;
  },
});

/** The first instant of that day in the config's time zone, where its periods are cut. */
function parseBackfillFrom(value: string, timeZone: string): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? DateTime.fromISO(value, { zone: timeZone }) : undefined;
  if (!day?.isValid) throw new UsageError(`--backfill: expected a date (YYYY-MM-DD), got "${value}"`);
  return day.toJSDate();
}

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
