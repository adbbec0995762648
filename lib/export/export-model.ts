import type { Verdict } from '../controls/control-test.ts';
import { type DateRange, expectedPeriods, lastDayOf } from '../evidence/coverage.ts';
import type { Manifest } from '../evidence/manifest.ts';
import { periodFromKey } from '../periods/period.ts';

/** What the reports need of a manifest; kept per run for the whole export, so kept small. */
export interface RunSummary {
  readonly control: Manifest['control'];
  readonly period: Manifest['period'];
  readonly runId: string;
  readonly verdict: Manifest['verdict'];
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
  readonly figures: Manifest['figures'];
  readonly collectedAt: string;
  readonly expiresAt: string;
  readonly artifacts: readonly { readonly key: string; readonly size: number; readonly sha256: string }[];
  readonly chain: { readonly sequence: number; readonly previous: { readonly sequence: number } | null };
  readonly signing: { readonly keyFingerprint: string };
}

/** A manifest as exported: where it was, its hash, what it says. */
export interface ExportedRun {
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly manifest: RunSummary;
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * Slims a parsed manifest to its summary, sharing what repeats from run to run (the control, the
 * period's time zone, empty lists, the signing key) so thousands of runs cost little memory.
 */
export function summarizer(): (manifest: Manifest) => RunSummary {
  const controls = new Map<string, Manifest['control']>();
  const strings = new Map<string, string>();
  const intern = (value: string) => {
    const known = strings.get(value);
    if (known !== undefined) return known;
    if (strings.size < 10_000) strings.set(value, value);
    return value;
  };
  return (manifest) => {
    const controlKey = `${manifest.control.id}\u0000${manifest.control.owner}\u0000${manifest.control.criteria.join(',')}`;
    let control = controls.get(controlKey);
    if (!control) {
      control = manifest.control;
      controls.set(controlKey, control);
    }
    return {
      control,
      period: { ...manifest.period, timeZone: intern(manifest.period.timeZone) },
      runId: manifest.runId,
      verdict: manifest.verdict,
      reasons: manifest.reasons.length ? manifest.reasons : NONE,
      warnings: manifest.warnings.length ? manifest.warnings : NONE,
      figures: manifest.figures,
      collectedAt: manifest.collectedAt,
      expiresAt: manifest.expiresAt,
      artifacts: manifest.artifacts.map(({ key, size, sha256 }) => ({ key, size, sha256 })),
      chain: {
        sequence: manifest.chain.sequence,
        previous: manifest.chain.previous ? { sequence: manifest.chain.previous.sequence } : null,
      },
      signing: { keyFingerprint: intern(manifest.signing.keyFingerprint) },
    };
  };
}

export type CellStatus = Verdict | 'missing';
export const CELL_STATUSES: readonly CellStatus[] = ['pass', 'fail', 'error', 'missing'];

/** One control and one period: the verdict of its latest run, or `missing` when none was recorded. */
export interface MatrixCell {
  readonly periodKey: string;
  readonly start: string;
  readonly end: string;
  readonly lastDay: string;
  readonly status: CellStatus;
  readonly latest?: ExportedRun;
  /** Every run of the period, newest first. */
  readonly runs: readonly ExportedRun[];
}

export interface MatrixRow {
  readonly controlId: string;
  readonly cadence: Manifest['period']['cadence'];
  readonly criteria: readonly string[];
  readonly owner: string;
  readonly timeZone: string;
  readonly cells: readonly MatrixCell[];
}

export interface ExportModel {
  readonly exportedAt: string;
  readonly range: DateRange;
  readonly bucket: string;
  readonly rows: readonly MatrixRow[];
  readonly counts: Readonly<Record<CellStatus, number>>;
}

/**
 * The control x period matrix of an export: every period that was due in the range gets a cell,
 * so a period without evidence shows as `missing` rather than silently absent.
 */
export function buildExportModel(
  runs: readonly ExportedRun[],
  options: { readonly range: DateRange; readonly exportedAt: Date; readonly bucket: string },
): ExportModel {
  const byControl = new Map<string, ExportedRun[]>();
  for (const run of runs) {
    const list = byControl.get(run.manifest.control.id) ?? [];
    list.push(run);
    byControl.set(run.manifest.control.id, list);
  }
  const counts: Record<CellStatus, number> = { pass: 0, fail: 0, error: 0, missing: 0 };
  const rows: MatrixRow[] = [];
  for (const [controlId, list] of [...byControl].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const bySequence = [...list].sort((a, b) => b.manifest.chain.sequence - a.manifest.chain.sequence);
    const newest = bySequence[0] as ExportedRun;
    const oldest = bySequence[bySequence.length - 1] as ExportedRun;
    const { cadence, timeZone } = newest.manifest.period;
    const earliest = list.reduce((a, b) => (b.manifest.period.start < a.manifest.period.start ? b : a));
    const chainStartsHere = oldest.manifest.chain.previous === null || !options.range.from;
    const expected = expectedPeriods({
      cadence,
      timeZone,
      range: options.range,
      asOf: options.exportedAt,
      ...(chainStartsHere ? { firstKey: earliest.manifest.period.key } : {}),
    });
    const runsByPeriod = new Map<string, ExportedRun[]>();
    for (const run of bySequence) {
      const periodRuns = runsByPeriod.get(run.manifest.period.key) ?? [];
      periodRuns.push(run);
      runsByPeriod.set(run.manifest.period.key, periodRuns);
    }
    const periods = new Map(expected.map((period) => [period.key, period]));
    for (const key of runsByPeriod.keys()) {
      if (!periods.has(key)) periods.set(key, periodFromKey(cadence, key, timeZone));
    }
    const cells = [...periods.values()]
      .sort((a, b) => a.start.getTime() - b.start.getTime())
      .map((period): MatrixCell => {
        const periodRuns = runsByPeriod.get(period.key) ?? [];
        const latest = periodRuns[0];
        const status: CellStatus = latest ? latest.manifest.verdict : 'missing';
        counts[status] += 1;
        return {
          periodKey: period.key,
          start: period.start.toISOString(),
          end: period.end.toISOString(),
          lastDay: lastDayOf(period),
          status,
          ...(latest ? { latest } : {}),
          runs: periodRuns,
        };
      });
    rows.push({
      controlId,
      cadence,
      criteria: newest.manifest.control.criteria,
      owner: newest.manifest.control.owner,
      timeZone,
      cells,
    });
  }
  return {
    exportedAt: options.exportedAt.toISOString(),
    range: options.range,
    bucket: options.bucket,
    rows,
    counts,
  };
}
