import middy from '@middy/core';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { parseRestoreJobEvent, validateRestoreJob } from '../../lib/restore/restore-validation.ts';
import { makeRestoreValidationDeps } from '../../lib/wiring/make-restore-validation-deps.ts';
import { makeDeployedRunDeps } from '../../lib/wiring/make-run-deps.ts';

// Built once per cold start; a missing variable or invalid config fails here, naming it.
const { clients, resolveConnection, runDeps } = makeDeployedRunDeps(embeddedConfig());
const deps = makeRestoreValidationDeps({ runDeps, clients, resolveConnection });

/**
 * EventBridge "Restore Job State Change" (aws.backup, COMPLETED, restore testing plan): verify the
 * restored database, record evidence and verdict, report SUCCESSFUL/FAILED to AWS Backup. A
 * malformed event throws InvalidRestoreEventError naming what is wrong.
 */
export const handler = middy(async (event: unknown) => validateRestoreJob(parseRestoreJobEvent(event), deps));
