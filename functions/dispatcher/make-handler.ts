import middy from '@middy/core';
import { dispatchDueControls } from '../../lib/runs/dispatch-due-controls.ts';
import {
  InvalidScheduleEventError,
  type ScheduleEvent,
  scheduleEventSchema,
} from '../../lib/runs/schedule-event.ts';
import { lambdaContext, logErrors, validateEvent } from '../../lib/wiring/lambda-middleware.ts';
import type { DispatcherDeps } from '../../lib/wiring/make-dispatcher-deps.ts';

/** The cadence's EventBridge schedule (`{"cadence":"monthly"}`): enqueue one job per due control. */
export function makeHandler(deps: DispatcherDeps) {
  return middy(async (event: ScheduleEvent) => {
    const jobs = await dispatchDueControls(
      deps.config,
      {
        cadence: event.cadence,
        asOf: event.asOf ? new Date(event.asOf) : deps.clock(),
        controlIds: event.controlIds,
      },
      deps.queue,
    );
    deps.log.port.info('dispatched due controls', {
      cadence: event.cadence,
      jobs: jobs.map((job) => `${job.controlId}@${job.periodKey}`),
    });
    return { dispatched: jobs.length };
  })
    .use(lambdaContext(deps.log))
    .use(logErrors(deps.log))
    .use(
      validateEvent(
        scheduleEventSchema,
        (message) => new InvalidScheduleEventError(message),
        'malformed schedule event',
      ),
    );
}
