import { createHash } from 'node:crypto';
import * as z from 'zod';
import { slugSchema } from '../shared/identifiers.ts';
import { parseOrThrow } from '../shared/parse.ts';
import { CADENCES } from '../shared/period.ts';

/** One SQS message: run this control for this period. */
export const controlJobSchema = z.strictObject({
  controlId: slugSchema,
  cadence: z.enum(CADENCES),
  periodKey: z.string().min(4).max(16),
  /** The dispatch instant, so a re-delivered job evaluates "as of" the same moment. */
  asOf: z.iso.datetime({ offset: true }),
});
export type ControlJob = z.output<typeof controlJobSchema>;

/** The message can never succeed (not JSON, wrong shape, unknown control): it belongs in the DLQ. */
export class InvalidJobError extends Error {
  override name = 'InvalidJobError';
}

export function parseControlJob(body: string): ControlJob {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new InvalidJobError(`message body is not JSON: ${body.slice(0, 80)}`, { cause: error });
  }
  return parseOrThrow(controlJobSchema, json, (message) => new InvalidJobError(message), 'malformed job');
}

/**
 * The SQS FIFO deduplication id of a job: derived from what the job is (control, cadence, period)
 * and the schedule's instant (`asOf`, the scheduled time the schedule passes), never from the clock,
 * so a re-delivered schedule or a retried dispatch yields the same id and SQS drops the copy. A
 * SHA-256 keeps it within SQS's 128 characters however long the control id is.
 */
export function jobDeduplicationId(job: ControlJob): string {
  return createHash('sha256')
    .update(JSON.stringify([job.controlId, job.cadence, job.periodKey, new Date(job.asOf).toISOString()]))
    .digest('hex');
}
