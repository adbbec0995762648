import { DateTime } from 'luxon';
import type { Config } from '../config/schema.ts';
import {
  controlReviewChainId,
  describeReviewGap,
  documentReviewChainId,
  reviewChainSubject,
  reviewGaps,
  reviewsOwed,
} from '../controls/review-schedule.ts';
import { describeDocumentStatus, documentStatus } from '../reviews/document-review.ts';
import { durationToMs } from '../shared/identifiers.ts';
import { type AuditVerdict, type AuditWindow, periodInWindow } from './audit-verdicts.ts';
import { type VerdictRef, verdictRef } from './criteria-coverage.ts';
import type { ReadinessSection } from './readiness-schema.ts';

/** A readiness item computed from sign-offs (readiness.ts's `ReadinessItemResult` accepts it). */
export interface ReviewReadinessItem {
  readonly id: string;
  readonly title: string;
  readonly section: ReadinessSection;
  readonly kind: 'review-sign-off' | 'document-review';
  readonly status: 'ready' | 'not-ready' | 'unknown';
  readonly reasons: readonly string[];
  readonly owners: readonly string[];
  readonly controls: readonly string[];
  readonly evidence: readonly VerdictRef[];
}

/** Sign-off verdicts (chains `<control>.review`, `document.<id>.review`) apart from control verdicts. */
export function splitReviewVerdicts(verdicts: readonly AuditVerdict[]): {
  controls: AuditVerdict[];
  reviews: AuditVerdict[];
} {
  const controls: AuditVerdict[] = [];
  const reviews: AuditVerdict[] = [];
  for (const verdict of verdicts) (reviewChainSubject(verdict.controlId) ? reviews : controls).push(verdict);
  return { controls, reviews };
}

type ReviewConfig = Pick<Config, 'controls' | 'timeZone' | 'documents'>;

/**
 * "Manual control reviews signed off": every owed period in the window of every `review: required`
 * control has a sign-off of its current evidence. Undefined when no control requires a review.
 */
export function controlReviewsItem(
  config: ReviewConfig,
  window: AuditWindow,
  verdicts: { controls: readonly AuditVerdict[]; reviews: readonly AuditVerdict[] } | undefined,
): ReviewReadinessItem | undefined {
  const controls = config.controls.filter((c) => c.review === 'required');
  if (controls.length === 0) return undefined;
  const base = {
    id: 'control-reviews',
    title: 'Manual control reviews signed off',
    section: 'evidence-collection' as const,
    kind: 'review-sign-off' as const,
    owners: [...new Set(controls.map((c) => c.owner))],
    controls: controls.map((c) => c.id),
  };
  if (!verdicts)
    return {
      ...base,
      status: 'unknown',
      reasons: ['verdicts were not read (set SOC2_RESULTS_TABLE): the review sign-offs are verdicts too'],
      evidence: [],
    };
  const reasons: string[] = [];
  const evidence: VerdictRef[] = [];
  let owedCount = 0;
  for (const control of controls) {
    const reviewed = {
      ...control,
      ...(control.reviewWithin ? { reviewWithinMs: durationToMs(control.reviewWithin) } : {}),
    };
    const owed = reviewsOwed(reviewed, window.asOf, window.timeZone).filter((p) => periodInWindow(p, window));
    owedCount += owed.length;
    const reviews = verdicts.reviews.filter((v) => v.controlId === controlReviewChainId(control.id));
    const own = verdicts.controls.filter((v) => v.controlId === control.id);
    evidence.push(...reviews.filter((r) => owed.some((p) => p.key === r.periodKey)).map(verdictRef));
    reasons.push(...reviewGaps(reviewed, owed, reviews, own).map(describeReviewGap));
  }
  const status: ReviewReadinessItem['status'] =
    reasons.length > 0 ? 'not-ready' : owedCount === 0 ? 'unknown' : 'ready';
  const headline =
    status === 'ready'
      ? `all ${owedCount} owed review(s) of ${base.controls.join(', ')} are signed off`
      : status === 'unknown'
        ? `no review of ${base.controls.join(', ')} was owed in the window yet`
        : `${reasons.length} of ${owedCount} owed review(s) missing or outdated`;
  return { ...base, status, reasons: [headline, ...reasons], evidence };
}

/**
 * "Security policies current and approved", computed: every configured document has a sign-off
 * within its review cadence and, when its file's hash is given, of these very bytes.
 */
export function documentsItem(
  config: ReviewConfig,
  window: AuditWindow,
  reviews: readonly AuditVerdict[] | undefined,
  currentSha256: ReadonlyMap<string, string> = new Map(),
): ReviewReadinessItem | undefined {
  const documents = config.documents ?? [];
  if (documents.length === 0) return undefined;
  const base = {
    id: 'security-policies',
    title: 'Security policies current and approved',
    section: 'documentation' as const,
    kind: 'document-review' as const,
    owners: [...new Set(documents.map((d) => d.owner))],
    controls: documents.map((d) => documentReviewChainId(d.id)),
  };
  if (!reviews)
    return {
      ...base,
      status: 'unknown',
      reasons: ['verdicts were not read (set SOC2_RESULTS_TABLE): document reviews are verdicts too'],
      evidence: [],
    };
  const today = DateTime.fromJSDate(window.asOf, { zone: window.timeZone }).toISODate() ?? '';
  const evidence: VerdictRef[] = [];
  const parts = documents.map((document) => {
    // Reviews recorded after the check time do not count (an --as-of in the past).
    const mine = reviews.filter(
      (r) =>
        r.controlId === documentReviewChainId(document.id) &&
        Date.parse(r.lastAttemptAt) <= window.asOf.getTime(),
    );
    evidence.push(...mine.slice(0, 1).map(verdictRef));
    const status = documentStatus(document, mine, today, window.timeZone, currentSha256.get(document.id));
    return { ok: status.kind === 'current', reason: describeDocumentStatus(document, status) };
  });
  const bad = parts.filter((p) => !p.ok);
  return {
    ...base,
    status: bad.length > 0 ? 'not-ready' : 'ready',
    reasons: [
      bad.length > 0
        ? `${bad.length} of ${documents.length} document(s) not current and approved`
        : `all ${documents.length} document(s) approved within their review cadence`,
      ...bad.map((p) => p.reason),
      ...parts.filter((p) => p.ok).map((p) => p.reason),
    ],
    evidence,
  };
}
