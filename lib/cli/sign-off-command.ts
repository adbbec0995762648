import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { makeLocalSigner } from '../evidence/local-signer.ts';
import { SigningError } from '../evidence/signer.ts';
import {
  checkDecisions,
  type DecisionsFile,
  decisionsTemplate,
  flaggedAccounts,
  parseDecisionsFile,
  readReviewedEvidence,
} from '../reviews/control-review.ts';
import { buildDocumentReview, documentReviewRun } from '../reviews/document-review.ts';
import { recordSignOffRun, SignOffError } from '../reviews/sign-off.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import { InvalidPeriodError, periodFromKey } from '../shared/period.ts';
import { ENV } from '../shared/runtime-env.ts';
import { type AwsClients, makeAwsClients } from '../wiring/aws-clients.ts';
import {
  makePeriodEvidenceReader,
  makeSignOffRecording,
  recordControlReview,
  type SignOffDepsInput,
} from '../wiring/make-sign-off-deps.ts';
import { type CliIo, cliCommand, EXIT, UsageError } from './io.ts';

/** Local (non-KMS) sign-offs: a PEM P-256 private key reused by every sign-off, so the chain keeps one key. */
export const LOCAL_SIGNING_KEY_FILE_ENV = 'SOC2_LOCAL_SIGNING_KEY_FILE';

export const SIGNING_ENVIRONMENT_HELP = `Environment: ${ENV.evidenceBucket} and ${ENV.resultsTable} (chain heads and verdicts), and the
signing key: ${ENV.signingKeyId} to sign with the stack's KMS key (deployed: assume the stack's
ReviewerRoleArn, the one human role the key policy lets sign), or, locally,
${LOCAL_SIGNING_KEY_FILE_ENV} naming a PEM P-256 private key. One of the two is required: every
sign-off must extend its chain with the same key, or \`verify\` reports the chain as re-signed.`;

export const SIGN_OFF_HELP = `Usage:
  soc2-evidence sign-off --control ID --period KEY --template [--output FILE]
  soc2-evidence sign-off --control ID --period KEY --by NAME --role ROLE [--decisions FILE] [--note TEXT]
  soc2-evidence sign-off --document ID --by NAME --role ROLE [--note TEXT]
  (the risk register: soc2-evidence risks sign-off)

Records a person's review as signed evidence, in a chain of its own (evidence/<control>.review/... or
evidence/document.<id>.review/...), with the same manifest, signature and hash chain as control
evidence, and as a verdict, so schedule health and readiness see the period or document as reviewed.

A control review binds the period's current evidence: the manifest of its verdict (hash and
signature checked). For an access review, the decisions file must decide every flagged account
(dormant, or active after removal): \`decision: removed\`, or \`decision: kept\` with a
\`justification\`. Unknown accounts, blank decisions and kept accounts without a justification are
refused, each named. --template writes that file pre-filled (decisions blank).

A document review records the document's SHA-256 (when it has a path) and its next review date.

Options:
  --control ID      a configured control (for \`review: required\` controls, each period needs one)
  --period KEY      the period reviewed, in the control's cadence (2026-Q3, 2026-11, 2026-W47, 2026)
  --document ID     a configured document (\`documents\` in the config)
  --template        write the decisions file for the control and period (stdout, or --output)
  --output FILE     where --template writes
  --decisions FILE  the reviewer's decisions (YAML or JSON)
  --by NAME         the reviewer, as the auditor should read it
  --role ROLE       the reviewer's role (e.g. "Security Officer")
  --note TEXT       what was reviewed or decided
  --config PATH     configuration file (default: ${DEFAULT_CONFIG_PATH})
  -h, --help        show this help

${SIGNING_ENVIRONMENT_HELP}

Exit codes: 0 recorded (or template written), 1 refused (incomplete decisions, evidence missing or
not intact: nothing recorded), 2 bad usage or configuration.`;

/** Where sign-offs go, and the key that signs them; shared by every sign-off command. */
export async function signOffEnvironment(
  env: CliIo['env'],
): Promise<Omit<SignOffDepsInput, 'clients' | 'timeZone'> & { readonly local: boolean }> {
  const bucket = env[ENV.evidenceBucket];
  const table = env[ENV.resultsTable];
  if (!bucket || !table)
    throw new UsageError(
      `set ${ENV.evidenceBucket} and ${ENV.resultsTable} (where the sign-off chain is kept)`,
    );
  const signingKeyId = env[ENV.signingKeyId];
  const keyFile = env[LOCAL_SIGNING_KEY_FILE_ENV];
  if (signingKeyId) return { bucket, table, signingKeyId, local: false };
  if (!keyFile)
    throw new UsageError(
      `set ${ENV.signingKeyId} (KMS) or ${LOCAL_SIGNING_KEY_FILE_ENV} (a PEM P-256 key): sign-offs must all be signed with the same key`,
    );
  let pem: string;
  try {
    pem = await readFile(keyFile, 'utf8');
  } catch (error) {
    throw new UsageError(`${LOCAL_SIGNING_KEY_FILE_ENV}: cannot read ${keyFile}`, { cause: error });
  }
  return { bucket, table, signer: makeLocalSigner({ privateKeyPem: pem }), local: true };
}

/** Says when a sign-off was signed with the local key file rather than KMS. */
export function noteLocalSigner(where: { readonly local: boolean }, io: CliIo): void {
  if (where.local)
    io.stderr(`note: signed with ${LOCAL_SIGNING_KEY_FILE_ENV}; set ${ENV.signingKeyId} to sign with KMS`);
}

/** Runs `use` with the AWS clients, closing their sockets after. */
export async function withSignOffClients<T>(
  env: CliIo['env'],
  use: (clients: AwsClients) => Promise<T>,
): Promise<T> {
  const clients = makeAwsClients(env);
  try {
    return await use(clients);
  } finally {
    clients.dynamodb.destroy();
    clients.s3.destroy();
  }
}

/** Sign-offs refused for their content: nothing was recorded (exit 1). */
class SignOffRefusedError extends Error {
  override name = 'SignOffRefusedError';
}

async function readDecisions(path: string): Promise<DecisionsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--decisions: cannot read ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SignOffError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}`, {
      cause: error,
    });
  }
  return parseDecisionsFile(json, path);
}

type Values = Record<string, string | boolean | undefined>;
const text = (values: Values, name: string) => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

/** The options every sign-off command takes: who signs, in which role, why, and the config file. */
export const SIGNER_OPTIONS = {
  by: { type: 'string' },
  role: { type: 'string' },
  note: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `--by` and `--role` are required (trimmed, not blank); `--note` is kept as given. */
export function requireReviewer(values: Values): { by: string; role: string; note?: string } {
  const by = text(values, 'by')?.trim();
  const role = text(values, 'role')?.trim();
  if (!by) throw new UsageError('--by: who reviewed is required');
  if (!role) throw new UsageError('--role: the reviewer role is required');
  const note = text(values, 'note');
  return { by, role, ...(note !== undefined ? { note } : {}) };
}

async function controlSignOff(values: Values, config: Config, io: CliIo): Promise<number> {
  const controlId = text(values, 'control') ?? '';
  const control = config.controls.find((c) => c.id === controlId);
  if (!control)
    throw new UsageError(
      `--control: unknown control "${controlId}"; expected one of ${config.controls.map((c) => c.id).join(', ')}`,
    );
  const periodKey = text(values, 'period');
  if (!periodKey) throw new UsageError('--period: the period reviewed is required (e.g. 2026-Q3)');
  try {
    periodFromKey(control.cadence, periodKey, config.timeZone);
  } catch (error) {
    if (error instanceof InvalidPeriodError)
      throw new UsageError(`--period: ${error.message} (${control.id} is ${control.cadence})`, {
        cause: error,
      });
    throw error;
  }
  const reviewer = values.template ? undefined : requireReviewer(values);
  const where = await signOffEnvironment(io.env);
  return withSignOffClients(io.env, async (clients) => {
    const reader = makePeriodEvidenceReader({ clients, bucket: where.bucket, table: where.table });
    const { evidence, document } = await readReviewedEvidence(control, periodKey, reader);
    const flagged = flaggedAccounts(control.test.type, document);
    if (values.template) {
      const template = decisionsTemplate(control, periodKey, evidence, flagged);
      const output = text(values, 'output');
      if (output) {
        await writeFile(output, template, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`--output: cannot create ${output} (${error.code ?? error.message})`, {
            cause: error,
          });
        });
        io.stdout(
          `Wrote ${output}: ${flagged.length} flagged account(s) of ${control.id} ${periodKey} to decide.`,
        );
      } else io.stdout(template.trimEnd());
      return EXIT.ok;
    }
    if (!reviewer) throw new UsageError('--by and --role are required');
    const decisionsPath = text(values, 'decisions');
    if (!decisionsPath && flagged.length > 0)
      throw new SignOffRefusedError(
        `${control.id} ${periodKey} flags ${flagged.length} account(s): pass --decisions FILE (make one with --template)`,
      );
    const file = decisionsPath ? await readDecisions(decisionsPath) : undefined;
    const decisions = checkDecisions(control, periodKey, evidence, flagged, file);
    const at = new Date();
    const { record, stored } = await recordControlReview(
      {
        ...reviewer,
        at,
        timeZone: config.timeZone,
        control,
        periodKey,
        evidence,
        decisions,
        flagged: flagged.length,
      },
      { ...where, clients, timeZone: config.timeZone },
    );
    const lines = [
      `${control.id} ${periodKey} reviewed by ${record.by} (${record.role}) at ${record.signedAt}.`,
      `Reviewed evidence: ${evidence.manifestKey} (SHA-256 ${evidence.manifestSha256}, verdict ${evidence.verdict}).`,
      `${record.summary.flagged} flagged account(s): ${record.summary.removed} removed, ${record.summary.kept} kept.`,
      ...decisions.map((d) => `  ${d.account} ${d.decision}${d.justification ? `: ${d.justification}` : ''}`),
      `Evidence: ${stored.manifestKey}`,
    ];
    io.stdout(lines.join('\n'));
    noteLocalSigner(where, io);
    return EXIT.ok;
  });
}

async function documentSignOff(
  values: Values,
  config: Config,
  configPath: string,
  io: CliIo,
): Promise<number> {
  const documentId = text(values, 'document') ?? '';
  const document = (config.documents ?? []).find((d) => d.id === documentId);
  if (!document)
    throw new UsageError(
      `--document: unknown document "${documentId}"; expected one of ${(config.documents ?? []).map((d) => d.id).join(', ') || '(no documents configured)'}`,
    );
  const reviewer = requireReviewer(values);
  let content: { sha256: string; size: number } | undefined;
  if (document.path) {
    const file = resolve(dirname(configPath), document.path);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new SignOffRefusedError(
        `${document.id}: cannot read ${file}: a review of a document records its content hash`,
        { cause: error },
      );
    }
    content = { sha256: sha256Hex(bytes), size: bytes.length };
  }
  const where = await signOffEnvironment(io.env);
  return withSignOffClients(io.env, async (clients) => {
    const at = new Date();
    const record = buildDocumentReview({
      ...reviewer,
      at,
      timeZone: config.timeZone,
      document,
      ...(content ? { content } : {}),
    });
    const recording = makeSignOffRecording({ ...where, clients, timeZone: config.timeZone });
    const stored = await recordSignOffRun(
      documentReviewRun(record, document, { timeZone: config.timeZone, runId: recording.newRunId(at) }),
      recording,
    );
    io.stdout(
      [
        `${document.id} "${document.title}" approved by ${record.by} (${record.role}) at ${record.signedAt}.`,
        record.sha256
          ? `Content: ${record.path} (${record.size} bytes, SHA-256 ${record.sha256}).`
          : `Content: ${record.url} (not in this repository: no content hash recorded).`,
        `Next review due ${record.nextReviewDue} (${record.reviewCadence}).`,
        `Evidence: ${stored.manifestKey}`,
      ].join('\n'),
    );
    return EXIT.ok;
  });
}

/** `soc2-evidence sign-off`: see SIGN_OFF_HELP. */
export const signOffCommand = cliCommand({
  help: SIGN_OFF_HELP,
  usageErrors: [ConfigError, SigningError],
  async run(argv: readonly string[], io: CliIo) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        control: { type: 'string' },
        period: { type: 'string' },
        document: { type: 'string' },
        template: { type: 'boolean', default: false },
        output: { type: 'string' },
        decisions: { type: 'string' },
        ...SIGNER_OPTIONS,
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(SIGN_OFF_HELP);
      return EXIT.ok;
    }
    if ((values.control === undefined) === (values.document === undefined))
      throw new UsageError('expected exactly one of --control ID or --document ID');
    if (values.document !== undefined && (values.period || values.template || values.decisions))
      throw new UsageError('--period, --template and --decisions are for --control');
    const configPath = values.config ?? DEFAULT_CONFIG_PATH;
    const config = await loadConfig(configPath);
    try {
      return values.control !== undefined
        ? await controlSignOff(values, config, io)
        : await documentSignOff(values, config, configPath, io);
    } catch (error) {
      if (error instanceof SignOffError || error instanceof SignOffRefusedError) {
        io.stderr(`refused, nothing recorded: ${error.message}`);
        return EXIT.controlFailed;
      }
      throw error;
    }
  },
});
