import { embeddedConfig } from '../config/embedded-config.ts';
import type { Config } from '../config/schema.ts';
import type { RestoreValidationDeps } from '../restore/restore-validation.ts';
import type { Env } from './clients/client-config.ts';
import type { LambdaDepsBase } from './lambda-deps.ts';
import { makeLambdaLogger } from './lambda-logger.ts';
import { makeRestoreValidationDeps } from './make-restore-validation-deps.ts';
import { makeDeployedRunDeps } from './make-run-deps.ts';

export interface RestoreValidatorDeps extends LambdaDepsBase {
  readonly validation: RestoreValidationDeps;
}

/** functions/restore-validator at cold start: the runner's wiring plus AWS Backup and RDS. */
export function makeRestoreValidatorDeps(env: Env, config: Config = embeddedConfig()): RestoreValidatorDeps {
  const log = makeLambdaLogger();
  const { clients, resolveConnection, runDeps } = makeDeployedRunDeps(config, env, log.port);
  return {
    config,
    log,
    validation: makeRestoreValidationDeps({ runDeps, clients, resolveConnection, env }),
  };
}
