import { embeddedConfig } from '../config/embedded-config.ts';
import type { Config } from '../config/schema.ts';
import type { JobQueue } from '../runs/dispatch-due-controls.ts';
import type { Env } from './clients/client-config.ts';
import type { LambdaDepsBase } from './lambda-deps.ts';
import { makeLambdaLogger } from './lambda-logger.ts';
import { makeJobQueue } from './make-job-queue.ts';

export interface DispatcherDeps extends LambdaDepsBase {
  readonly queue: JobQueue;
  /** "Now" for a schedule event without `asOf`. */
  readonly clock: () => Date;
}

/** functions/dispatcher at cold start: the embedded config and the jobs queue (SQS, nothing else). */
export function makeDispatcherDeps(env: Env, config: Config = embeddedConfig()): DispatcherDeps {
  return { config, queue: makeJobQueue(env), log: makeLambdaLogger(), clock: () => new Date() };
}
