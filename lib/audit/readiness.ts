import type { Config } from '../config/schema.ts';
import { DAY_MS } from '../controls/evaluation-time.ts';
import type { Figure } from '../controls/outcome.ts';
import { durationToMs } from '../shared/identifiers.ts';
import { lastCompletePeriod, nextPeriod } from '../shared/period.ts';
import {
  type AuditVerdict,
  type AuditWindow,
  enclosingPeriodKey,
  type IgnoredVerdict,
  periodsInWindow,
  verdictsInWindow,
} from './audit-verdicts.ts';
import { type VerdictRef, verdictRef } from './criteria-coverage.ts';
import { type ReadinessItem, type ReadinessSection, readinessItems } from './readiness-schema.ts';
import { controlReviewsItem, documentsItem, splitReviewVerdicts } from './review-readiness.ts';

/** `unknown` whenever the evidence is missing or could not be checked: nothing is ready by default. */
export type ReadinessStatus = 'ready' | 'not-ready' | 'unknown';

export interface ReadinessItemResult {
  readonly id: string;
  readonly title: string;
  readonly section: ReadinessSection;
  /** A configured item's kind, or one computed from sign-offs (review-readiness.ts). */
  readonly kind: ReadinessItem['kind'] | 'review-sign-off' | 'document-review';
  readonly status: ReadinessStatus;
  /** One sentence each; the first says why the status is what it is. */
  readonly reasons: readonly string[];
  /** Who acts on it: a manual item's owner, or the owners of the controls that decide it. */
  readonly owners: readonly string[];
  /** The controls whose verdicts decide the item. */
  readonly controls: readonly string[];
  /** Where a person uploads a manual item, and what. */
  readonly upload?: { readonly prefix: string; readonly expects: string };
  /** The verdicts behind the status. */
  readonly evidence: readonly VerdictRef[];
  /** Numbers the status was computed from (e.g. oldestEvent, retainedDays). */
  readonly facts?: Readonly<Record<string, Figure>>;
}

export interface Readiness {
  readonly asOf: string;
  readonly from: string;
  readonly timeZone: string;
  readonly mode: 'verdicts' | 'design';
  /** True only when every item is `ready`. */
  readonly ready: boolean;
  readonly summary: Readonly<Record<ReadinessStatus, number>>;
  readonly items: readonly ReadinessItemResult[];
  readonly ignoredVerdicts: readonly IgnoredVerdict[];
}

export interface ReadinessInput {
  readonly config: Pick<Config, 'controls' | 'readiness' | 'timeZone'> & Partial<Pick<Config, 'documents'>>;
  readonly window: AuditWindow;
  /**
   * Verdict records, sign-offs' included (their chain ids tell them apart); `undefined` means they
   * were not read (every derived item is then unknown).
   */
  readonly verdicts?: readonly AuditVerdict[];
  /** Each document's present SHA-256 (files in the repository): an edit since approval is not approved. */
  readonly documentSha256?: ReadonlyMap<string, string>;
}

type ControlConfig = Config['controls'][number];

interface Verdicts {
  readonly of: (controlId: string) => readonly AuditVerdict[];
}

type Judged = Pick<ReadinessItemResult, 'status' | 'reasons' | 'evidence'> & {
  facts?: Record<string, Figure>;
};

/** Combines per-control answers: any `not-ready` wins, then any `unknown`, else `ready`. */
function worst(statuses: readonly ReadinessStatus[]): ReadinessStatus {
  if (statuses.includes('not-ready')) return 'not-ready';
  if (statuses.length === 0 || statuses.includes('unknown')) return 'unknown';
  return 'ready';
}

function latestVerdicts(controls: readonly ControlConfig[], verdicts: Verdicts): Judged {
  const evidence: VerdictRef[] = [];
  const parts = controls.map((control): { status: ReadinessStatus; reason: string } => {
    const latest = verdicts.of(control.id)[0];
    if (!latest) return { status: 'unknown', reason: `${control.id} has no verdict in the window` };
    evidence.push(verdictRef(latest));
    if (latest.verdict === 'pass')
      return { status: 'ready', reason: `${control.id} passed ${latest.periodKey}` };
    if (latest.verdict === 'fail')
      return {
        status: 'not-ready',
        reason: `${control.id} failed ${latest.periodKey}${latest.reasons[0] ? `: ${latest.reasons[0]}` : ''}`,
      };
    return {
      status: 'unknown',
      reason: `${control.id} could not be checked for ${latest.periodKey}${latest.reasons[0] ? `: ${latest.reasons[0]}` : ''}`,
    };
  });
  const status = worst(parts.map((p) => p.status));
  return { status, reasons: orderReasons(parts, status), evidence };
}

/** The reasons that explain the status first, then the rest. */
function orderReasons(
  parts: readonly { status: ReadinessStatus; reason: string }[],
  status: ReadinessStatus,
): string[] {
  return [...parts.filter((p) => p.status === status), ...parts.filter((p) => p.status !== status)].map(
    (p) => p.reason,
  );
}

function everyPeriod(
  item: Extract<ReadinessItem, { kind: 'every-period' }>,
  controls: readonly ControlConfig[],
  verdicts: Verdicts,
  window: AuditWindow,
): Judged {
  const since =
    item.lookback === undefined
      ? Number.NEGATIVE_INFINITY
      : window.asOf.getTime() - durationToMs(item.lookback);
  const buckets = periodsInWindow(item.per, window).filter((period) => period.end.getTime() > since);
  const ids = controls.map((c) => c.id).join(', ');
  if (buckets.length === 0)
    return { status: 'unknown', reasons: [`no complete ${item.per} period in the window`], evidence: [] };
  const all = controls.flatMap((control) => verdicts.of(control.id));
  const evidence: VerdictRef[] = [];
  const parts = buckets.map((bucket): { status: ReadinessStatus; reason: string } => {
    const inBucket = all.filter((v) => enclosingPeriodKey(v, item.per, window.timeZone) === bucket.key);
    const pass = inBucket.find((v) => v.verdict === 'pass');
    if (pass) {
      evidence.push(verdictRef(pass));
      return { status: 'ready', reason: `${bucket.key}: ${pass.controlId} passed ${pass.periodKey}` };
    }
    evidence.push(...inBucket.map(verdictRef));
    const failed = inBucket.find((v) => v.verdict === 'fail');
    if (failed)
      return {
        status: 'not-ready',
        reason: `${bucket.key}: no passing verdict; ${failed.controlId} failed ${failed.periodKey}${failed.reasons[0] ? ` (${failed.reasons[0]})` : ''}`,
      };
    if (inBucket.length > 0)
      return {
        status: 'unknown',
        reason: `${bucket.key}: ${ids} could not be checked (error verdicts only)`,
      };
    return { status: 'unknown', reason: `${bucket.key}: no verdict of ${ids}` };
  });
  // The period in progress is not owed yet, but its verdicts are the newest evidence: name them.
  const inProgressKey = nextPeriod(lastCompletePeriod(item.per, window.asOf, window.timeZone)).key;
  const inProgress = all.filter((v) => enclosingPeriodKey(v, item.per, window.timeZone) === inProgressKey);
  const notes = inProgress.map(
    (v) => `${inProgressKey} (in progress, not yet owed): ${v.controlId} ${v.verdict} ${v.periodKey}`,
  );
  evidence.push(...inProgress.map(verdictRef));
  const status = worst(parts.map((p) => p.status));
  const okCount = parts.filter((p) => p.status === 'ready').length;
  const headline =
    status === 'ready'
      ? `a passing verdict in each of the ${buckets.length} ${item.per} periods ${buckets[0]?.key}..${buckets[buckets.length - 1]?.key}`
      : `${okCount} of ${buckets.length} ${item.per} periods have a passing verdict`;
  return {
    status,
    reasons: [headline, ...(status === 'ready' ? [] : orderReasons(parts, status)), ...notes],
    evidence,
  };
}

function retention(
  item: Extract<ReadinessItem, { kind: 'retention' }>,
  controls: readonly ControlConfig[],
  verdicts: Verdicts,
  window: AuditWindow,
): Judged {
  const required = durationToMs(item.atLeast);
  const evidence: VerdictRef[] = [];
  const facts: Record<string, Figure> = {};
  const parts = controls.map((control): { status: ReadinessStatus; reason: string } => {
    const latest = verdicts.of(control.id)[0];
    if (!latest) return { status: 'unknown', reason: `${control.id} has no verdict in the window` };
    evidence.push(verdictRef(latest));
    if (latest.verdict === 'error')
      return { status: 'unknown', reason: `${control.id} could not be checked for ${latest.periodKey}` };
    const value = latest.figures[item.figure];
    if (value === undefined || (value !== null && typeof value !== 'string'))
      return {
        status: 'unknown',
        reason: `${control.id} ${latest.periodKey} recorded no ${item.figure} figure`,
      };
    if (value === null) {
      facts[`${control.id}.${item.figure}`] = null;
      return {
        status: 'not-ready',
        reason: `${control.id} ${latest.periodKey}: the audit log held no events`,
      };
    }
    const oldest = Date.parse(value);
    if (Number.isNaN(oldest))
      return {
        status: 'unknown',
        reason: `${control.id} ${latest.periodKey}: ${item.figure} "${value}" is not a time`,
      };
    // Retention is measured when the check ran; never later than --as-of (a re-run after it does not count).
    const recorded = Date.parse(latest.lastAttemptAt);
    const at = Math.min(
      Number.isNaN(recorded) ? Date.parse(latest.periodEnd) : recorded,
      window.asOf.getTime(),
    );
    const retainedDays = Math.floor((at - oldest) / DAY_MS);
    facts[`${control.id}.${item.figure}`] = value;
    facts[`${control.id}.retainedDays`] = retainedDays;
    if (oldest > at)
      return {
        status: 'not-ready',
        reason: `${control.id}: the oldest event (${value}) is dated after the check`,
      };
    if (at - oldest < required)
      return {
        status: 'not-ready',
        reason: `${control.id}: the oldest retained event (${value}) is ${retainedDays} days old, less than ${item.atLeast}`,
      };
    return {
      status: 'ready',
      reason: `${control.id}: events retained since ${value} (${retainedDays} days, at least ${item.atLeast})`,
    };
  });
  const status = worst(parts.map((p) => p.status));
  return { status, reasons: orderReasons(parts, status), evidence, facts };
}

function selectControls(item: ReadinessItem, controls: readonly ControlConfig[]): ControlConfig[] {
  if (item.controls) return controls.filter((c) => item.controls?.includes(c.id));
  if (item.testTypes) return controls.filter((c) => item.testTypes?.includes(c.test.type));
  // A manual item is checked by the attestation control that watches the same upload folder.
  if (item.kind === 'manual')
    return controls.filter((c) => c.test.type === 'manual-attestation' && c.test.prefix === item.prefix);
  return [];
}

function judge(
  item: ReadinessItem,
  selected: readonly ControlConfig[],
  verdicts: Verdicts | undefined,
  window: AuditWindow,
): Judged {
  if (selected.length === 0) {
    if (item.kind === 'manual')
      return {
        status: 'unknown',
        reasons: [
          `manual: no manual-attestation control checks ${item.prefix} (add one with that prefix to compute this item)`,
        ],
        evidence: [],
      };
    const what = item.controls ? item.controls.join(', ') : `a ${item.testTypes?.join(' or ')} test`;
    return { status: 'unknown', reasons: [`no control in the config is ${what}`], evidence: [] };
  }
  if (!verdicts)
    return {
      status: 'unknown',
      reasons: [
        `verdicts were not read (set SOC2_RESULTS_TABLE): decided by ${selected.map((c) => c.id).join(', ')}`,
      ],
      evidence: [],
    };
  switch (item.kind) {
    case 'latest-verdict':
    case 'manual':
      return latestVerdicts(selected, verdicts);
    case 'every-period':
      return everyPeriod(item, selected, verdicts, window);
    case 'retention':
      return retention(item, selected, verdicts, window);
  }
}

/**
 * The pre-audit checklist computed from evidence: each item `ready`, `not-ready` or `unknown`,
 * with its reasons and the verdicts behind it. Pure; JSON-serialisable (the export's readiness.json).
 */
export function computeReadiness(input: ReadinessInput): Readiness {
  const { config, window } = input;
  const split = input.verdicts ? splitReviewVerdicts(input.verdicts) : undefined;
  const inWindow = split ? verdictsInWindow(split.controls, config.controls, window) : undefined;
  const verdicts: Verdicts | undefined = inWindow && { of: (id) => inWindow.byControl.get(id) ?? [] };
  const items = readinessItems(config.readiness).map((item): ReadinessItemResult => {
    const selected = selectControls(item, config.controls);
    const judged = judge(item, selected, verdicts, window);
    const manualOwner = item.kind === 'manual' ? (item.owner ?? config.readiness?.defaultOwner) : undefined;
    const owners = manualOwner ? [manualOwner] : [...new Set(selected.map((c) => c.owner))];
    return {
      id: item.id,
      title: item.title,
      section: item.section,
      kind: item.kind,
      status: judged.status,
      reasons: judged.reasons,
      owners,
      controls: selected.map((c) => c.id),
      ...(item.kind === 'manual' ? { upload: { prefix: item.prefix, expects: item.expects } } : {}),
      evidence: judged.evidence,
      ...(judged.facts && Object.keys(judged.facts).length > 0 ? { facts: judged.facts } : {}),
    };
  });
  // Computed from sign-offs: "policies current and approved" replaces the manual upload item when
  // documents are configured; "control reviews" is added when a control requires a review.
  const documents = documentsItem(config, window, split?.reviews, input.documentSha256);
  if (documents) {
    const at = items.findIndex((item) => item.id === documents.id);
    if (at >= 0) items.splice(at, 1, documents);
    else items.unshift(documents);
  }
  const reviews = controlReviewsItem(config, window, split);
  if (reviews) items.push(reviews);
  const summary = { ready: 0, 'not-ready': 0, unknown: 0 };
  for (const item of items) summary[item.status] += 1;
  return {
    asOf: window.asOf.toISOString(),
    from: window.from,
    timeZone: window.timeZone,
    mode: input.verdicts ? 'verdicts' : 'design',
    ready: items.length > 0 && items.every((item) => item.status === 'ready'),
    summary,
    items,
    ignoredVerdicts: inWindow?.ignored ?? [],
  };
}
