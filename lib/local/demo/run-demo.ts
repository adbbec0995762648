import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DateTime } from 'luxon';
import pg from 'pg';
import { envConnectionResolver } from '../../adapters/postgres/postgres-port.ts';
import { makeSqsJobQueue } from '../../adapters/sqs/sqs-job-queue.ts';
import { type ReportRow, renderRunReports } from '../../cli/format-reports.ts';
import { renderTable } from '../../cli/table.ts';
import type { Config } from '../../config/schema.ts';
import { writeCheckpoint } from '../../evidence/write-checkpoint.ts';
import { backfillJobs } from '../../runs/backfill.ts';
import type { ControlJob } from '../../runs/control-job.ts';
import { dispatchDueControls } from '../../runs/dispatch-due-controls.ts';
import type { ControlRunReport, RunControlDeps } from '../../runs/run-control.ts';
import { type JobFailure, type JobsOutcome, runJobs } from '../../runs/run-jobs.ts';
import { sha256Hex } from '../../shared/canonical-json.ts';
import { silentLogger } from '../../shared/logger.ts';
import { CADENCES, periodFromKey } from '../../shared/period.ts';
import { type AwsClients, makeAwsClients } from '../../wiring/aws-clients.ts';
import { makeCheckpointDeps } from '../../wiring/make-checkpoint-deps.ts';
import { makeRunDeps } from '../../wiring/make-run-deps.ts';
import { renderKeptServicesBlock } from '../kept-services-env.ts';
import { drainJobQueue } from '../local-job-runner.ts';
import { type LocalServices, startLocalServices } from '../local-services.ts';
import { type LocalResources, provisionLocalResources } from '../provision.ts';
import { registerCleanup } from '../stop-signals.ts';
import { createDemoDatabases } from './demo-databases.ts';
import { type DemoYear, demoYear } from './demo-year.ts';
import { type DemoExportResult, exportAndVerifyDemo } from './export-and-verify-demo.ts';
import { runRiskDemo } from './risk-demo.ts';
import { seedAuditLog } from './seed-audit-log.ts';
import { connectDemoSql, seedControlDemoData, seedUsersAsOf } from './seed-control-data.ts';
import { signOffControlReview, type WorldEvent, yearEvents } from './year-events.ts';

export interface DemoOptions {
  readonly config: Config;
  readonly asOf: Date;
  /** A PostgreSQL server to use instead of the embedded one. */
  readonly databaseUrl?: string;
  readonly keep: boolean;
  readonly print: (text: string) => void;
  /** Where the export archive is written. @default the working directory */
  readonly outDir?: string;
}

export interface DemoResult {
  /** The newest period of each control, after the re-run. */
  readonly reports: readonly ControlRunReport[];
  /** Every control run of the year, in the order they ran (the re-run last). */
  readonly runs: readonly ControlRunReport[];
  readonly year: DemoYear;
  readonly export: DemoExportResult;
  readonly elapsedMs: number;
  readonly notificationsByControl: ReadonlyMap<string, number>;
  readonly hashMismatches: number;
  readonly services?: LocalServices;
  readonly resources: LocalResources;
}

/** Reads every message the inbox subscription received; returns counts per `control` attribute. */
async function collectDeliveredNotifications(
  clients: AwsClients,
  queueUrl: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return counts;
    for (const message of Messages) {
      const envelope = JSON.parse(message.Body ?? '{}') as {
        MessageAttributes?: Record<string, { Value?: string }>;
      };
      const control = envelope.MessageAttributes?.control?.Value ?? '-';
      counts.set(control, (counts.get(control) ?? 0) + 1);
    }
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

async function evidenceHashMatches(
  clients: AwsClients,
  bucket: string,
  report: ControlRunReport,
): Promise<boolean> {
  const object = await clients.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: report.verdict.evidenceKey }),
  );
  const bytes = await object.Body?.transformToByteArray();
  return bytes !== undefined && sha256Hex(bytes) === report.verdict.evidenceSha256;
}

/**
 * The config as the demo's checkpoint states it: each control's `addedOn` is the first day of the
 * earliest period the demo recorded for it, or the demo date for a control it did not run, so the
 * periods `verify` expects are exactly those the demo's history covers.
 */
export function demoCheckpointConfig(
  config: Config,
  reports: readonly Pick<ControlRunReport, 'job'>[],
  asOf: Date,
): Config {
  const firstDay = new Map<string, string>();
  for (const { job } of reports) {
    const start = periodFromKey(job.cadence, job.periodKey, config.timeZone).start;
    const day = DateTime.fromJSDate(start, { zone: config.timeZone }).toISODate() ?? '';
    const known = firstDay.get(job.controlId);
    if (!known || day < known) firstDay.set(job.controlId, day);
  }
  const demoDay = DateTime.fromJSDate(asOf, { zone: config.timeZone }).toISODate() ?? '';
  return {
    ...config,
    controls: config.controls.map((control) => ({
      ...control,
      addedOn: firstDay.get(control.id) ?? demoDay,
    })),
  };
}

/**
 * Runs the backfill's jobs in their order through `runJobs` (the code `run --local --backfill`
 * uses), stopping before the first job scheduled after each world event to apply it: the users
 * table rewritten to its state at a quarterly review, a reviewer's sign-off days after it.
 */
async function replayYear(
  deps: RunControlDeps,
  jobs: readonly ControlJob[],
  events: readonly WorldEvent[],
  progress: (done: number) => void,
): Promise<JobsOutcome> {
  const pending = [...events].sort((a, b) => a.at - b.at);
  const reports: ControlRunReport[] = [];
  const failures: JobFailure[] = [];
  let start = 0;
  while (start < jobs.length || pending.length > 0) {
    const next = pending[0];
    let end = start;
    while (end < jobs.length && (!next || Date.parse(jobs[end]?.asOf ?? '') < next.at)) end += 1;
    if (end > start) {
      const done = start;
      const outcome = await runJobs(deps, jobs.slice(start, end), (count) => progress(done + count));
      reports.push(...outcome.reports);
      failures.push(...outcome.failures);
    }
    start = end;
    if (next) {
      pending.shift();
      await next.apply();
    }
  }
  return { reports, failures };
}

/** One line per control: its periods, and the keys of those that did not pass. */
function yearSummary(config: Config, reports: readonly ControlRunReport[]): string {
  const rows = config.controls.map((control) => {
    const verdicts = new Map<string, string>();
    for (const report of reports)
      if (report.job.controlId === control.id) verdicts.set(report.job.periodKey, report.verdict.verdict);
    const keysOf = (verdict: string) => [...verdicts].filter(([, v]) => v === verdict).map(([key]) => key);
    const failed = keysOf('fail');
    const errored = keysOf('error');
    const list = (keys: string[]) =>
      keys.length > 6 ? `${keys.slice(0, 6).join(' ')} +${keys.length - 6}` : keys.join(' ');
    return [
      control.id,
      control.cadence,
      String(verdicts.size),
      String(keysOf('pass').length),
      failed.length > 0 ? `${failed.length}: ${list(failed)}` : '0',
      errored.length > 0 ? `${errored.length}: ${list(errored)}` : '0',
    ];
  });
  return renderTable(['CONTROL', 'CADENCE', 'PERIODS', 'PASSED', 'FAILED', 'ERRORED'], rows, 60);
}

/**
 * The whole product on one machine: emulators + a real PostgreSQL, a year of seeded data with three
 * incidents, every period of the year run by the backfill code of `run --local --backfill`, the
 * schedules that fire at the demo date dispatched through the real dispatcher -> SQS -> worker path,
 * then the risk register, the checkpoint, and the auditor's export verified offline.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const { print, config, asOf } = options;
  const services = await startLocalServices({ databaseUrl: options.databaseUrl, tls: true });
  let keepRunning = false;
  try {
    const clients = makeAwsClients(services.awsEnv);
    const resources = await provisionLocalResources(clients);
    const serverUrl = services.postgresUrl;
    if (!serverUrl) throw new Error('no PostgreSQL server for the demo');
    const databases = await createDemoDatabases(serverUrl);
    // On a server of the user's (DATABASE_URL) the demo's databases are removed however it ends;
    // with the embedded server they go with its data directory.
    const dropDatabases = async () => {
      unregisterDrop();
      if (services.ownsPostgres) return;
      await databases.drop();
      print(`Removed the demo's databases ${databases.names.join(' and ')} from the DATABASE_URL server.`);
    };
    const unregisterDrop = services.ownsPostgres
      ? () => {}
      : registerCleanup("drop the demo's databases", dropDatabases);
    if (!services.ownsPostgres) {
      print(
        `Created the demo's own databases ${databases.names.join(' and ')} on the DATABASE_URL server ` +
          '(seeded demo data, not yours; removed on exit). To test your own database: soc2-evidence run --local.',
      );
    }
    const fixtures = connectDemoSql();
    try {
      const year = demoYear(asOf, config.timeZone);
      const app = new pg.Client({ connectionString: databases.appUrl });
      await app.connect();
      let seeded: number;
      try {
        seeded = await seedAuditLog(app, {
          from: new Date(asOf.getTime() - 380 * 86_400_000),
          to: asOf,
          gap: year.auditLogGap,
        });
      } finally {
        await app.end();
      }
      const controlData = await seedControlDemoData({
        sql: fixtures.sql,
        appDatabaseUrl: databases.appUrl,
        restoredDatabaseUrl: databases.restoredUrl,
        s3: clients.s3,
        bucket: resources.evidenceBucket,
        year,
      });
      print(
        `Local services up (PostgreSQL ${services.ownsPostgres ? 'embedded' : 'from DATABASE_URL'}, dynalite, fauxqs); ` +
          `seeded a year of data from ${year.months[0]} to ${year.months[year.months.length - 1]}: ` +
          `${seeded.toLocaleString('en-US')} audit_log events, ${year.scans.length} Trivy reports, ${year.restores.length} staging restores.`,
      );
      print('Incidents in the year (the control tests must catch each, and pass once it is remediated):');
      for (const [control, incident] of Object.entries(controlData.incidents))
        print(`  - ${control}: ${incident}`);

      const plan = backfillJobs(config, { from: year.from, asOf });
      // Each control is in force from the first period of the year (the checkpoint says so too),
      // so schedule health owes, and verify expects, exactly the periods the demo runs.
      const inForce = demoCheckpointConfig(
        config,
        plan.jobs.map((job) => ({ job })),
        asOf,
      );
      const env = { DATABASE_URL: databases.appUrl, RESTORE_DATABASE_URL: databases.restoredUrl };
      const clock = () => new Date(asOf.getTime() + (Date.now() - started));
      const deps = makeRunDeps({
        config: inForce,
        resources,
        clients,
        resolveConnection: envConnectionResolver(env),
        log: silentLogger,
        awsApis: false,
        // The demo plays the scheduled runs at the demo date, so "now" is that date, not today.
        clock,
      });

      // The past of the year: what the schedules ran before the demo date.
      const past = plan.jobs.filter((job) => Date.parse(job.asOf) < asOf.getTime());
      const events = yearEvents(inForce, past, {
        asOf,
        usersAt: (at) => seedUsersAsOf(fixtures.sql, databases.appUrl, at, asOf),
        signOff: (control, periodKey, at) =>
          signOffControlReview({ control, periodKey, at, config: inForce, clients, resources }),
      });
      const replayStarted = Date.now();
      const backfill = await replayYear(deps, past, events.list, () => {});
      if (backfill.failures.length > 0) {
        print(
          `${backfill.failures.length} job(s) of the year could not be recorded; first: ${backfill.failures[0]?.cause ?? ''}`,
        );
      }
      // The world at the demo date, then the schedules that fire now: dispatcher -> SQS -> worker.
      await seedUsersAsOf(fixtures.sql, databases.appUrl, asOf, asOf);
      const queue = makeSqsJobQueue(clients.sqs, resources.jobsQueueUrl);
      // Daily last: its schedule-health control checks that the other cadences' runs happened.
      const firing = [...CADENCES.filter((cadence) => cadence !== 'daily'), 'daily' as const].filter(
        (cadence) =>
          plan.jobs.some((job) => job.cadence === cadence && Date.parse(job.asOf) >= asOf.getTime()),
      );
      const scheduled: ControlRunReport[] = [];
      for (const cadence of firing) {
        await dispatchDueControls(inForce, { cadence, asOf }, queue);
        scheduled.push(...(await drainJobQueue(clients.sqs, resources.jobsQueueUrl, deps)).reports);
      }
      const reports = [...backfill.reports, ...scheduled];
      print('');
      print(
        `Ran ${reports.length} control runs for the year (${backfill.reports.length} backfilled by the ` +
          `\`run --local --backfill\` code, ${scheduled.length} dispatched through SQS at the demo date, ` +
          `${events.signOffs} review sign-off(s)) in ${((Date.now() - replayStarted) / 1000).toFixed(1)} s:`,
      );
      print(yearSummary(inForce, reports));

      // A second run of the same month must add an attempt, not a second verdict.
      const rerunOf = scheduled.find((report) => report.job.cadence === 'monthly');
      const rerun = rerunOf
        ? await (async () => {
            await dispatchDueControls(
              inForce,
              {
                cadence: 'monthly',
                asOf: new Date(asOf.getTime() + 60_000),
                controlIds: [rerunOf.job.controlId],
              },
              queue,
            );
            return (await drainJobQueue(clients.sqs, resources.jobsQueueUrl, deps)).reports;
          })()
        : [];
      // The newest period of each control, as it stands after the re-run.
      const latest = new Map<string, ControlRunReport>();
      for (const report of [...reports, ...rerun]) latest.set(report.job.controlId, report);
      const finalReports = inForce.controls.flatMap((control) => {
        const report = latest.get(control.id);
        return report ? [report] : [];
      });

      // After the control runs, so risks linked to a failing control are flagged from its verdict.
      const risks = config.riskRegister ? await runRiskDemo({ config, asOf, clients, resources }) : undefined;

      const delivered = await collectDeliveredNotifications(clients, resources.inboxQueueUrl);
      const rows: ReportRow[] = [];
      let hashMismatches = backfill.failures.length;
      for (const report of finalReports) {
        const hashVerified = await evidenceHashMatches(clients, resources.evidenceBucket, report);
        if (!hashVerified) hashMismatches += 1;
        rows.push({ report, delivered: delivered.get(report.job.controlId) ?? 0, hashVerified });
      }
      print('');
      print(`The newest period of each control, as of ${asOf.toISOString()} (time zone ${config.timeZone}):`);
      print(renderRunReports(rows));
      if (risks) {
        print('');
        print(risks.text);
        print(`Messages received by the inbox subscription for risk digests: ${delivered.get('-') ?? 0}.`);
      }
      // The system's checkpoint, as the scheduled checkpoint writer would write it after these runs.
      await writeCheckpoint(makeCheckpointDeps({ config: inForce, resources, clients, clock }));
      // The auditor's view: export the demo year from the bucket, then verify the archive offline.
      // The archive stays in the working directory so the overview can be opened afterwards.
      const exported = await exportAndVerifyDemo({
        clients,
        resources,
        from: DateTime.fromJSDate(year.from, { zone: config.timeZone }).toISODate() ?? '',
        to: DateTime.fromJSDate(new Date(asOf.getTime() - 1), { zone: config.timeZone }).toISODate() ?? '',
        outFile: join(options.outDir ?? process.cwd(), 'soc2-evidence-demo-export.zip'),
        asOf,
        config: inForce,
      });
      print('');
      print(exported.summary);
      if (!exported.ok) {
        print(exported.details);
        hashMismatches += 1;
      }
      const runs = reports.length + rerun.length;
      const elapsedMs = Date.now() - started;
      print('');
      print(
        `Done in ${(elapsedMs / 1000).toFixed(1)} s: ${runs} control runs over ${year.months.length} months.`,
      );

      const result = {
        reports: finalReports,
        runs: [...reports, ...rerun],
        year,
        export: exported,
        elapsedMs,
        notificationsByControl: delivered,
        hashMismatches,
        resources,
      };
      if (options.keep) {
        keepRunning = true;
        print('');
        print('Services left running (--keep).');
        print(
          renderKeptServicesBlock({
            awsEnv: services.awsEnv,
            resources,
            databases: { DATABASE_URL: databases.appUrl, RESTORE_DATABASE_URL: databases.restoredUrl },
          }),
        );
        print(
          `# e.g.  aws dynamodb query --table-name ${resources.resultsTable} --key-condition-expression "pk = :pk" --expression-attribute-values '{":pk":{"S":"CONTROL#${finalReports[0]?.job.controlId ?? ''}"}}'`,
        );
        print('Press Ctrl+C (or send SIGTERM) to stop them and remove what the demo created.');
        return {
          ...result,
          services: {
            ...services,
            async stop() {
              await dropDatabases();
              await services.stop();
            },
          },
        };
      }
      return result;
    } finally {
      await fixtures.close();
      if (!keepRunning) await dropDatabases();
    }
  } finally {
    if (!keepRunning) await services.stop();
  }
}
