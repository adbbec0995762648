import { createWriteStream, existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import { checkRange, InvalidRangeError } from '../evidence/coverage.ts';
import { EXPORTS_PREFIX } from '../evidence/evidence-layout.ts';
import { type ExportResult, exportArchive } from '../export/export-archive.ts';
import type { PresignedExport } from '../export/presigned-export.ts';
import { stateBucketDir } from '../local/state-layout.ts';
import { poamForConfig } from '../risks/poam-for-config.ts';
import { slugSchema } from '../shared/identifiers.ts';
import { makeProgressBar, type ProgressSink, silentProgress } from '../shared/progress-bar.ts';
import { ENV } from '../shared/runtime-env.ts';
import type { AwsClients } from '../wiring/aws-clients.ts';
import { makeExportDeps, makeLocalExportDeps } from '../wiring/make-export-deps.ts';
import { type CliIo, cliCommand, EXIT, isUsageError, UsageError } from './io.ts';
import { progressSink } from './verify-command.ts';

export const EXPORT_HELP = `Usage: soc2-evidence export --from DATE --to DATE --out FILE.zip [options]

Streams one zip with every artifact, manifest, signature and public key of the periods ending
between --from and --to (inclusive), plus index.html (control x period overview), 
oscal/assessment-results.json (OSCAL 1.0.4), VERIFY.md and export.json. Reads the bucket named by
--bucket or ${ENV.evidenceBucket}, with the standard AWS environment (AWS_ENDPOINT_URL* for emulators).

Options:
  --from DATE          first day, YYYY-MM-DD (periods whose last day is on or after it)
  --to DATE            last day, YYYY-MM-DD (periods whose last day is on or before it)
  --control ID         only this control
  --out FILE.zip       where to write the archive
  --bucket NAME        evidence bucket (default: $${ENV.evidenceBucket})
  --config PATH        add oscal/poam.json (OSCAL POA&M) from this config's risk register
                       (default: ${DEFAULT_CONFIG_PATH} when it exists)
  --local              read the evidence of \`run --local\` from its state folder instead of S3
  --state DIR          that state folder (default: .soc2-evidence)
  --presign            also upload the archive to s3://<bucket>/${EXPORTS_PREFIX} and print a download URL
  --expires-in SECS    lifetime of the presigned URL (default 86400, at most 604800)
  --json               print the result as JSON; no progress bar
  -h, --help           show this help

Exit codes: 0 archive written, 2 bad usage or the export failed.
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

const EXPORT_USAGE_ERRORS = [InvalidRangeError, ConfigError];

/** `soc2-evidence export`: exit 0 when the archive was written (and uploaded, with --presign). */
export const exportCommand = cliCommand({
  help: EXPORT_HELP,
  usageErrors: EXPORT_USAGE_ERRORS,
  run: runExport,
});

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
    if (expiresIn !== undefined && (!Number.isInteger(expiresIn) || expiresIn < 60 || expiresIn > 604_800)) {
      throw new UsageError('--expires-in: expected whole seconds between 60 and 604800');
    }
    const extraFiles = {
      ...(await riskRegisterFiles(values.config, deps.clock?.() ?? new Date())),
      ...deps.extraFiles,
    };
    const bucketAccess = localDir
      ? makeLocalExportDeps(localDir)
      : makeExportDeps(bucket, io.env, deps.clients);
    const sink = values.json ? undefined : progressSink(io);
    const progress = sink ? makeProgressBar(sink, 'export', 'objects') : silentProgress;
    let result: ExportResult;
    try {
      result = await exportArchive({
        reader: bucketAccess.reader,
        bucket,
        range,
        ...(values.control ? { controlId: values.control } : {}),
        output: createWriteStream(out),
        extraFiles,
        ...(deps.clock ? { clock: deps.clock } : {}),
        onProgress: (p) => progress.update(p.objects, p.totalObjects, p.bytes),
      });
    } catch (error) {
      await rm(out, { force: true });
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
      if (presigned)
        io.stdout(
          `Uploaded to s3://${bucket}/${presigned.key}; download until ${presigned.expiresAt}:\n${presigned.url}`,
        );
    }
    return EXIT.ok;
  } catch (error) {
    if (isUsageError(error, EXPORT_USAGE_ERRORS)) throw error;
    io.stderr(
      `export failed: ${(error as Error).message}${(error as Error).cause ? ` (${String((error as Error).cause)})` : ''}`,
    );
    return EXIT.usage;
  }
}

/** `oscal/poam.json` from the config's risk register; nothing when no config or register exists. */
async function riskRegisterFiles(
  configPath: string | undefined,
  asOf: Date,
): Promise<Record<string, unknown>> {
  const path = configPath ?? DEFAULT_CONFIG_PATH;
  if (configPath === undefined && !existsSync(path)) return {};
  const poam = poamForConfig(await loadConfig(path), asOf);
  return poam ? { 'oscal/poam.json': poam } : {};
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
      local: { type: 'boolean', default: false },
      state: { type: 'string' },
      'expires-in': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
