import * as z from 'zod';
import { parseOrThrow } from '../shared/parse.ts';

/**
 * What starts a scheduled evaluation. EventBridge Scheduler input `{"asOf":
 * "<aws.scheduler.scheduled-time>"}` (preferred: a retried invocation carries the same instant, so
 * the reminder ledger recognises it), an EventBridge rule's Scheduled Event (its `time`), or `{}`.
 */
export const riskEvaluationEventSchema = z.union([
  z.strictObject({ asOf: z.iso.datetime({ offset: true }).optional() }),
  z.looseObject({ 'detail-type': z.literal('Scheduled Event'), time: z.iso.datetime({ offset: true }) }),
]);

export class InvalidRiskEvaluationEventError extends Error {
  override name = 'InvalidRiskEvaluationEventError';
}

/** The evaluation instant: the event's, else `now`. */
export function evaluationInstant(event: unknown, now: () => Date = () => new Date()): Date {
  const data = parseOrThrow(
    riskEvaluationEventSchema,
    event ?? {},
    (message) => new InvalidRiskEvaluationEventError(message),
    'malformed evaluation event',
  );
  const when = 'time' in data ? data.time : data.asOf;
  return when ? new Date(when) : now();
}
