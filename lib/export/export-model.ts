import type { Verdict } from '../controls/outcome.ts';
import { type DateRange, expectedPeriods, lastDayOf } from '../evidence/coverage.ts';
import type { Manifest } from '../evidence/manifest.ts';
import { type Cadence, periodFromKey } from '../shared/period.ts';

/** What the reports need of a manifest. */
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
  readonly chain: { readonly sequence: number; readonly startsChain: boolean };
  readonly signing: { readonly keyFingerprint: string };
}

/** A manifest as exported: where it was, its hash, what it says. */
export interface ExportedRun {
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly manifest: RunSummary;
}

export function summarizeRun(manifestKey: string, manifestSha256: string, manifest: Manifest): ExportedRun {
  return {
    manifestKey,
    manifestSha256,
    manifest: {
      control: manifest.control,
      period: manifest.period,
      runId: manifest.runId,
      verdict: manifest.verdict,
      reasons: manifest.reasons,
      warnings: manifest.warnings,
      figures: manifest.figures,
      collectedAt: manifest.collectedAt,
      expiresAt: manifest.expiresAt,
      artifacts: manifest.artifacts.map(({ key, size, sha256 }) => ({ key, size, sha256 })),
      chain: { sequence: manifest.chain.sequence, startsChain: manifest.chain.previous === null },
      signing: { keyFingerprint: manifest.signing.keyFingerprint },
    },
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

/** One control (and cadence) across the range. */
export interface MatrixRow {
  readonly controlId: string;
  readonly cadence: Cadence;
  readonly criteria: readonly string[];
  readonly owner: string;
  readonly timeZone: string;
  readonly cells: readonly MatrixCell[];
}

/** A row without its runs: what the reports need before they stream the rows themselves. */
export interface RowOverview {
  readonly controlId: string;
  readonly cadence: Cadence;
  /** The criteria the control's newest manifest names. */
  readonly criteria: readonly string[];
  readonly columns: readonly { readonly key: string; readonly start: string }[];
  readonly counts: Readonly<Record<CellStatus, number>>;
  readonly start?: string;
  readonly end?: string;
}

/**
 * Everything the reports read. Totals and row overviews are small; `rows()` streams the rows (one
 * control's runs at a time), and may be called once per report section.
 */
export interface ReportSource {
  readonly exportedAt: string;
  readonly range: DateRange;
  readonly bucket: string;
  readonly counts: Readonly<Record<CellStatus, number>>;
  readonly overview: readonly RowOverview[];
  readonly keyFingerprints: readonly string[];
  rows(): AsyncIterable<MatrixRow>;
}

export interface ModelOptions {
  readonly range: DateRange;
  readonly exportedAt: Date;
  readonly bucket: string;
}

/**
 * The row of one control and cadence: every period that was due in the range gets a cell, so a
 * period without evidence shows as `missing` rather than silently absent.
 */
export function buildRow(runs: readonly ExportedRun[], options: ModelOptions): MatrixRow {
  const bySequence = [...runs].sort((a, b) => b.manifest.chain.sequence - a.manifest.chain.sequence);
  const newest = bySequence[0] as ExportedRun;
  const oldest = bySequence[bySequence.length - 1] as ExportedRun;
  const { cadence, timeZone } = newest.manifest.period;
  const earliest = runs.reduce((a, b) => (b.manifest.period.start < a.manifest.period.start ? b : a));
  const chainStartsHere = oldest.manifest.chain.startsChain || !options.range.from;
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
      return {
        periodKey: period.key,
        start: period.start.toISOString(),
        end: period.end.toISOString(),
        lastDay: lastDayOf(period),
        status: latest ? latest.manifest.verdict : 'missing',
        ...(latest ? { latest } : {}),
        runs: periodRuns,
      };
    });
  return {
    controlId: newest.manifest.control.id,
    cadence,
    criteria: newest.manifest.control.criteria,
    owner: newest.manifest.control.owner,
    timeZone,
    cells,
  };
}

/**
 * Rows from runs in bucket-key order (control, then cadence, then period), built one control and
 * cadence at a time so only that group's runs are in memory.
 */
export async function* rowsOf(
  runs: AsyncIterable<ExportedRun> | Iterable<ExportedRun>,
  options: ModelOptions,
): AsyncGenerator<MatrixRow> {
  let group: ExportedRun[] = [];
  let groupKey: string | undefined;
  for await (const run of runs) {
    const key = `${run.manifest.control.id}/${run.manifest.period.cadence}`;
    if (groupKey !== undefined && key !== groupKey) {
      yield buildRow(group, options);
      group = [];
    }
    groupKey = key;
    group.push(run);
  }
  if (group.length > 0) yield buildRow(group, options);
}

export function overviewOf(row: MatrixRow): RowOverview {
  const counts: Record<CellStatus, number> = { pass: 0, fail: 0, error: 0, missing: 0 };
  for (const cell of row.cells) counts[cell.status] += 1;
  const first = row.cells[0];
  const last = row.cells[row.cells.length - 1];
  return {
    controlId: row.controlId,
    cadence: row.cadence,
    criteria: row.criteria,
    columns: row.cells.map((cell) => ({ key: cell.periodKey, start: cell.start })),
    counts,
    ...(first ? { start: first.start } : {}),
    ...(last ? { end: last.end } : {}),
  };
}

/** A report source over runs read as many times as needed (a spill file, or an array). */
export async function reportSource(
  readRuns: () => AsyncIterable<ExportedRun> | Iterable<ExportedRun>,
  options: ModelOptions,
): Promise<ReportSource> {
  const overview: RowOverview[] = [];
  const counts: Record<CellStatus, number> = { pass: 0, fail: 0, error: 0, missing: 0 };
  const fingerprints = new Set<string>();
  const withKeys = async function* () {
    for await (const run of readRuns()) {
      fingerprints.add(run.manifest.signing.keyFingerprint);
      yield run;
    }
  };
  for await (const row of rowsOf(withKeys(), options)) {
    const summary = overviewOf(row);
    overview.push(summary);
    for (const status of CELL_STATUSES) counts[status] += summary.counts[status];
  }
  return {
    exportedAt: options.exportedAt.toISOString(),
    range: options.range,
    bucket: options.bucket,
    counts,
    overview: overview.sort((a, b) => (a.controlId < b.controlId ? -1 : a.controlId > b.controlId ? 1 : 0)),
    keyFingerprints: [...fingerprints],
    rows: () => rowsOf(readRuns(), options),
  };
}
