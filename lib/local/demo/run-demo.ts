import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DateTime } from 'luxon';
import pg from 'pg';
import { envConnectionResolver } from '../../adapters/postgres/postgres-port.ts';
import { makeSqsJobQueue } from '../../adapters/sqs/sqs-job-queue.ts';
import { type ReportRow, renderRunReports } from '../../cli/format-reports.ts';
import type { Config } from '../../config/schema.ts';
import { writeCheckpoint } from '../../evidence/write-checkpoint.ts';
import { dispatchDueControls } from '../../runs/dispatch-due-controls.ts';
import type { ControlRunReport } from '../../runs/run-control.ts';
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
import { exportAndVerifyDemo } from './export-and-verify-demo.ts';
import { runRiskDemo } from './risk-demo.ts';
import { seedAuditLog } from './seed-audit-log.ts';
import { seedControlDemoData } from './seed-control-data.ts';

export interface DemoOptions {
  readonly config: Config;
  readonly asOf: Date;
  /** A PostgreSQL server to use instead of the embedded one. */
  readonly databaseUrl?: string;
  readonly keep: boolean;
  readonly print: (text: string) => void;
}

export interface DemoResult {
  readonly reports: readonly ControlRunReport[];
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
 * The whole product on one machine: emulators + a real PostgreSQL, a year of seeded audit log,
 * every cadence dispatched through the real dispatcher -> SQS -> worker path, then the results.
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
    try {
      const app = new pg.Client({ connectionString: databases.appUrl });
      await app.connect();
      const gapStart = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - 1, 12, 9, 0));
      let seeded: number;
      try {
        seeded = await seedAuditLog(app, {
          from: new Date(asOf.getTime() - 380 * 86_400_000),
          to: asOf,
          gap: { start: gapStart, end: new Date(gapStart.getTime() + 4.5 * 3_600_000) },
        });
      } finally {
        await app.end();
      }
      const controlData = await seedControlDemoData({
        appDatabaseUrl: databases.appUrl,
        restoredDatabaseUrl: databases.restoredUrl,
        s3: clients.s3,
        bucket: resources.evidenceBucket,
        asOf,
      });
      print(
        `Local services up (PostgreSQL ${services.ownsPostgres ? 'embedded' : 'from DATABASE_URL'}, dynalite, fauxqs); ` +
          `seeded ${seeded.toLocaleString('en-US')} audit_log events with a 4.5 h gap on ${gapStart.toISOString()}.`,
      );
      print('Deliberate failures in the demo data:');
      print('  - audit-log-completeness: the 4.5 h silence above');
      for (const [control, failure] of Object.entries(controlData.deliberateFailures))
        print(`  - ${control}: ${failure}`);

      const env = { DATABASE_URL: databases.appUrl, RESTORE_DATABASE_URL: databases.restoredUrl };
      const deps = makeRunDeps({
        config,
        resources,
        clients,
        resolveConnection: envConnectionResolver(env),
        log: silentLogger,
        awsApis: false,
        // The demo plays the scheduled run at the demo date, so "now" is that date, not today.
        clock: () => new Date(asOf.getTime() + (Date.now() - started)),
      });
      const queue = makeSqsJobQueue(clients.sqs, resources.jobsQueueUrl);
      // Daily last: its schedule-health control checks that the other cadences' runs happened.
      const cadences = [...CADENCES.filter((cadence) => cadence !== 'daily'), 'daily' as const].filter(
        (cadence) => config.controls.some((control) => control.cadence === cadence),
      );
      const reports: ControlRunReport[] = [];
      for (const cadence of cadences) {
        await dispatchDueControls(config, { cadence, asOf }, queue);
        reports.push(...(await drainJobQueue(clients.sqs, resources.jobsQueueUrl, deps)).reports);
      }

      // A second run of the same month must add an attempt, not a second verdict.
      const rerunOf = reports.find((report) => report.job.cadence === 'monthly');
      const rerun = rerunOf
        ? await (async () => {
            await dispatchDueControls(
              config,
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
      const finalReports = reports.map(
        (report) => rerun.find((again) => again.job.controlId === report.job.controlId) ?? report,
      );

      // After the control runs, so risks linked to a failing control are flagged from its verdict.
      const risks = config.riskRegister ? await runRiskDemo({ config, asOf, clients, resources }) : undefined;

      const delivered = await collectDeliveredNotifications(clients, resources.inboxQueueUrl);
      const rows: ReportRow[] = [];
      let hashMismatches = 0;
      for (const report of finalReports) {
        const hashVerified = await evidenceHashMatches(clients, resources.evidenceBucket, report);
        if (!hashVerified) hashMismatches += 1;
        rows.push({ report, delivered: delivered.get(report.job.controlId) ?? 0, hashVerified });
      }
      print('');
      print(`Control tests as of ${asOf.toISOString()} (time zone ${config.timeZone}):`);
      print(renderRunReports(rows));
      if (risks) {
        print('');
        print(risks.text);
        print(`Messages received by the inbox subscription for risk digests: ${delivered.get('-') ?? 0}.`);
      }
      // The system's checkpoint, as the scheduled checkpoint writer would write it after these runs.
      // Each control is in force from the first period the demo ran it for (its addedOn matches the
      // history the demo creates, not the longer history the example config describes).
      await writeCheckpoint(
        makeCheckpointDeps({
          config: demoCheckpointConfig(config, reports, asOf),
          resources,
          clients,
          clock: () => new Date(asOf.getTime() + (Date.now() - started)),
        }),
      );
      // The auditor's view: export the demo year from the bucket, then verify the archive offline.
      // The archive stays in the working directory so the overview can be opened afterwards.
      {
        const exported = await exportAndVerifyDemo({
          clients,
          resources,
          from: `${asOf.getUTCFullYear() - 1}-12-01`,
          to: new Date(asOf.getTime() - 1).toISOString().slice(0, 10),
          outFile: join(process.cwd(), 'soc2-evidence-demo-export.zip'),
          asOf,
          config,
        });
        print('');
        print(exported.summary);
        if (!exported.ok) {
          print(exported.details);
          hashMismatches += 1;
        }
      }
      print('');
      print(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

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
          reports: finalReports,
          notificationsByControl: delivered,
          hashMismatches,
          services: {
            ...services,
            async stop() {
              await dropDatabases();
              await services.stop();
            },
          },
          resources,
        };
      }
      return { reports: finalReports, notificationsByControl: delivered, hashMismatches, resources };
    } finally {
      if (!keepRunning) await dropDatabases();
    }
  } finally {
    if (!keepRunning) await services.stop();
  }
}
