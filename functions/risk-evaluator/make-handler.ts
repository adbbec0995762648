import middy from '@middy/core';
import { evaluationInstant } from '../../lib/risks/evaluation-event.ts';
import { DigestDeliveryError, runRiskEvaluation } from '../../lib/risks/run-risk-evaluation.ts';
import { lambdaContext, logErrors } from '../../lib/wiring/lambda-middleware.ts';
import type { RiskEvaluatorDeps } from '../../lib/wiring/make-risk-evaluator-deps.ts';

/**
 * Daily schedule: evaluate the register, store state and findings, send each owner's digest. The
 * event is parsed by `evaluationInstant` (three accepted shapes, one instant), not a middleware.
 */
export function makeHandler(deps: RiskEvaluatorDeps, clock: () => Date = () => new Date()) {
  return middy(async (event: unknown) => {
    const report = await runRiskEvaluation(evaluationInstant(event, clock), deps.risk);
    // Claims of the failed digests were released: throwing makes the invocation retry them.
    if (report.failures.length > 0) throw new DigestDeliveryError(report.failures);
    return {
      date: report.evaluation.date,
      findings: report.evaluation.findings.length,
      digests: report.digests.length,
    };
  })
    .use(lambdaContext(deps.log))
    .use(logErrors(deps.log));
}
