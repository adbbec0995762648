import type { ControlContext } from './control-test.ts';

/**
 * The instant a history-based check judges its period at: the period's end, or `asOf` when the run
 * is earlier (a manual run mid-period). Re-running an old period later therefore ignores reports
 * and uploads that arrived after the period closed, and reproduces the original verdict.
 */
export function periodCutoff(context: Pick<ControlContext, 'asOf' | 'period'>): Date {
  return new Date(Math.min(context.asOf.getTime(), context.period.end.getTime()));
}

export const DAY_MS = 86_400_000;

/** Whole days, rounded down, for reasons and figures. */
export function wholeDays(ms: number): number {
  return Math.floor(ms / DAY_MS);
}
