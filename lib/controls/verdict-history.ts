import type { ResultsStore } from '../runs/results-store.ts';
import type { ControlDefinition } from './control-definition.ts';
import type { VerdictHistoryPort } from './ports.ts';

/**
 * Schedule health's view of our own results: the configured controls and, per control, its stored
 * verdicts (one Query on the control's partition, never a Scan). Each read is recorded compactly.
 */
export function makeVerdictHistory(
  controls: readonly ControlDefinition[],
  results: ResultsStore,
): VerdictHistoryPort {
  return {
    controls,
    async verdictsOf(controlId, evidence, options = {}) {
      const verdicts = await results.verdictsOf(controlId, options);
      evidence.add({
        kind: 'api',
        label: `verdicts of ${controlId}`,
        service: 'dynamodb',
        operation: 'Query',
        request: {
          partition: `CONTROL#${controlId}`,
          sortKeyPrefix: 'VERDICT#',
          ...(options.limit ? { newest: options.limit } : {}),
        },
        response: {
          count: verdicts.length,
          verdicts: verdicts.map((v) => ({
            cadence: v.cadence,
            periodKey: v.periodKey,
            verdict: v.verdict,
            attempts: v.attempts,
            lastAttemptAt: v.lastAttemptAt,
            runId: v.runId,
          })),
        },
        at: new Date().toISOString(),
      });
      return verdicts;
    },
    async attemptsFor(controlId, cadence, periodKey, evidence) {
      const attempts = await results.attemptsFor(controlId, cadence, periodKey);
      evidence.add({
        kind: 'api',
        label: `attempts of ${controlId} for ${periodKey}`,
        service: 'dynamodb',
        operation: 'Query',
        request: { partition: `CONTROL#${controlId}`, sortKeyPrefix: `ATTEMPT#${cadence}#${periodKey}#` },
        response: {
          count: attempts.length,
          attempts: attempts.map((a) => ({
            runId: a.runId,
            verdict: a.verdict,
            startedAt: a.startedAt,
            reasons: a.reasons,
          })),
        },
        at: new Date().toISOString(),
      });
      return attempts;
    },
  };
}
