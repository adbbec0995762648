import middy from '@middy/core';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { type CheckpointDeps, writeCheckpoint } from '../../lib/evidence/write-checkpoint.ts';
import { jsonLogger } from '../../lib/shared/logger.ts';
import { makeDeployedCheckpointDeps } from '../../lib/wiring/make-checkpoint-deps.ts';

/**
 * Scheduled (at least daily): writes the next signed checkpoint, even when nothing changed. Throwing
 * lets the scheduler retry; a retry repairs whatever a crashed attempt left half written.
 */
export const makeHandler = (deps: CheckpointDeps, log = jsonLogger()) =>
  middy(async () => {
    const written = await writeCheckpoint(deps);
    log.info('checkpoint written', { ...written });
    return written;
  });

export const handler = makeHandler(makeDeployedCheckpointDeps(embeddedConfig()));
