import { z } from 'zod';
import { slugSchema } from '../config/identifiers.ts';
import { formatIssue } from '../config/load-config.ts';
import { CADENCES } from '../periods/period.ts';

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
  const parsed = controlJobSchema.safeParse(json);
  if (!parsed.success)
    throw new InvalidJobError(`malformed job: ${parsed.error.issues.map(formatIssue).join('; ')}`);
  return parsed.data;
}
