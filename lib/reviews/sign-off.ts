import { DateTime } from 'luxon';
import type { Figure } from '../controls/outcome.ts';
import type { EvidenceRecorder } from '../evidence/evidence-recorder.ts';
import type { ResultsStore } from '../runs/results-store.ts';
import type { AttemptRecord, RunResult, StoredEvidence } from '../runs/run-record.ts';
import { type Cadence, periodContaining, periodFromKey } from '../shared/period.ts';

/**
 * A sign-off is a person's signed statement about something reviewed (the risk register, one
 * period of a control's evidence, a policy document). Every kind is recorded the same way: as a run
 * of a chain of its own, so the recorder, the signer, the checkpoint writer, `export` and `verify`
 * treat it as evidence with no special case; and as a verdict (`pass`) in the results table, so
 * schedule health and readiness find "is period P reviewed" with one Query.
 */
export class SignOffError extends Error {
  override name = 'SignOffError';
}

/** Who signed, and when; common to every sign-off record. */
export interface Reviewer {
  readonly by: string;
  readonly role: string;
  readonly note: string | null;
  readonly signedAt: string;
  /** `signedAt` as a calendar date in the config's zone. */
  readonly date: string;
}

export interface ReviewerInput {
  readonly by: string;
  readonly role: string;
  readonly note?: string | undefined;
  readonly at: Date;
  readonly timeZone: string;
}

export function reviewerOf(input: ReviewerInput): Reviewer {
  const by = input.by.trim();
  const role = input.role.trim();
  if (!by) throw new SignOffError('a sign-off needs the reviewer (--by)');
  if (!role) throw new SignOffError('a sign-off needs the reviewer role (--role)');
  return {
    by,
    role,
    note: input.note?.trim() ? input.note.trim() : null,
    signedAt: input.at.toISOString(),
    date: DateTime.fromJSDate(input.at, { zone: input.timeZone }).toISODate() ?? '',
  };
}

/** The chain a kind of sign-off extends: its id (the manifest's control id), cadence and criteria. */
export interface SignOffChain {
  readonly id: string;
  readonly cadence: Cadence;
  readonly criteria: readonly string[];
  readonly owner: string;
}

export interface SignOffRunOptions {
  readonly chain: SignOffChain;
  /** The period the sign-off is evidence for. @default the chain's period containing `signedAt` */
  readonly periodKey?: string;
  readonly timeZone: string;
  readonly runId: string;
  /** Shown in the manifest (and so in the export's index) without opening the document. */
  readonly figures: Readonly<Record<string, Figure>>;
}

/** A sign-off as a run of its chain: the whole record is the evidence document's `details`. */
export function signOffRun(
  record: { readonly kind: string; readonly signedAt: string },
  options: SignOffRunOptions,
): RunResult {
  const { chain, timeZone } = options;
  const period = options.periodKey
    ? periodFromKey(chain.cadence, options.periodKey, timeZone)
    : periodContaining(chain.cadence, new Date(record.signedAt), timeZone);
  return {
    controlId: chain.id,
    criteria: [...chain.criteria],
    owner: chain.owner,
    cadence: chain.cadence,
    periodKey: period.key,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    runId: options.runId,
    asOf: record.signedAt,
    startedAt: record.signedAt,
    finishedAt: record.signedAt,
    outcome: { verdict: 'pass', reasons: [], warnings: [], figures: { ...options.figures }, details: record },
    entries: [],
  };
}

/** Reads a sign-off back out of its evidence document (`details`); undefined if it is not of `kind`. */
export function signOffFromEvidence<T extends { readonly kind: string }>(
  document: unknown,
  kind: T['kind'],
): T | undefined {
  const details = (document as { details?: unknown } | null)?.details as { kind?: unknown } | undefined;
  if (!details || typeof details !== 'object' || details.kind !== kind) return undefined;
  return details as T;
}

/** A chain's sign-offs read back (newest first), e.g. from the evidence bucket. */
export interface SignOffHistory<T> {
  list(): Promise<T[]>;
}

export interface SignOffRecordingDeps {
  readonly recorder: EvidenceRecorder;
  readonly newRunId: (at: Date) => string;
  /** Where the sign-off's verdict goes; omitted, only the evidence is written (pure tests). */
  readonly results?: Pick<ResultsStore, 'recordAttempt'>;
}

/**
 * Writes the sign-off to its signed chain, then its verdict: evidence first, as for every run, so a
 * verdict never claims evidence that does not exist.
 */
export async function recordSignOffRun(run: RunResult, deps: SignOffRecordingDeps): Promise<StoredEvidence> {
  const stored = await deps.recorder.record(run);
  if (deps.results) {
    const attempt: AttemptRecord = {
      controlId: run.controlId,
      cadence: run.cadence,
      periodKey: run.periodKey,
      periodStart: run.periodStart,
      periodEnd: run.periodEnd,
      verdict: run.outcome.verdict,
      reasons: run.outcome.reasons,
      warnings: run.outcome.warnings,
      figures: run.outcome.figures,
      runId: run.runId,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      asOf: run.asOf,
      ...stored,
    };
    await deps.results.recordAttempt(attempt);
  }
  return stored;
}
