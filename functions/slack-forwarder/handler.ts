import { makeSlackForwarderDeps } from '../../lib/wiring/make-slack-forwarder-deps.ts';
import { makeHandler } from './make-handler.ts';

export { makeHandler };

// Deps built once, at cold start: a missing webhook secret or invalid config fails the init, naming it.
export const handler = makeHandler(makeSlackForwarderDeps(process.env));
