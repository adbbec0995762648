import * as z from 'zod';
import { parseOrThrow } from '../shared/parse.ts';
import { CADENCES } from '../shared/period.ts';

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
  return parseOrThrow(
    scheduleEventSchema,
    event,
    (message) => new InvalidScheduleEventError(message),
    'malformed schedule event',
  );
}
