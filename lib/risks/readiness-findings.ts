import { DateTime } from 'luxon';
import type { AuditVerdict, AuditWindow } from '../audit/audit-verdicts.ts';
import type { Readiness, ReadinessItemResult } from '../audit/readiness.ts';
import type { ResultsStore } from '../runs/results-store.ts';
import type { Cadence } from '../shared/period.ts';
import type { RiskFinding } from './evaluate-register.ts';

/**
 * The pre-audit checklist items that are not ready, as findings for their owners' digests: one per
 * item and owner, reminded and escalated like the register's findings. Only `not-ready` (the
 * evidence says no): an `unknown` item (no verdict yet, or an error) is already an `error` notice or
 * a schedule-health gap for the control's owner, and reminding of it daily would say nothing new.
 * An item with no owner reaches no one here (`readiness` prints it as unassigned).
 */
export function readinessFindings(readiness: Readiness): RiskFinding[] {
  return readiness.items
    .filter((item) => item.status === 'not-ready')
    .flatMap((item) =>
      item.owners.map(
        (owner): RiskFinding => ({
          key: `readiness/${item.id}/${owner}`,
          rule: 'readiness-not-ready',
          category: 'flagged',
          severity: 'medium',
          subjectKind: 'readiness',
          subjectId: item.id,
          subjectTitle: item.title,
          owner,
          ...controlOf(item),
          message: readinessMessage(item),
        }),
      ),
    );
}

/** The verdict that decided a single-control item, so the digest names the control and period. */
function controlOf(item: ReadinessItemResult): Partial<RiskFinding> {
  const decisive = item.evidence.find((e) => e.verdict !== 'pass') ?? item.evidence[0];
  if (!decisive) return {};
  return {
    controlId: decisive.controlId,
    cadence: decisive.cadence,
    periodKey: decisive.periodKey,
    verdict: decisive.verdict,
  };
}

function readinessMessage(item: ReadinessItemResult): string {
  const status =
    item.status === 'not-ready' ? 'is not ready' : 'cannot be shown ready (its evidence is missing)';
  const why = item.reasons[0] ? `: ${item.reasons[0]}` : '';
  const upload = item.upload
    ? ` Upload ${item.upload.expects} to ${item.upload.prefix}.`
    : item.controls.length > 0
      ? ` It is decided by ${item.controls.join(', ')}; it clears once their verdicts do.`
      : '';
  return `Pre-audit checklist item "${item.title}" ${status}${why}.${upload}`;
}

/** Verdicts per period of each cadence in a year: what a one-year readiness window can hold. */
const PERIODS_PER_YEAR: Record<Cadence, number> = {
  daily: 366,
  weekly: 53,
  monthly: 12,
  quarterly: 4,
  annual: 1,
};

/**
 * Reads each control's verdicts of the last year or so (one bounded Query per control, newest
 * first): enough for the readiness window, never the whole history.
 */
export function readinessVerdictsFrom(
  results: Pick<ResultsStore, 'verdictsOf'>,
): (controls: readonly { readonly id: string; readonly cadence: Cadence }[]) => Promise<AuditVerdict[]> {
  return async (controls) =>
    (
      await Promise.all(
        controls.map((control) =>
          results.verdictsOf(control.id, { limit: PERIODS_PER_YEAR[control.cadence] + 2 }),
        ),
      )
    ).flat();
}

/** The digest's readiness window: the year up to `asOf` in the config's zone (as `readiness` defaults). */
export function readinessWindow(asOf: Date, timeZone: string): AuditWindow {
  const from = DateTime.fromJSDate(asOf, { zone: timeZone }).minus({ years: 1 }).toISODate() ?? '';
  return { asOf, from, timeZone };
}
