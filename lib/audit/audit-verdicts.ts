import type { Verdict } from '../controls/outcome.ts';
import type { VerdictRecord } from '../runs/run-record.ts';
import {
  CADENCES,
  type Cadence,
  lastCompletePeriod,
  type Period,
  periodContaining,
  periodFromKey,
  previousPeriod,
} from '../shared/period.ts';

/**
 * What the audit views need of a verdict: a results-store record (`VerdictRecord`) fits as is; an
 * exported manifest converts with `auditVerdictFromManifest`.
 */
export type AuditVerdict = Pick<
  VerdictRecord,
  | 'controlId'
  | 'cadence'
  | 'periodKey'
  | 'periodStart'
  | 'periodEnd'
  | 'verdict'
  | 'reasons'
  | 'figures'
  | 'lastAttemptAt'
  | 'evidenceKey'
  | 'manifestKey'
>;

/** The part of an exported manifest summary (lib/export's `RunSummary`) the audit views read. */
export interface ManifestLike {
  readonly control: { readonly id: string };
  readonly period: {
    readonly cadence: Cadence;
    readonly key: string;
    readonly start: string;
    readonly end: string;
  };
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly figures: AuditVerdict['figures'];
  readonly collectedAt: string;
  readonly artifacts: readonly { readonly key: string }[];
}

/** An exported run as an audit verdict (the export reads manifests, not the results table). */
export function auditVerdictFromManifest(manifestKey: string, manifest: ManifestLike): AuditVerdict {
  return {
    controlId: manifest.control.id,
    cadence: manifest.period.cadence,
    periodKey: manifest.period.key,
    periodStart: manifest.period.start,
    periodEnd: manifest.period.end,
    verdict: manifest.verdict,
    reasons: manifest.reasons,
    figures: manifest.figures,
    lastAttemptAt: manifest.collectedAt,
    evidenceKey:
      manifest.artifacts.find((a) => a.key.endsWith('/result.json'))?.key ?? manifest.artifacts[0]?.key ?? '',
    manifestKey,
  };
}

/**
 * The audit window: periods whose last day falls on or after `from` (the export's convention, so
 * a year from 2025-12-01 holds 2025-12..2026-11, 2025-Q4..2026-Q3 and the year 2025) and that had
 * ended by `asOf`. Later periods are not yet due; a verdict for one is ignored as future-dated.
 */
export interface AuditWindow {
  readonly asOf: Date;
  /** `YYYY-MM-DD` in the config's time zone. */
  readonly from: string;
  readonly timeZone: string;
}

/** A verdict left out of the window, and why. */
export interface IgnoredVerdict {
  readonly controlId: string;
  readonly cadence: string;
  readonly periodKey: string;
  readonly reason: string;
}

/** `access-review quarterly 2026-Q3`: how a verdict is named in reasons and evidence lists. */
export function verdictName(verdict: Pick<AuditVerdict, 'controlId' | 'cadence' | 'periodKey'>): string {
  return `${verdict.controlId} ${verdict.cadence} ${verdict.periodKey}`;
}

/** The period's last calendar day in its zone: the day before `end`. */
function lastDay(period: Period): string {
  const lastMs = period.end.getTime() - 1;
  return period.timeZone === 'UTC'
    ? new Date(lastMs).toISOString().slice(0, 10)
    : new Intl.DateTimeFormat('en-CA', { timeZone: period.timeZone }).format(new Date(lastMs));
}

export function periodInWindow(period: Period, window: AuditWindow): boolean {
  return lastDay(period) >= window.from && period.end.getTime() <= window.asOf.getTime();
}

/** Every complete period of `cadence` in the window, oldest first. */
export function periodsInWindow(cadence: Cadence, window: AuditWindow): Period[] {
  const periods: Period[] = [];
  let period = lastCompletePeriod(cadence, window.asOf, window.timeZone);
  // Walk back from the newest complete period; bounded by the window's start.
  for (let guard = 0; guard < 100_000 && lastDay(period) >= window.from; guard++) {
    periods.unshift(period);
    period = previousPeriod(period);
  }
  return periods;
}

export interface VerdictsInWindow {
  /** Accepted verdicts per control, newest period first. */
  readonly byControl: ReadonlyMap<string, readonly AuditVerdict[]>;
  readonly ignored: readonly IgnoredVerdict[];
}

/**
 * Sorts verdicts into the window. A verdict is ignored (and said so) when its period key does not
 * parse or does not match its stated bounds, its cadence is not the control's, its period had not
 * ended by `asOf` (future-dated), or its period is before the window.
 */
export function verdictsInWindow(
  verdicts: readonly AuditVerdict[],
  controls: readonly { readonly id: string; readonly cadence: Cadence }[],
  window: AuditWindow,
): VerdictsInWindow {
  const cadenceOf = new Map(controls.map((control) => [control.id, control.cadence]));
  const byControl = new Map<string, AuditVerdict[]>();
  const ignored: IgnoredVerdict[] = [];
  const seen = new Set<string>();
  for (const verdict of verdicts) {
    const ignore = (reason: string) =>
      ignored.push({
        controlId: verdict.controlId,
        cadence: verdict.cadence,
        periodKey: verdict.periodKey,
        reason,
      });
    const cadence = cadenceOf.get(verdict.controlId);
    if (cadence === undefined) {
      ignore('no such control in the config');
      continue;
    }
    if (verdict.cadence !== cadence) {
      ignore(`cadence ${verdict.cadence} is not the control's (${cadence})`);
      continue;
    }
    if (
      !(CADENCES as readonly string[]).includes(verdict.cadence) ||
      !['pass', 'fail', 'error'].includes(verdict.verdict)
    ) {
      ignore('malformed verdict record');
      continue;
    }
    let period: Period;
    try {
      period = periodFromKey(verdict.cadence, verdict.periodKey, window.timeZone);
    } catch {
      ignore(`period key does not parse in ${window.timeZone}`);
      continue;
    }
    if (
      Date.parse(verdict.periodEnd) !== period.end.getTime() ||
      Date.parse(verdict.periodStart) !== period.start.getTime()
    ) {
      ignore(`stated bounds ${verdict.periodStart}..${verdict.periodEnd} do not match ${verdict.periodKey}`);
      continue;
    }
    if (period.end.getTime() > window.asOf.getTime()) {
      ignore(`period had not ended by ${window.asOf.toISOString()} (future-dated)`);
      continue;
    }
    if (!periodInWindow(period, window)) continue; // before the window: simply out of range
    const key = verdictName(verdict);
    if (seen.has(key)) {
      ignore('duplicate record for the same control and period');
      continue;
    }
    seen.add(key);
    const list = byControl.get(verdict.controlId) ?? [];
    list.push(verdict);
    byControl.set(verdict.controlId, list);
  }
  for (const list of byControl.values())
    list.sort((a, b) => Date.parse(b.periodEnd) - Date.parse(a.periodEnd));
  return { byControl, ignored };
}

/** The period of `per` that contains a verdict's period start (a month's verdict belongs to its quarter). */
export function enclosingPeriodKey(verdict: AuditVerdict, per: Cadence, timeZone: string): string {
  return periodContaining(per, new Date(verdict.periodStart), timeZone).key;
}
