import { DateTime } from 'luxon';
import type { Config } from '../config/schema.ts';
import {
  controlReviewChainId,
  describeReviewGap,
  documentReviewChainId,
  reviewGaps,
  reviewsOwed,
} from '../controls/review-schedule.ts';
import { describeDocumentStatus, documentStatus } from '../reviews/document-review.ts';
import type { ResultsStore } from '../runs/results-store.ts';
import type { VerdictRecord } from '../runs/run-record.ts';
import { durationToMs } from '../shared/identifiers.ts';
import { daysBetween, type RiskFinding } from './evaluate-register.ts';

/** What the owed-review rules read: stored verdicts, sign-offs' included. */
export type ReviewVerdictRecord = Pick<
  VerdictRecord,
  'controlId' | 'cadence' | 'periodKey' | 'verdict' | 'figures' | 'lastAttemptAt' | 'manifestKey'
>;

/** Review verdicts from the results store: a bounded Query per id (a few years of quarters, newest first). */
export function reviewVerdictsFrom(
  results: Pick<ResultsStore, 'verdictsOf'>,
): (ids: readonly string[]) => Promise<ReviewVerdictRecord[]> {
  return async (ids) => (await Promise.all(ids.map((id) => results.verdictsOf(id, { limit: 400 })))).flat();
}

/** The verdict ids `reviewFindings` needs: each review-required control, its review chain, each document's chain. */
export function reviewVerdictIds(config: Pick<Config, 'controls' | 'documents'>): string[] {
  const controls = config.controls.filter((c) => c.review === 'required');
  return [
    ...controls.flatMap((c) => [c.id, controlReviewChainId(c.id)]),
    ...(config.documents ?? []).map((d) => documentReviewChainId(d.id)),
  ];
}

/**
 * Owed reviews as findings for their owners, reminded and escalated like the register's: a
 * `review: required` control's period without a sign-off of its current evidence (the control's
 * owner), and a document whose review is overdue or was never recorded (the document's owner).
 */
export function reviewFindings(
  config: Pick<Config, 'controls' | 'documents' | 'timeZone'>,
  verdicts: readonly ReviewVerdictRecord[],
  asOf: Date,
): RiskFinding[] {
  const today = DateTime.fromJSDate(asOf, { zone: config.timeZone }).toISODate() ?? '';
  const of = (id: string) => verdicts.filter((v) => v.controlId === id);
  const findings: RiskFinding[] = [];
  for (const control of config.controls.filter((c) => c.review === 'required')) {
    const reviewed = {
      ...control,
      ...(control.reviewWithin ? { reviewWithinMs: durationToMs(control.reviewWithin) } : {}),
    };
    const owed = reviewsOwed(reviewed, asOf, config.timeZone);
    for (const gap of reviewGaps(reviewed, owed, of(controlReviewChainId(control.id)), of(control.id))) {
      const dueDate = DateTime.fromISO(gap.dueAt, { zone: config.timeZone }).toISODate() ?? '';
      const daysOverdue = daysBetween(dueDate, today);
      findings.push({
        key: `${control.id}/review-missing/${control.cadence}/${gap.periodKey}${gap.kind === 'review-stale' ? `/${gap.currentManifestKey}` : ''}`,
        rule: 'review-missing',
        category: 'overdue',
        severity: daysOverdue > 30 ? 'high' : 'medium',
        subjectKind: 'control',
        subjectId: control.id,
        subjectTitle: control.title,
        owner: control.owner,
        dueDate,
        ...(daysOverdue > 0 ? { daysOverdue } : {}),
        controlId: control.id,
        cadence: control.cadence,
        periodKey: gap.periodKey,
        message: describeReviewGap(gap),
      });
    }
  }
  for (const document of config.documents ?? []) {
    const status = documentStatus(document, of(documentReviewChainId(document.id)), today, config.timeZone);
    if (status.kind === 'current') continue;
    const dueDate = status.kind === 'overdue' ? status.nextReviewDue : undefined;
    const daysOverdue = dueDate ? daysBetween(dueDate, today) : undefined;
    findings.push({
      key: `${document.id}/document-review-overdue/${dueDate ?? 'never'}`,
      rule: 'document-review-overdue',
      category: 'overdue',
      severity: 'medium',
      subjectKind: 'document',
      subjectId: document.id,
      subjectTitle: document.title,
      owner: document.owner,
      ...(dueDate ? { dueDate } : {}),
      ...(daysOverdue ? { daysOverdue } : {}),
      message: describeDocumentStatus(document, status),
    });
  }
  return findings;
}
