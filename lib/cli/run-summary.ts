import type { ControlRunReport } from '../runs/run-control.ts';
import { renderTable } from './table.ts';

/**
 * A backfill's result in a screenful: one row per control (periods run, how many passed, failed or
 * could not be checked, the latest verdict), then every period that did not pass with its first
 * reason, so a year of verdicts reads like the auditor's overview rather than 400 rows.
 */
export function renderBackfillSummary(reports: readonly ControlRunReport[], limit = 30): string {
  if (reports.length === 0) return 'No periods were run.';
  const byControl = new Map<string, ControlRunReport[]>();
  for (const report of reports) {
    const list = byControl.get(report.job.controlId) ?? [];
    list.push(report);
    byControl.set(report.job.controlId, list);
  }
  const rows = [...byControl.entries()].map(([controlId, list]) => {
    const count = (verdict: string) => list.filter((r) => r.outcome.verdict === verdict).length;
    const first = list[0];
    const last = list[list.length - 1];
    return [
      controlId,
      first?.job.cadence ?? '',
      `${first?.job.periodKey ?? ''}..${last?.job.periodKey ?? ''}`,
      String(list.length),
      String(count('pass')),
      String(count('fail')),
      String(count('error')),
      `${last?.outcome.verdict.toUpperCase() ?? ''}${last && last.verdict.attempts > 1 ? ` (attempt ${last.verdict.attempts})` : ''}`,
    ];
  });
  const notPassed = reports.filter((report) => report.outcome.verdict !== 'pass');
  const lines = notPassed
    .slice(0, limit)
    .map(
      (r) =>
        `  - ${r.job.controlId} ${r.job.periodKey} ${r.outcome.verdict}: ${r.outcome.reasons[0] ?? '(no reason given)'}`,
    );
  return [
    renderTable(['control', 'cadence', 'periods', 'runs', 'pass', 'fail', 'error', 'latest'], rows),
    ...(notPassed.length > 0
      ? [
          '',
          `${notPassed.length} period(s) did not pass:`,
          ...lines,
          ...(notPassed.length > limit
            ? [`  … and ${notPassed.length - limit} more (--json lists every one)`]
            : []),
        ]
      : []),
  ].join('\n');
}
