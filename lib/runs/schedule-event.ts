import { z } from 'zod';
import { formatIssue } from '../config/load-config.ts';
import { CADENCES } from '../periods/period.ts';

/** The input EventBridge Scheduler passes to the dispatcher (`{"cadence":"monthly"}`). */
export const scheduleEventSchema = z.strictObject({
  cadence: z.enum(CADENCES),
  /** Backfill: dispatch as of this instant instead of now. */
  asOf: z.iso.datetime({ offset: true }).optional(),
  /** Only these controls. */
  controlIds: z.array(z.string()).optional(),
});
export type ScheduleEvent = z.output<typeof scheduleEventSchema>;

export class InvalidScheduleEventError extends Error {
  override name = 'InvalidScheduleEventError';
}

export function parseScheduleEvent(event: unknown): ScheduleEvent {
  const parsed = scheduleEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidScheduleEventError(
      `malformed schedule event: ${parsed.error.issues.map(formatIssue).join('; ')}`,
    );
  }
  return parsed.data;
}
