import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkRange, type DateRange, InvalidRangeError } from '../evidence/coverage.ts';
import { publicKeyInfo } from '../evidence/signer.ts';
import { stateBucketDir } from '../local/state-layout.ts';
import { makeProgressBar, type ProgressSink, silentProgress } from '../shared/progress-bar.ts';
import { ArchiveReadError } from '../verify/archive-file.ts';
import { formatReport } from '../verify/format-report.ts';
import { verifyPath } from '../verify/verify-path.ts';
import { type CliIo, cliCommand, EXIT, processIo, UsageError } from './io.ts';

/**
 * The bar is drawn in place with `\r`, so it needs the raw terminal: given explicitly, or the
 * process's stderr when the command runs with {@link processIo} on a TTY. Never with `--json`.
 */
export function progressSink(io: CliIo & { readonly progress?: ProgressSink }): ProgressSink | undefined {
  if (io.progress) return io.progress;
  return io.stderr === processIo.stderr && process.stderr.isTTY ? process.stderr : undefined;
}

export const VERIFY_HELP = `Usage: soc2-evidence verify PATH [options]
       soc2-evidence verify --local [--state DIR] [options]

Checks, offline, an archive made by \`soc2-evidence export\` or a folder pulled with
\`aws s3 sync s3://<bucket>/evidence/ <dir>\`: every artifact against the SHA-256 in its manifest,
every manifest's signature against the published public key, each control's chain (nothing
missing, replaced, re-signed, moved or reordered), a manifest for every period that was due, and
no file that no manifest lists.

Options:
  --from DATE          first day of the range to expect (default: export.json's, else the chain's start)
  --to DATE            last day of the range to expect (default: export.json's, else --as-of)
  --as-of ISO          the moment periods must have been due by (default: export time, else now)
  --local              verify the evidence folder of \`run --local\` (DIR/evidence-bucket)
  --state DIR          that state folder (default: .soc2-evidence)
  --trusted-key KEY    a key fingerprint (64 hex) or PEM file; repeatable. Manifests signed by any
                       other key fail. Get it from the account: aws kms get-public-key.
  --json               print the report as JSON
  -h, --help           show this help

Exit codes: 0 everything holds, 1 a problem was found, 2 bad usage or unreadable PATH.
`;

async function trustedKey(value: string): Promise<string> {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  try {
    return publicKeyInfo(await readFile(value, 'utf8')).fingerprint;
  } catch (error) {
    throw new UsageError(`--trusted-key ${value}: not a fingerprint nor a readable P-256 PEM file`, {
      cause: error,
    });
  }
}

/** `soc2-evidence verify PATH`: exit 0 only when every check holds. */
export const verifyCommand = cliCommand({
  help: VERIFY_HELP,
  usageErrors: [InvalidRangeError],
  run: runVerify,
});

async function runVerify(argv: readonly string[], io: CliIo & { readonly progress?: ProgressSink }) {
  const { values, positionals } = parseVerifyArgs(argv);
  if (values.help) {
    io.stdout(VERIFY_HELP);
    return EXIT.ok;
  }
  try {
    if (!values.local && values.state !== undefined) throw new UsageError('--state needs --local');
    if (values.local && positionals.length > 0)
      throw new UsageError('--local verifies the state folder: give no PATH (or PATH without --local)');
    const path = values.local ? stateBucketDir(values.state) : positionals[0];
    if (!path || positionals.length > 1)
      throw new UsageError('expected exactly one PATH (a zip archive or a folder)');
    const range: DateRange | undefined =
      values.from || values.to
        ? checkRange({
            ...(values.from ? { from: values.from } : {}),
            ...(values.to ? { to: values.to } : {}),
          })
        : undefined;
    let asOf: Date | undefined;
    if (values['as-of']) {
      asOf = new Date(values['as-of']);
      if (Number.isNaN(asOf.getTime()))
        throw new UsageError(`--as-of: not a date/time: "${values['as-of']}"`);
    }
    const trustedKeys = values['trusted-key']
      ? await Promise.all(values['trusted-key'].map(trustedKey))
      : undefined;
    const sink = values.json ? undefined : progressSink(io);
    const progress = sink ? makeProgressBar(sink, 'verify', 'files') : silentProgress;
    const report = await verifyPath(path, {
      ...(range ? { range } : {}),
      ...(asOf ? { asOf } : {}),
      ...(trustedKeys ? { trustedKeys } : {}),
      onProgress: (p) => progress.update(p.files, p.totalFiles, p.bytes),
    });
    progress.finish();
    io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.ok ? EXIT.ok : EXIT.controlFailed;
  } catch (error) {
    if (error instanceof ArchiveReadError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      io.stderr(
        `cannot read ${values.local ? stateBucketDir(values.state) : positionals[0]}: ${(error as Error).message}`,
      );
      return EXIT.usage;
    }
    throw error;
  }
}

function parseVerifyArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'as-of': { type: 'string' },
      'trusted-key': { type: 'string', multiple: true },
      local: { type: 'boolean', default: false },
      state: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
