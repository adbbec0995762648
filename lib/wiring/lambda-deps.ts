import type { Config } from '../config/schema.ts';
import type { LambdaLogger } from './lambda-logger.ts';

/** What every Lambda's `makeHandler` receives besides its use case's deps. */
export interface LambdaDepsBase {
  readonly config: Config;
  readonly log: LambdaLogger;
}
