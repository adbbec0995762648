import { DateTime } from 'luxon';
import { documentReviewChainId } from '../controls/review-schedule.ts';
import type { RunResult } from '../runs/run-record.ts';
import type { Cadence } from '../shared/period.ts';
import { type Reviewer, type ReviewerInput, reviewerOf, signOffRun } from './sign-off.ts';

export const DOCUMENT_REVIEW_KIND = 'soc2-evidence/document-review-sign-off';
/** The figure a document sign-off records: the content hash approved (absent for a URL-only document). */
export const DOCUMENT_SHA_FIGURE = 'documentSha256';

/** A configured document as the review needs it (the config's `documents[]` fits). */
export interface ReviewedDocument {
  readonly id: string;
  readonly title: string;
  readonly path?: string | undefined;
  readonly url?: string | undefined;
  readonly owner: string;
  readonly reviewCadence: Cadence;
  readonly criteria: readonly string[];
}

export interface DocumentReviewRecord extends Reviewer {
  readonly kind: typeof DOCUMENT_REVIEW_KIND;
  readonly schemaVersion: 1;
  readonly documentId: string;
  readonly title: string;
  readonly path: string | null;
  readonly url: string | null;
  /** SHA-256 of the file's bytes as reviewed; null when the document is only a URL. */
  readonly sha256: string | null;
  readonly size: number | null;
  readonly reviewCadence: Cadence;
  /** The date the next review is due: `date` plus one `reviewCadence`. */
  readonly nextReviewDue: string;
}

const STEP: Record<Cadence, Record<string, number>> = {
  daily: { days: 1 },
  weekly: { weeks: 1 },
  monthly: { months: 1 },
  quarterly: { months: 3 },
  annual: { years: 1 },
};

/** `YYYY-MM-DD` plus one cadence (month ends clamp). */
export function nextReviewDate(date: string, cadence: Cadence): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus(STEP[cadence]).toISODate() ?? date;
}

export function buildDocumentReview(
  input: ReviewerInput & {
    readonly document: ReviewedDocument;
    readonly content?: { readonly sha256: string; readonly size: number };
  },
): DocumentReviewRecord {
  const reviewer = reviewerOf(input);
  const { document } = input;
  return {
    kind: DOCUMENT_REVIEW_KIND,
    schemaVersion: 1,
    ...reviewer,
    documentId: document.id,
    title: document.title,
    path: document.path ?? null,
    url: document.url ?? null,
    sha256: input.content?.sha256 ?? null,
    size: input.content?.size ?? null,
    reviewCadence: document.reviewCadence,
    nextReviewDue: nextReviewDate(reviewer.date, document.reviewCadence),
  };
}

/** The review as a run of `document.<id>.review`, for the cadence period it was signed in. */
export function documentReviewRun(
  record: DocumentReviewRecord,
  document: ReviewedDocument,
  options: { timeZone: string; runId: string },
): RunResult {
  return signOffRun(record, {
    chain: {
      id: documentReviewChainId(document.id),
      cadence: document.reviewCadence,
      criteria: document.criteria,
      owner: document.owner,
    },
    timeZone: options.timeZone,
    runId: options.runId,
    figures: {
      reviewer: record.by,
      role: record.role,
      [DOCUMENT_SHA_FIGURE]: record.sha256,
      nextReviewDue: record.nextReviewDue,
    },
  });
}

/** What the overdue rule needs of a document review's stored verdict. */
export interface DocumentReviewVerdict {
  readonly verdict: string;
  readonly lastAttemptAt: string;
  readonly figures: Readonly<Record<string, unknown>>;
}

export type DocumentStatus =
  | { readonly kind: 'current'; readonly reviewedOn: string; readonly nextReviewDue: string }
  | { readonly kind: 'never-reviewed' }
  | { readonly kind: 'overdue'; readonly reviewedOn: string; readonly nextReviewDue: string }
  | {
      readonly kind: 'changed';
      readonly reviewedOn: string;
      readonly reviewedSha256: string;
      readonly currentSha256: string;
    };

/**
 * Current and approved: the newest sign-off is within one review cadence of `today`, and (when the
 * file's present hash is known) it approved these very bytes. An edit after approval is not approved.
 */
export function documentStatus(
  document: ReviewedDocument,
  reviews: readonly DocumentReviewVerdict[],
  today: string,
  timeZone: string,
  currentSha256?: string,
): DocumentStatus {
  const newest = reviews
    .filter((r) => r.verdict === 'pass')
    .sort((a, b) => (a.lastAttemptAt < b.lastAttemptAt ? 1 : -1))[0];
  if (!newest) return { kind: 'never-reviewed' };
  const reviewedOn = DateTime.fromISO(newest.lastAttemptAt, { zone: timeZone }).toISODate() ?? '';
  const nextReviewDue = nextReviewDate(reviewedOn, document.reviewCadence);
  const reviewedSha = newest.figures[DOCUMENT_SHA_FIGURE];
  if (currentSha256 && typeof reviewedSha === 'string' && reviewedSha !== currentSha256)
    return { kind: 'changed', reviewedOn, reviewedSha256: reviewedSha, currentSha256 };
  if (today > nextReviewDue) return { kind: 'overdue', reviewedOn, nextReviewDue };
  return { kind: 'current', reviewedOn, nextReviewDue };
}

export function describeDocumentStatus(document: ReviewedDocument, status: DocumentStatus): string {
  switch (status.kind) {
    case 'current':
      return `${document.id}: approved ${status.reviewedOn}, next review due ${status.nextReviewDue}`;
    case 'never-reviewed':
      return `${document.id} "${document.title}" has no recorded review (\`soc2-evidence sign-off --document ${document.id}\`)`;
    case 'overdue':
      return `${document.id} "${document.title}": review overdue since ${status.nextReviewDue} (last approved ${status.reviewedOn})`;
    case 'changed':
      return `${document.id} "${document.title}" changed since its approval on ${status.reviewedOn} (SHA-256 ${status.currentSha256.slice(0, 12)}…, approved ${status.reviewedSha256.slice(0, 12)}…): review it again`;
  }
}
