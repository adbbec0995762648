import { RISK_REGISTER_REVIEW_CHAIN_ID } from '../controls/review-schedule.ts';
import {
  recordSignOffRun,
  reviewerOf,
  signOffRun as runOfSignOff,
  type SignOffChain,
  SignOffError,
  type SignOffHistory as SignOffHistoryOf,
  type SignOffRecordingDeps,
  signOffFromEvidence as signOffOfKind,
} from '../reviews/sign-off.ts';
import type { RunResult, StoredEvidence } from '../runs/run-record.ts';
import { canonicalJson, sha256Hex } from '../shared/canonical-json.ts';
import { byId } from './evaluate-register.ts';
import type { RiskRegister } from './register-schema.ts';

export { SignOffError };

/**
 * Sign-offs form their own evidence chain, one quarterly period per full re-score (the reference's
 * "Quarterly: full re-score"): `verify` then reports a quarter without a sign-off as missing.
 */
export const SIGN_OFF_CHAIN_ID = RISK_REGISTER_REVIEW_CHAIN_ID;
export const SIGN_OFF_CADENCE = 'quarterly' as const;
/** The reference links its risk assessment to CC3.1 and CC9.2; CC3.2 is the analysis itself. */
export const SIGN_OFF_CRITERIA = ['CC3.1', 'CC3.2', 'CC9.2'] as const;
export const SIGN_OFF_KIND = 'soc2-evidence/risk-register-sign-off';

/** What a sign-off freezes of each risk: the fields whose changes a reviewer answers for. */
export interface RiskSnapshot {
  readonly id: string;
  readonly title: string;
  readonly likelihood: number;
  readonly impact: number;
  readonly residual: { readonly likelihood: number; readonly impact: number } | null;
  readonly status: string;
  readonly mitigation: string | null;
  readonly lastReviewed: string;
}

export interface SnapshotChange {
  readonly riskId: string;
  /** `added` / `removed` for whole risks, else the field that changed. */
  readonly field: 'added' | 'removed' | 'likelihood' | 'impact' | 'residual' | 'status' | 'mitigation';
  readonly from: unknown;
  readonly to: unknown;
}

/** The signed statement: who reviewed which register content, when, and what changed since the last review. */
export interface SignOffRecord {
  readonly kind: typeof SIGN_OFF_KIND;
  readonly schemaVersion: 1;
  readonly by: string;
  readonly role: string;
  readonly note: string | null;
  readonly signedAt: string;
  /** `signedAt` as a calendar date in the config's zone. */
  readonly date: string;
  /** SHA-256 of the register's canonical JSON (formatting and comments do not change it). */
  readonly registerSha256: string;
  readonly risks: readonly RiskSnapshot[];
  readonly changes: readonly SnapshotChange[];
  readonly previous: {
    readonly signedAt: string;
    readonly registerSha256: string;
    readonly by: string;
  } | null;
}

/** Reads the sign-off chain back (newest first), e.g. from the evidence bucket. */
export type SignOffHistory = SignOffHistoryOf<SignOffRecord>;

/** The register's content hash: canonical JSON of the validated register. */
export function registerContentHash(register: RiskRegister): string {
  return sha256Hex(canonicalJson(register));
}

export function snapshotOf(register: RiskRegister): RiskSnapshot[] {
  return register.risks
    .map((risk) => ({
      id: risk.id,
      title: risk.title,
      likelihood: risk.likelihood,
      impact: risk.impact,
      residual: risk.residual ? { likelihood: risk.residual.likelihood, impact: risk.residual.impact } : null,
      status: risk.status,
      mitigation: risk.mitigation ? risk.mitigation : null,
      lastReviewed: risk.lastReviewed,
    }))
    .sort((a, b) => byId(a.id, b.id));
}

/** Every score, status and mitigation change between two snapshots; added and removed risks too. */
export function diffSnapshots(
  previous: readonly RiskSnapshot[],
  current: readonly RiskSnapshot[],
): SnapshotChange[] {
  const before = new Map(previous.map((r) => [r.id, r]));
  const after = new Map(current.map((r) => [r.id, r]));
  const changes: SnapshotChange[] = [];
  for (const risk of current) {
    const old = before.get(risk.id);
    if (!old) {
      changes.push({ riskId: risk.id, field: 'added', from: null, to: risk });
      continue;
    }
    for (const field of ['likelihood', 'impact', 'residual', 'status', 'mitigation'] as const) {
      if (canonicalJson(old[field]) !== canonicalJson(risk[field]))
        changes.push({ riskId: risk.id, field, from: old[field], to: risk[field] });
    }
  }
  for (const risk of previous)
    if (!after.has(risk.id)) changes.push({ riskId: risk.id, field: 'removed', from: risk, to: null });
  return changes;
}

export interface SignOffInput {
  readonly register: RiskRegister;
  readonly timeZone: string;
  readonly by: string;
  readonly role: string;
  readonly note?: string;
  readonly at: Date;
  /** The newest sign-off so far, if any. */
  readonly previous?: SignOffRecord;
}

export function buildSignOff(input: SignOffInput): SignOffRecord {
  const reviewer = reviewerOf(input);
  const risks = snapshotOf(input.register);
  const { signedAt } = reviewer;
  if (input.previous && input.previous.signedAt > signedAt)
    throw new SignOffError(`the previous sign-off is dated ${input.previous.signedAt}, after ${signedAt}`);
  return {
    kind: SIGN_OFF_KIND,
    schemaVersion: 1,
    ...reviewer,
    registerSha256: registerContentHash(input.register),
    risks,
    changes: diffSnapshots(input.previous?.risks ?? [], risks),
    previous: input.previous
      ? {
          signedAt: input.previous.signedAt,
          registerSha256: input.previous.registerSha256,
          by: input.previous.by,
        }
      : null,
  };
}

/** The register's review chain: quarterly, CC3.1/CC3.2/CC9.2, owned by whoever the caller names. */
export function signOffChain(owner: string): SignOffChain {
  return { id: SIGN_OFF_CHAIN_ID, cadence: SIGN_OFF_CADENCE, criteria: SIGN_OFF_CRITERIA, owner };
}

/** A sign-off as a run of its own chain, so the recorder, signer and verifier treat it as evidence. */
export function signOffRun(
  record: SignOffRecord,
  options: { timeZone: string; owner: string; runId: string },
): RunResult {
  return runOfSignOff(record, {
    chain: signOffChain(options.owner),
    timeZone: options.timeZone,
    runId: options.runId,
    figures: {
      reviewer: record.by,
      role: record.role,
      risks: record.risks.length,
      changes: record.changes.length,
      registerSha256: record.registerSha256,
    },
  });
}

/** Reads a sign-off back out of its evidence document (`details`); undefined if it is not one. */
export function signOffFromEvidence(document: unknown): SignOffRecord | undefined {
  const record = signOffOfKind<SignOffRecord>(document, SIGN_OFF_KIND);
  return record && Array.isArray(record.risks) ? record : undefined;
}

export interface RecordSignOffDeps extends SignOffRecordingDeps {
  readonly history: SignOffHistory;
}

/** Records a review: builds the sign-off against the newest one, then writes it to its signed chain. */
export async function recordSignOff(
  input: Omit<SignOffInput, 'previous'> & { readonly owner: string },
  deps: RecordSignOffDeps,
): Promise<{ record: SignOffRecord; stored: StoredEvidence }> {
  const [previous] = await deps.history.list();
  const record = buildSignOff({ ...input, ...(previous ? { previous } : {}) });
  const stored = await recordSignOffRun(
    signOffRun(record, { timeZone: input.timeZone, owner: input.owner, runId: deps.newRunId(input.at) }),
    deps,
  );
  return { record, stored };
}
