import type { Verdict } from '../controls/outcome.ts';
import {
  type DateRange,
  DUE_GRACE_MS,
  expectedPeriods,
  lastDayOf,
  periodInRange,
} from '../evidence/coverage.ts';
import type { Cadence } from '../shared/period.ts';
import type { ChainPhase } from './check-chain.ts';
import type { ParsedManifest } from './check-manifests.ts';
import { describePeriods, type Finding } from './findings.ts';

/** One control's line in the report, before its problems are counted. */
export interface ControlDraft {
  readonly controlId: string;
  readonly cadence: string;
  readonly manifests: number;
  readonly orphans: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly head?: { readonly sequence: number; readonly periodKey: string; readonly expiresAt: string };
  /** Periods in view: every period that was due, plus recorded ones in the range not yet due. */
  readonly expectedPeriods: number;
  /** Of those, the periods with a manifest on the chain. */
  readonly coveredPeriods: number;
  /** Periods that were due and have no manifest. */
  readonly missingPeriods: readonly string[];
  /** Verdict of each covered period (its latest run on the chain). */
  readonly verdicts: Readonly<Record<Verdict, number>>;
  readonly keys: readonly string[];
}

export interface CoverageInput {
  readonly controlId: string;
  /** Every parsed manifest of the control (at least one). */
  readonly manifests: readonly ParsedManifest[];
  readonly chain: Pick<ChainPhase, 'orphans' | 'entersRange' | 'head'>;
  readonly range: DateRange;
  readonly asOf: Date;
  readonly graceMs?: number;
}

export interface CoveragePhase {
  readonly draft: ControlDraft;
  readonly problems: readonly Finding[];
}

/**
 * Phase 6: one control's coverage: a manifest on the chain for every period that was due from the
 * chain's start (or the range's) to `asOf`; a gap is `period-missing`, a missing end `chain-truncated`.
 */
export function checkCoverage(input: CoverageInput): CoveragePhase {
  const { controlId, manifests: list, chain, range, asOf } = input;
  const problems: Finding[] = [];
  const { orphans, head } = chain;
  const chained = list.filter((parsed) => !orphans.has(parsed));
  const pick = (better: (a: ParsedManifest, b: ParsedManifest) => boolean) =>
    chained.reduce((a, b) => (better(b, a) ? b : a));
  const latest = pick((a, b) => a.manifest.chain.sequence > b.manifest.chain.sequence);
  const cadence = latest.manifest.period.cadence as Cadence;
  const timeZone = latest.manifest.period.timeZone;
  const lowest = pick((a, b) => a.manifest.chain.sequence < b.manifest.chain.sequence);
  const earliest = pick((a, b) => a.manifest.period.start < b.manifest.period.start);
  const firstKey = chain.entersRange.has(lowest) ? undefined : earliest.manifest.period.key;
  const expected = expectedPeriods({
    cadence,
    timeZone,
    range,
    asOf,
    graceMs: input.graceMs ?? DUE_GRACE_MS,
    ...(firstKey ? { firstKey } : {}),
  });
  const latestPerPeriod = new Map<string, ParsedManifest>();
  for (const parsed of chained) {
    const current = latestPerPeriod.get(parsed.manifest.period.key);
    if (!current || parsed.manifest.chain.sequence > current.manifest.chain.sequence) {
      latestPerPeriod.set(parsed.manifest.period.key, parsed);
    }
  }
  const missing = expected.filter((period) => !latestPerPeriod.has(period.key));
  const lastCovered = expected.reduce(
    (index, period, i) => (latestPerPeriod.has(period.key) ? i : index),
    -1,
  );
  const trailing = missing.filter((period) => expected.indexOf(period) > lastCovered);
  const gaps = missing.filter((period) => expected.indexOf(period) < lastCovered);
  for (const period of gaps) {
    problems.push({
      controlId,
      periodKey: period.key,
      code: 'period-missing',
      message: `${controlId}, ${cadence} period ${period.key}: no manifest, though the period closed on ${lastDayOf(period)}: its run never happened or its evidence was removed`,
    });
  }
  if (trailing.length > 0) {
    const last = latestPerPeriod.get(expected[lastCovered]?.key ?? '') ?? latest;
    problems.push({
      controlId,
      periodKey: trailing[0]?.key,
      code: 'chain-truncated',
      message: `${controlId}: the chain ends at sequence ${head?.manifest.chain.sequence ?? last.manifest.chain.sequence} (period ${last.manifest.period.key}, expired ${last.manifest.expiresAt}) but ${cadence} period(s) ${describePeriods(trailing.map((period) => period.key))} were due by ${asOf.toISOString()}: the chain's end was removed, or those runs never happened`,
    });
  }
  // Periods shown: every period that was due, plus any recorded in the range that is not due yet.
  const verdicts: Record<Verdict, number> = { pass: 0, fail: 0, error: 0 };
  const shown = new Set(expected.map((period) => period.key));
  for (const [key, parsed] of latestPerPeriod) {
    if (shown.has(key) || periodInRange(parsed.manifest.period, range)) {
      shown.add(key);
      verdicts[parsed.manifest.verdict] += 1;
    }
  }
  const sequences = list.map((parsed) => parsed.manifest.chain.sequence);
  const draft: ControlDraft = {
    controlId,
    cadence,
    manifests: list.length,
    orphans: orphans.size,
    firstSequence: Math.min(...sequences),
    lastSequence: Math.max(...sequences),
    ...(head
      ? {
          head: {
            sequence: head.manifest.chain.sequence,
            periodKey: head.manifest.period.key,
            expiresAt: head.manifest.expiresAt,
          },
        }
      : {}),
    expectedPeriods: shown.size,
    coveredPeriods: shown.size - missing.length,
    missingPeriods: missing.map((period) => period.key),
    verdicts,
    keys: [...new Set(list.map((parsed) => parsed.manifest.signing.keyFingerprint))],
  };
  return { draft, problems };
}
