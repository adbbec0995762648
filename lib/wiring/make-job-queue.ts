import { makeSqsJobQueue } from '../adapters/sqs/sqs-job-queue.ts';
import type { JobQueue } from '../runs/dispatch-due-controls.ts';
import { loadRuntimeResources } from '../shared/runtime-env.ts';
import { lazyClient } from './clients/lazy-client.ts';
import { makeSqsClient } from './clients/sqs-client.ts';

/** The dispatcher's one dependency: the jobs queue named by the environment the stack sets. */
export function makeJobQueue(env: Readonly<Record<string, string | undefined>> = process.env): JobQueue {
  const { jobsQueueUrl } = loadRuntimeResources(env, ['jobsQueueUrl']);
  return makeSqsJobQueue(
    lazyClient(() => makeSqsClient(env)),
    jobsQueueUrl,
  );
}
