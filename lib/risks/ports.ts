import type { FindingSubjectKind, RegisterEvaluation, RiskFinding } from './evaluate-register.ts';
import type { DigestKind, LedgerEntry } from './reminders.ts';

/** One subject's state on one evaluation day, as stored (history: one item per day). */
export interface StoredSubjectState {
  readonly subjectKind: FindingSubjectKind;
  readonly subjectId: string;
  readonly date: string;
  readonly asOf: string;
  readonly runId: string;
  readonly owner: string;
  readonly status: string;
  /** Risks only. */
  readonly score?: number;
  readonly likelihood?: number;
  readonly impact?: number;
  readonly nextReviewDue?: string;
  readonly findingKeys: readonly string[];
  /** The register entry as evaluated, so history shows what the register said that day. */
  readonly snapshot: Readonly<Record<string, unknown>>;
}

export interface StoredFinding extends RiskFinding {
  readonly date: string;
  readonly asOf: string;
  readonly runId: string;
}

export interface EvaluationSummary {
  readonly date: string;
  readonly asOf: string;
  readonly runId: string;
  readonly risks: number;
  readonly remediations: number;
  readonly findings: number;
  readonly findingsByRule: Readonly<Record<string, number>>;
}

/** Register state and findings with history; readable by subject and by evaluation day. */
export interface RiskStore {
  /**
   * Writes each subject's state and each finding for the evaluation's date, and the day's summary.
   * A re-run on the same day replaces that day's items (and drops findings that no longer hold).
   */
  saveEvaluation(evaluation: RegisterEvaluation, runId: string): Promise<EvaluationSummary>;
  /** Newest day first. */
  statesOf(
    subjectKind: FindingSubjectKind,
    id: string,
    options?: { limit?: number },
  ): Promise<StoredSubjectState[]>;
  /** Newest day first. */
  findingsOf(
    subjectKind: FindingSubjectKind,
    id: string,
    options?: { limit?: number },
  ): Promise<StoredFinding[]>;
  /** Everything stored for one evaluation day. */
  evaluationOn(date: string): Promise<{ states: StoredSubjectState[]; findings: StoredFinding[] }>;
  /** Newest day first. */
  evaluations(options?: { limit?: number }): Promise<EvaluationSummary[]>;
}

export interface ClaimRequest {
  readonly recipient: string;
  readonly itemKey: string;
  readonly digestId: string;
  readonly now: string;
  /** The item may be claimed only if it was last sent at or before this instant (or never). */
  readonly sentBefore: string;
  /** ...and has no claim newer than this instant. */
  readonly staleBefore: string;
  /** Stored beside the entry so the ledger is readable on its own. */
  readonly describe: { readonly subjectId: string; readonly rule: string; readonly owner: string };
}

export interface SentDigestRecord {
  readonly recipient: string;
  readonly kind: DigestKind;
  readonly digestId: string;
  readonly date: string;
  readonly sentAt: string;
  readonly messageId: string;
  readonly subject: string;
  readonly itemKeys: readonly string[];
}

/**
 * The reminder dedupe ledger. A reminder is claimed (conditional write) before it is published and
 * marked sent after SNS acknowledges it, so a retried or duplicated run cannot send it again within
 * the interval, and a run that crashes between the two leaves a claim that goes stale and is retried.
 */
export interface ReminderLedger {
  entriesFor(recipient: string): Promise<LedgerEntry[]>;
  /** True when this run now holds the claim; false when another run sent it or is sending it. */
  claim(request: ClaimRequest): Promise<boolean>;
  /** Publishing failed: drop the claim so the next run retries at once. */
  release(recipient: string, itemKey: string, digestId: string): Promise<void>;
  /** SNS acknowledged: count the reminder and clear the claim (only if still ours). */
  markSent(
    recipient: string,
    itemKey: string,
    digestId: string,
    sentAt: string,
    messageId: string,
  ): Promise<boolean>;
  recordDigest(record: SentDigestRecord): Promise<void>;
  /** Newest first. */
  digestsFor(recipient: string, options?: { limit?: number }): Promise<SentDigestRecord[]>;
}
