import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import { checkRange, InvalidRangeError } from '../evidence/coverage.ts';
import { EXPORTS_PREFIX } from '../evidence/evidence-layout.ts';
import {
  ArchivedEvidenceError,
  type ArchivedObject,
  type ArchivedSummary,
  DEFAULT_RESTORE_TIER,
  RESTORE_TIER_INFO,
  RESTORE_TIERS,
  RESTORED_COPY_DAYS,
  RestorePendingError,
  type RestoreTier,
  RestoreTierError,
} from '../export/archived-evidence.ts';
import { ArchivedObjectReadError } from '../export/evidence-reader.ts';
import { type ExportResult, exportArchive } from '../export/export-archive.ts';
import { MAX_PRESIGN_SECONDS, type PresignedExport } from '../export/presigned-export.ts';
import type { ReportConfig } from '../export/report-inputs.ts';
import { stateBucketDir } from '../local/state-layout.ts';
import { slugSchema } from '../shared/identifiers.ts';
import { makeProgressBar, type ProgressSink, silentProgress } from '../shared/progress-bar.ts';
import { ENV } from '../shared/runtime-env.ts';
import type { AwsClients } from '../wiring/aws-clients.ts';
import { makeExportDeps, makeLocalExportDeps } from '../wiring/make-export-deps.ts';
import { type CliIo, cliCommand, EXIT, isUsageError, UsageError } from './io.ts';
import { progressSink } from './verify-command.ts';

/**
 * `export`'s own exit codes besides 0 and 2: 3 archived evidence needs restoring (nothing written),
 * 75 (EX_TEMPFAIL, "try again later" in sysexits.h) restores requested or running.
 */
export const EXPORT_EXIT = { ...EXIT, archived: 3, restorePending: 75 } as const;

function tierTable(): string {
  return RESTORE_TIERS.map((tier) => {
    const { cost, wait } = RESTORE_TIER_INFO[tier];
    const deep = wait.DEEP_ARCHIVE ? `DEEP_ARCHIVE ${wait.DEEP_ARCHIVE}` : 'not for DEEP_ARCHIVE';
    return `                         ${tier.padEnd(10)} ${cost}; GLACIER ${wait.GLACIER}, ${deep}`;
  }).join('\n');
}

export const EXPORT_HELP = `Usage: soc2-evidence export --from DATE --to DATE --out FILE.zip [options]

Streams one zip with every artifact, manifest, signature and public key of the periods ending
between --from and --to (inclusive), plus index.html (control x period overview, criteria coverage,
readiness, risk heat map, sign-offs), oscal/assessment-results.json (OSCAL 1.0.4), sign-offs.json,
VERIFY.md and export.json; with a config also report-inputs.json, coverage.json, readiness.json,
risk-heat-map.json and oscal/poam.json (OSCAL POA&M). verify regenerates and compares them all. Reads the bucket named by
--bucket or ${ENV.evidenceBucket}, with the standard AWS environment (AWS_ENDPOINT_URL* for emulators).

Options:
  --from DATE          first day, YYYY-MM-DD (periods whose last day is on or after it)
  --to DATE            last day, YYYY-MM-DD (periods whose last day is on or before it)
  --control ID         only this control
  --out FILE.zip       where to write the archive
  --bucket NAME        evidence bucket (default: $${ENV.evidenceBucket})
  --config PATH        compute criteria coverage, readiness, the risk heat map and oscal/poam.json
                       from this config (default: ${DEFAULT_CONFIG_PATH} when it exists)
  --local              read the evidence of \`run --local\` from its state folder instead of S3
  --state DIR          that state folder (default: .soc2-evidence)
  --presign            also upload the archive to s3://<bucket>/${EXPORTS_PREFIX} and print a download URL
  --expires-in SECS    lifetime of the presigned URL (default 86400, at most ${MAX_PRESIGN_SECONDS}); the link
                       dies earlier when the session credentials that sign it expire first (printed)
  --restore-archived   ask S3 to restore the archived evidence in range (the lifecycle archives it after
                       evidence.archiveAfterDays, 365 by default), then exit ${EXPORT_EXIT.restorePending}; run the same
                       command again later to export
  --restore-tier TIER  retrieval tier for --restore-archived (default ${DEFAULT_RESTORE_TIER}):
${tierTable()}
                       restored copies stay readable ${RESTORED_COPY_DAYS} days
  --json               print the result as JSON; no progress bar
  -h, --help           show this help

Before writing anything, export checks the storage class of every object it needs: archived ones
(GLACIER, DEEP_ARCHIVE) must be restored first. Nothing is written until all of them are readable.

Exit codes: 0 archive written; 2 bad usage or the export failed; ${EXPORT_EXIT.archived} archived evidence in
range and no --restore-archived (nothing written); ${EXPORT_EXIT.restorePending} restores requested or still running:
come back later and run the same command (nothing written).
`;

export interface ExportCommandDeps {
  /** Overrides the S3 client built from the environment (tests). */
  readonly clients?: Pick<AwsClients, 's3'>;
  /** Generated files to add, path -> JSON (e.g. the risk register's `oscal/poam.json`). */
  readonly extraFiles?: Readonly<Record<string, unknown>>;
  readonly clock?: () => Date;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function summary(out: string, archiveBytes: number, result: ExportResult): string {
  const { counts } = result;
  return [
    `Wrote ${out} (${megabytes(archiveBytes)}): ${result.manifests} run(s) of ${result.controls} control(s), ${result.evidenceObjects} evidence object(s) (${megabytes(result.evidenceBytes)}).`,
    `Control-periods: ${counts.pass} passed, ${counts.fail} failed, ${counts.error} could not be checked, ${counts.missing} without evidence.`,
    ...(result.unsealedFolders
      ? [
          `Skipped ${result.unsealedFolders} run folder(s) without a manifest (runs that stopped before sealing).`,
        ]
      : []),
    `Open index.html for the overview; check integrity with: soc2-evidence verify ${out}`,
  ].join('\n');
}

const EXPORT_USAGE_ERRORS = [InvalidRangeError, ConfigError, RestoreTierError];

const describeObject = (object: ArchivedObject) =>
  `${object.key}${object.lastModified ? ` (last modified ${object.lastModified.toISOString().slice(0, 10)})` : ''}`;

function archivedLines(summary: ArchivedSummary): string[] {
  const { unexpected } = summary;
  return [
    `  ${summary.count} archived object(s), ${megabytes(summary.bytes)}, storage class ${summary.storageClasses.join(', ')}`,
    `  oldest: ${describeObject(summary.oldest)}`,
    `  newest: ${describeObject(summary.newest)}`,
    ...(unexpected.length
      ? [
          `  ${unexpected.length} of them are public keys or checkpoints (${unexpected[0]?.key}${unexpected.length > 1 ? ', ...' : ''}): the lifecycle never archives these, so someone changed their storage class; every export and verify needs them readable`,
        ]
      : []),
  ];
}

function tierWaits(summary: ArchivedSummary, tier: RestoreTier): string {
  const { cost, wait } = RESTORE_TIER_INFO[tier];
  return `${tier} tier (${cost}): ${summary.storageClasses.map((c) => `${c} ${wait[c] ?? 'not available'}`).join(', ')}`;
}

/** Exit 3: what is archived, and how to restore it. */
function archivedMessage(summary: ArchivedSummary): string {
  return [
    'export stopped before writing anything: evidence in range is archived and not restored.',
    ...archivedLines(summary),
    ...(summary.inProgress || summary.restored
      ? [`  (${summary.inProgress} already being restored, ${summary.restored} restored)`]
      : []),
    'Ask S3 to restore it, then run the same command again once the restores are done:',
    '  soc2-evidence export <same options> --restore-archived [--restore-tier Bulk|Standard|Expedited]',
    ...RESTORE_TIERS.map((tier) => `  ${tierWaits(summary, tier)}`),
  ].join('\n');
}

/** Exit 75: restores requested or running. */
function pendingMessage(error: RestorePendingError): string {
  const { summary, outcome, tier } = error;
  return [
    'Archived evidence is being restored; nothing was written.',
    ...archivedLines(summary),
    `  ${outcome.requested} restore(s) requested now${tier ? ` (${tierWaits(summary, tier)})` : ''}, ${outcome.inProgress} in progress, ${outcome.ready} ready`,
    `Run the same command again later: it exports once every object is restored (restored copies stay readable ${RESTORED_COPY_DAYS} days).`,
  ].join('\n');
}

/** The archived object behind an export failure, if that is what it was (its restored copy expired, say). */
function archivedCause(error: unknown): ArchivedObjectReadError | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ArchivedObjectReadError) return cause;
  }
  return undefined;
}

/** To the nearest minute: a link signed a few seconds after a session began still shows "1 h". */
function formatDuration(seconds: number): string {
  const total = Math.max(1, Math.round(seconds / 60));
  const hours = Math.floor(total / 60);
  const minutes = total % 60;
  return hours > 0 ? `${hours} h${minutes ? ` ${minutes} min` : ''}` : `${minutes} min`;
}

function presignedMessage(bucket: string, presigned: PresignedExport): string {
  return [
    `Uploaded to s3://${bucket}/${presigned.key}; the link works until ${presigned.expiresAt} (${formatDuration(presigned.validSeconds)}):`,
    presigned.url,
    ...(presigned.limitedBy === 'credentials'
      ? [
          `Shorter than the ${formatDuration(presigned.requestedSeconds)} asked for: the session credentials that signed it expire at ${presigned.credentialsExpireAt}, and a presigned URL stops working with them. Sign with a longer session for a longer link.`,
        ]
      : []),
  ].join('\n');
}

/** `soc2-evidence export`: exit 0 when the archive was written (and uploaded, with --presign). */
export const exportCommand = cliCommand({
  help: EXPORT_HELP,
  usageErrors: EXPORT_USAGE_ERRORS,
  run: runExport,
});

function restoreTier(values: { 'restore-archived': boolean; 'restore-tier'?: string | undefined }) {
  const tier = values['restore-tier'];
  if (tier === undefined) return values['restore-archived'] ? DEFAULT_RESTORE_TIER : undefined;
  if (!values['restore-archived']) throw new UsageError('--restore-tier needs --restore-archived');
  const known = RESTORE_TIERS.find((name) => name.toLowerCase() === tier.toLowerCase());
  if (!known)
    throw new UsageError(`--restore-tier: expected one of ${RESTORE_TIERS.join(', ')}, got "${tier}"`);
  return known;
}

async function runExport(
  argv: readonly string[],
  io: CliIo & { readonly progress?: ProgressSink },
  deps: ExportCommandDeps = {},
): Promise<number> {
  const { values } = parseExportArgs(argv);
  if (values.help) {
    io.stdout(EXPORT_HELP);
    return EXIT.ok;
  }
  const out = values.out;
  try {
    if (!values.from || !values.to) throw new UsageError('--from and --to are required (YYYY-MM-DD)');
    if (!out) throw new UsageError('--out FILE.zip is required');
    const range = checkRange({ from: values.from, to: values.to });
    if (values.control !== undefined && !slugSchema.safeParse(values.control).success) {
      throw new UsageError(`--control: "${values.control}" is not a control id`);
    }
    if (!values.local && values.state !== undefined) throw new UsageError('--state needs --local');
    if (values.local && (values.presign || values.bucket !== undefined))
      throw new UsageError('--local reads the state folder: --bucket and --presign do not apply');
    const localDir = values.local ? stateBucketDir(values.state) : undefined;
    const bucket = localDir ? `file://${localDir}` : (values.bucket ?? io.env[ENV.evidenceBucket]);
    if (!bucket) throw new UsageError(`no evidence bucket: pass --bucket or set ${ENV.evidenceBucket}`);
    if (localDir && !existsSync(localDir))
      throw new UsageError(`no local evidence in ${localDir}: run \`soc2-evidence run --local\` first`);
    const expiresIn = values['expires-in'] === undefined ? undefined : Number(values['expires-in']);
    if (
      expiresIn !== undefined &&
      (!Number.isInteger(expiresIn) || expiresIn < 60 || expiresIn > MAX_PRESIGN_SECONDS)
    ) {
      throw new UsageError(`--expires-in: expected whole seconds between 60 and ${MAX_PRESIGN_SECONDS}`);
    }
    const tier = restoreTier(values);
    const config = await reportConfig(values.config);
    const extraFiles = { ...deps.extraFiles };
    const bucketAccess = localDir
      ? makeLocalExportDeps(localDir)
      : makeExportDeps(bucket, io.env, deps.clients);
    const sink = values.json ? undefined : progressSink(io);
    const progress = sink ? makeProgressBar(sink, 'export', 'objects') : silentProgress;
    // The archive grows beside its name and takes it only when complete: a failure never leaves half
    // a zip, nor removes an earlier archive of the same name.
    const partial = `${out}.partial`;
    let result: ExportResult;
    try {
      result = await exportArchive({
        reader: bucketAccess.reader,
        archive: bucketAccess.archive,
        ...(tier ? { restore: { tier } } : {}),
        bucket,
        range,
        ...(values.control ? { controlId: values.control } : {}),
        output: createWriteStream(partial),
        extraFiles,
        ...(config ? { config } : {}),
        ...(deps.clock ? { clock: deps.clock } : {}),
        onProgress: (p) => progress.update(p.objects, p.totalObjects, p.bytes),
      });
      await rename(partial, out);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    } finally {
      progress.finish();
    }
    const archiveBytes = (await stat(out)).size;
    let presigned: PresignedExport | undefined;
    if (values.presign) {
      presigned = await bucketAccess.publish(out, expiresIn);
    }
    if (values.json) {
      io.stdout(
        `${JSON.stringify({ out, archiveBytes, ...result, ...(presigned ? { presigned } : {}) }, null, 2)}\n`,
      );
    } else {
      io.stdout(summary(out, archiveBytes, result));
      if (presigned) io.stdout(presignedMessage(bucket, presigned));
    }
    return EXIT.ok;
  } catch (error) {
    if (isUsageError(error, EXPORT_USAGE_ERRORS)) throw error;
    if (error instanceof ArchivedEvidenceError) {
      if (values.json)
        io.stdout(`${JSON.stringify({ status: 'archived', archived: error.summary }, null, 2)}\n`);
      io.stderr(archivedMessage(error.summary));
      return EXPORT_EXIT.archived;
    }
    if (error instanceof RestorePendingError) {
      if (values.json) {
        io.stdout(
          `${JSON.stringify({ status: 'restore-pending', tier: error.tier ?? null, ...error.outcome, archived: error.summary }, null, 2)}\n`,
        );
      }
      io.stderr(pendingMessage(error));
      return EXPORT_EXIT.restorePending;
    }
    const archived = archivedCause(error);
    if (archived) {
      io.stderr(
        `export failed, nothing was kept: ${archived.message}. It was readable when the export started (its restored copy may have expired); run again with --restore-archived.`,
      );
      return EXPORT_EXIT.archived;
    }
    io.stderr(
      `export failed: ${(error as Error).message}${(error as Error).cause ? ` (${String((error as Error).cause)})` : ''}`,
    );
    return EXIT.usage;
  }
}

/** The config the audit views (and the POA&M) are computed from; none when no config exists. */
async function reportConfig(configPath: string | undefined): Promise<ReportConfig | undefined> {
  const path = configPath ?? DEFAULT_CONFIG_PATH;
  if (configPath === undefined && !existsSync(path)) return undefined;
  return loadConfig(path);
}

function parseExportArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      control: { type: 'string' },
      out: { type: 'string' },
      bucket: { type: 'string' },
      config: { type: 'string' },
      presign: { type: 'boolean', default: false },
      'restore-archived': { type: 'boolean', default: false },
      'restore-tier': { type: 'string' },
      local: { type: 'boolean', default: false },
      state: { type: 'string' },
      'expires-in': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
