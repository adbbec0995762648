import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import { SigningError } from '../evidence/signer.ts';
import { recordSignOff, SignOffError, type SignOffRecord } from '../risks/sign-off.ts';
import { makeSignOffDeps } from '../wiring/make-sign-off-deps.ts';
import { type CliIo, cliCommand, EXIT, UsageError } from './io.ts';
import {
  LOCAL_SIGNING_KEY_FILE_ENV,
  noteLocalSigner,
  requireReviewer,
  SIGNER_OPTIONS,
  SIGNING_ENVIRONMENT_HELP,
  signOffEnvironment,
  withSignOffClients,
} from './sign-off-command.ts';

export { LOCAL_SIGNING_KEY_FILE_ENV };

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

${SIGNING_ENVIRONMENT_HELP}

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
export const risksSignOffCommand = cliCommand({
  help: RISKS_SIGN_OFF_HELP,
  usageErrors: [ConfigError, SignOffError, SigningError],
  async run(argv: readonly string[], io: CliIo) {
    const { values } = parseArgs({
      args: [...argv],
      options: SIGNER_OPTIONS,
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(RISKS_SIGN_OFF_HELP);
      return EXIT.ok;
    }
    const reviewer = requireReviewer(values);
    const where = await signOffEnvironment(io.env);
    const configPath = values.config ?? DEFAULT_CONFIG_PATH;
    const config = await loadConfig(configPath);
    const register = config.riskRegister;
    if (!register) throw new UsageError(`${configPath} has no riskRegister to sign off`);

    return await withSignOffClients(io.env, async (clients) => {
      const deps = makeSignOffDeps({ ...where, clients, timeZone: config.timeZone });
      const { record, stored } = await recordSignOff(
        {
          register,
          timeZone: config.timeZone,
          ...reviewer,
          at: new Date(),
          owner: register.settings.escalationOwner ?? config.owners[0]?.id ?? 'risk-register',
        },
        deps,
      );
      io.stdout(describe(record, stored.manifestKey));
      noteLocalSigner(where, io);
      return EXIT.ok;
    });
  },
});
