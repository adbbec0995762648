import type { Verdict } from '../controls/control-test.ts';
import { type DateRange, expectedPeriods, lastDayOf } from '../evidence/coverage.ts';
import type { Manifest } from '../evidence/manifest.ts';
import { periodFromKey } from '../periods/period.ts';

/** A manifest as exported: where it was, its hash, what it says. */
export interface ExportedRun {
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly manifest: Manifest;
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
