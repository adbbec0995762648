import type { PopulationDeclaration, PopulationSession } from '../controls/population.ts';
import type { RunResult, StoredEvidence } from '../runs/run-record.ts';

/**
 * Writes one attempt's evidence (artifacts, then the manifest that lists them) and returns where
 * it landed. Must complete before any verdict is stored: a failed write throws, and no verdict
 * then claims evidence that does not exist.
 */
export interface EvidenceRecorder {
  record(run: RunResult): Promise<StoredEvidence>;
  /**
   * Opens the sink a run writes its populations to (its own folder), before the test runs; the
   * session's `close()` lists them for {@link record}. Absent where no populations are recorded.
   */
  openPopulations?(
    run: Pick<RunResult, 'controlId' | 'cadence' | 'periodKey' | 'runId'>,
    declarations: readonly PopulationDeclaration[],
    options?: { readonly cap?: number },
  ): PopulationSession;
}

export const EVIDENCE_PREFIX = 'evidence/';

/** `evidence/<control>/<cadence>/<period>/<runId>/`: readable by a person browsing the bucket. */
export function runPrefix(run: Pick<RunResult, 'controlId' | 'cadence' | 'periodKey' | 'runId'>): string {
  return `${EVIDENCE_PREFIX}${run.controlId}/${run.cadence}/${run.periodKey}/${run.runId}/`;
}
