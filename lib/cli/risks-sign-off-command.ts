import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import { makeLocalSigner } from '../evidence/local-signer.ts';
import { SigningError } from '../evidence/signer.ts';
import { recordSignOff, SignOffError, type SignOffRecord } from '../risks/sign-off.ts';
import { ENV } from '../shared/runtime-env.ts';
import { makeAwsClients } from '../wiring/aws-clients.ts';
import { makeSignOffDeps } from '../wiring/make-sign-off-deps.ts';
import { type CliIo, EXIT, UsageError } from './io.ts';

/** Local (non-KMS) sign-offs: a PEM P-256 private key reused by every sign-off, so the chain keeps one key. */
export const LOCAL_SIGNING_KEY_FILE_ENV = 'SOC2_LOCAL_SIGNING_KEY_FILE';

export const RISKS_SIGN_OFF_HELP = `Usage: soc2-evidence risks sign-off --by NAME --role ROLE [--note TEXT] [--config PATH]

Records a review of the risk register as signed evidence: who, when, the register's content hash
(SHA-256 of its canonical JSON), each risk's scores, status and mitigation, and every change to them
since the previous sign-off. It is written to the evidence bucket as a run of its own chain
(evidence/risk-register-review/quarterly/<quarter>/...), with the same manifest, signature and hash
chain as control evidence, so \`export\` includes it and \`verify\` checks it. A risk's lastReviewed
then counts as evidenced (see \`risks --with-sign-offs\`) when a sign-off within 7 days after that
date froze the risk with that lastReviewed.

Options:
  --by NAME         the reviewer, as the auditor should read it
  --role ROLE       the reviewer's role (e.g. "Founder", "Security Officer")
  --note TEXT       what was reviewed or decided
  --config PATH     configuration file (default: ${DEFAULT_CONFIG_PATH})
  -h, --help        show this help

Environment: ${ENV.evidenceBucket} and ${ENV.resultsTable} (chain heads), and the signing key:
${ENV.signingKeyId} to sign with the stack's KMS key (the caller's role needs kms:Sign on it), or,
locally, ${LOCAL_SIGNING_KEY_FILE_ENV} naming a PEM P-256 private key. One of the two is required: every
sign-off must extend its chain with the same key, or \`verify\` reports the chain as re-signed.

Exit codes: 0 recorded, 2 bad usage or configuration.`;

function describe(record: SignOffRecord, manifestKey: string): string {
  const lines = [
    `Risk register signed off by ${record.by} (${record.role}) at ${record.signedAt}.`,
    `Register SHA-256 ${record.registerSha256}; ${record.risks.length} risks frozen.`,
    record.previous
      ? `${record.changes.length} change(s) since the sign-off of ${record.previous.signedAt} by ${record.previous.by}:`
      : 'First sign-off: every risk is new to the chain.',
  ];
  if (record.previous)
    for (const change of record.changes)
      lines.push(
        `  ${change.riskId} ${change.field}: ${JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`,
      );
  lines.push(`Evidence: ${manifestKey}`);
  return lines.join('\n');
}

/** `soc2-evidence risks sign-off`: see RISKS_SIGN_OFF_HELP. */
export async function risksSignOffCommand(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        by: { type: 'string' },
        role: { type: 'string' },
        note: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(RISKS_SIGN_OFF_HELP);
      return EXIT.ok;
    }
    if (!values.by?.trim()) throw new UsageError('--by: who reviewed the register is required');
    if (!values.role?.trim()) throw new UsageError('--role: the reviewer role is required');
    const bucket = io.env[ENV.evidenceBucket];
    const table = io.env[ENV.resultsTable];
    if (!bucket || !table)
      throw new UsageError(
        `set ${ENV.evidenceBucket} and ${ENV.resultsTable} (where the sign-off chain is kept)`,
      );
    const configPath = values.config ?? DEFAULT_CONFIG_PATH;
    const config = await loadConfig(configPath);
    const register = config.riskRegister;
    if (!register) throw new UsageError(`${configPath} has no riskRegister to sign off`);

    const signingKeyId = io.env[ENV.signingKeyId];
    const keyFile = io.env[LOCAL_SIGNING_KEY_FILE_ENV];
    if (!signingKeyId && !keyFile)
      throw new UsageError(
        `set ${ENV.signingKeyId} (KMS) or ${LOCAL_SIGNING_KEY_FILE_ENV} (a PEM P-256 key): sign-offs must all be signed with the same key`,
      );
    let localSigner: ReturnType<typeof makeLocalSigner> | undefined;
    if (!signingKeyId && keyFile) {
      let pem: string;
      try {
        pem = await readFile(keyFile, 'utf8');
      } catch (error) {
        throw new UsageError(`${LOCAL_SIGNING_KEY_FILE_ENV}: cannot read ${keyFile}`, { cause: error });
      }
      localSigner = makeLocalSigner({ privateKeyPem: pem });
    }
    const clients = makeAwsClients(io.env);
    try {
      const deps = makeSignOffDeps({
        clients,
        bucket,
        table,
        timeZone: config.timeZone,
        ...(signingKeyId ? { signingKeyId } : {}),
        ...(localSigner ? { signer: localSigner } : {}),
      });
      const { record, stored } = await recordSignOff(
        {
          register,
          timeZone: config.timeZone,
          by: values.by,
          role: values.role,
          ...(values.note !== undefined ? { note: values.note } : {}),
          at: new Date(),
          owner: register.settings.escalationOwner ?? config.owners[0]?.id ?? 'risk-register',
        },
        deps,
      );
      io.stdout(describe(record, stored.manifestKey));
      if (!signingKeyId)
        io.stderr(
          `note: signed with a key generated for this process; set ${ENV.signingKeyId} to sign with KMS`,
        );
      return EXIT.ok;
    } finally {
      clients.dynamodb.destroy();
      clients.s3.destroy();
    }
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      error instanceof SignOffError ||
      error instanceof SigningError
    ) {
      io.stderr(error.message);
      return EXIT.usage;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${error.message}\n\n${RISKS_SIGN_OFF_HELP}`);
      return EXIT.usage;
    }
    throw error;
  }
}
