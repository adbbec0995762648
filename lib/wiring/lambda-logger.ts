import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '../shared/logger.ts';

/**
 * The Lambda functions' logger: Powertools Logger, whose `injectLambdaContext` middleware adds the
 * request id, function name, cold start and X-Ray trace id to every line. `port` is the same logger
 * behind the `Logger` interface of lib/shared/logger.ts (`info(message, fields)` merges `fields`
 * into the JSON line), so domain code logs through it unchanged.
 */
export interface LambdaLogger {
  readonly powertools: PowertoolsLogger;
  readonly port: Logger;
}

/** `POWERTOOLS_LOG_LEVEL` and `POWERTOOLS_SERVICE_NAME` still override these defaults. */
export function makeLambdaLogger(options: { readonly logLevel?: 'INFO' | 'SILENT' } = {}): LambdaLogger {
  const powertools = new PowertoolsLogger({
    serviceName: 'soc2-evidence',
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  const emit =
    (level: 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields) powertools[level](message, fields);
      else powertools[level](message);
    };
  return { powertools, port: { info: emit('info'), warn: emit('warn'), error: emit('error') } };
}
