import type { ControlOutcome, EvidenceEntry, Figure, Verdict } from '../controls/outcome.ts';
import type { WrittenPopulation } from '../controls/population.ts';
import type { Cadence } from '../shared/period.ts';

/** Sortable, unique per attempt: `20261201T000012Z-3fa9c1`. */
export function newRunId(
  startedAt: Date,
  random: () => string = () => Math.random().toString(16).slice(2, 8),
): string {
  return `${startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}-${random()}`;
}

/** Everything one attempt produced, before storage. */
export interface RunResult {
  readonly controlId: string;
  readonly criteria: readonly string[];
  readonly owner: string;
  readonly cadence: Cadence;
  readonly periodKey: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly runId: string;
  readonly asOf: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: ControlOutcome;
  readonly entries: readonly EvidenceEntry[];
  /** Populations the run already wrote to its folder; the manifest lists them. */
  readonly populations?: readonly WrittenPopulation[];
  /** Which of the control's evidence chains this run extends. @default 'scheduled' */
  readonly chainKind?: 'scheduled' | 'events';
}

/** Where an attempt's evidence landed; recorded with the verdict so the hash can be checked later. */
export interface StoredEvidence {
  readonly evidenceKey: string;
  readonly evidenceSha256: string;
  readonly manifestKey: string;
  readonly manifestSha256: string;
}

/** The stored verdict item: one per control and period, updated by each attempt. */
export interface VerdictRecord {
  readonly controlId: string;
  readonly cadence: Cadence;
  readonly periodKey: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
  readonly figures: Readonly<Record<string, Figure>>;
  readonly runId: string;
  readonly attempts: number;
  readonly lastAttemptAt: string;
  readonly evidenceKey: string;
  readonly evidenceSha256: string;
  readonly manifestKey: string;
  readonly manifestSha256: string;
}

export interface AttemptRecord extends Omit<VerdictRecord, 'attempts' | 'lastAttemptAt'> {
  readonly startedAt: string;
  readonly finishedAt: string;
  /**
   * The job's `asOf` (the schedule's instant): a job delivered again finds its attempt by it and
   * records nothing new. Absent on attempts stored before it was recorded.
   */
  readonly asOf?: string;
}
