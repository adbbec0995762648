import { embeddedConfig } from '../config/embedded-config.ts';
import type { Config } from '../config/schema.ts';
import type { RunControlDeps } from '../runs/run-control.ts';
import type { Env } from './clients/client-config.ts';
import type { LambdaDepsBase } from './lambda-deps.ts';
import { makeLambdaLogger } from './lambda-logger.ts';
import { makeDeployedRunDeps } from './make-deployed-run-deps.ts';

export interface WorkerDeps extends LambdaDepsBase {
  readonly run: RunControlDeps;
}

/** functions/worker at cold start; a missing variable or invalid config throws here, naming it. */
export function makeWorkerDeps(env: Env, config: Config = embeddedConfig()): WorkerDeps {
  const log = makeLambdaLogger();
  return { config, log, run: makeDeployedRunDeps(config, env, log.port).runDeps };
}
