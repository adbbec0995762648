import type { Cadence } from '../shared/period.ts';
import type { AttemptRecord, VerdictRecord } from './run-record.ts';

/** Read and write verdicts and their attempt history. Every read is a Query. */
export interface ResultsStore {
  /** Appends the attempt to history, then makes it the period's verdict (one item per period). */
  recordAttempt(attempt: AttemptRecord): Promise<VerdictRecord>;
  verdictFor(controlId: string, cadence: Cadence, periodKey: string): Promise<VerdictRecord | undefined>;
  /** Newest period first. */
  verdictsOf(controlId: string, options?: { limit?: number }): Promise<VerdictRecord[]>;
  verdictsForPeriod(cadence: Cadence, periodKey: string): Promise<VerdictRecord[]>;
  attemptsFor(controlId: string, cadence: Cadence, periodKey: string): Promise<AttemptRecord[]>;
}
