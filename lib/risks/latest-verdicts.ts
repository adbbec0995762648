import type { ResultsStore } from '../runs/results-store.ts';
import type { LatestVerdict } from './evaluate-register.ts';

/** Reads each control's newest stored verdict (one Query per control, newest period first). */
export function latestVerdictsFrom(
  results: Pick<ResultsStore, 'verdictsOf'>,
): (controlIds: readonly string[]) => Promise<LatestVerdict[]> {
  return async (controlIds) => {
    const latest = await Promise.all(
      controlIds.map(async (controlId) => (await results.verdictsOf(controlId, { limit: 1 }))[0]),
    );
    return latest
      .filter((verdict) => verdict !== undefined)
      .map((verdict) => ({
        controlId: verdict.controlId,
        cadence: verdict.cadence,
        periodKey: verdict.periodKey,
        verdict: verdict.verdict,
        reasons: verdict.reasons,
        periodEnd: verdict.periodEnd,
      }));
  };
}
