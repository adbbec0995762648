import { DateTime } from 'luxon';
import { type Cadence, completePeriodsSince, lastCompletePeriod, type Period } from '../shared/period.ts';
import type { ControlDefinition } from './control-definition.ts';

/**
 * The manual half of a control ("automated scripts + manual review"): a person signs off each
 * period's evidence. Sign-offs are evidence in their own chain, one per reviewed control, named so it
 * can never be a control's id (control ids are slugs, which have no dot), and it sorts beside it.
 */
export const REVIEW_CHAIN_SUFFIX = '.review';
/** A document's review chain: `document.<id>.review` (two dots, so never a control's review chain). */
export const DOCUMENT_CHAIN_PREFIX = 'document.';

/** The risk register's sign-off chain (lib/risks/sign-off.ts), quarterly. */
export const RISK_REGISTER_REVIEW_CHAIN_ID = 'risk-register-review';

/**
 * Every sign-off chain a config can have, with its cadence: what the checkpoint writer lists (each
 * once it has a head). Every control's review chain, not only `review: required` ones: a sign-off
 * recorded for any control must not be deletable unnoticed either.
 */
export function signOffChainsOf(config: {
  readonly controls: readonly Pick<ControlDefinition, 'id' | 'cadence'>[];
  readonly riskRegister?: unknown;
  readonly documents?: readonly { readonly id: string; readonly reviewCadence: Cadence }[] | undefined;
}): { readonly id: string; readonly cadence: Cadence }[] {
  return [
    ...(config.riskRegister ? [{ id: RISK_REGISTER_REVIEW_CHAIN_ID, cadence: 'quarterly' as const }] : []),
    ...config.controls.map((c) => ({ id: controlReviewChainId(c.id), cadence: c.cadence })),
    ...(config.documents ?? []).map((d) => ({ id: documentReviewChainId(d.id), cadence: d.reviewCadence })),
  ];
}

export function controlReviewChainId(controlId: string): string {
  return `${controlId}${REVIEW_CHAIN_SUFFIX}`;
}

export function documentReviewChainId(documentId: string): string {
  return `${DOCUMENT_CHAIN_PREFIX}${documentId}${REVIEW_CHAIN_SUFFIX}`;
}

/** What a chain id names: a control's review, a document's review, or neither (undefined). */
export function reviewChainSubject(
  chainId: string,
): { readonly kind: 'control' | 'document'; readonly id: string } | undefined {
  if (!chainId.endsWith(REVIEW_CHAIN_SUFFIX)) return undefined;
  const stem = chainId.slice(0, -REVIEW_CHAIN_SUFFIX.length);
  if (stem.startsWith(DOCUMENT_CHAIN_PREFIX)) {
    const id = stem.slice(DOCUMENT_CHAIN_PREFIX.length);
    return id && !id.includes('.') ? { kind: 'document', id } : undefined;
  }
  return stem && !stem.includes('.') ? { kind: 'control', id: stem } : undefined;
}

/** A configured control's review settings (the config's `review` and `reviewWithin`). */
export interface ReviewedControl extends ControlDefinition {
  /** How long after a period closes its review is due (ISO-8601 duration, in ms here). */
  readonly reviewWithinMs?: number | undefined;
}

/** What the completeness rule needs of a review sign-off's stored verdict. */
export interface ReviewVerdict {
  readonly periodKey: string;
  readonly cadence: string;
  readonly verdict: string;
  readonly figures: Readonly<Record<string, unknown>>;
}

/** What it needs of the reviewed control's own verdict for the period. */
export interface ReviewedPeriodVerdict {
  readonly periodKey: string;
  readonly cadence: string;
  readonly manifestKey: string;
}

export type ReviewGap =
  | {
      readonly kind: 'review-missing';
      readonly controlId: string;
      readonly periodKey: string;
      /** When the review was due: the period's end plus `reviewWithin`. */
      readonly dueAt: string;
    }
  | {
      readonly kind: 'review-stale';
      readonly controlId: string;
      readonly periodKey: string;
      readonly dueAt: string;
      /** The manifest the sign-off reviewed, and the period's manifest now (a re-run replaced it). */
      readonly reviewedManifestKey: string;
      readonly currentManifestKey: string;
    };

/**
 * The figures a control-review sign-off records: the manifest it reviewed (its key, unique per run,
 * is what a re-run changes) and that manifest's SHA-256.
 */
export const REVIEWED_MANIFEST_FIGURE = 'reviewedManifestKey';
export const REVIEWED_MANIFEST_SHA_FIGURE = 'reviewedManifestSha256';
export const DEFAULT_REVIEW_WITHIN_MS = 14 * 24 * 3_600_000;

/**
 * The periods of a `review: required` control whose review is owed by `asOf` (closed, and the
 * `reviewWithin` after it passed), from `addedOn` (or only the last such period without it).
 */
export function reviewsOwed(control: ReviewedControl, asOf: Date, timeZone: string): Period[] {
  if (control.review !== 'required') return [];
  const dueBy = new Date(asOf.getTime() - (control.reviewWithinMs ?? DEFAULT_REVIEW_WITHIN_MS));
  if (!control.addedOn) return [lastCompletePeriod(control.cadence, dueBy, timeZone)];
  const since = DateTime.fromISO(control.addedOn, { zone: timeZone }).toJSDate();
  return completePeriodsSince(control.cadence, since, dueBy, timeZone);
}

/**
 * A period is reviewed when a sign-off for it exists and it reviewed the evidence the period has now
 * (a re-run after the sign-off can list other accounts, so its review is owed again). A control
 * verdict that is missing is not judged here: schedule health reports the missing run itself.
 */
export function reviewGaps(
  control: ReviewedControl,
  owed: readonly Period[],
  reviews: readonly ReviewVerdict[],
  verdicts: readonly ReviewedPeriodVerdict[],
): ReviewGap[] {
  const gaps: ReviewGap[] = [];
  for (const period of owed) {
    const dueAt = new Date(
      period.end.getTime() + (control.reviewWithinMs ?? DEFAULT_REVIEW_WITHIN_MS),
    ).toISOString();
    const review = reviews.find(
      (r) => r.cadence === period.cadence && r.periodKey === period.key && r.verdict === 'pass',
    );
    if (!review) {
      gaps.push({ kind: 'review-missing', controlId: control.id, periodKey: period.key, dueAt });
      continue;
    }
    const reviewed = review.figures[REVIEWED_MANIFEST_FIGURE];
    const current = verdicts.find((v) => v.cadence === period.cadence && v.periodKey === period.key);
    if (current && typeof reviewed === 'string' && reviewed !== current.manifestKey) {
      gaps.push({
        kind: 'review-stale',
        controlId: control.id,
        periodKey: period.key,
        dueAt,
        reviewedManifestKey: reviewed,
        currentManifestKey: current.manifestKey,
      });
    }
  }
  return gaps;
}

export function describeReviewGap(gap: ReviewGap): string {
  return gap.kind === 'review-missing'
    ? `${gap.controlId}: ${gap.periodKey} has no review sign-off (due ${gap.dueAt.slice(0, 10)}; \`soc2-evidence sign-off --control ${gap.controlId} --period ${gap.periodKey}\`)`
    : `${gap.controlId}: the sign-off of ${gap.periodKey} reviewed ${gap.reviewedManifestKey}, but the period was re-run since (now ${gap.currentManifestKey}): review it again`;
}
