import { DateTime } from 'luxon';
import type { Verdict } from '../controls/outcome.ts';
import type { ChainKind } from '../evidence/chain-head-store.ts';
import {
  type DateRange,
  DUE_GRACE_MS,
  type ExpectedPeriodsInput,
  expectedPeriods,
  lastDayOf,
  periodInRange,
} from '../evidence/coverage.ts';
import { type Cadence, type Period, periodContaining } from '../shared/period.ts';
import type { ChainPhase } from './check-chain.ts';
import type { ParsedManifest } from './check-manifests.ts';
import { describePeriods, type Finding } from './findings.ts';

/** One control's line in the report, before its problems are counted. */
export interface ControlDraft {
  readonly controlId: string;
  /** `events` for a control's event-driven chain (restore tests), which owes no period. */
  readonly chainKind: ChainKind;
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

/** What a signed checkpoint says about the control: it governs what is owed. */
export interface DeclaredControl {
  readonly cadence: Cadence;
  readonly timeZone: string;
  /** First day in force: a manifest is owed for every period from the one holding this day. */
  readonly addedOn: string;
}

export interface CoverageInput {
  readonly controlId: string;
  /** @default 'scheduled' */
  readonly chainKind?: ChainKind;
  /** Every parsed manifest of the chain; may be empty when a checkpoint declares the control. */
  readonly manifests: readonly ParsedManifest[];
  readonly declared?: DeclaredControl;
  readonly chain: Pick<ChainPhase, 'orphans' | 'entersRange' | 'head'>;
  readonly range: DateRange;
  readonly asOf: Date;
  readonly graceMs?: number;
  /** Computes the periods owed; pass {@link expectedPeriodsOnce} to share them across controls. */
  readonly periodsOwed?: (input: ExpectedPeriodsInput) => readonly Period[];
}

/**
 * Controls with the same cadence, time zone and start owe the same periods in a range (a config's
 * controls mostly share `addedOn`): computed once per verification, not once per control, since
 * the calendar walk was most of coverage's time on large archives.
 */
export function expectedPeriodsOnce(): (input: ExpectedPeriodsInput) => readonly Period[] {
  const known = new Map<string, readonly Period[]>();
  return (input) => {
    const id = JSON.stringify([
      input.cadence,
      input.timeZone,
      input.range.from ?? null,
      input.range.to ?? null,
      input.asOf.getTime(),
      input.firstKey ?? null,
      input.graceMs ?? null,
    ]);
    let periods = known.get(id);
    if (!periods) {
      periods = expectedPeriods(input);
      known.set(id, periods);
    }
    return periods;
  };
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
  const chainKind = input.chainKind ?? 'scheduled';
  const { declared } = input;
  const chained = list.filter((parsed) => !orphans.has(parsed));
  const pick = (better: (a: ParsedManifest, b: ParsedManifest) => boolean) =>
    chained.length === 0 ? undefined : chained.reduce((a, b) => (better(b, a) ? b : a));
  const latest = pick((a, b) => a.manifest.chain.sequence > b.manifest.chain.sequence);
  const lowest = pick((a, b) => a.manifest.chain.sequence < b.manifest.chain.sequence);
  const cadence = (
    declared && chainKind === 'scheduled' ? declared.cadence : latest?.manifest.period.cadence
  ) as Cadence;
  // One cadence per chain: a manifest of another cadence cannot say where this one's periods start.
  const sameCadence = chained.filter((parsed) => parsed.manifest.period.cadence === cadence);
  const earliest =
    sameCadence.length === 0
      ? undefined
      : sameCadence.reduce((a, b) => (b.manifest.period.start < a.manifest.period.start ? b : a));
  const timeZone = declared?.timeZone ?? latest?.manifest.period.timeZone ?? 'UTC';
  // What is owed starts at addedOn when a checkpoint declares it, else at the chain's first manifest.
  const firstKey = declared
    ? periodContaining(cadence, DateTime.fromISO(declared.addedOn, { zone: timeZone }).toJSDate(), timeZone)
        .key
    : lowest && chain.entersRange.has(lowest)
      ? undefined
      : earliest?.manifest.period.key;
  const expected =
    chainKind === 'events'
      ? []
      : (input.periodsOwed ?? expectedPeriods)({
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
    const due = `${cadence} period(s) ${describePeriods(trailing.map((period) => period.key))} were due by ${asOf.toISOString()}`;
    problems.push({
      controlId,
      periodKey: trailing[0]?.key,
      code: 'chain-truncated',
      message: last
        ? `${controlId}: the chain ends at sequence ${head?.manifest.chain.sequence ?? last.manifest.chain.sequence} (period ${last.manifest.period.key}, expired ${last.manifest.expiresAt}) but ${due}: the chain's end was removed, or those runs never happened`
        : `${controlId}: configured (a signed checkpoint lists it, in force since ${declared?.addedOn ?? '?'}) but the archive holds none of its manifests, and ${due}: the control's evidence was removed, or its runs never happened`,
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
    chainKind,
    cadence,
    manifests: list.length,
    orphans: orphans.size,
    firstSequence: sequences.length ? Math.min(...sequences) : 0,
    lastSequence: sequences.length ? Math.max(...sequences) : 0,
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
