import { DateTime } from 'luxon';
import type { Verdict } from '../controls/outcome.ts';
import type { Severity } from '../notify/notification.ts';
import type { Cadence } from '../shared/period.ts';
import { InvalidPeriodError, isValidTimeZone } from '../shared/period.ts';
import {
  type Asset,
  type RegisterSettings,
  type RemediationItem,
  type Risk,
  type RiskRegister,
  residualScore,
  riskScore,
  SENSITIVE_CLASSIFICATIONS,
  STRIDE_CATEGORIES,
  type StrideCategory,
} from './register-schema.ts';

/** The newest stored verdict of a control, as the evaluation needs it (one per control). */
export interface LatestVerdict {
  readonly controlId: string;
  readonly cadence: Cadence;
  readonly periodKey: string;
  readonly verdict: Verdict;
  readonly reasons?: readonly string[];
  /** When the failing period ended (ISO instant): the incident-driven re-score window starts there. */
  readonly periodEnd?: string;
}

export const FINDING_RULES = [
  'missing-mitigation',
  'review-overdue',
  'mitigation-overdue',
  'remediation-overdue',
  'control-failing',
  'stride-gap',
  'unencrypted-at-rest',
  'acceptance-above-threshold',
  'review-not-evidenced',
  'incident-rescore',
  'readiness-not-ready',
  'review-missing',
  'document-review-overdue',
] as const;
export type FindingRule = (typeof FINDING_RULES)[number];

/** `violation`: the register breaks its own policy; `overdue`: a date passed; `flagged`: evidence disagrees. */
export type FindingCategory = 'violation' | 'overdue' | 'flagged';

export const RULE_CATEGORY: Record<FindingRule, FindingCategory> = {
  'missing-mitigation': 'violation',
  'review-overdue': 'overdue',
  'mitigation-overdue': 'overdue',
  'remediation-overdue': 'overdue',
  'control-failing': 'flagged',
  'stride-gap': 'violation',
  'unencrypted-at-rest': 'violation',
  'acceptance-above-threshold': 'violation',
  'review-not-evidenced': 'flagged',
  'incident-rescore': 'overdue',
  'readiness-not-ready': 'flagged',
  'review-missing': 'overdue',
  'document-review-overdue': 'overdue',
};

/**
 * `readiness`: an item of the pre-audit checklist (lib/audit/readiness.ts); `control` and
 * `document`: a review sign-off owed (review-findings.ts). All reminded like the register's.
 */
export type FindingSubjectKind = 'risk' | 'remediation' | 'asset' | 'readiness' | 'control' | 'document';

export interface RiskFinding {
  /**
   * Stable for one occurrence of one problem (`R2/review-overdue/2026-05-18`): the same overdue
   * review keeps its key from day to day, and a new due date (after the next review) is a new
   * occurrence. The reminder ledger counts reminders per key.
   */
  readonly key: string;
  readonly rule: FindingRule;
  readonly category: FindingCategory;
  readonly severity: Severity;
  readonly subjectKind: FindingSubjectKind;
  readonly subjectId: string;
  readonly subjectTitle: string;
  /** Owner id who must act. */
  readonly owner: string;
  /** The date that passed (review due, planned mitigation, target date). */
  readonly dueDate?: string;
  readonly daysOverdue?: number;
  readonly controlId?: string;
  readonly cadence?: Cadence;
  readonly periodKey?: string;
  readonly verdict?: Verdict;
  /** `stride-gap`: the categories with neither a risk nor a written "not applicable". */
  readonly strideCategories?: readonly StrideCategory[];
  /** One sentence the owner understands without opening the register. */
  readonly message: string;
}

export interface RiskState {
  readonly risk: Risk;
  /** Inherent score (likelihood x impact before mitigation): the threshold applies to it. */
  readonly score: number;
  /** After mitigation; the inherent score when the register states no residual. */
  readonly residualScore: number;
  readonly residualStated: boolean;
  readonly atOrAboveThreshold: boolean;
  /** `lastReviewed` + `reviewCadence`. */
  readonly nextReviewDue: string;
  readonly findings: readonly RiskFinding[];
}

/** How one STRIDE category of one asset was walked through. */
export type StrideCoverage =
  | { readonly category: StrideCategory; readonly kind: 'risks'; readonly riskIds: readonly string[] }
  | { readonly category: StrideCategory; readonly kind: 'not-applicable'; readonly reason: string }
  | { readonly category: StrideCategory; readonly kind: 'missing' };

export interface AssetState {
  readonly asset: Asset;
  /** One entry per STRIDE category, in STRIDE order. */
  readonly coverage: readonly StrideCoverage[];
  /** Categories with neither a risk nor a written "not applicable". */
  readonly missing: readonly StrideCategory[];
  readonly findings: readonly RiskFinding[];
}

export interface RemediationState {
  readonly item: RemediationItem;
  readonly findings: readonly RiskFinding[];
}

export interface RegisterEvaluation {
  /** The instant evaluated, ISO-8601. */
  readonly asOf: string;
  /** `asOf` as a calendar date in `timeZone`: the "today" every rule compares against. */
  readonly date: string;
  readonly timeZone: string;
  readonly settings: RegisterSettings;
  /** Highest score first; ties by id (R2 before R10). */
  readonly risks: readonly RiskState[];
  /** Earliest target date first. */
  readonly remediations: readonly RemediationState[];
  /** The asset inventory, in register order, with each asset's STRIDE walk-through. */
  readonly assets: readonly AssetState[];
  /** Every finding, in the order of `risks`, `remediations`, then `assets`. */
  readonly findings: readonly RiskFinding[];
}

/** What the review-evidence rule needs of a recorded sign-off (see sign-off.ts). */
export interface RecordedReview {
  /** The sign-off's calendar date in the config's zone. */
  readonly date: string;
  readonly risks: readonly { readonly id: string; readonly lastReviewed: string }[];
}

export interface EvaluateOptions {
  readonly asOf: Date;
  /** IANA zone in which "today" is cut (the config's `timeZone`). */
  readonly timeZone: string;
  /** Latest verdict per linked control; omit to evaluate from the register alone. */
  readonly latestVerdicts?: readonly LatestVerdict[];
  /**
   * The recorded sign-offs. Given (even empty), every risk's `lastReviewed` must be backed by one,
   * else "review claimed, not evidenced"; omitted, the rule is not applied (nothing was read).
   */
  readonly signOffs?: readonly RecordedReview[];
}

const CADENCE_STEP: Record<Cadence, { days?: number; weeks?: number; months?: number; years?: number }> = {
  daily: { days: 1 },
  weekly: { weeks: 1 },
  monthly: { months: 1 },
  quarterly: { months: 3 },
  annual: { years: 1 },
};

/** Calendar arithmetic on `YYYY-MM-DD`; month ends clamp (2026-11-30 + 3 months = 2027-02-28). */
export function addCadence(date: string, cadence: Cadence): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus(CADENCE_STEP[cadence]).toISODate() ?? date;
}

/** Whole days from `earlier` to `later`, both `YYYY-MM-DD`. */
export function daysBetween(earlier: string, later: string): number {
  return Math.round(
    DateTime.fromISO(later, { zone: 'UTC' }).diff(DateTime.fromISO(earlier, { zone: 'UTC' }), 'days').days,
  );
}

/** The calendar date of `instant` in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  if (!isValidTimeZone(timeZone)) throw new InvalidPeriodError(`unknown time zone "${timeZone}"`);
  const date = DateTime.fromJSDate(instant, { zone: timeZone }).toISODate();
  if (!date) throw new InvalidPeriodError(`invalid instant ${String(instant)}`);
  return date;
}

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

/**
 * The day a failing period ended (its exclusive end), in the register's zone: a period stored as
 * `2026-10-31T15:00:00.000Z` ended on 2026-11-01 in Tokyo, so a review on 2026-10-31 came before
 * the failure. An unreadable stored end keeps its written date, as before.
 */
function endedOn(periodEnd: string, timeZone: string): string {
  const instant = new Date(periodEnd);
  return Number.isNaN(instant.getTime()) ? periodEnd.slice(0, 10) : localDate(instant, timeZone);
}

/** R2 before R10, G1 before G2. */
export const byId = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function riskFindings(
  risk: Risk,
  today: string,
  timeZone: string,
  settings: RegisterSettings,
  verdicts: ReadonlyMap<string, LatestVerdict>,
): { findings: RiskFinding[]; nextReviewDue: string } {
  const score = riskScore(risk);
  const name = `Risk ${risk.id} "${risk.title}"`;
  const base = {
    subjectKind: 'risk' as const,
    subjectId: risk.id,
    subjectTitle: risk.title,
    owner: risk.owner,
  };
  const findings: RiskFinding[] = [];

  // A blank mitigation is no mitigation; `accepted` risks need their acceptance rationale written too.
  if (score >= settings.scoreThreshold && !risk.mitigation) {
    findings.push({
      ...base,
      key: `${risk.id}/missing-mitigation`,
      rule: 'missing-mitigation',
      category: 'violation',
      severity: 'high',
      message:
        `${name} scores ${score} (likelihood ${risk.likelihood} x impact ${risk.impact}), at or above the ` +
        `threshold of ${settings.scoreThreshold}, but has no written mitigation: write down how it is ` +
        `mitigated${risk.status === 'accepted' ? ' or why the risk is accepted' : ''}.`,
    });
  }

  // What an owner accepts is the residual risk: a residual still at or above the threshold is not
  // within the register's appetite, whatever the rationale says.
  const residual = residualScore(risk);
  if (risk.status === 'accepted' && residual >= settings.scoreThreshold) {
    findings.push({
      ...base,
      key: `${risk.id}/acceptance-above-threshold`,
      rule: 'acceptance-above-threshold',
      category: 'violation',
      severity: 'high',
      message:
        `${name} is accepted at a residual score of ${residual}` +
        (risk.residual ? '' : ' (no residual stated, so the inherent score)') +
        `, at or above the threshold of ${settings.scoreThreshold}: only a residual below the threshold ` +
        `can be accepted; mitigate further and record the residual score.`,
    });
  }

  // Due exactly today is not overdue: the owner has until the end of the due date.
  const nextReviewDue = addCadence(risk.lastReviewed, risk.reviewCadence);
  if (nextReviewDue < today) {
    const late = daysBetween(nextReviewDue, today);
    findings.push({
      ...base,
      key: `${risk.id}/review-overdue/${nextReviewDue}`,
      rule: 'review-overdue',
      category: 'overdue',
      severity: 'medium',
      dueDate: nextReviewDue,
      daysOverdue: late,
      message:
        `${name} was last reviewed on ${risk.lastReviewed}; its ${risk.reviewCadence} review was due on ` +
        `${nextReviewDue} and is ${days(late)} overdue: re-score it and update lastReviewed.`,
    });
  }

  // `accepted` means no further mitigation is planned, so only open and partial risks can slip.
  if (
    risk.plannedMitigationDate &&
    risk.plannedMitigationDate < today &&
    (risk.status === 'open' || risk.status === 'partial')
  ) {
    const late = daysBetween(risk.plannedMitigationDate, today);
    findings.push({
      ...base,
      key: `${risk.id}/mitigation-overdue/${risk.plannedMitigationDate}`,
      rule: 'mitigation-overdue',
      category: 'overdue',
      severity: score >= settings.scoreThreshold ? 'high' : 'medium',
      dueDate: risk.plannedMitigationDate,
      daysOverdue: late,
      message:
        `${name} is still ${risk.status === 'partial' ? 'only partially mitigated' : 'open'}: its mitigation ` +
        `was planned for ${risk.plannedMitigationDate} and is ${days(late)} overdue.`,
    });
  }

  for (const controlId of risk.linkedControls) {
    const latest = verdicts.get(controlId);
    if (!latest || latest.verdict === 'pass') continue;
    // A failure is the risk materialising: re-score within the window ("Monthly: incident-driven
    // re-score for any risk that materialized"). An error is not an incident, only missing evidence.
    if (latest.verdict === 'fail' && latest.periodEnd) {
      const failedOn = endedOn(latest.periodEnd, timeZone);
      const due = addCadence(failedOn, settings.incidentRescoreWithin);
      if (risk.lastReviewed < failedOn) {
        const late = due < today ? daysBetween(due, today) : undefined;
        findings.push({
          ...base,
          key: `${risk.id}/incident-rescore/${controlId}/${latest.cadence}/${latest.periodKey}`,
          rule: 'incident-rescore',
          category: 'overdue',
          severity: late !== undefined ? 'high' : 'medium',
          controlId,
          cadence: latest.cadence,
          periodKey: latest.periodKey,
          verdict: latest.verdict,
          dueDate: due,
          ...(late !== undefined ? { daysOverdue: late } : {}),
          message:
            `${name} materialised: its control ${controlId} failed for ${latest.periodKey}. Re-score it by ` +
            `${due} (${settings.incidentRescoreWithin} window)` +
            (late !== undefined
              ? `; the re-score is ${days(late)} overdue.`
              : '; it was last reviewed before the failure.'),
        });
      }
    }
    const why = latest.reasons?.[0] ? `: ${latest.reasons[0]}` : '';
    findings.push({
      ...base,
      key: `${risk.id}/control-failing/${controlId}/${latest.cadence}/${latest.periodKey}`,
      rule: 'control-failing',
      category: 'flagged',
      severity: latest.verdict === 'fail' ? 'high' : 'medium',
      controlId,
      cadence: latest.cadence,
      periodKey: latest.periodKey,
      verdict: latest.verdict,
      message:
        `${name} relies on control ${controlId}, which ` +
        (latest.verdict === 'fail' ? 'FAILED' : 'could not be checked (error)') +
        ` for its ${latest.cadence} period ${latest.periodKey}${why}; the mitigation may not be working.`,
    });
  }
  return { findings, nextReviewDue };
}

function remediationFindings(item: RemediationItem, today: string): RiskFinding[] {
  if (item.status === 'done' || item.targetDate >= today) return [];
  const late = daysBetween(item.targetDate, today);
  return [
    {
      key: `${item.id}/remediation-overdue/${item.targetDate}`,
      rule: 'remediation-overdue',
      category: 'overdue',
      severity: 'medium',
      subjectKind: 'remediation',
      subjectId: item.id,
      subjectTitle: item.gap,
      owner: item.owner,
      dueDate: item.targetDate,
      daysOverdue: late,
      message:
        `Remediation ${item.id} for the gap "${item.gap}" (${item.remediation}) was due on ${item.targetDate} ` +
        `and is ${days(late)} overdue; it is still ${item.status === 'in-progress' ? 'in progress' : 'open'}.`,
    },
  ];
}

/** Each STRIDE category of `asset`: the risks against it, its written "not applicable", or nothing. */
export function strideCoverage(asset: Asset, risks: readonly Risk[]): StrideCoverage[] {
  return STRIDE_CATEGORIES.map((category): StrideCoverage => {
    const riskIds = risks
      .filter((risk) => risk.asset === asset.id && risk.threat === category)
      .map((risk) => risk.id)
      .sort(byId);
    if (riskIds.length > 0) return { category, kind: 'risks', riskIds };
    const na = asset.notApplicable.find((entry) => entry.category === category);
    if (na) return { category, kind: 'not-applicable', reason: na.reason };
    return { category, kind: 'missing' };
  });
}

/**
 * An accepted risk of information disclosure against the asset, with its reason written: the one
 * thing that excuses sensitive data stored without encryption at rest.
 */
export function acceptedDisclosureRisk(asset: Asset, risks: readonly Risk[]): Risk | undefined {
  return risks.find(
    (risk) =>
      risk.asset === asset.id &&
      risk.threat === 'information-disclosure' &&
      risk.status === 'accepted' &&
      Boolean(risk.mitigation),
  );
}

/** The STRIDE walk-through and encryption rules for one asset of the inventory. */
export function assetState(asset: Asset, risks: readonly Risk[]): AssetState {
  const coverage = strideCoverage(asset, risks);
  const missing = coverage.filter((c) => c.kind === 'missing').map((c) => c.category);
  const sensitive = SENSITIVE_CLASSIFICATIONS.has(asset.classification);
  const base = {
    subjectKind: 'asset' as const,
    subjectId: asset.id,
    subjectTitle: asset.name,
    owner: asset.owner,
  };
  const findings: RiskFinding[] = [];
  if (missing.length > 0) {
    const walked = STRIDE_CATEGORIES.length - missing.length;
    findings.push({
      ...base,
      key: `${asset.id}/stride-gap`,
      rule: 'stride-gap',
      category: 'violation',
      severity: sensitive ? 'high' : 'medium',
      strideCategories: missing,
      message:
        `Asset ${asset.id} "${asset.name}" (${asset.classification}) has ${walked} of ${STRIDE_CATEGORIES.length} ` +
        `STRIDE categories walked through; no risk and no written "not applicable" for ${missing.join(', ')}: ` +
        `assess each (add a risk against ${asset.id}) or record why it cannot apply.`,
    });
  }
  const atRest = asset.encryption.atRest;
  if (sensitive && atRest.encrypted !== true && !acceptedDisclosureRisk(asset, risks)) {
    const how =
      atRest.encrypted === 'unknown'
        ? 'whether it is encrypted at rest is not recorded'
        : `it is stored without encryption at rest${atRest.detail ? ` (${atRest.detail})` : ''}`;
    findings.push({
      ...base,
      key: `${asset.id}/unencrypted-at-rest`,
      rule: 'unencrypted-at-rest',
      category: 'violation',
      severity: 'high',
      message:
        `Asset ${asset.id} "${asset.name}" is ${asset.classification}, but ${how}: encrypt it, or accept an ` +
        `information-disclosure risk against ${asset.id} with the reason written.`,
    });
  }
  return { asset, coverage, missing, findings };
}

/** A sign-off may follow the review it records by this many days (the pull request merging later). */
export const REVIEW_SIGN_OFF_GRACE_DAYS = 7;

/**
 * "Review claimed, not evidenced": a risk whose `lastReviewed` no sign-off backs. A sign-off backs
 * it when it is dated that day or up to {@link REVIEW_SIGN_OFF_GRACE_DAYS} after, and froze the risk
 * with that same `lastReviewed`. A sign-off months later does not make an old claim true.
 */
export function reviewEvidenceFindings(
  risks: readonly Risk[],
  signOffs: readonly RecordedReview[],
): RiskFinding[] {
  return risks
    .filter(
      (risk) =>
        !signOffs.some(
          (s) =>
            s.date >= risk.lastReviewed &&
            daysBetween(risk.lastReviewed, s.date) <= REVIEW_SIGN_OFF_GRACE_DAYS &&
            s.risks.some((r) => r.id === risk.id && r.lastReviewed === risk.lastReviewed),
        ),
    )
    .map((risk) => ({
      key: `${risk.id}/review-not-evidenced/${risk.lastReviewed}`,
      rule: 'review-not-evidenced' as const,
      category: 'flagged' as const,
      severity: 'medium' as const,
      subjectKind: 'risk' as const,
      subjectId: risk.id,
      subjectTitle: risk.title,
      owner: risk.owner,
      dueDate: risk.lastReviewed,
      message:
        `Risk ${risk.id} "${risk.title}" claims a review on ${risk.lastReviewed}, but no sign-off records it ` +
        '(review claimed, not evidenced): the reviewer records it with `soc2-evidence risks sign-off`.',
    }));
}

/**
 * Applies the register's rules as of one instant. Pure: the same register, instant, zone and
 * verdicts always give the same findings, so the CLI, the scheduled Lambda and tests agree.
 */
export function evaluateRegister(register: RiskRegister, options: EvaluateOptions): RegisterEvaluation {
  const today = localDate(options.asOf, options.timeZone);
  const verdicts = new Map((options.latestVerdicts ?? []).map((v) => [v.controlId, v]));
  const unevidenced = options.signOffs ? reviewEvidenceFindings(register.risks, options.signOffs) : [];
  const risks = register.risks
    .map((risk): RiskState => {
      const evaluated = riskFindings(risk, today, options.timeZone, register.settings, verdicts);
      const { nextReviewDue } = evaluated;
      const findings = [...evaluated.findings, ...unevidenced.filter((f) => f.subjectId === risk.id)];
      const score = riskScore(risk);
      return {
        risk,
        score,
        residualScore: residualScore(risk),
        residualStated: risk.residual !== undefined,
        atOrAboveThreshold: score >= register.settings.scoreThreshold,
        nextReviewDue,
        findings,
      };
    })
    .sort((a, b) => b.score - a.score || byId(a.risk.id, b.risk.id));
  const remediations = register.remediations
    .map((item): RemediationState => ({ item, findings: remediationFindings(item, today) }))
    .sort((a, b) => a.item.targetDate.localeCompare(b.item.targetDate) || byId(a.item.id, b.item.id));
  const assets = register.assets.map((asset) => assetState(asset, register.risks));
  return {
    asOf: options.asOf.toISOString(),
    date: today,
    timeZone: options.timeZone,
    settings: register.settings,
    risks,
    remediations,
    assets,
    findings: [
      ...risks.flatMap((r) => r.findings),
      ...remediations.flatMap((r) => r.findings),
      ...assets.flatMap((a) => a.findings),
    ],
  };
}

/** Keeps only what one owner must act on (the CLI's `--owner`). */
export function evaluationForOwner(evaluation: RegisterEvaluation, owner: string): RegisterEvaluation {
  const risks = evaluation.risks.filter((state) => state.risk.owner === owner);
  const remediations = evaluation.remediations.filter((state) => state.item.owner === owner);
  const assets = evaluation.assets.filter((state) => state.asset.owner === owner);
  return {
    ...evaluation,
    risks,
    remediations,
    assets,
    findings: [
      ...risks.flatMap((r) => r.findings),
      ...remediations.flatMap((r) => r.findings),
      ...assets.flatMap((a) => a.findings),
    ],
  };
}
