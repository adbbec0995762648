import middy from '@middy/core';
import {
  InvalidRestoreEventError,
  type RestoreJobEvent,
  restoreJobEventSchema,
  validateRestoreJob,
} from '../../lib/restore/restore-validation.ts';
import { lambdaContext, logErrors, validateEvent } from '../../lib/wiring/lambda-middleware.ts';
import type { RestoreValidatorDeps } from '../../lib/wiring/make-restore-validator-deps.ts';

/**
 * EventBridge "Restore Job State Change" (aws.backup, COMPLETED, restore testing plan): verify the
 * restored database, record evidence and verdict, report SUCCESSFUL/FAILED to AWS Backup. A
 * malformed event throws InvalidRestoreEventError naming what is wrong.
 */
export function makeHandler(deps: RestoreValidatorDeps) {
  return middy(async (event: RestoreJobEvent) => validateRestoreJob(event, deps.validation))
    .use(lambdaContext(deps.log))
    .use(logErrors(deps.log))
    .use(
      validateEvent(
        restoreJobEventSchema,
        (message) => new InvalidRestoreEventError(message),
        'not an AWS Backup "Restore Job State Change" event',
      ),
    );
}
