import type { RunResult } from '../../lib/runs/run-record.ts';
import { periodFromKey } from '../../lib/shared/period.ts';

/**
 * A synthetic daily run whose result.json is about `artifactKb`: the rows a control test keeps as
 * evidence. Every 97th run fails, so reports carry both verdicts.
 */
export function syntheticRun(
  controlId: string,
  periodKey: string,
  index: number,
  artifactKb: number,
): RunResult {
  const period = periodFromKey('daily', periodKey, 'UTC');
  const finished = new Date(period.end.getTime() + 5 * 60_000);
  const rows = Array.from({ length: Math.max(1, Math.round((artifactKb * 1024) / 64)) }, (_, i) => ({
    at: new Date(period.start.getTime() + i * 60_000).toISOString(),
    actor: `user-${(i * 7919 + index) % 997}`,
    action: i % 5 === 0 ? 'login' : 'read',
  }));
  return {
    controlId,
    criteria: ['CC7.2'],
    owner: 'security',
    cadence: 'daily',
    periodKey: period.key,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    runId: `${finished
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')}-${index.toString(16).padStart(6, '0')}`,
    asOf: period.end.toISOString(),
    startedAt: finished.toISOString(),
    finishedAt: finished.toISOString(),
    outcome: {
      verdict: index % 97 === 0 ? 'fail' : 'pass',
      reasons: index % 97 === 0 ? ['silent for 2 hours'] : [],
      warnings: [],
      figures: { events: rows.length, distinctUsers: 997 },
      details: null,
    },
    entries: [
      {
        kind: 'sql',
        label: 'events in period',
        target: 'app',
        text: 'select at, actor, action from audit_log where at >= $1 and at < $2',
        params: [],
        rows,
        startedAt: finished.toISOString(),
        durationMs: 3,
      },
    ],
  };
}
