import middy from '@middy/core';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { dispatchDueControls } from '../../lib/runs/dispatch-due-controls.ts';
import { parseScheduleEvent } from '../../lib/runs/schedule-event.ts';
import { jsonLogger } from '../../lib/shared/logger.ts';
import { makeJobQueue } from '../../lib/wiring/make-job-queue.ts';

const config = embeddedConfig();
const queue = makeJobQueue();
const log = jsonLogger();

/** Invoked by the cadence's EventBridge schedule: enqueue one job per due control. */
export const handler = middy(async (event: unknown) => {
  const request = parseScheduleEvent(event);
  const jobs = await dispatchDueControls(
    config,
    {
      cadence: request.cadence,
      asOf: request.asOf ? new Date(request.asOf) : new Date(),
      controlIds: request.controlIds,
    },
    queue,
  );
  log.info('dispatched due controls', {
    cadence: request.cadence,
    jobs: jobs.map((job) => `${job.controlId}@${job.periodKey}`),
  });
  return { dispatched: jobs.length };
});
