import * as z from 'zod';
import {
  controlReviewChainId,
  REVIEWED_MANIFEST_FIGURE,
  REVIEWED_MANIFEST_SHA_FIGURE,
} from '../controls/review-schedule.ts';
import { RESULT_FILE, signatureKeyFor } from '../evidence/evidence-layout.ts';
import { parseManifest } from '../evidence/manifest.ts';
import { verifySignature } from '../evidence/verify-signature.ts';
import type { RunResult } from '../runs/run-record.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import { type Cadence, periodFromKey } from '../shared/period.ts';
import { type Reviewer, type ReviewerInput, reviewerOf, SignOffError, signOffRun } from './sign-off.ts';

export const CONTROL_REVIEW_KIND = 'soc2-evidence/control-review-sign-off';

/** The control as the review needs it (the config's control fits). */
export interface ReviewedControlConfig {
  readonly id: string;
  readonly title: string;
  readonly cadence: Cadence;
  readonly owner: string;
  readonly criteria: readonly string[];
  readonly test: { readonly type: string };
}

/** The stored objects of one period's current evidence (its verdict's manifest), as read. */
export interface PeriodEvidenceObjects {
  readonly manifestKey: string;
  /** The manifest's SHA-256 as the verdict recorded it. */
  readonly manifestSha256: string;
  readonly manifest: Buffer;
  readonly signature?: Buffer | undefined;
  readonly publicKeyPem?: string | undefined;
  /** The `result.json` the manifest lists, by key. */
  readonly readArtifact: (key: string) => Promise<Buffer | undefined>;
}

/** Reads the evidence of the period's verdict; undefined when the period has no verdict. */
export interface PeriodEvidenceReader {
  read(controlId: string, cadence: Cadence, periodKey: string): Promise<PeriodEvidenceObjects | undefined>;
}

/** What a review binds: exactly this signed manifest and the evidence document it lists. */
export interface ReviewedEvidence {
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly evidenceKey: string;
  readonly evidenceSha256: string;
  readonly runId: string;
  readonly verdict: string;
  readonly collectedAt: string;
  readonly keyFingerprint: string;
}

export type AccountFlag = 'dormant' | 'active-after-removal';

export interface FlaggedAccount {
  readonly account: string;
  readonly flags: readonly AccountFlag[];
  /** e.g. `dormant: last login 2026-03-02` */
  readonly detail: string;
}

export interface AccountDecision {
  readonly account: string;
  readonly flags: readonly AccountFlag[];
  readonly decision: 'removed' | 'kept';
  readonly justification: string | null;
}

export interface ControlReviewRecord extends Reviewer {
  readonly kind: typeof CONTROL_REVIEW_KIND;
  readonly schemaVersion: 1;
  readonly controlId: string;
  readonly controlTitle: string;
  readonly testType: string;
  readonly period: {
    readonly cadence: Cadence;
    readonly key: string;
    readonly start: string;
    readonly end: string;
  };
  readonly evidence: ReviewedEvidence;
  readonly decisions: readonly AccountDecision[];
  readonly summary: { readonly flagged: number; readonly removed: number; readonly kept: number };
}

/**
 * Reads and checks the period's evidence: the manifest has the hash the verdict recorded, is signed
 * by the public key it names, is this control's and period's, and lists a `result.json` whose bytes
 * have the hash it states. Anything else is refused: a review binds signed evidence or nothing.
 */
export async function readReviewedEvidence(
  control: ReviewedControlConfig,
  periodKey: string,
  reader: PeriodEvidenceReader,
): Promise<{ evidence: ReviewedEvidence; document: unknown }> {
  const where = `${control.id} ${control.cadence} ${periodKey}`;
  const objects = await reader.read(control.id, control.cadence, periodKey);
  if (!objects)
    throw new SignOffError(`${where} has no verdict: run the control for that period before reviewing it`);
  const sha = sha256Hex(objects.manifest);
  if (sha !== objects.manifestSha256)
    throw new SignOffError(
      `${objects.manifestKey} does not have the SHA-256 its verdict recorded (${objects.manifestSha256}): refused`,
    );
  let manifest: ReturnType<typeof parseManifest>;
  try {
    manifest = parseManifest(objects.manifest);
  } catch (error) {
    throw new SignOffError(`${objects.manifestKey}: ${(error as Error).message}`, { cause: error });
  }
  if (manifest.control.id !== control.id || manifest.period.key !== periodKey)
    throw new SignOffError(
      `${objects.manifestKey} is evidence of ${manifest.control.id} ${manifest.period.key}, not ${where}`,
    );
  if (
    !objects.signature ||
    !objects.publicKeyPem ||
    !verifySignature(objects.manifest, objects.signature, objects.publicKeyPem)
  )
    throw new SignOffError(
      `${objects.manifestKey}: its signature (${signatureKeyFor(objects.manifestKey)}) is missing or does not verify under ${manifest.signing.publicKeyKey}: refused`,
    );
  const artifact = manifest.artifacts.find((a) => a.key.endsWith(`/${RESULT_FILE}`));
  if (!artifact) throw new SignOffError(`${objects.manifestKey} lists no ${RESULT_FILE}`);
  const bytes = await objects.readArtifact(artifact.key);
  if (!bytes || sha256Hex(bytes) !== artifact.sha256)
    throw new SignOffError(`${artifact.key} is missing or not what ${objects.manifestKey} lists: refused`);
  if (manifest.verdict === 'error')
    throw new SignOffError(
      `${where}: the verdict is error, so its evidence lists no accounts to review; re-run the period first (${manifest.reasons[0] ?? 'no reason recorded'})`,
    );
  return {
    evidence: {
      manifestKey: objects.manifestKey,
      manifestSha256: sha,
      evidenceKey: artifact.key,
      evidenceSha256: artifact.sha256,
      runId: manifest.runId,
      verdict: manifest.verdict,
      collectedAt: manifest.collectedAt,
      keyFingerprint: manifest.signing.keyFingerprint,
    },
    document: JSON.parse(bytes.toString('utf8')) as unknown,
  };
}

interface ListedAccount {
  readonly account?: unknown;
  readonly lastLogin?: unknown;
  readonly removedAt?: unknown;
}

/**
 * The accounts an access review's evidence flags (dormant, active after removal); none for other
 * test types. Refused when the evidence lists fewer than it counted (`maxListed`): nobody can decide
 * on an account the evidence does not name.
 */
export function flaggedAccounts(testType: string, document: unknown): FlaggedAccount[] {
  if (testType !== 'access-review') return [];
  const details = (document as { details?: Record<string, unknown> } | null)?.details ?? {};
  if (details.dormantTruncated === true || details.activeAfterRemovalTruncated === true)
    throw new SignOffError(
      'the evidence lists only part of the flagged accounts (maxListed): raise maxListed and re-run the period, so every account can be decided',
    );
  const byAccount = new Map<string, { flags: AccountFlag[]; details: string[] }>();
  const add = (rows: unknown, flag: AccountFlag) => {
    if (!Array.isArray(rows))
      throw new SignOffError(`the evidence has no ${flag} list: not an access review`);
    for (const row of rows as ListedAccount[]) {
      if (typeof row?.account !== 'string') throw new SignOffError(`a ${flag} entry names no account`);
      const entry = byAccount.get(row.account) ?? { flags: [], details: [] };
      entry.flags.push(flag);
      entry.details.push(
        flag === 'dormant'
          ? `dormant: ${typeof row.lastLogin === 'string' ? `last login ${row.lastLogin.slice(0, 10)}` : 'never logged in'}`
          : `active after removal on ${typeof row.removedAt === 'string' ? row.removedAt.slice(0, 10) : '?'}`,
      );
      byAccount.set(row.account, entry);
    }
  };
  add(details.dormant, 'dormant');
  add(details.activeAfterRemoval, 'active-after-removal');
  return [...byAccount]
    .map(([account, entry]) => ({ account, flags: entry.flags, detail: entry.details.join('; ') }))
    .sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
}

const blank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** The file the reviewer edits (YAML or JSON). `decision` may be left blank in the template. */
export const decisionsFileSchema = z.strictObject({
  control: z.string().min(1),
  period: z.string().min(1),
  /** The SHA-256 of the manifest the template was made from: a re-run since then is refused. */
  evidence: z.string().optional(),
  decisions: z
    .array(
      z.strictObject({
        account: z.string().min(1),
        /** Informational (from the template); not compared. */
        flagged: z.string().nullish(),
        decision: z.preprocess(
          blank,
          z.enum(['removed', 'kept'], { message: 'expected removed or kept' }).nullish(),
        ),
        justification: z.preprocess(blank, z.string().nullish()),
      }),
    )
    .nullish(),
});
export type DecisionsFile = z.output<typeof decisionsFileSchema>;

export function parseDecisionsFile(json: unknown, source: string): DecisionsFile {
  const parsed = decisionsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new SignOffError(
      `${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * One decision per flagged account, and only for flagged accounts: every problem is listed, each
 * naming its account, so the reviewer fixes the file in one pass.
 */
export function checkDecisions(
  control: ReviewedControlConfig,
  periodKey: string,
  evidence: ReviewedEvidence,
  flagged: readonly FlaggedAccount[],
  file: DecisionsFile | undefined,
): AccountDecision[] {
  const problems: string[] = [];
  if (file && file.control !== control.id)
    problems.push(`the file is for control ${file.control}, not ${control.id}`);
  if (file && file.period !== periodKey)
    problems.push(`the file is for period ${file.period}, not ${periodKey}`);
  if (file?.evidence && file.evidence !== evidence.manifestSha256)
    problems.push(
      `the file was made from evidence ${file.evidence.slice(0, 12)}…, but the period's evidence is now ${evidence.manifestSha256.slice(0, 12)}… (re-run since): make a new template`,
    );
  const rows = file?.decisions ?? [];
  const known = new Map(flagged.map((f) => [f.account, f]));
  const seen = new Set<string>();
  const decisions: AccountDecision[] = [];
  for (const row of rows) {
    const account = known.get(row.account);
    if (!account) {
      problems.push(
        `${row.account}: not flagged in the evidence of ${control.id} ${periodKey} (unknown account)`,
      );
      continue;
    }
    if (seen.has(row.account)) {
      problems.push(`${row.account}: decided more than once`);
      continue;
    }
    seen.add(row.account);
    if (!row.decision) {
      problems.push(`${row.account}: no decision (expected removed, or kept with a justification)`);
      continue;
    }
    const justification = row.justification?.trim() ? row.justification.trim() : null;
    if (row.decision === 'kept' && !justification) {
      problems.push(`${row.account}: kept without a justification`);
      continue;
    }
    decisions.push({ account: row.account, flags: account.flags, decision: row.decision, justification });
  }
  for (const account of flagged)
    if (!seen.has(account.account))
      problems.push(`${account.account}: flagged (${account.detail}) but not decided`);
  if (problems.length > 0)
    throw new SignOffError(
      `the decisions for ${control.id} ${periodKey} are incomplete:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  return decisions.sort((a, b) => (a.account < b.account ? -1 : 1));
}

export interface ControlReviewInput extends ReviewerInput {
  readonly control: ReviewedControlConfig;
  readonly periodKey: string;
  readonly evidence: ReviewedEvidence;
  readonly decisions: readonly AccountDecision[];
  readonly flagged: number;
}

export function buildControlReview(input: ControlReviewInput): ControlReviewRecord {
  const { control } = input;
  const period = periodFromKey(control.cadence, input.periodKey, input.timeZone);
  const removed = input.decisions.filter((d) => d.decision === 'removed').length;
  return {
    kind: CONTROL_REVIEW_KIND,
    schemaVersion: 1,
    ...reviewerOf(input),
    controlId: control.id,
    controlTitle: control.title,
    testType: control.test.type,
    period: {
      cadence: control.cadence,
      key: period.key,
      start: period.start.toISOString(),
      end: period.end.toISOString(),
    },
    evidence: input.evidence,
    decisions: [...input.decisions],
    summary: { flagged: input.flagged, removed, kept: input.decisions.length - removed },
  };
}

/** The review as a run of `<control>.review`, for the period reviewed (not the day it was signed). */
export function controlReviewRun(
  record: ControlReviewRecord,
  control: ReviewedControlConfig,
  options: { timeZone: string; runId: string },
): RunResult {
  return signOffRun(record, {
    chain: {
      id: controlReviewChainId(control.id),
      cadence: control.cadence,
      criteria: control.criteria,
      owner: control.owner,
    },
    periodKey: record.period.key,
    timeZone: options.timeZone,
    runId: options.runId,
    figures: {
      reviewer: record.by,
      role: record.role,
      flagged: record.summary.flagged,
      removed: record.summary.removed,
      kept: record.summary.kept,
      [REVIEWED_MANIFEST_FIGURE]: record.evidence.manifestKey,
      [REVIEWED_MANIFEST_SHA_FIGURE]: record.evidence.manifestSha256,
    },
  });
}

/** The template the reviewer fills in: every flagged account, decision blank. */
export function decisionsTemplate(
  control: ReviewedControlConfig,
  periodKey: string,
  evidence: ReviewedEvidence,
  flagged: readonly FlaggedAccount[],
): string {
  const lines = [
    `# Review decisions for ${control.id} (${control.title}), period ${periodKey}.`,
    `# Evidence: ${evidence.manifestKey} (verdict ${evidence.verdict}).`,
    '# For every account: decision: removed, or decision: kept with a justification. Then run',
    `#   soc2-evidence sign-off --control ${control.id} --period ${periodKey} --by NAME --role ROLE --decisions <this file>`,
    `control: ${control.id}`,
    `period: ${JSON.stringify(periodKey)}`,
    `evidence: ${evidence.manifestSha256}`,
  ];
  if (flagged.length === 0) {
    lines.push('# The evidence flags no account: sign off with no decisions.', 'decisions: []');
    return `${lines.join('\n')}\n`;
  }
  lines.push('decisions:');
  for (const account of flagged)
    lines.push(
      `  - account: ${JSON.stringify(account.account)}`,
      `    flagged: ${JSON.stringify(account.detail)}`,
      '    decision:        # removed | kept',
      '    justification:   # required when kept',
    );
  return `${lines.join('\n')}\n`;
}
