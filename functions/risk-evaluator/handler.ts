import { makeRiskEvaluatorDeps } from '../../lib/wiring/make-risk-evaluator-deps.ts';
import { makeHandler } from './make-handler.ts';

export { makeHandler };

// Deps built once, at cold start: a missing variable or invalid config fails the init, naming it.
export const handler = makeHandler(makeRiskEvaluatorDeps(process.env));
