import type { Verdict } from '../controls/control-test.ts';
import { type DateRange, expectedPeriods, lastDayOf } from '../evidence/coverage.ts';
import type { Manifest } from '../evidence/manifest.ts';
import { periodFromKey } from '../periods/period.ts';

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
  readonly chain: { readonly sequence: number; readonly previous: { readonly sequence: number } | null };
  readonly signing: { readonly keyFingerprint: string };
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * A manifest as exported: where it was, its hash, and a compact copy of what the reports need.
 * One is kept per run for the whole export, so repeated values (control, time zone, period keys,
 * file names, key fingerprint) are shared and instants are numbers; `manifest` rebuilds the
 * readable summary on demand, while the reports are written.
 */
export class ExportedRun {
  constructor(
    readonly manifestSha256: string,
    readonly control: Manifest['control'],
    readonly cadence: Manifest['period']['cadence'],
    readonly periodKey: string,
    readonly timeZone: string,
    readonly periodStartMs: number,
    private readonly periodEndMs: number,
    readonly runId: string,
    readonly verdict: Manifest['verdict'],
    private readonly reasons: readonly string[],
    private readonly warnings: readonly string[],
    private readonly figures: Manifest['figures'],
    private readonly collectedMs: number,
    private readonly expiresMs: number,
    /** File name, size and SHA-256 of each artifact in the run folder. */
    private readonly files: readonly (readonly [string, number, string])[],
    readonly sequence: number,
    readonly startsChain: boolean,
    readonly keyFingerprint: string,
  ) {}

  get runPrefix(): string {
    return `evidence/${this.control.id}/${this.cadence}/${this.periodKey}/${this.runId}/`;
  }

  get manifestKey(): string {
    return `${this.runPrefix}manifest.json`;
  }

  get manifest(): RunSummary {
    const prefix = this.runPrefix;
    return {
      control: this.control,
      period: {
        cadence: this.cadence,
        key: this.periodKey,
        start: new Date(this.periodStartMs).toISOString(),
        end: new Date(this.periodEndMs).toISOString(),
        timeZone: this.timeZone,
      },
      runId: this.runId,
      verdict: this.verdict,
      reasons: this.reasons,
      warnings: this.warnings,
      figures: this.figures,
      collectedAt: new Date(this.collectedMs).toISOString(),
      expiresAt: new Date(this.expiresMs).toISOString(),
      artifacts: this.files.map(([name, size, sha256]) => ({ key: `${prefix}${name}`, size, sha256 })),
      chain: { sequence: this.sequence, previous: this.startsChain ? null : { sequence: this.sequence - 1 } },
      signing: { keyFingerprint: this.keyFingerprint },
    };
  }
}

/** Builds compact {@link ExportedRun}s, sharing what repeats from run to run. */
export function summarizer(): (
  manifestKey: string,
  manifestSha256: string,
  manifest: Manifest,
) => ExportedRun {
  const controls = new Map<string, Manifest['control']>();
  const strings = new Map<string, string>();
  const intern = (value: string) => {
    const known = strings.get(value);
    if (known !== undefined) return known;
    if (strings.size < 50_000) strings.set(value, value);
    return value;
  };
  return (manifestKey, manifestSha256, manifest) => {
    const controlKey = `${manifest.control.id}\u0000${manifest.control.owner}\u0000${manifest.control.criteria.join(',')}`;
    let control = controls.get(controlKey);
    if (!control) {
      control = manifest.control;
      controls.set(controlKey, control);
    }
    const prefix = manifestKey.slice(0, manifestKey.lastIndexOf('/') + 1);
    const run = new ExportedRun(
      manifestSha256,
      control,
      manifest.period.cadence,
      intern(manifest.period.key),
      intern(manifest.period.timeZone),
      Date.parse(manifest.period.start),
      Date.parse(manifest.period.end),
      manifest.runId,
      manifest.verdict,
      manifest.reasons.length ? manifest.reasons : NONE,
      manifest.warnings.length ? manifest.warnings : NONE,
      manifest.figures,
      Date.parse(manifest.collectedAt),
      Date.parse(manifest.expiresAt),
      manifest.artifacts.map(({ key, size, sha256 }) => [
        intern(key.startsWith(prefix) ? key.slice(prefix.length) : key),
        size,
        sha256,
      ]),
      manifest.chain.sequence,
      manifest.chain.previous === null,
      intern(manifest.signing.keyFingerprint),
    );
    if (run.manifestKey !== manifestKey) {
      // Stored somewhere other than its own run folder: keep the real location for the reports.
      return Object.defineProperty(run, 'manifestKey', { value: manifestKey });
    }
    return run;
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
    const list = byControl.get(run.control.id) ?? [];
    list.push(run);
    byControl.set(run.control.id, list);
  }
  const counts: Record<CellStatus, number> = { pass: 0, fail: 0, error: 0, missing: 0 };
  const rows: MatrixRow[] = [];
  for (const [controlId, list] of [...byControl].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const bySequence = [...list].sort((a, b) => b.sequence - a.sequence);
    const newest = bySequence[0] as ExportedRun;
    const oldest = bySequence[bySequence.length - 1] as ExportedRun;
    const { cadence, timeZone } = newest;
    const earliest = list.reduce((a, b) => (b.periodStartMs < a.periodStartMs ? b : a));
    const chainStartsHere = oldest.startsChain || !options.range.from;
    const expected = expectedPeriods({
      cadence,
      timeZone,
      range: options.range,
      asOf: options.exportedAt,
      ...(chainStartsHere ? { firstKey: earliest.periodKey } : {}),
    });
    const runsByPeriod = new Map<string, ExportedRun[]>();
    for (const run of bySequence) {
      const periodRuns = runsByPeriod.get(run.periodKey) ?? [];
      periodRuns.push(run);
      runsByPeriod.set(run.periodKey, periodRuns);
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
        const status: CellStatus = latest ? latest.verdict : 'missing';
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
      criteria: newest.control.criteria,
      owner: newest.control.owner,
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
